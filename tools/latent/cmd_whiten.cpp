// latent whiten --fit X.npy [--apply Y.npy] [--method pca|zca|projection|cholesky|abtt]
//               [--dim D | --variance F] [--no-center] [--normalize] -o OUT.npy [--save MODEL]
//   or  latent whiten --load MODEL --apply Y.npy -o OUT.npy
//
// Fits PCA (BERT) or ZCA whitening, the unscaled PCA projection, or
// all-but-the-top, on --fit (statistics in
// double; float32 files are memory-mapped, so any size fits) and writes the
// transformed --apply rows (default: the --fit rows) as float32, atomically.
// --save keeps the fitted model (with its moments) for later --load runs. Under
// mpirun each rank reads its block: the moments are merged across the ranks
// (latent::mpi::fit) and each rank transforms and writes its own rows.
#include <cstdio>
#include <memory>
#include <optional>

#include "cli.hpp"
#include "latent/whitening.hpp"
#include "progress.hpp"
#include "shards.hpp"

namespace latent::cli {
namespace {

// Options left unset mean the library's default; a value given where it means
// nothing is refused rather than ignored.
struct WhitenArgs {
  std::string fit, apply, output, save, load, method, shrinkage;  // method, shrinkage: "" = not given
  std::optional<std::string> covariance;
  std::optional<std::int64_t> dim;
  bool no_center = false, normalize = false;
  std::optional<double> alpha, epsilon, variance;
};

// The fitted model: whitening (pca, zca) or all-but-the-top.
struct WhitenModel {
  std::optional<Whitening<float>> whitening;
  std::optional<AllButTheTop<float>> top;
  std::int64_t fitted_rows = 0;  ///< 0 when loaded
  double fit_seconds = 0;        ///< fit, or load

