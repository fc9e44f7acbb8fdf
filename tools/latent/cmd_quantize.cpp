// latent quantize X.npy --type f16|bf16|int8|int4|binary [--calibration C.npy] -o OUT.npy
//                 [--save MODEL] [--range-quantile Q]
// latent quantize X.npy --type pq|opq|vq [--subquantizers M] [--bits B] [--centroids K]
//                 [--calibration C.npy] -o OUT.npy [--save MODEL]      (built with FAISS)
//
// Compresses the rows of X (float32 or float64 [n x d]) through latent::Quantizer:
// - f16:    OUT is float16 [n x d] (numpy '<f2');
// - bf16:   OUT is uint16 [n x d], the bfloat16 bit patterns (numpy: (u.astype(np.uint32) << 16).view(np.float32));
// - int8:   OUT is int8 [n x d]; per-dimension ranges from --calibration (default:
//           X itself), values outside clipped; --save keeps the ranges to decode or
//           to encode more rows the same way;
// - int4:   OUT is uint8 [n x ceil(d / 2)], 16 levels per dimension (ranges as int8),
//           dimension 2j in the low nibble of byte j, 2j + 1 in the high nibble;
// - binary: OUT is uint8 [n x ceil(d / 8)], numpy.packbits(X > t, axis=1) with t = 0,
//           or the --calibration column means when given;
// - pq, opq, vq: OUT is uint8 [n x code size], the codes of latent::index::VectorCodec
//           trained on --calibration (default X): M sub-vectors of B bits each (pq;
//           opq after a learned rotation), or the id of the nearest of K k-means
//           centroids (vq); --save keeps the codebooks.
// The summary (and --json) reports the memory ratio and, where decoding exists, the
// round-trip error. Output is written atomically.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include "cli.hpp"
#include "latent/embedding.hpp"
#if defined(LATENT_TOOL_HAVE_FAISS)
#include "latent/index/faiss_codec.hpp"
#endif

