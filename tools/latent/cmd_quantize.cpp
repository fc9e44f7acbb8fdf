// latent quantize X.npy --type f16|bf16|int8|binary [--calibration C.npy] -o OUT.npy
//                 [--save MODEL] [--range-quantile Q]
//
// Compresses the rows of X (float32 or float64 [n x d]) through latent::Quantizer:
// - f16:    OUT is float16 [n x d] (numpy '<f2');
// - bf16:   OUT is uint16 [n x d], the bfloat16 bit patterns (numpy: (u.astype(np.uint32) << 16).view(np.float32));
// - int8:   OUT is int8 [n x d]; per-dimension ranges from --calibration (default:
//           X itself), values outside clipped; --save keeps the ranges to decode or
//           to encode more rows the same way;
// - binary: OUT is uint8 [n x ceil(d / 8)], numpy.packbits(X > t, axis=1) with t = 0,
//           or the --calibration column means when given.
// The summary (and --json) reports the memory ratio and, where decoding exists, the
// round-trip error. Output is written atomically.
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include "cli.hpp"
#include "latent/embedding.hpp"

namespace latent::cli {
namespace {

struct QuantizeArgs {
  std::string input, type, calibration, output, save;
  std::optional<double> range_quantile;  ///< int8 only
};

int run_quantize(const QuantizeArgs& args, const GlobalOptions& global) {
  const QuantizationType type = parse_quantization_type(args.type, "--type");
  if (args.range_quantile && type != QuantizationType::int8) usage_error("--range-quantile applies to --type int8");
  if (!args.calibration.empty() && (type == QuantizationType::f16 || type == QuantizationType::bf16))
    usage_error("--calibration applies to --type int8 and binary");
  require_writable(args.output, "-o");
  if (!args.save.empty()) require_writable(args.save, "--save");
  const auto start = std::chrono::steady_clock::now();
  const InputMatrix rows(args.input, "X");
  QuantizerOptions options;
  options.type = type;
  options.range_quantile = args.range_quantile.value_or(0.0);
  options.binary_center = type == QuantizationType::binary && !args.calibration.empty();
  Quantizer quantizer(options);
  if (type == QuantizationType::int8 || options.binary_center) {
    if (args.calibration.empty()) {
      blame("X", args.input, [&] { quantizer.fit(rows.view()); });
    } else {
      const InputMatrix calibration(args.calibration, "--calibration");
      blame("--calibration", args.calibration, [&] { quantizer.fit(calibration.view()); });
    }
  } else {
    blame("X", args.input, [&] { quantizer.fit_dim(rows.view().cols); });
  }
  const QuantizedMatrix codes = blame("X", args.input, [&] { return quantizer.encode(rows.view(), global.parallel()); });
  double max_error = std::nan(""), mean_error = std::nan("");
  if (type != QuantizationType::binary) {
    const RowMatrixf back = quantizer.decode(codes, global.parallel());
    const Eigen::ArrayXXd diff = (back.cast<double>() - rows.view().map().cast<double>()).array().abs();
    max_error = diff.size() > 0 ? diff.maxCoeff() : 0.0;
    mean_error = diff.size() > 0 ? diff.mean() : 0.0;
  }
  const std::int64_t n = codes.rows, d = codes.dim;
  switch (type) {
    case QuantizationType::f16: write_npy_bytes(args.output, DType::float16, codes.codes.data(), codes.codes.size(), {n, d}); break;
    case QuantizationType::bf16: write_npy_bytes(args.output, DType::uint16, codes.codes.data(), codes.codes.size(), {n, d}); break;
    case QuantizationType::int8: write_npy_bytes(args.output, DType::int8, codes.codes.data(), codes.codes.size(), {n, d}); break;
    case QuantizationType::binary:
      write_npy_bytes(args.output, DType::uint8, codes.codes.data(), codes.codes.size(), {n, codes.bytes_per_row});
      break;
  }
  if (!args.save.empty()) quantizer.save(args.save);
  const double seconds = seconds_since(start);
  const double float_bytes = 4.0 * static_cast<double>(n) * static_cast<double>(d);
  const double ratio = codes.bytes() > 0 ? float_bytes / static_cast<double>(codes.bytes()) : 0.0;
  if (global.json) {
    nlohmann::json report = {{"type", to_string(type)},
                             {"rows", n},
                             {"dim", d},
                             {"bytes", codes.bytes()},
                             {"float32_bytes", float_bytes},
                             {"memory_ratio", ratio},
                             {"seconds", seconds},
                             {"output", args.output},
                             {"model", args.save.empty() ? nlohmann::json() : nlohmann::json(args.save)}};
    report["max_abs_error"] = std::isnan(max_error) ? nlohmann::json() : nlohmann::json(max_error);
    report["mean_abs_error"] = std::isnan(mean_error) ? nlohmann::json() : nlohmann::json(mean_error);
    print_json(report);
    return 0;
  }
  std::printf("quantize: %lld x %lld rows to %s in %.3f s: %lld bytes (%.1fx smaller than float32)\n",
              static_cast<long long>(n), static_cast<long long>(d), to_string(type), seconds,
              static_cast<long long>(codes.bytes()), ratio);
  if (!std::isnan(max_error)) std::printf("round trip: max |error| %.3g, mean %.3g\n", max_error, mean_error);
  std::printf("wrote %s%s%s\n", args.output.c_str(), args.save.empty() ? "" : ", calibration ", args.save.c_str());
  return 0;
}

}  // namespace

Command register_quantize(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("quantize", "compress rows to f16, bf16, int8 (calibrated ranges) or binary codes");
  auto args = std::make_shared<QuantizeArgs>();
  sub->add_option("X", args->input, "rows to quantize, [n x d] float32/float64 .npy")->required();
  sub->add_option("--type", args->type, "f16, bf16, int8 or binary")
      ->required()
      ->check(parsed_by(parse_quantization_type));
  sub->add_option("--calibration", args->calibration,
                  "int8: rows whose per-dimension ranges are used (default X); binary: thresholds at their column means");
  sub->add_option("--range-quantile", args->range_quantile, "int8: ranges from the Q and 1-Q quantiles (default 0: min, max)")
      ->check(CLI::Range(0.0, 0.499));
  sub->add_option("-o,--output", args->output,
                  "output: f16 float16 [n x d]; bf16 uint16 bit patterns; int8 int8 [n x d]; binary uint8 [n x ceil(d/8)]")
      ->required();
  sub->add_option("--save", args->save, "output: the calibration (latent model file, kind quantizer)");
  sub->footer(
      "Examples:\n"
      "  latent quantize emb.npy --type int8 --calibration train.npy -o emb_i8.npy --save int8.model\n"
      "  latent quantize emb.npy --type binary -o emb_bits.npy --json");
  return {sub, [args, &global] { return run_quantize(*args, global); }};
}

}  // namespace latent::cli
