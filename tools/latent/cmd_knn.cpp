// latent knn --base B.npy [--query Q.npy] -k K --metric M --ids OUT.npy [--scores OUT.npy]
//            [--allow-ids A.npy | --deny-ids D.npy | --csls K_LOCAL] [--graph knn|symmetric|mutual | --epsilon E]
//            [--compute f32|bf16|int8 [--rescore C]]
// latent knn --base B.npy [--query Q.npy] -k K --metric poincare|lorentz [--curvature C] --ids OUT.npy
//            [--scores OUT.npy]
//
// Exact k nearest neighbours through latent::knn (the GEMM path with fused top-k);
// under mpirun, latent::mpi's sharded search (the base blocks travel the ranks).
// Without --query: the kNN graph of the base, each row's own id excluded. Writes
// ids as int64 [n x k] and scores as float32 [n x k] (the metric's units: l2 is
// the distance, not its square), atomically. --allow-ids / --deny-ids restrict
// the base rows a --query search may return (latent::IdFilter), in one process;
// --csls K_LOCAL ranks them by two-set CSLS instead of cosine (latent::csls_search).
// --graph symmetric|mutual and --epsilon E build the symmetric, mutual or epsilon
// graph of --base (latent::symmetric_knn_graph / epsilon_graph) and write its
// edges: --ids int64 [E x 2] rows (i, j), both directions, row i's edges nearest
// first, --scores float32 [E]. --compute bf16|int8 searches copies of the rows
// converted once to that precision on the CPU's bf16 / int8 dot-product
// instructions (latent::low_precision_knn), --rescore C re-scoring C candidates
// per row exactly in f32.
//
// --metric poincare|lorentz searches a hyperbolic embedding of curvature -C
// (latent::hyperbolic_knn, exact; scores are distances, ascending). Poincaré rows
// lie in the open ball |x| < 1/sqrt(C). Lorentz rows are hyperboloid points with
// the time component first, on x_0 = sqrt(1 + |x_s|^2), at distance
// arcosh(x_0 y_0 - <x_s, y_s>) / sqrt(C); they are handed to the library as the
// space components x_s / sqrt(C) of its hyperboloid x_0 = sqrt(1/C + |x_s|^2).
#include <cmath>
#include <cstdio>
#include <optional>

#include "blame_inputs.hpp"
#include "cli.hpp"
#include "latent/core/errors.hpp"
#include "latent/embedding.hpp"
#include "latent/hubness.hpp"
#include "latent/similarity.hpp"
#include "progress.hpp"
#include "shards.hpp"