namespace latent::cli {
namespace {

struct QuantizeArgs {
  std::string input, type, calibration, output, save;
  std::optional<double> range_quantile;                  ///< int8 and int4 only
  std::optional<std::int64_t> subquantizers, centroids;  ///< pq / opq, vq
  std::optional<int> bits;                               ///< pq / opq
};

bool is_codec(const std::string& type) { return type == "pq" || type == "opq" || type == "vq"; }

// Prints the summary of either kind of compression.
int report_quantize(const QuantizeArgs& args, const GlobalOptions& global, std::int64_t n, std::int64_t d,
                    std::int64_t bytes, double seconds, double max_error, double mean_error, double mse) {
  const double float_bytes = 4.0 * static_cast<double>(n) * static_cast<double>(d);
  const double ratio = bytes > 0 ? float_bytes / static_cast<double>(bytes) : 0.0;
  const auto number = [](double value) { return std::isnan(value) ? nlohmann::json() : nlohmann::json(value); };
  if (global.json) {
    print_json({{"type", args.type},
                {"rows", n},
                {"dim", d},
                {"bytes", bytes},
                {"float32_bytes", float_bytes},
                {"memory_ratio", ratio},
                {"seconds", seconds},
                {"output", args.output},
                {"model", args.save.empty() ? nlohmann::json() : nlohmann::json(args.save)},
                {"max_abs_error", number(max_error)},
                {"mean_abs_error", number(mean_error)},
                {"mse", number(mse)}});
    return 0;
  }
  std::printf("quantize: %lld x %lld rows to %s in %.3f s: %lld bytes (%.1fx smaller than float32)\n",
              static_cast<long long>(n), static_cast<long long>(d), args.type.c_str(), seconds,
              static_cast<long long>(bytes), ratio);
  if (!std::isnan(max_error))
    std::printf("round trip: max |error| %.3g, mean %.3g, mean squared row error %.3g\n", max_error, mean_error, mse);
  std::printf("wrote %s%s%s\n", args.output.c_str(), args.save.empty() ? "" : ", model ", args.save.c_str());
  return 0;
}

// Round-trip errors of decoded rows: max |error|, mean |error|, mean squared row error.
void round_trip_errors(const RowMatrixf& back, const MatrixView<float>& x, double& max_error, double& mean_error,
                       double& mse) {
  const Eigen::ArrayXXd diff = (back.cast<double>() - x.map().cast<double>()).array();
  max_error = diff.size() > 0 ? diff.abs().maxCoeff() : 0.0;
  mean_error = diff.size() > 0 ? diff.abs().mean() : 0.0;
  mse = x.rows > 0 ? diff.square().rowwise().sum().mean() : 0.0;
}

#if defined(LATENT_TOOL_HAVE_FAISS)
int run_codec(const QuantizeArgs& args, const GlobalOptions& global) {
  index::CodecOptions options;
  options.kind = index::parse_codec_kind(args.type, "--type");
  options.parallel = global.parallel();
  const bool product = options.kind != index::CodecKind::vq;
  if (args.centroids && product) usage_error("--centroids applies to --type vq");
  if ((args.subquantizers || args.bits) && !product)
    usage_error("--subquantizers and --bits apply to --type pq and opq");
  options.subquantizers = args.subquantizers.value_or(options.subquantizers);
  options.bits = args.bits.value_or(options.bits);
  options.centroids = args.centroids.value_or(options.centroids);
  require_writable(args.output, "-o");
  if (!args.save.empty()) require_writable(args.save, "--save");
  const auto start = std::chrono::steady_clock::now();
  const InputMatrix rows(args.input, "X");
  index::VectorCodec codec = blame("--type", args.type, [&] { return index::VectorCodec(options); });
  if (args.calibration.empty()) {
    blame("X", args.input, [&] { codec.fit(rows.view()); });
  } else {
    const InputMatrix calibration(args.calibration, "--calibration");
    blame("--calibration", args.calibration, [&] { codec.fit(calibration.view()); });
  }
  const RowMatrix<std::uint8_t> codes = blame("X", args.input, [&] { return codec.encode(rows.view()); });
  double max_error = 0, mean_error = 0, mse = 0;
  round_trip_errors(codec.decode(codes), rows.view(), max_error, mean_error, mse);
  write_npy(args.output, MatrixView<std::uint8_t>(codes));
  if (!args.save.empty()) codec.save(args.save);
  return report_quantize(args, global, codes.rows(), rows.view().cols, codes.size(), seconds_since(start), max_error,
                         mean_error, mse);
}
#endif

int run_quantize(const QuantizeArgs& args, const GlobalOptions& global) {
#if defined(LATENT_TOOL_HAVE_FAISS)
  if (is_codec(args.type)) return run_codec(args, global);
#else
  if (is_codec(args.type)) usage_error("--type " + args.type + " needs latent built with FAISS (latent::faiss)");
#endif
  if (args.subquantizers || args.bits || args.centroids)
    usage_error("--subquantizers, --bits and --centroids apply to --type pq, opq and vq");
  const QuantizationType type = parse_quantization_type(args.type, "--type");
  const bool ranged = type == QuantizationType::int8 || type == QuantizationType::int4;
  if (args.range_quantile && !ranged) usage_error("--range-quantile applies to --type int8 and int4");
  if (!args.calibration.empty() && (type == QuantizationType::f16 || type == QuantizationType::bf16))
    usage_error("--calibration applies to --type int8, int4 and binary");
  require_writable(args.output, "-o");
  if (!args.save.empty()) require_writable(args.save, "--save");
  const auto start = std::chrono::steady_clock::now();
  const InputMatrix rows(args.input, "X");
  QuantizerOptions options;
  options.type = type;
  options.range_quantile = args.range_quantile.value_or(0.0);
  options.binary_center = type == QuantizationType::binary && !args.calibration.empty();
  Quantizer quantizer(options);
  if (ranged || options.binary_center) {
    if (args.calibration.empty()) {
      blame("X", args.input, [&] { quantizer.fit(rows.view()); });
    } else {
      const InputMatrix calibration(args.calibration, "--calibration");
      blame("--calibration", args.calibration, [&] { quantizer.fit(calibration.view()); });
    }
  } else {
    blame("X", args.input, [&] { quantizer.fit_dim(rows.view().cols); });
  }
  const QuantizedMatrix codes =
      blame("X", args.input, [&] { return quantizer.encode(rows.view(), global.parallel()); });
  double max_error = std::nan(""), mean_error = std::nan(""), mse = std::nan("");
  if (type != QuantizationType::binary)
    round_trip_errors(quantizer.decode(codes, global.parallel()), rows.view(), max_error, mean_error, mse);
  const std::int64_t n = codes.rows, d = codes.dim;
  switch (type) {
    case QuantizationType::f16:
      write_npy_bytes(args.output, DType::float16, codes.codes.data(), codes.codes.size(), {n, d});
      break;
    case QuantizationType::bf16:
      write_npy_bytes(args.output, DType::uint16, codes.codes.data(), codes.codes.size(), {n, d});
      break;
    case QuantizationType::int8:
      write_npy_bytes(args.output, DType::int8, codes.codes.data(), codes.codes.size(), {n, d});
      break;
    case QuantizationType::int4:
    case QuantizationType::binary:
      write_npy_bytes(args.output, DType::uint8, codes.codes.data(), codes.codes.size(), {n, codes.bytes_per_row});
      break;
  }
  if (!args.save.empty()) quantizer.save(args.save);
  return report_quantize(args, global, n, d, codes.bytes(), seconds_since(start), max_error, mean_error, mse);
}

}  // namespace

Command register_quantize(CLI::App& app, const GlobalOptions& global) {
  auto* sub =
      app.add_subcommand("quantize", "compress rows to f16, bf16, int8 or int4 (calibrated ranges) or binary codes");
  auto args = std::make_shared<QuantizeArgs>();
  sub->add_option("X", args->input, "rows to quantize, [n x d] float32/float64 .npy")->required();
  sub->add_option("--type", args->type,
                  "f16, bf16, int8, int4 (16 levels, two per byte: even dimensions in the low nibble), binary; "
                  "with FAISS: pq (M sub-vectors, each the nearest of 2^B k-means centroids), opq (pq after a "
                  "learned rotation) or vq (the id of the nearest of K k-means centroids)")
      ->required()
      ->check(parsed_by(parse_quantization_type, {"pq", "opq", "vq"}));
  sub->add_option(
      "--calibration", args->calibration,
      "int8, int4: rows whose per-dimension ranges are used (default X); binary: thresholds at their column means");
  sub->add_option("--range-quantile", args->range_quantile,
                  "int8, int4: ranges from the Q and 1-Q quantiles (default 0: min, max)")
      ->check(CLI::Range(0.0, 0.499));
  sub->add_option(
         "-o,--output", args->output,
         "output: f16 float16 [n x d]; bf16 uint16 bit patterns; int8 int8 [n x d]; int4 uint8 [n x ceil(d/2)]; "
         "binary uint8 [n x ceil(d/8)]; pq, opq, vq uint8 [n x code size]")
      ->required();
  sub->add_option("--save", args->save,
                  "output: the calibration (latent model file, kind quantizer; pq / opq / vq: kind vector_codec)");
  sub->add_option("--subquantizers", args->subquantizers, "pq, opq: M sub-vectors, dividing d (default 8)")
      ->check(at_least(1));
  sub->add_option("--bits", args->bits, "pq, opq: bits per sub-code, 1..16 (default 8)")->check(CLI::Range(1, 16));
  sub->add_option("--centroids", args->centroids, "vq: codebook rows (default 256)")->check(at_least(1));
  sub->footer(
      "Examples:\n"
      "  latent quantize emb.npy --type int8 --calibration train.npy -o emb_i8.npy --save int8.model\n"
      "  latent quantize emb.npy --type binary -o emb_bits.npy --json\n"
      "  latent quantize emb.npy --type pq --subquantizers 16 --bits 8 -o emb_pq.npy --save pq.model");
  return {sub, [args, &global] { return run_quantize(*args, global); }};
}

}  // namespace latent::cli
