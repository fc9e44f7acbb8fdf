// latent align --source A.npy --target B.npy --fit-ids IDS.npy --method procrustes|lstsq|affine|ridge|orthogonal-lstsq
//              [--apply X.npy] [--alpha A] [--no-scale] [--proper-rotation] [--standardize]
//              -o OUT.npy [--save MODEL]
//
// Latent translation: fits latent::LatentTranslator<double> on the paired rows
// IDS of --source and --target (the same items in two spaces), then maps --apply
// (default: all of --source) into the target space and writes float32 rows. The
// fit and the map run in double. Without --apply, when --target has as many rows
// as --source, it also scores the translated rows against their counterparts
// (top1/mrr by cosine and by l2, mean cosine, mse).
#include <cstdio>
#include <optional>

#include "blame_inputs.hpp"
#include "cli.hpp"
#include "latent/relative.hpp"

namespace latent::cli {
namespace {

struct AlignArgs {
  std::string source, target, fit_ids, method = "procrustes", apply, output, save;
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

int run_align(const AlignArgs& args, const GlobalOptions& global) {
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
  sub->add_option("--source", args->source, "source space rows, [n x d_s] float32/float64 .npy")->required();
  sub->add_option("--target", args->target, "target space rows (row i = the same item), [n x d_t]")->required();
  sub->add_option("--fit-ids", args->fit_ids, "row ids of the pairs to fit on (e.g. the anchors), int64 .npy")
      ->required();
  sub->add_option("--method", args->method, "procrustes (default), lstsq, affine, ridge or orthogonal-lstsq")
      ->check(parsed_by(parse_translation_method));
  sub->add_option("--apply", args->apply, "rows to map (default: all of --source, scored against --target)");
  sub->add_option("--alpha", args->alpha, "--method ridge: its strength, > 0 (default 1)")->check(above_zero());
  sub->add_flag("--no-scale", args->no_scale, "procrustes: no isotropic rescaling (a pure rotation)");
  sub->add_flag("--proper-rotation", args->proper_rotation, "procrustes: force det R = +1");
  sub->add_flag("--standardize", args->standardize, "standard-scale both spaces for the fit, de-scale the output");
  sub->add_option("-o,--output", args->output, "output: float32 [m x d_t] mapped rows")->required();
  sub->add_option("--save", args->save, "output: the fitted map (latent model file)");
  sub->footer(
      "Examples:\n"
      "  latent align --source encA.npy --target encB.npy --fit-ids anchor_ids.npy --method procrustes -o A_in_B.npy\n"
      "  latent align --source encA.npy --target encB.npy --fit-ids anchor_ids.npy --method affine --apply new.npy -o "
      "out.npy");
  return {sub, [args, &global] { return run_align(*args, global); }};
}

}  // namespace latent::cli