namespace latent::cli {
namespace {

struct KnnArgs {
  std::string base, query, ids, scores, metric = "cosine", zero_norm;  // zero_norm: "" = not given
  std::string allow_ids, deny_ids;
  std::string graph = "knn";
  std::string compute = "f32";
  std::int64_t rescore = 0;  // 0: not given
  std::optional<double> epsilon;
  std::int64_t csls = 0;  // k_local of --csls; 0: not given
  std::int64_t k = 0;     // 0: not given
  std::optional<double> curvature;
};

bool is_hyperbolic(const std::string& metric) { return metric == "poincare" || metric == "lorentz"; }

// A time component may differ from sqrt(1 + |x_s|^2) by this share of it: float32
// rounding of either side, with room for a model that computes it in float.
constexpr double kHyperboloidTolerance = 1e-4;

// Hyperboloid rows [x_0, x_s] of `option` -> the library's space components
// x_s / sqrt(c); a row off the hyperboloid is an error naming it.
RowMatrixf lorentz_space_components(const MatrixView<float>& rows, double c, const std::string& option,
                                    const std::string& path) {
  const auto fail = [&](const std::string& problem) { throw InvalidArgument(option + " " + path + ": " + problem); };
  if (rows.cols < 2) fail("--metric lorentz rows need the time component x_0 and at least one space component");
  RowMatrixf space(rows.rows, rows.cols - 1);
  const double scale = 1.0 / std::sqrt(c);
  for (std::int64_t i = 0; i < rows.rows; ++i) {
    const float* x = rows.row(i);
    for (std::int64_t j = 0; j < rows.cols; ++j) {
      if (!std::isfinite(x[j]))
        fail("row " + std::to_string(i) + ", column " + std::to_string(j) + " is " + std::to_string(x[j]));
    }
    double n2 = 0.0;
    for (std::int64_t j = 1; j < rows.cols; ++j) n2 += static_cast<double>(x[j]) * x[j];
    const double expected = std::sqrt(1.0 + n2);
    if (!(std::abs(x[0] - expected) <= kHyperboloidTolerance * expected)) {
      fail("row " + std::to_string(i) + " is not on the hyperboloid x_0 = sqrt(1 + |x_s|^2) (x_0=" +
           std::to_string(x[0]) + ", sqrt(1 + |x_s|^2)=" + std::to_string(expected) + ")");
    }
    for (std::int64_t j = 1; j < rows.cols; ++j) space(i, j - 1) = static_cast<float>(scale * x[j]);
  }
  return space;
}

// --metric poincare|lorentz: one process, a plain kNN search or graph.
int run_hyperbolic(const KnnArgs& args, const GlobalOptions& global) {
  if (args.k == 0) usage_error("-k is required");
  if (args.graph != "knn" || args.epsilon || args.csls != 0 || !args.allow_ids.empty() || !args.deny_ids.empty() ||
      args.compute != "f32" || !args.zero_norm.empty())
    usage_error("--metric " + args.metric +
                " is a plain kNN search: drop --graph, --epsilon, --csls, --compute, --zero-norm and the id filters");
  if (Shards::current().distributed())
    usage_error("--metric " + args.metric + " runs in one process, not under mpirun");
  const HyperbolicEmbedding space{parse_hyperbolic_model(args.metric, "--metric"), args.curvature.value_or(1.0)};
  require_writable(args.ids, "--ids");
  if (!args.scores.empty()) require_writable(args.scores, "--scores");
  const InputMatrix base(args.base, "--base");
  std::optional<InputMatrix> query;
  if (!args.query.empty()) query.emplace(args.query, "--query");
  const bool lorentz = space.model == HyperbolicModel::lorentz;
  RowMatrixf base_space, query_space;  // Lorentz: the space components
  if (lorentz) {
    base_space = lorentz_space_components(base.view(), space.curvature, "--base", args.base);
    if (query) query_space = lorentz_space_components(query->view(), space.curvature, "--query", args.query);
  }
  const MatrixView<float> base_rows = lorentz ? MatrixView<float>(base_space) : base.view();
  SearchOptions options;
  options.parallel = global.parallel();

  Progress progress(1, !global.quiet);
  progress.step(query ? "hyperbolic kNN search" : "hyperbolic kNN graph");
  const auto start = std::chrono::steady_clock::now();
  KnnGraph graph;
  if (!query) {
    graph = blame("--base", args.base, [&] { return hyperbolic_knn_graph(base_rows, args.k, space, options); });
  } else {
    const MatrixView<float> query_rows = lorentz ? MatrixView<float>(query_space) : query->view();
    graph = blame_inputs({{"queries", "--query", args.query}, {"base", "--base", args.base}},
                         [&] { return hyperbolic_knn(query_rows, base_rows, args.k, space, options); });
  }
  const double seconds = seconds_since(start);
  progress.finish();
  write_npy(args.ids, MatrixView<std::int64_t>(graph.ids));
  if (!args.scores.empty()) write_npy(args.scores, MatrixView<float>(graph.scores));
  const std::int64_t queries = graph.n_queries();
  if (global.json) {
    print_json({{"queries", queries},
                {"base", base.total_rows()},
                {"dim", base.view().cols},
                {"k", args.k},
                {"metric", args.metric},
                {"curvature", space.curvature},
                {"self_excluded", graph.self_excluded},
                {"seconds", seconds},
                {"ids", args.ids},
                {"scores", args.scores.empty() ? nlohmann::json() : nlohmann::json(args.scores)}});
    return 0;
  }
  const std::string rows =
      query ? std::to_string(queries) + " queries x " + std::to_string(base.total_rows()) + " base rows"
            : "kNN graph of " + std::to_string(base.total_rows()) + " rows";
  std::printf("knn: %s (%lld-d), %s, curvature -%g%s, k=%lld: %.3f s\n", rows.c_str(),
              static_cast<long long>(base.view().cols), args.metric.c_str(), space.curvature,
              query ? "" : ", self excluded", static_cast<long long>(args.k), seconds);
  print_wrote_graph(queries, args.k, args.ids, args.scores);
  return 0;
}

// Writes a sparse graph as an edge list: ids [E x 2] (i, j), scores [E].
void write_edges(const SparseGraph& graph, const KnnArgs& args) {
  IdMatrix edges(graph.edges(), 2);
  for (std::int64_t i = 0; i < graph.n(); ++i)
    for (std::int64_t e = graph.offsets[static_cast<std::size_t>(i)];
         e < graph.offsets[static_cast<std::size_t>(i) + 1]; ++e) {
      edges(e, 0) = i;
      edges(e, 1) = graph.ids[static_cast<std::size_t>(e)];
    }
  write_npy(args.ids, MatrixView<std::int64_t>(edges));
  if (!args.scores.empty()) write_npy(args.scores, graph.scores);
}

// --graph symmetric|mutual or --epsilon: one process, no --query.
int run_sparse_graph(const KnnArgs& args, const GlobalOptions& global, Metric metric, const SearchOptions& options) {
  if (!args.query.empty())
    usage_error("--graph " + args.graph + " and --epsilon build the graph of --base; drop --query");
  if (Shards::current().distributed()) usage_error("--graph " + args.graph + " and --epsilon run in one process");
  require_writable(args.ids, "--ids");
  if (!args.scores.empty()) require_writable(args.scores, "--scores");
  const InputMatrix base(args.base, "--base");
  const auto start = std::chrono::steady_clock::now();
  const SparseGraph graph = blame("--base", args.base, [&] {
    if (args.epsilon) return epsilon_graph(base.view(), *args.epsilon, metric, options);
    const KnnGraph directed = knn_graph(base.view(), args.k, metric, options);
    return symmetric_knn_graph(directed, args.graph == "mutual" ? Symmetry::mutual : Symmetry::either);
  });
  const double seconds = seconds_since(start);
  write_edges(graph, args);
  const std::string kind = args.epsilon ? "epsilon" : args.graph;
  if (global.json) {
    print_json({{"graph", kind},
                {"rows", graph.n()},
                {"edges", graph.edges()},
                {"k", args.epsilon ? nlohmann::json() : nlohmann::json(args.k)},
                {"epsilon", args.epsilon ? nlohmann::json(*args.epsilon) : nlohmann::json()},
                {"metric", args.metric},
                {"seconds", seconds},
                {"ids", args.ids},
                {"scores", args.scores.empty() ? nlohmann::json() : nlohmann::json(args.scores)}});
    return 0;
  }
  std::printf("knn: %s graph of %lld rows, %s: %lld edges (both directions), %.3f s\n", kind.c_str(),
              static_cast<long long>(graph.n()), args.metric.c_str(), static_cast<long long>(graph.edges()), seconds);
  const std::string scores = args.scores.empty() ? "" : " and " + args.scores + " (float32 scores)";
  std::printf("wrote %s (int64 [%lld x 2] edges i, j)%s\n", args.ids.c_str(), static_cast<long long>(graph.edges()),
              scores.c_str());
  return 0;
}

int run_knn(const KnnArgs& args, const GlobalOptions& global) {
  if (is_hyperbolic(args.metric)) return run_hyperbolic(args, global);
  if (args.curvature) usage_error("--curvature applies to --metric poincare and lorentz");
  const Metric metric = parse_metric(args.metric, "--metric");
  if (!args.zero_norm.empty() && !is_directional(metric))
    usage_error("--zero-norm applies to --metric cosine and angular");
  if (args.k == 0 && !args.epsilon) usage_error("-k is required (except with --epsilon)");
  const ComputePrecision compute = parse_compute_precision(args.compute, "--compute");
  const bool low_precision = compute != ComputePrecision::f32;
  if (args.rescore != 0 && !low_precision) usage_error("--rescore re-scores a --compute bf16 or int8 search");
  if (args.rescore != 0 && args.rescore < args.k)
    usage_error("--rescore " + std::to_string(args.rescore) + " must be at least -k " + std::to_string(args.k));
  if (low_precision) {
    if (metric == Metric::l1 || metric == Metric::linf)
      usage_error("--compute " + args.compute + " needs --metric cosine, ip, l2, sqeuclidean or angular");
    if (args.graph != "knn" || args.epsilon || args.csls != 0 || !args.allow_ids.empty() || !args.deny_ids.empty())
      usage_error("--compute " + args.compute +
                  " is a plain kNN search: drop --graph, --epsilon, --csls and the id filters");
    if (Shards::current().distributed())
      usage_error("--compute " + args.compute + " runs in one process, not under mpirun");
  }
  if (args.k != 0 && args.epsilon) usage_error("--epsilon takes every pair within E; drop -k");
  if (args.graph != "knn" || args.epsilon) {
    if (args.epsilon && args.graph != "knn") usage_error("--epsilon excludes --graph " + args.graph);
    if (!args.allow_ids.empty() || !args.deny_ids.empty())
      usage_error("--allow-ids and --deny-ids filter a --query search, not --graph or --epsilon");
    SearchOptions options;
    options.parallel = global.parallel();
    if (!args.zero_norm.empty()) options.zero_norm = parse_zero_norm_policy(args.zero_norm, "--zero-norm");
    return run_sparse_graph(args, global, metric, options);
  }
  const Shards& shards = Shards::current();
  const bool filtered = !args.allow_ids.empty() || !args.deny_ids.empty();
  if (args.csls != 0) {
    if (args.query.empty()) usage_error("--csls ranks the --base rows for each --query row");
    if (metric != Metric::cosine) usage_error("--csls needs --metric cosine");
    if (filtered) usage_error("--csls excludes --allow-ids and --deny-ids");
    if (shards.distributed()) usage_error("--csls runs in one process, not under mpirun");
  }
  if (filtered && args.query.empty()) usage_error("--allow-ids and --deny-ids filter a --query search");
  if (filtered && shards.distributed()) usage_error("--allow-ids and --deny-ids run in one process, not under mpirun");
  std::optional<IdFilter> filter;
  if (!args.allow_ids.empty())
    filter = IdFilter::allow(read_int_vector(args.allow_ids, "--allow-ids", "base ids"));
  else if (!args.deny_ids.empty())
    filter = IdFilter::deny(read_int_vector(args.deny_ids, "--deny-ids", "base ids"));
  std::optional<InputMatrix> base, query;
  shards.phase([&] {
    require_writable(args.ids, "--ids");
    if (!args.scores.empty()) require_writable(args.scores, "--scores");
    base.emplace(args.base, "--base", shards.split());
    if (!args.query.empty()) query.emplace(args.query, "--query", shards.split());
  });
  SearchOptions options;
  options.parallel = global.parallel();
  if (!args.zero_norm.empty()) options.zero_norm = parse_zero_norm_policy(args.zero_norm, "--zero-norm");

  Progress progress(1, !global.quiet);
  progress.step(args.query.empty() ? "kNN graph" : "kNN search");
  const auto start = std::chrono::steady_clock::now();
  KnnGraph graph;
  if (low_precision) {
    LowPrecisionOptions low{compute, args.rescore, options.parallel, options.zero_norm};
    if (!query) {
      graph = blame("--base", args.base, [&] { return low_precision_knn_graph(base->view(), args.k, metric, low); });
    } else {
      graph = blame_inputs({{"queries", "--query", args.query}, {"base", "--base", args.base}},
                           [&] { return low_precision_knn(query->view(), base->view(), args.k, metric, low); });
    }
  } else if (!query) {
    graph = blame("--base", args.base, [&] { return shards.knn_graph(base->view(), args.k, metric, options); });
  } else if (args.csls != 0) {
    graph = blame_inputs({{"mapped_source", "--query", args.query}, {"target", "--base", args.base}},
                         [&] { return csls_search(query->view(), base->view(), args.k, args.csls, options).matches; });
  } else if (filter) {
    const std::string filter_option = args.allow_ids.empty() ? "--deny-ids" : "--allow-ids";
    graph = blame_inputs({{"queries", "--query", args.query},
                          {"base", "--base", args.base},
                          {"filter", filter_option, filter_option == "--allow-ids" ? args.allow_ids : args.deny_ids}},
                         [&] { return knn(query->view(), base->view(), args.k, metric, *filter, options); });
  } else {
    graph = blame_inputs({{"queries", "--query", args.query}, {"base", "--base", args.base}},
                         [&] { return shards.knn(query->view(), base->view(), args.k, metric, options); });
  }
  const double seconds = seconds_since(start);
  progress.finish();
  const std::int64_t queries = query ? query->total_rows() : base->total_rows();
  shards.write_rows(args.ids, MatrixView<std::int64_t>(graph.ids), queries);
  if (!args.scores.empty()) shards.write_rows(args.scores, MatrixView<float>(graph.scores), queries);

  if (global.json) {
    print_json({{"queries", queries},
                {"base", base->total_rows()},
                {"dim", base->view().cols},
                {"k", args.k},
                {"metric", args.metric},
                {"self_excluded", graph.self_excluded},
                {"csls", args.csls == 0 ? nlohmann::json() : nlohmann::json(args.csls)},
                {"compute", args.compute},
                {"rescore", args.rescore == 0 ? nlohmann::json() : nlohmann::json(args.rescore)},
                {"seconds", seconds},
                {"ranks", shards.ranks()},
                {"ids", args.ids},
                {"scores", args.scores.empty() ? nlohmann::json() : nlohmann::json(args.scores)}});
    return 0;
  }
  std::string ranks = shards.distributed() ? " on " + std::to_string(shards.ranks()) + " ranks" : "";
  if (low_precision)
    ranks +=
        " in " + args.compute + (args.rescore != 0 ? " (" + std::to_string(args.rescore) + " re-scored in f32)" : "");
  if (!query) {
    std::printf("knn: kNN graph of %lld rows (%lld-d, self excluded), k=%lld, %s%s: %.3f s\n",
                static_cast<long long>(queries), static_cast<long long>(base->view().cols),
                static_cast<long long>(args.k), args.metric.c_str(), ranks.c_str(), seconds);
  } else {
    std::printf("knn: %lld queries x %lld base rows (%lld-d), k=%lld, %s%s: %.3f s\n", static_cast<long long>(queries),
                static_cast<long long>(base->total_rows()), static_cast<long long>(base->view().cols),
                static_cast<long long>(args.k), args.metric.c_str(), ranks.c_str(), seconds);
  }
  print_wrote_graph(queries, args.k, args.ids, args.scores);
  return 0;
}

}  // namespace

Command register_knn(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("knn", "exact k nearest neighbours (or the kNN graph of --base)");
  auto args = std::make_shared<KnnArgs>();
  sub->add_option("--base", args->base, "the indexed rows, [n x d] float32/float64 .npy")->required();
  sub->add_option("--query", args->query, "query rows [m x d]; without it: the kNN graph of --base, self excluded");
  sub->add_option("-k", args->k, "neighbours per row (required except with --epsilon)")->check(at_least(1));
  sub->add_option("--metric", args->metric,
                  "cosine, ip, l2, sqeuclidean, l1, linf or angular (1 - arccos(cosine) / pi, ranked as cosine); "
                  "poincare: rows in the ball |x| < 1/sqrt(C), d = (2/sqrt(C)) artanh(sqrt(C) |(-x) (+)_C y|) "
                  "(Moebius addition); lorentz: hyperboloid rows [x_0, x_s] with x_0 = sqrt(1 + |x_s|^2), "
                  "d = arcosh(x_0 y_0 - <x_s, y_s>) / sqrt(C); hyperbolic scores are distances, ascending")
      ->required()
      ->check(parsed_by(parse_metric, {"poincare", "lorentz"}));
  sub->add_option("--curvature", args->curvature,
                  "C > 0 of --metric poincare|lorentz, the space's curvature being -C (default 1)")
      ->check(above_zero());
  sub->add_option("--ids", args->ids, "output: int64 [m x k] neighbour ids")->required();
  sub->add_option("--scores", args->scores, "output: float32 [m x k] scores in the metric's units");
  sub->add_option("--graph", args->graph,
                  "knn (default): k neighbours per row; symmetric: the pairs where either row lists the other; "
                  "mutual: where both do (edges written as --ids [E x 2], --scores [E])")
      ->check(CLI::IsMember({"knn", "symmetric", "mutual"}));
  sub->add_option("--epsilon", args->epsilon,
                  "the epsilon graph of --base instead: every pair at distance <= E (similarity >= E for cosine, "
                  "ip, angular), written as --graph writes it");
  sub->add_option("--csls", args->csls,
                  "rank the --base rows for each --query row by two-set CSLS with K_LOCAL neighbours: "
                  "2 cos(q, b) - r_base(q) - r_query(b), r = mean cosine to the K_LOCAL nearest rows of the other set")
      ->check(at_least(1));
  auto* allow =
      sub->add_option("--allow-ids", args->allow_ids, "int .npy vector: --query search returns only these base ids");
  sub->add_option("--deny-ids", args->deny_ids, "int .npy vector: --query search never returns these base ids")
      ->excludes(allow);
  sub->add_option("--zero-norm", args->zero_norm, "cosine or angular of a zero row: raise (default) or zero")
      ->check(CLI::IsMember({"raise", "zero"}));
  sub->add_option("--compute", args->compute,
                  "f32 (default, exact), bf16 or int8: search copies of the rows converted once (bf16: rounded; "
                  "int8: calibrated on the base's per-dimension min and max; cosine and angular: the unit rows) "
                  "with the CPU's bf16 / int8 dot-product instructions")
      ->check(CLI::IsMember({"f32", "bf16", "int8"}));
  sub->add_option("--rescore", args->rescore,
                  "with --compute bf16|int8: find C candidates per row, re-score them exactly in f32, keep k")
      ->check(at_least(1));
  sub->footer(
      "Examples:\n"
      "  latent knn --base data/fashion-mnist/images.npy -k 10 --metric cosine --ids ids.npy --scores scores.npy\n"
      "  latent knn --base train.npy --query queries.npy -k 10 --metric l2 --ids ids.npy --json\n"
      "  latent knn --base train.npy --query queries.npy -k 10 --metric l2 --compute int8 --rescore 50 --ids ids.npy\n"
      "  latent knn --base ball.npy -k 10 --metric poincare --curvature 0.5 --ids ids.npy --scores distances.npy");
  return {sub, [args, &global] { return run_knn(*args, global); }};
}

}  // namespace latent::cli
