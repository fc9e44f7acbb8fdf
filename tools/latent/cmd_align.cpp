// latent align --source A.npy --target B.npy --fit-ids IDS.npy --method procrustes|lstsq|affine|ridge|orthogonal-lstsq
//              [--apply X.npy] [--alpha A] [--no-scale] [--proper-rotation] [--standardize]
//              -o OUT.npy [--save MODEL]
// latent align --load-map M.npy [--bias b.npy] --apply X.npy -o OUT.npy [--save MODEL]
//
// Latent translation: fits latent::LatentTranslator<double> on the paired rows
// IDS of --source and --target (the same items in two spaces), then maps --apply
// (default: all of --source) into the target space and writes float32 rows. The
// fit and the map run in double. Without --apply, when --target has as many rows
// as --source, it also scores the translated rows against their counterparts
// (top1/mrr by cosine and by l2, mean cosine, mse). With --load-map it fits
// nothing: it applies the given matrix W [d_in x d_out] (and bias [d_out]) as a
// latent::LinearMap, y = x W + b, and --save writes that map as a model file.
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "blame_inputs.hpp"
#include "cli.hpp"
#include "latent/relative.hpp"

namespace latent::cli {
namespace {

struct AlignArgs {
  std::string source, target, fit_ids, method = "procrustes", apply, output, save, load_map, bias;
  std::optional<double> alpha;  ///< ridge only
  bool no_scale = false, proper_rotation = false, standardize = false;
};

TranslationOptions translation_options(const AlignArgs& args, const GlobalOptions& global) {
  TranslationOptions options;
  options.method = parse_translation_method(args.method, "--method");
  if (args.alpha && options.method != TranslationMethod::ridge) usage_error("--alpha applies to --method ridge");
  options.alpha = args.alpha.value_or(1.0);
  options.scale = !args.no_scale;
  options.proper_rotation = args.proper_rotation;
  options.standardize = args.standardize;
  options.parallel = global.parallel();
  return options;
}

// The translated rows against their counterparts in the target space (rows i of
// both are the same item): top1 / mrr by cosine and by l2, mean cosine, errors.
void score_against_target(const RowMatrixd& mapped, const RowMatrixd& target, const AlignArgs& args,
                          const GlobalOptions& global, nlohmann::json& report) {
  CompareOptions compare;
  compare.jaccard = false;
  compare.cka = false;
  compare.parallel = global.parallel();
  const CrossSpaceScores by_cosine = blame("--target", args.target, [&] {
    return compare_spaces(MatrixView<double>(mapped), MatrixView<double>(target), compare);
  });
  compare.rank_metric = Metric::l2;
  const CrossSpaceScores by_l2 = compare_spaces(MatrixView<double>(mapped), MatrixView<double>(target), compare);
  const double squared_error = (mapped - target).squaredNorm();
  report["top1_cosine"] = by_cosine.top1;
  report["mrr_cosine"] = by_cosine.mrr;
  report["top1_l2"] = by_l2.top1;
  report["mrr_l2"] = by_l2.mrr;
  report["mean_cos_to_target"] = by_cosine.mean_cos;
  report["mse"] = squared_error / static_cast<double>(mapped.size());
  report["relative_sq_error"] = squared_error / (target.rowwise() - target.colwise().mean()).squaredNorm();
}

void print_align_summary(const AlignArgs& args, const nlohmann::json& report, bool scored, const RowMatrixf& out) {
  std::printf("align: %s fitted on %lld pairs (%lld-d -> %lld-d) in %.3f s; %lld rows mapped\n", args.method.c_str(),
              static_cast<long long>(report["fit_pairs"].get<std::int64_t>()),
              static_cast<long long>(report["source_dim"].get<std::int64_t>()),
              static_cast<long long>(report["target_dim"].get<std::int64_t>()), report["fit_seconds"].get<double>(),
              static_cast<long long>(out.rows()));
  if (scored)
    std::printf(
        "against --target: top1_cosine %.4f, mrr_cosine %.4f, top1_l2 %.4f, mrr_l2 %.4f, mean_cos %.4f, mse %.4g\n",
        report["top1_cosine"].get<double>(), report["mrr_cosine"].get<double>(), report["top1_l2"].get<double>(),
        report["mrr_l2"].get<double>(), report["mean_cos_to_target"].get<double>(), report["mse"].get<double>());
  std::printf("wrote %s (float32 [%lld, %lld])%s%s\n", args.output.c_str(), static_cast<long long>(out.rows()),
              static_cast<long long>(out.cols()), args.save.empty() ? "" : ", model ", args.save.c_str());
}

// A float32/float64 array of the given rank (1 or 2) as double rows.
RowMatrixd read_doubles(const std::string& spec, const std::string& option, std::size_t rank) {
  const ArrayFile array = open_input(spec, option);
  if (array.shape().size() != rank || (array.dtype() != DType::float32 && array.dtype() != DType::float64))
    throw IoError(option + ": " + spec + ": expected a " + std::to_string(rank) + "-D float32 or float64 array, got " +
                  array.describe());
  return array.matrix<double>();
}

// --load-map: apply a given y = x W + b; no fit, no scoring.
int run_apply_map(const AlignArgs& args, const GlobalOptions& global, bool fit_options_given) {
  if (fit_options_given)
    usage_error("--load-map applies a given map: --source, --target, --fit-ids and the fit options do not apply");
  if (args.apply.empty()) usage_error("--load-map needs --apply X.npy, the rows to map");
  if (args.apply == args.output) usage_error("-o must differ from --apply");
  require_writable(args.output, "-o");
  if (!args.save.empty()) require_writable(args.save, "--save");
  const RowMatrixd matrix = read_doubles(args.load_map, "--load-map", 2);
  std::vector<double> bias;
  if (!args.bias.empty()) {
    const RowMatrixd values = read_doubles(args.bias, "--bias", 1);
    bias.assign(values.data(), values.data() + values.size());
  }
  const LinearMap<float> map =
      blame_inputs({{"matrix", "--load-map", args.load_map}, {"bias", "--bias", args.bias}},
                   [&] { return LinearMap<float>(MatrixView<double>(matrix), bias, global.parallel()); });
  const InputMatrix apply(args.apply, "--apply");
  const RowMatrixf out = blame("--apply", args.apply, [&] { return map.transform(apply.view()); });
  if (!args.save.empty()) map.save(args.save);
  write_npy(args.output, out);
  if (global.json) {
    print_json({{"method", "load-map"},
                {"source_dim", map.input_dim()},
                {"target_dim", map.output_dim()},
                {"rows", out.rows()},
                {"output", args.output}});
  } else {
    std::printf("align: applied the %lld x %lld map of %s%s to %lld rows\nwrote %s (float32 [%lld, %lld])%s%s\n",
                static_cast<long long>(map.input_dim()), static_cast<long long>(map.output_dim()),
                args.load_map.c_str(), args.bias.empty() ? "" : " with its bias", static_cast<long long>(out.rows()),
                args.output.c_str(), static_cast<long long>(out.rows()), static_cast<long long>(out.cols()),
                args.save.empty() ? "" : ", model ", args.save.c_str());
  }
  return 0;
}

int run_align(const AlignArgs& args, const GlobalOptions& global, bool fit_options_given) {
  if (!args.load_map.empty()) return run_apply_map(args, global, fit_options_given);
  if (!args.bias.empty()) usage_error("--bias applies with --load-map");
  for (const auto& [value, option] : {std::pair{&args.source, "--source"}, std::pair{&args.target, "--target"},
                                      std::pair{&args.fit_ids, "--fit-ids"}})
    if (value->empty()) usage_error(std::string(option) + " is required (or --load-map M.npy to apply a given map)");
  const TranslationOptions options = translation_options(args, global);
  if (!args.apply.empty() && args.apply == args.output) usage_error("-o must differ from --apply");
  require_writable(args.output, "-o");
  if (!args.save.empty()) require_writable(args.save, "--save");

  const std::vector<std::int64_t> ids =
      blame("--fit-ids", args.fit_ids, [&] { return read_anchor_ids(args.fit_ids, "--fit-ids"); });
  const InputMatrix source(args.source, "--source");
  const InputMatrix target(args.target, "--target");
  const RowMatrixd source64 = source.view().map().cast<double>();
  const RowMatrixd target64 = target.view().map().cast<double>();
  const auto start = std::chrono::steady_clock::now();
  LatentTranslator<double> translator(options);
  require_row_ids(ids, "--fit-ids", args.fit_ids, source64.rows(), "--source", args.source);
  require_row_ids(ids, "--fit-ids", args.fit_ids, target64.rows(), "--target", args.target);
  blame_inputs(
      {{"ids", "--fit-ids", args.fit_ids}, {"source", "--source", args.source}, {"target", "--target", args.target}},
      [&] { translator.fit(MatrixView<double>(source64), MatrixView<double>(target64), ids); });
  const double fit_seconds = seconds_since(start);

  RowMatrixd mapped;
  if (args.apply.empty()) {
    mapped = translator.transform(MatrixView<double>(source64));
  } else {
    const InputMatrix apply(args.apply, "--apply");
    const RowMatrixd apply64 = apply.view().map().cast<double>();
    mapped = blame("--apply", args.apply, [&] { return translator.transform(MatrixView<double>(apply64)); });
  }
  const RowMatrixf out = mapped.cast<float>();

  nlohmann::json report = {{"method", args.method},
                           {"fit_pairs", static_cast<std::int64_t>(ids.size())},
                           {"source_dim", translator.source_dim()},
                           {"target_dim", translator.target_dim()},
                           {"rows", out.rows()},
                           {"fit_seconds", fit_seconds},
                           {"output", args.output}};
  const bool scored = args.apply.empty() && target64.rows() == mapped.rows() && mapped.rows() >= 2;
  if (scored) score_against_target(mapped, target64, args, global, report);
  // Written only once all the work is done: a failure of the scoring (e.g. out of
  // memory) must not leave an output behind with exit status 1.
  if (!args.save.empty()) translator.save(args.save);
  write_npy(args.output, out);
  if (global.json) {
    print_json(report);
  } else {
    print_align_summary(args, report, scored, out);
  }
  return 0;
}

}  // namespace

Command register_align(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("align", "latent translation: fit a map from --source to --target on paired rows");
  auto args = std::make_shared<AlignArgs>();
  std::vector<CLI::Option*> fit_options;
  fit_options.push_back(sub->add_option("--source", args->source, "source space rows, [n x d_s] float32/float64 .npy"));
  fit_options.push_back(
      sub->add_option("--target", args->target, "target space rows (row i = the same item), [n x d_t]"));
  fit_options.push_back(
      sub->add_option("--fit-ids", args->fit_ids, "row ids of the pairs to fit on (e.g. the anchors), int64 .npy"));
  fit_options.push_back(
      sub->add_option("--method", args->method, "procrustes (default), lstsq, affine, ridge or orthogonal-lstsq")
          ->check(parsed_by(parse_translation_method)));
  sub->add_option("--load-map", args->load_map,
                  "instead of a fit: apply this map W, float32/float64 [d_in x d_out] (y = x W + b), to --apply");
  sub->add_option("--bias", args->bias, "with --load-map: the bias b, float32/float64 [d_out]");
  sub->add_option("--apply", args->apply, "rows to map (default: all of --source, scored against --target)");
  fit_options.push_back(
      sub->add_option("--alpha", args->alpha, "--method ridge: its strength, > 0 (default 1)")->check(above_zero()));
  fit_options.push_back(
      sub->add_flag("--no-scale", args->no_scale, "procrustes: no isotropic rescaling (a pure rotation)"));
  fit_options.push_back(sub->add_flag("--proper-rotation", args->proper_rotation, "procrustes: force det R = +1"));
  fit_options.push_back(
      sub->add_flag("--standardize", args->standardize, "standard-scale both spaces for the fit, de-scale the output"));
  sub->add_option("-o,--output", args->output, "output: float32 [m x d_t] mapped rows")->required();
  sub->add_option("--save", args->save, "output: the fitted (or loaded) map (latent model file)");
  sub->footer(
      "Examples:\n"
      "  latent align --source encA.npy --target encB.npy --fit-ids anchor_ids.npy --method procrustes -o A_in_B.npy\n"
      "  latent align --source encA.npy --target encB.npy --fit-ids anchor_ids.npy --method affine --apply new.npy -o "
      "out.npy\n"
      "  latent align --load-map W.npy --bias b.npy --apply new.npy -o out.npy");
  return {sub, [args, fit_options, &global] {
            bool given = false;
            for (const CLI::Option* option : fit_options) given = given || option->count() > 0;
            return run_align(*args, global, given);
          }};
}

}  // namespace latent::cli
