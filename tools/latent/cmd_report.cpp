// latent report X.npy [--labels Y.npy] [--html OUT.html] [-k K] [--metric M]
//               [--candidates C] [--compare B.npy [--anchors IDS.npy | --n-anchors N]] [--json]
//
// The main job: measures an embedding space, tries the repairs, recommends one
// and, given a second space, compares them (report.hpp). Prints a table (or one
// JSON object with --json) and writes a self-contained HTML page with --html,
// atomically, after everything else succeeded.
#include <cstdio>
#include <optional>

#include "cli.hpp"
#include "latent/relative.hpp"
#include "report.hpp"

namespace latent::cli {
namespace {

struct ReportArgs {
  std::string input, labels, html, metric = "cosine", compare, anchors;
  std::int64_t k = 10, candidates = 50, n_anchors = 128;
  std::optional<std::uint64_t> seed;  ///< of the anchor sample
};

int run_report(const ReportArgs& args, bool n_anchors_given, const GlobalOptions& global) {
  if (!args.anchors.empty() && (n_anchors_given || args.seed))
    usage_error("--anchors excludes --n-anchors and --seed (they sample the anchors)");
  if (args.compare.empty() && (!args.anchors.empty() || n_anchors_given || args.seed))
    usage_error("--anchors, --n-anchors and --seed need --compare B.npy");
  ReportOptions options;
  options.metric = parse_metric(args.metric, "--metric");
  options.k = args.k;
  options.candidates = args.candidates;
  options.parallel = global.parallel();
  if (!args.html.empty()) require_writable(args.html, "--html");

  const InputMatrix input(args.input, "X");
  const MatrixView<float>& x = input.view();
  if (x.rows < 3) throw EmptyInput("X: " + args.input + ": a report needs at least 3 rows (has " + std::to_string(x.rows) + ")");
  if (args.k >= x.rows) {
    throw InvalidK("-k: k=" + std::to_string(args.k) + " must be below the " + std::to_string(x.rows) + " rows of " +
                   args.input + " (self excluded)");
  }
  if (!args.labels.empty()) {
    options.labels = read_int_vector(args.labels, "--labels", "labels");
    if (static_cast<std::int64_t>(options.labels.size()) != x.rows) {
      throw IoError("--labels: " + args.labels + ": needs one label per row of " + args.input + " (labels=" +
                    std::to_string(options.labels.size()) + ", rows=" + std::to_string(x.rows) + ")");
    }
  }
  std::optional<InputMatrix> other;
  if (!args.compare.empty()) {
    other.emplace(args.compare, "--compare");
    options.compare = &other->view();
    options.compare_path = args.compare;
    // Checked here so that an error names the second file, not X.
    blame("--compare", args.compare, [&] {
      const MatrixView<float>& b = other->view();
      if (b.rows < 2) throw EmptyInput("needs at least 2 rows (has " + std::to_string(b.rows) + ")");
      require_finite("report", "--compare", b);
      const RowStats stats = row_stats(b, options.parallel);
      if (stats.zero_rows > 0)
        throw InvalidArgument("has " + std::to_string(stats.zero_rows) + " zero rows: their cosine is undefined");
    });
    const std::int64_t rows = std::min(x.rows, other->view().rows);
    if (!args.anchors.empty()) {
      options.anchors = blame("--anchors", args.anchors, [&] { return read_anchor_ids(args.anchors, "--anchors"); });
      options.anchors_source = args.anchors;
    } else {
      if (args.n_anchors >= rows) {
        throw InvalidArgument("--n-anchors " + std::to_string(args.n_anchors) + ": must be below the " +
                              std::to_string(rows) + " rows both spaces share");
      }
      AnchorOptions anchors;
      anchors.seed = args.seed.value_or(0);
      options.anchors = select_anchors(MatrixView<float>(x.data, rows, x.cols, x.row_stride), args.n_anchors, anchors);
      options.anchors_source = "uniform sample of rows, seed " + std::to_string(anchors.seed);
    }
  }

  Progress progress(report_steps(options), !global.quiet);
  SpaceReport report;
  try {
    report = build_report(args.input, x, options, progress);
  } catch (const Error& e) {
    throw Error(args.input + ": " + e.what());
  }
  progress.finish();
  if (!args.html.empty()) write_file_atomic(args.html, report_html(report));
  if (global.json) {
    nlohmann::json out = report_json(report);
    out["html"] = args.html.empty() ? nlohmann::json() : nlohmann::json(args.html);
    print_json(out);
    return 0;
  }
  print_report(report);
  if (!args.html.empty()) std::printf("  wrote %s\n", args.html.c_str());
  return 0;
}

}  // namespace

Command register_report(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("report", "the embedding-space report: isotropy, hubness, repairs, a recommendation");
  auto args = std::make_shared<ReportArgs>();
  sub->add_option("X", args->input, "the rows, [n x d] float32/float64 .npy (n >= 3)")->required();
  sub->add_option("--labels", args->labels, "int64 class of each row: adds leave-one-out kNN accuracy");
  sub->add_option("--html", args->html, "write a self-contained HTML page with the plots");
  sub->add_option("-k", args->k, "neighbours per row (default 10, self excluded)")->check(at_least(1));
  sub->add_option("--metric", args->metric, "cosine (default), l2 or sqeuclidean")
      ->check(CLI::IsMember({"cosine", "l2", "sqeuclidean"}));
  sub->add_option("--candidates", args->candidates,
                  "neighbours per row the graph repairs (mp, ls, csls) may re-rank (default 50)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  sub->add_option("--compare", args->compare, "a second space whose row i is the same item as row i of X");
  sub->add_option("--anchors", args->anchors, "anchor row ids for the comparison (int64 .npy)");
  auto* n_anchors = sub->add_option("--n-anchors", args->n_anchors,
                                    "without --anchors: sample this many anchor rows (default 128)")
                        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  sub->add_option("--seed", args->seed, "seed of the anchor sample (default 0)");
  sub->footer(
      "Repairs tried: PCA whitening (99% of the variance), f-norm, mutual proximity, local scaling, CSLS,\n"
      "f-norm + mutual proximity. The recommendation is the k-skewness closest to 0 among the repairs\n"
      "that cost at most 0.01 leave-one-out kNN accuracy (with --labels); none if no repair brings\n"
      "|k-skewness| down by 0.1. JSON keys: input, rows, dim, metric, k, candidates, labels, norms, isotropy,\n"
      "hubness, methods[], recommendation, compare (with --compare), seconds, html.\n"
      "Examples:\n"
      "  latent report data/fashion-mnist/images.npy --labels data/fashion-mnist/labels.npy --html report.html\n"
      "  latent report data/encoders/mlp_seed0.npy --labels data/encoders/labels.npy \\\n"
      "      --compare data/encoders/mlp_seed1.npy --html encoders.html\n"
      "  latent report X.npy --metric l2 -k 20 --json");
  return {sub, [args, n_anchors, &global] { return run_report(*args, n_anchors->count() > 0, global); }};
}

}  // namespace latent::cli