  std::string method() const { return whitening ? std::string(to_string(whitening->options().method)) : "abtt"; }
};

// --method as fitted: pca unless given.
std::string fit_method(const WhitenArgs& args) { return args.method.empty() ? "pca" : args.method; }

nlohmann::json head(const std::vector<double>& values, std::size_t count) {
  return std::vector<double>(values.begin(),
                             values.begin() + static_cast<std::ptrdiff_t>(std::min(count, values.size())));
}

// Combinations the option checks cannot see one option at a time: an option that
// would be ignored is refused.
void check_combinations(const WhitenArgs& args) {
  if (args.fit.empty() == args.load.empty()) usage_error("give exactly one of --fit and --load");
  if (!args.load.empty()) {
    if (args.apply.empty()) usage_error("--load needs --apply (the rows to transform)");
    if (!args.method.empty() || args.dim || args.variance || args.no_center || args.normalize || args.covariance ||
        !args.shrinkage.empty() || args.alpha || args.epsilon)
      usage_error(
          "--load uses the saved model's options; --method, --dim, --variance, --no-center, --normalize, "
          "--covariance, --shrinkage, --alpha and --epsilon apply to --fit");
    return;
  }
  const std::string method = fit_method(args);
  if (method == "abtt" &&
      (args.normalize || args.no_center || !args.shrinkage.empty() || args.covariance || args.alpha || args.epsilon))
    usage_error(
        "--normalize, --no-center, --shrinkage, --covariance, --alpha and --epsilon apply to pca, zca, projection "
        "and cholesky, not abtt");
  if ((method == "zca" || method == "cholesky") && args.dim)
    usage_error("--dim applies to pca and projection (output dimension) and abtt, not " + method);
  if (args.variance && method != "pca" && method != "projection")
    usage_error("--variance applies to pca and projection, not " + method);
  if (args.variance && args.dim) usage_error("--variance and --dim both choose the output dimension: give one");
  const bool ridge = args.shrinkage == "ridge";
  if (args.alpha && !ridge) usage_error("--alpha applies to --shrinkage ridge");
  if (ridge && !(args.alpha.value_or(0.0) > 0)) usage_error("--shrinkage ridge needs --alpha > 0");
}

WhiteningOptions whitening_options(const WhitenArgs& args, const GlobalOptions& global) {
  WhiteningOptions options;
  options.method = parse_whitening_method(fit_method(args), "--method");
  options.dim = args.dim.value_or(0);
  options.variance = args.variance.value_or(0.0);
  options.center = !args.no_center;
  options.normalize = args.normalize;
  if (args.covariance) options.covariance = parse_covariance_convention(*args.covariance, "--covariance");
  if (!args.shrinkage.empty()) options.shrinkage = parse_shrinkage(args.shrinkage, "--shrinkage");
  options.alpha = args.alpha.value_or(options.alpha);
  options.epsilon = args.epsilon.value_or(options.epsilon);
  options.parallel = global.parallel();
  return options;
}

WhitenModel load_model(const std::string& path) {
  WhitenModel model;
  const std::string kind = blame("--load", path, [&] { return ModelReader(path, "*", ~0u).kind(); });
  if (kind == "whitening") {
    model.whitening.emplace(Whitening<float>::load(path));
  } else if (kind == "all-but-the-top") {
    model.top.emplace(AllButTheTop<float>::load(path));
  } else {
    throw IoError("--load " + path + ": holds a '" + kind + "' model, not whitening or all-but-the-top");
  }
  return model;
}

WhitenModel fit_model(const WhitenArgs& args, const GlobalOptions& global, Progress& progress) {
  const Shards& shards = Shards::current();
  WhitenModel model;
  std::optional<InputMatrix> fit;
  shards.phase([&] { fit.emplace(args.fit, "--fit", shards.split()); });
  model.fitted_rows = fit->total_rows();
  progress.step("fit " + fit_method(args));
  blame("--fit", args.fit, [&] {
    if (fit_method(args) == "abtt") {
      model.top.emplace(AllButTheTopOptions{args.dim.value_or(0), global.parallel()});
      shards.fit(*model.top, fit->view());
    } else {
      model.whitening.emplace(whitening_options(args, global));
      shards.fit(*model.whitening, fit->view());
    }
  });
  return model;
}

void print_whiten_summary(const WhitenArgs& args, const WhitenModel& model, const InputMatrix& rows,
                          const RowMatrixf& out, double transform_seconds, const GlobalOptions& global) {
  const std::string method = model.method();
  if (global.json) {
    nlohmann::json report = {{"method", method},
                             {"rows", rows.total_rows()},
                             {"dim", rows.view().cols},
                             {"output_dim", out.cols()},
                             {"fit_rows", model.fitted_rows},
                             {"fit_seconds", model.fit_seconds},
                             {"transform_seconds", transform_seconds},
                             {"output", args.output},
                             {"model", args.save.empty() ? nlohmann::json() : nlohmann::json(args.save)}};
    if (model.whitening) {
      const Whitening<float>& w = *model.whitening;
      report["eigenvalues_top10"] = head(w.eigenvalues(), 10);
      report["eigenvalue_min"] = w.eigenvalues().back();
      report["eigenvalue_floor"] = w.eigenvalue_floor();
      report["n_floored"] = w.n_floored();
      report["shrinkage_intensity"] = w.shrinkage_intensity();
    } else {
      report["components_removed"] = model.top->directions().cols();
    }
    print_json(report);
    return;
  }
  std::printf("whiten: %s fitted in %.3f s, %lld rows transformed to %lld-d in %.3f s\n", method.c_str(),
              model.fit_seconds, static_cast<long long>(rows.total_rows()), static_cast<long long>(out.cols()),
              transform_seconds);
  if (model.whitening) {
    const auto& values = model.whitening->eigenvalues();
    std::printf("eigenvalues: largest %.6g, smallest %.6g; %lld below the floor %.3g\n", values.front(), values.back(),
                static_cast<long long>(model.whitening->n_floored()), model.whitening->eigenvalue_floor());
  }
  std::printf("wrote %s (float32 [%lld, %lld])%s%s\n", args.output.c_str(), static_cast<long long>(rows.total_rows()),
              static_cast<long long>(out.cols()), args.save.empty() ? "" : ", model ", args.save.c_str());
}

int run_whiten(const WhitenArgs& args, const GlobalOptions& global) {
  check_combinations(args);
  const Shards& shards = Shards::current();
  shards.phase([&] {
    require_writable(args.output, "-o");
    if (!args.save.empty()) require_writable(args.save, "--save");
  });

  Progress progress(2, !global.quiet);
  const auto start = std::chrono::steady_clock::now();
  WhitenModel model;
  if (args.load.empty()) {
    model = fit_model(args, global, progress);
  } else {
    shards.phase([&] { model = load_model(args.load); });
  }
  model.fit_seconds = seconds_since(start);

  const std::string& source = args.apply.empty() ? args.fit : args.apply;
  const char* source_option = args.apply.empty() ? "--fit" : "--apply";
  std::optional<InputMatrix> rows;
  RowMatrixf out;
  progress.step("transform");
  const auto transform_start = std::chrono::steady_clock::now();
  shards.phase([&] {
    rows.emplace(source, source_option, shards.split());
    out = blame(source_option, source, [&] {
      return model.whitening ? model.whitening->transform(rows->view()) : model.top->transform(rows->view());
    });
  });
  const double transform_seconds = seconds_since(transform_start);
  progress.finish();
  shards.phase([&] {  // the model is the same on every rank: rank 0 saves it
    if (!args.save.empty() && shards.root())
      model.whitening ? model.whitening->save(args.save) : model.top->save(args.save);
  });
  shards.write_rows(args.output, MatrixView<float>(out), rows->total_rows());
  print_whiten_summary(args, model, *rows, out, transform_seconds, global);
  return 0;
}

}  // namespace

Command register_whiten(CLI::App& app, const GlobalOptions& global) {
  auto* sub =
      app.add_subcommand("whiten", "PCA/ZCA whitening, PCA projection or all-but-the-top: fit, transform, save");
  auto args = std::make_shared<WhitenArgs>();
  sub->add_option("--fit", args->fit, "rows to fit on, [n x d] float32/float64 .npy");
  sub->add_option("--load", args->load, "a model saved with --save (instead of --fit)");
  sub->add_option("--apply", args->apply, "rows to transform (default: the --fit rows)");
  sub->add_option("--method", args->method,
                  "pca (default), zca, projection (PCA without the whitening scale: y = (x - mu) U), cholesky "
                  "(y = (x - mu) L^-T, Sigma = L L^T) or abtt (all-but-the-top)")
      ->check(parsed_by(parse_whitening_method, {"abtt"}));
  sub->add_option("--dim", args->dim,
                  "pca, projection: keep the top D components (default: all); abtt: remove D directions (default: "
                  "d/100), D >= 1")
      ->check(at_least(1, "keep every component for pca, or remove d/100 directions for abtt"));
  sub->add_option("--variance", args->variance,
                  "pca, projection: keep the fewest top components whose share of the variance exceeds F, in (0, 1]")
      ->check(CLI::Range(1e-12, 1.0));
  sub->add_flag("--no-center", args->no_center, "do not subtract the mean (moments about 0)");
  sub->add_flag("--normalize", args->normalize, "L2-normalise the output rows");
  sub->add_option("--covariance", args->covariance, "population (1/n, default) or sample (1/(n-1), np.cov)")
      ->check(parsed_by(parse_covariance_convention));
  sub->add_option("--shrinkage", args->shrinkage, "none (default), ledoit-wolf or ridge (with --alpha)")
      ->check(parsed_by(parse_shrinkage));
  sub->add_option("--alpha", args->alpha, "--shrinkage ridge: added to every eigenvalue, > 0")->check(above_zero());
  sub->add_option("--epsilon", args->epsilon, "eigenvalue floor relative to the largest (default 1e-9)")
      ->check(CLI::Range(0.0, 0.999999));
  sub->add_option("-o,--output", args->output, "output: float32 [n x D] transformed rows")->required();
  sub->add_option("--save", args->save, "output: the fitted model (latent model file)");
  sub->footer(
      "Examples:\n"
      "  latent whiten --fit train.npy --apply test.npy --dim 256 -o test_white.npy --save white.model\n"
      "  latent whiten --load white.model --apply more.npy -o more_white.npy\n"
      "  latent whiten --fit emb.npy --method projection --variance 0.95 -o emb_pca.npy\n"
      "  latent whiten --fit emb.npy --method abtt --dim 3 -o emb_abtt.npy --json");
  return {sub, [args, &global] { return run_whiten(*args, global); }};
}

}  // namespace latent::cli
