// latent hubness X.npy -k K --metric cosine|l2|sqeuclidean|angular [--reduce METHOD]
//                [--candidates C|all] [--labels Y.npy] [--ids OUT.npy] [--hubs H.npy [--hub-threshold T]]
//                [--json]
//
// Hubness of the self-excluded k-NN graph of X, before and (with --reduce) after
// a hubness reduction, through the public API: exact_candidate_graph (float GEMM
// search, distances re-ranked in double), HubnessReducer, hubness_measures and
// loo_knn_accuracy. --ids writes the final lists (int64 [n x k]) atomically,
// after everything else succeeded. Under mpirun: latent::mpi's pipeline over the
// ranks' blocks (candidates must stay below n - 1 there).
#include <cmath>
#include <cstdio>
#include <optional>

#include "cli.hpp"
#include "latent/core/errors.hpp"
#include "latent/hubness.hpp"
#include "latent/metrics.hpp"
#include "progress.hpp"
#include "shards.hpp"

namespace latent::cli {
namespace {

struct HubnessArgs {
  std::string input, metric, reduce = "none", candidates, labels, ids;  // candidates: "" = not given
  std::string hubs;
  std::int64_t hub_threshold = 0;  // 0: 2 k, the hub definition
  std::int64_t k = 10;
};

// The graphs of one run: the candidate graph, its top k, and the reduced one.
struct HubnessGraphs {
  DistanceGraph before, reduced;
  HubnessMeasures measures_before, measures_after;  ///< under mpirun: of every rank's rows
  std::int64_t candidates = 0;
  double graph_seconds = 0, reduce_seconds = 0;
};

// Leave-one-out k-NN accuracy of the rows of `graph` (this rank's block from row
// `first_row` under mpirun): the correct votes counted on every rank, then
// divided once by n, as loo_knn_accuracy divides its count.
double knn_accuracy_of(const DistanceGraph& graph, const std::vector<std::int64_t>& labels, std::int64_t first_row,
                       const Parallel& parallel) {
  const Shards& shards = Shards::current();
  if (!shards.distributed()) return loo_knn_accuracy(graph.ids, labels, 0, parallel);
  const auto begin = labels.begin() + first_row;
  const std::vector<std::int64_t> own(begin, begin + graph.n_queries());
  const double share = knn_accuracy(graph.ids, labels, own, 0, parallel);
  const auto correct = static_cast<std::int64_t>(std::llround(share * static_cast<double>(graph.n_queries())));
  return static_cast<double>(shards.sum(correct)) / static_cast<double>(labels.size());
}

nlohmann::json measures_json(const HubnessMeasures& m, const DistanceGraph& graph,
                             const std::vector<std::int64_t>* labels, std::int64_t first_row,
                             const Parallel& parallel) {
  nlohmann::json out = {
      {"k_skewness", m.k_skewness},         {"robinhood", m.robinhood}, {"antihub_occurrence", m.antihub_occurrence},
      {"hub_occurrence", m.hub_occurrence}, {"gini", m.gini},           {"atkinson", m.atkinson},
      {"groupie_ratio", m.groupie_ratio}};
  if (labels != nullptr) out["knn_accuracy"] = knn_accuracy_of(graph, *labels, first_row, parallel);
  return out;
}

void print_row(const char* name, const nlohmann::json& m) {
  std::printf("%-8s k_skewness %8.4f  robinhood %.4f  antihubs %.4f  hubs %.4f  gini %.4f  atkinson %.4f  groupie %.5f",
              name, m["k_skewness"].get<double>(), m["robinhood"].get<double>(), m["antihub_occurrence"].get<double>(),
              m["hub_occurrence"].get<double>(), m["gini"].get<double>(), m["atkinson"].get<double>(),
              m["groupie_ratio"].get<double>());
  if (m.contains("knn_accuracy")) std::printf("  knn_accuracy %.4f", m["knn_accuracy"].get<double>());
  std::printf("\n");
}

std::vector<std::int64_t> read_labels(const HubnessArgs& args, std::int64_t n) {
  if (args.labels.empty()) return {};
  std::vector<std::int64_t> labels = read_int_vector(args.labels, "--labels", "labels");
  if (static_cast<std::int64_t>(labels.size()) != n) {
    throw IoError("--labels: " + args.labels + ": needs one label per row of " + args.input +
                  " (labels=" + std::to_string(labels.size()) + ", rows=" + std::to_string(n) + ")");
  }
  return labels;
}

// Candidates: "all" (every other row: exact over all n), else C (at least k, at
// most n - 1), 50 when not given. Without a reduction only the k nearest are needed.
std::int64_t candidate_count(const HubnessArgs& args, Reduction method, std::int64_t n) {
  if (method == Reduction::none) return args.k;
  if (args.candidates == "all") return n - 1;
  const std::int64_t asked = args.candidates.empty() ? 50 : std::stoll(args.candidates);
  return std::min(std::max(asked, args.k), n - 1);
}

HubnessGraphs build_graphs(const HubnessArgs& args, const MatrixView<float>& x, std::int64_t n, Metric metric,
                           Reduction method, const GlobalOptions& global) {
  HubnessGraphs graphs;
  graphs.candidates = candidate_count(args, method, n);
  SearchOptions search;
  search.parallel = global.parallel();
  Progress progress(method == Reduction::none ? 1 : 2, !global.quiet);
  if (Shards::current().distributed()) {
    // Under mpirun: latent::mpi's pipeline, whose graphs hold this rank's rows
    // and whose measures are those of all rows.
    progress.step("kNN graph and reduction " + args.reduce);
    const auto start = std::chrono::steady_clock::now();
    HubnessPipelineOptions options;
    options.candidates = graphs.candidates;
    options.reduction.method = method;
    options.reduction.parallel = global.parallel();
    options.search = search;
    const HubnessPipelineResult result =
        blame("X", args.input, [&] { return Shards::current().reduce_hubness(x, args.k, metric, options); });
    graphs.graph_seconds = seconds_since(start);
    graphs.before = keep_top(result.candidates, args.k);
    graphs.reduced = result.reduced;
    graphs.measures_before = result.before;
    graphs.measures_after = result.after;
    progress.finish();
    return graphs;
  }
  try {
    progress.step("kNN graph");
    auto start = std::chrono::steady_clock::now();
    const DistanceGraph graph = exact_candidate_graph(x, graphs.candidates, metric, search);
    graphs.graph_seconds = seconds_since(start);
    start = std::chrono::steady_clock::now();
    if (method != Reduction::none) {
      progress.step("reduction " + args.reduce);
      ReductionOptions options;
      options.method = method;
      options.parallel = global.parallel();
      graphs.reduced = HubnessReducer(options).fit_transform(graph, x, args.k);
    }
    graphs.reduce_seconds = seconds_since(start);
    graphs.before = keep_top(graph, args.k);
  } catch (const Error& e) {
    throw Error(args.input + ": " + e.what());
  }
  progress.finish();
  return graphs;
}

void print_hubness_summary(const HubnessArgs& args, const MatrixView<float>& x, std::int64_t n, Reduction method,
                           const HubnessGraphs& graphs, const nlohmann::json& before, const nlohmann::json& after,
                           double measure_seconds, const GlobalOptions& global) {
  const bool reduced = method != Reduction::none;
  const DistanceGraph& final_graph = reduced ? graphs.reduced : graphs.before;
  if (global.json) {
    nlohmann::json out = {
        {"n", n},
        {"dim", x.cols},
        {"k", args.k},
        {"metric", args.metric},
        {"reduce", args.reduce},
        {"candidates", graphs.candidates},
        {"exact", graphs.candidates == n - 1},
        {"before", before},
        {"seconds",
         {{"graph", graphs.graph_seconds}, {"reduce", graphs.reduce_seconds}, {"measures", measure_seconds}}},
        {"ids", args.ids.empty() ? nlohmann::json() : nlohmann::json(args.ids)}};
    if (reduced) out["after"] = after;
    print_json(out);
    return;
  }
  std::printf("hubness: %lld rows (%lld-d), k=%lld, %s, %s%s (%lld candidates%s): graph %.3f s, reduction %.3f s\n",
              static_cast<long long>(n), static_cast<long long>(x.cols), static_cast<long long>(args.k),
              args.metric.c_str(), reduced ? "reduction " : "no reduction", reduced ? args.reduce.c_str() : "",
              static_cast<long long>(graphs.candidates), graphs.candidates == n - 1 ? ", all other rows" : "",
              graphs.graph_seconds, graphs.reduce_seconds);
  print_row("before", before);
  if (reduced) print_row("after", after);
  if (!args.ids.empty()) {
    std::printf("wrote %s (int64 [%lld, %lld])\n", args.ids.c_str(), static_cast<long long>(n),
                static_cast<long long>(final_graph.ids.cols()));
  }
}

int run_hubness(const HubnessArgs& args, const GlobalOptions& global) {
  const Metric metric = parse_metric(args.metric, "--metric");
  const Reduction method =
      parse_reduction(args.reduce == "localized-centering" ? std::string("lc") : args.reduce, "--reduce");
  if (method == Reduction::none && !args.candidates.empty())
    usage_error("--candidates applies with --reduce (without it only the k nearest are searched)");
  const Shards& shards = Shards::current();
  if (args.hub_threshold != 0 && args.hubs.empty()) usage_error("--hub-threshold applies with --hubs");
  if (!args.hubs.empty() && shards.distributed()) usage_error("--hubs runs in one process, not under mpirun");
  std::optional<InputMatrix> input;
  std::vector<std::int64_t> labels;
  shards.phase([&] {
    if (!args.ids.empty()) require_writable(args.ids, "--ids");
    if (!args.hubs.empty()) require_writable(args.hubs, "--hubs");
    input.emplace(args.input, "X", shards.split());
    labels = read_labels(args, input->total_rows());
    if (args.k >= input->total_rows()) {
      throw InvalidK("-k: k=" + std::to_string(args.k) + " must be below the " + std::to_string(input->total_rows()) +
                     " rows of " + args.input + " (self excluded)");
    }
  });
  const MatrixView<float>& x = input->view();
  const std::int64_t n = input->total_rows();
  const HubnessGraphs graphs = build_graphs(args, x, n, metric, method, global);

  const auto start = std::chrono::steady_clock::now();
  const Parallel parallel = global.parallel();
  const std::vector<std::int64_t>* label_ptr = labels.empty() ? nullptr : &labels;
  const bool sharded = shards.distributed();
  const std::int64_t first = input->first_row();
  const nlohmann::json before = measures_json(sharded ? graphs.measures_before : hubness_measures(graphs.before.ids, n),
                                              graphs.before, label_ptr, first, parallel);
  nlohmann::json after;
  if (method != Reduction::none) {
    after = measures_json(sharded ? graphs.measures_after : hubness_measures(graphs.reduced.ids, n), graphs.reduced,
                          label_ptr, first, parallel);
  }
  const double measure_seconds = seconds_since(start);
  const DistanceGraph& final_graph = method == Reduction::none ? graphs.before : graphs.reduced;
  if (!args.ids.empty()) shards.write_rows(args.ids, MatrixView<std::int64_t>(final_graph.ids), n);
  // Hub-prior selection: the rows the final lists hold at least the threshold times.
  const std::int64_t threshold = args.hub_threshold != 0 ? args.hub_threshold : 2 * args.k;
  std::vector<std::int64_t> hubs;
  if (!args.hubs.empty()) {
    hubs = select_hubs(k_occurrence(final_graph.ids, n), threshold);
    write_npy(args.hubs, hubs);
  }
  print_hubness_summary(args, x, n, method, graphs, before, after, measure_seconds, global);
  if (!args.hubs.empty() && !global.json)
    std::printf("wrote %s (int64 [%zu]: the rows with N_k >= %lld)\n", args.hubs.c_str(), hubs.size(),
                static_cast<long long>(threshold));
  return 0;
}

}  // namespace

Command register_hubness(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("hubness", "hubness measures of the k-NN graph, before and after a reduction");
  auto args = std::make_shared<HubnessArgs>();
  sub->add_option("X", args->input, "the rows, [n x d] float32/float64 .npy")->required();
  sub->add_option("-k", args->k, "neighbours per row (self excluded), 1 <= k < n")->required()->check(at_least(1));
  sub->add_option("--metric", args->metric,
                  "cosine, l2, sqeuclidean or angular (distance = angle / pi; dsl and localized-centering need "
                  "cosine or the Euclidean metrics)")
      ->required()
      ->check(CLI::IsMember({"cosine", "l2", "sqeuclidean", "angular"}));
  sub->add_option("--reduce", args->reduce,
                  "none (default), mp (mutual proximity, empiric), mp-normal, ls (local scaling), nicdm, "
                  "dsl (DisSimLocal), dsg (DisSimGlobal: the dataset mean as every centroid; one process), csls, "
                  "localized-centering (or lc; cosine only)")
      ->check(
          CLI::IsMember({"none", "mp", "mp-normal", "ls", "nicdm", "dsl", "dsg", "csls", "localized-centering", "lc"}));
  sub->add_option(
         "--candidates", args->candidates,
         "neighbours per row the reduction may re-rank: an integer (default 50, raised to k, capped at "
         "n - 1) or 'all' (every other row: exact over all n, O(n^2) memory; MP empiric counts over all points)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (value == "all") return {};
            const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
            if (digits && value.size() < 16 && std::stoll(value) > 0) return {};
            return "must be a positive integer or 'all', got '" + value + "'";
          },
          "INT|all"));
  sub->add_option("--labels", args->labels, "int64 [n] classes: adds knn_accuracy (leave-one-out k-NN vote)");
  sub->add_option("--ids", args->ids, "output: int64 [n x k] final neighbour lists (after the reduction, if any)");
  sub->add_option("--hubs", args->hubs,
                  "output: int64 ids of the rows the final lists hold at least --hub-threshold times "
                  "(hub-prior sample selection)");
  sub->add_option("--hub-threshold", args->hub_threshold, "N_k a row needs for --hubs (default 2 k)")
      ->check(at_least(1));
  sub->footer(
      "Definitions: neighbours exclude the point itself; N_k counts the lists holding a "
      "point;\nk_skewness = population skewness of N_k; robinhood, antihub_occurrence, hub_occurrence (N_k >= 2k), "
      "gini,\natkinson (eps 0.5), groupie_ratio; knn_accuracy = leave-one-out majority vote, ties to the nearest.\n"
      "Distances are recomputed in double for the candidates; the reduced list of a row holds its candidates with\n"
      "the smallest (secondary distance, distance, id); local statistics use k_local = 5 (ls, nicdm, dsl), 10 (csls), "
      "40 (localized-centering).\n"
      "Examples:\n"
      "  latent hubness emb.npy -k 10 --metric cosine --reduce mp --labels y.npy --json\n"
      "  latent hubness emb.npy -k 10 --metric l2 --reduce ls --candidates all --ids reduced.npy");
  return {sub, [args, &global] { return run_hubness(*args, global); }};
}

}  // namespace latent::cli
