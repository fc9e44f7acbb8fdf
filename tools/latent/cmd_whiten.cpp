// latent whiten --fit X.npy [--apply Y.npy] [--method pca|zca|abtt] [--dim D]
//               [--no-center] [--normalize] -o OUT.npy [--save MODEL]
//   or  latent whiten --load MODEL --apply Y.npy -o OUT.npy
//
// Fits PCA (BERT) or ZCA whitening, or all-but-the-top, on --fit (statistics in
// double; float32 files are memory-mapped, so any size fits) and writes the
// transformed --apply rows (default: the --fit rows) as float32, atomically.
// --save keeps the fitted model (with its moments) for later --load runs.
#include <cstdio>
#include <memory>
#include <optional>

#include "cli.hpp"
#include "progress.hpp"
#include "latent/whitening.hpp"

namespace latent::cli {
namespace {

struct WhitenArgs {
  std::string fit, apply, output, save, load, method = "pca", covariance = "population", shrinkage = "none";
  std::int64_t dim = 0;
  bool no_center = false, normalize = false;
  double alpha = 0.0, epsilon = 1e-9;
};

nlohmann::json head(const std::vector<double>& values, std::size_t count) {
  return std::vector<double>(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(std::min(count, values.size())));
}

int run_whiten(const WhitenArgs& args, const GlobalOptions& global) {
  const bool abtt = args.method == "abtt";
  if (args.fit.empty() == args.load.empty()) usage_error("give exactly one of --fit and --load");
  if (!args.load.empty() && args.apply.empty()) usage_error("--load needs --apply (the rows to transform)");
  if (abtt && (args.normalize || args.no_center || args.shrinkage != "none"))
    usage_error("--normalize, --no-center and --shrinkage apply to pca and zca, not abtt");
  if (args.method == "zca" && args.dim > 0) usage_error("--dim applies to pca (output dimension) and abtt, not zca");
  if (args.shrinkage == "ridge" && !(args.alpha > 0)) usage_error("--shrinkage ridge needs --alpha > 0");
  require_writable(args.output, "-o");
  if (!args.save.empty()) require_writable(args.save, "--save");

  std::optional<Whitening<float>> whitening;
  std::optional<AllButTheTop<float>> top;
  Progress progress(2, !global.quiet);
  const auto start = std::chrono::steady_clock::now();
  std::int64_t fitted_rows = 0;
  if (!args.load.empty()) {
    const std::string kind = blame("--load", args.load, [&] { return ModelReader(args.load, "*", ~0u).kind(); });
    if (kind == "whitening") {
      whitening.emplace(Whitening<float>::load(args.load));
    } else if (kind == "all-but-the-top") {
      top.emplace(AllButTheTop<float>::load(args.load));
    } else {
      throw IoError("--load " + args.load + ": holds a '" + kind + "' model, not whitening or all-but-the-top");
    }
  } else {
    const InputMatrix fit(args.fit, "--fit");
    fitted_rows = fit.view().rows;
    progress.step("fit " + args.method);
    blame("--fit", args.fit, [&] {
      if (abtt) {
        top.emplace(AllButTheTopOptions{args.dim, global.parallel()});
        top->fit(fit.view());
      } else {
        WhiteningOptions options;
        options.method = args.method == "zca" ? WhiteningMethod::zca : WhiteningMethod::pca;
        options.dim = args.dim;
        options.center = !args.no_center;
        options.normalize = args.normalize;
        options.covariance =
            args.covariance == "sample" ? CovarianceConvention::sample : CovarianceConvention::population;
        options.shrinkage = args.shrinkage == "ledoit-wolf" ? Shrinkage::ledoit_wolf
                            : args.shrinkage == "ridge"     ? Shrinkage::ridge
                                                            : Shrinkage::none;
        options.alpha = args.alpha;
        options.epsilon = args.epsilon;
        options.parallel = global.parallel();
        whitening.emplace(options);
        whitening->fit(fit.view());
      }
    });
  }
  const double fit_seconds = seconds_since(start);

  const std::string& source = args.apply.empty() ? args.fit : args.apply;
  const char* source_option = args.apply.empty() ? "--fit" : "--apply";
  const InputMatrix rows(source, source_option);
  progress.step("transform");
  const auto transform_start = std::chrono::steady_clock::now();
  const RowMatrixf out = blame(source_option, source, [&] {
    return whitening ? whitening->transform(rows.view()) : top->transform(rows.view());
  });
  const double transform_seconds = seconds_since(transform_start);
  progress.finish();
  if (!args.save.empty()) whitening ? whitening->save(args.save) : top->save(args.save);
  write_npy(args.output, MatrixView<float>(out));

  const std::string method = whitening ? (whitening->options().method == WhiteningMethod::zca ? "zca" : "pca") : "abtt";
  if (global.json) {
    nlohmann::json report = {{"method", method},
                             {"rows", rows.view().rows},
                             {"dim", rows.view().cols},
                             {"output_dim", out.cols()},
                             {"fit_rows", fitted_rows},
                             {"fit_seconds", fit_seconds},
                             {"transform_seconds", transform_seconds},
                             {"output", args.output},
                             {"model", args.save.empty() ? nlohmann::json() : nlohmann::json(args.save)}};
    if (whitening) {
      report["eigenvalues_top10"] = head(whitening->eigenvalues(), 10);
      report["eigenvalue_min"] = whitening->eigenvalues().back();
      report["eigenvalue_floor"] = whitening->eigenvalue_floor();
      report["n_floored"] = whitening->n_floored();
      report["shrinkage_intensity"] = whitening->shrinkage_intensity();
    } else {
      report["components_removed"] = top->directions().cols();
    }
    print_json(report);
    return 0;
  }
  std::printf("whiten: %s fitted in %.3f s, %lld rows transformed to %lld-d in %.3f s\n", method.c_str(), fit_seconds,
              static_cast<long long>(rows.view().rows), static_cast<long long>(out.cols()), transform_seconds);
  if (whitening) {
    const auto& values = whitening->eigenvalues();
    std::printf("eigenvalues: largest %.6g, smallest %.6g; %lld below the floor %.3g\n", values.front(), values.back(),
                static_cast<long long>(whitening->n_floored()), whitening->eigenvalue_floor());
  }
  std::printf("wrote %s (float32 [%lld, %lld])%s%s\n", args.output.c_str(), static_cast<long long>(out.rows()),
              static_cast<long long>(out.cols()), args.save.empty() ? "" : ", model ", args.save.c_str());
  return 0;
}

}  // namespace

Command register_whiten(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("whiten", "PCA/ZCA whitening or all-but-the-top: fit, transform, save");
  auto args = std::make_shared<WhitenArgs>();
  sub->add_option("--fit", args->fit, "rows to fit on, [n x d] float32/float64 .npy");
  sub->add_option("--load", args->load, "a model saved with --save (instead of --fit)");
  sub->add_option("--apply", args->apply, "rows to transform (default: the --fit rows)");
  sub->add_option("--method", args->method, "pca (default), zca or abtt (all-but-the-top)")
      ->check(CLI::IsMember({"pca", "zca", "abtt"}));
  sub->add_option("--dim", args->dim, "pca: keep the top D components (default all); abtt: remove D directions (default d/100)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--no-center", args->no_center, "do not subtract the mean (moments about 0)");
  sub->add_flag("--normalize", args->normalize, "L2-normalise the output rows");
  sub->add_option("--covariance", args->covariance, "population (1/n, default) or sample (1/(n-1), np.cov)")
      ->check(CLI::IsMember({"population", "sample"}));
  sub->add_option("--shrinkage", args->shrinkage, "none (default), ledoit-wolf or ridge (with --alpha)")
      ->check(CLI::IsMember({"none", "ledoit-wolf", "ridge"}));
  sub->add_option("--alpha", args->alpha, "ridge added to every eigenvalue")->check(CLI::NonNegativeNumber);
  sub->add_option("--epsilon", args->epsilon, "eigenvalue floor relative to the largest (default 1e-9)")
      ->check(CLI::Range(0.0, 0.999999));
  sub->add_option("-o,--output", args->output, "output: float32 [n x D] transformed rows")->required();
  sub->add_option("--save", args->save, "output: the fitted model (latent model file)");
  sub->footer(
      "Examples:\n"
      "  latent whiten --fit train.npy --apply test.npy --dim 256 -o test_white.npy --save white.model\n"
      "  latent whiten --load white.model --apply more.npy -o more_white.npy\n"
      "  latent whiten --fit emb.npy --method abtt --dim 3 -o emb_abtt.npy --json");
  return {sub, [args, &global] { return run_whiten(*args, global); }};
}

}  // namespace latent::cli
