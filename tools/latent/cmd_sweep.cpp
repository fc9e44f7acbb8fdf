// latent sweep LAYER.npy [LAYER.npy ...] --dims M[,M...] --measure NAME [-k K] [--labels Y.npy]
//              [--metric M] -o TABLE.csv [--html HEATMAP.html] [--json]
//
// The 2D Matryoshka sweep (latent::sweep_ladder): the rows of every given layer
// (the pooled outputs of the same inputs at several layers of a model, in
// order), truncated to every --dims value and renormalised, measured by --measure:
//   recall        recall@k of the cell's kNN graph (self excluded) against the
//                 graph of the reference, the last layer at its full dimension;
//   knn_accuracy  leave-one-out k-NN accuracy against --labels;
//   silhouette    the silhouette of --labels' classes;
//   linear_cka    linear CKA against the reference;
//   uniformity    log E exp(-2 |x - y|^2) over pairs of rows (Wang & Isola).
// Writes TABLE.csv (layer,dim,value,seconds; one line per cell, layers in the
// order given, dims ascending) and, with --html, a heat-map of the values over
// (layer, dim), both atomically.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>

#include "blame_inputs.hpp"
#include "cli.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/embedding.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"
#include "report.hpp"

namespace latent::cli {
namespace {

struct SweepArgs {
  std::vector<std::string> layers;
  std::vector<std::int64_t> dims;
  std::string measure, labels, metric = "cosine", output, html;
  std::int64_t k = 10;
};

constexpr const char* kSweepMeasures[] = {"recall", "knn_accuracy", "silhouette", "linear_cka", "uniformity"};

bool needs_labels(const std::string& measure) { return measure == "knn_accuracy" || measure == "silhouette"; }

// The heat-map: one row per layer, one column per dim, cells shaded from the
// smallest value (light) to the largest (dark blue), the value written in each.
std::string sweep_html(const SweepArgs& args, const std::vector<SweepCell>& cells) {
  double low = cells.front().value, high = cells.front().value;
  for (const SweepCell& c : cells) {
    low = std::min(low, c.value);
    high = std::max(high, c.value);
  }
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>latent sweep: "
       << html_escape(args.measure) << "</title>\n<style>body{font-family:sans-serif;margin:2em}"
       << "table{border-collapse:collapse}td,th{padding:.4em .7em;text-align:right;border:1px solid #ccc}"
       << "</style></head><body>\n<h1>" << html_escape(args.measure) << " over (layer, dim)</h1>\n<p>" << cells.size()
       << " cells; k = " << args.k << ", metric " << html_escape(args.metric)
       << "; rows truncated to the first dim values and renormalised. Darker is larger (" << low << " to " << high
       << ").</p>\n<table>\n<tr><th>layer \\ dim</th>";
  for (const std::int64_t dim : args.dims) html << "<th>" << dim << "</th>";
  html << "</tr>\n";
  std::size_t at = 0;
  for (std::size_t layer = 0; layer < args.layers.size(); ++layer) {
    html << "<tr><th title=\"" << html_escape(args.layers[layer]) << "\">" << layer << "</th>";
    for (std::size_t d = 0; d < args.dims.size(); ++d, ++at) {
      const double value = cells[at].value;
      const double share = high > low ? (value - low) / (high - low) : 1.0;
      const int light = static_cast<int>(95.0 - 55.0 * share);  // HSL lightness 95% .. 40%
      char text[32];
      std::snprintf(text, sizeof text, "%.4g", value);
      html << "<td style=\"background:hsl(215,70%," << light << "%);color:" << (light < 60 ? "#fff" : "#000") << "\">"
           << text << "</td>";
    }
    html << "</tr>\n";
  }
  html << "</table>\n</body></html>\n";
  return html.str();
}

int run_sweep(const SweepArgs& args, const GlobalOptions& global) {
  const Metric metric = parse_metric(args.metric, "--metric");
  if (needs_labels(args.measure) && args.labels.empty()) usage_error("--measure " + args.measure + " needs --labels");
  if (!needs_labels(args.measure) && !args.labels.empty())
    usage_error("--labels applies to --measure knn_accuracy and silhouette");
  require_writable(args.output, "-o");
  if (!args.html.empty()) require_writable(args.html, "--html");
  std::vector<InputMatrix> inputs;
  inputs.reserve(args.layers.size());  // views into each input stay where they are
  for (const std::string& layer : args.layers) inputs.emplace_back(layer, "LAYER");
  std::vector<MatrixView<float>> layers;
  for (const InputMatrix& input : inputs) layers.push_back(input.view());
  std::vector<std::int64_t> labels;
  if (!args.labels.empty()) labels = read_int_vector(args.labels, "--labels", "labels");
  std::vector<std::int64_t> dims = args.dims;
  std::sort(dims.begin(), dims.end());
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
  SweepArgs sorted = args;
  sorted.dims = dims;
  std::vector<std::int64_t> layer_ids(layers.size());
  for (std::size_t l = 0; l < layers.size(); ++l) layer_ids[l] = static_cast<std::int64_t>(l);

  SearchOptions search;
  search.parallel = global.parallel();
  const MatrixView<float>& last = layers.back();
  const RowMatrixf reference = blame("LAYER", args.layers.back(), [&] { return l2_normalize(last); });
  KnnGraph reference_graph;
  if (args.measure == "recall")
    reference_graph = blame("LAYER", args.layers.back(), [&] { return knn_graph(reference, args.k, metric, search); });
  const std::function<double(const MatrixView<float>&)> measure = [&](const MatrixView<float>& rows) -> double {
    if (args.measure == "recall")
      return neighbor_recall(knn_graph(rows, args.k, metric, search).ids, reference_graph.ids, args.k);
    if (args.measure == "knn_accuracy") return loo_knn_accuracy(knn_graph(rows, args.k, metric, search).ids, labels);
    if (args.measure == "silhouette") return silhouette(rows, labels, metric, global.parallel());
    if (args.measure == "linear_cka") return linear_cka(rows, reference);
    return uniformity(rows, 2.0, global.parallel());
  };
  const auto start = std::chrono::steady_clock::now();
  const std::vector<SweepCell> cells =
      blame_inputs({{"layers", "LAYER", args.layers.front()}, {"labels", "--labels", args.labels}},
                   [&] { return sweep_ladder(layers, ladder(layer_ids, dims), measure); });
  const double seconds = seconds_since(start);

  std::ostringstream csv;
  csv << "layer,dim,value,seconds\n";
  for (const SweepCell& c : cells) csv << c.layer << ',' << c.dim << ',' << c.value << ',' << c.seconds << '\n';
  write_file_atomic(args.output, csv.str());
  if (!args.html.empty()) write_file_atomic(args.html, sweep_html(sorted, cells));

  if (global.json) {
    nlohmann::json table = nlohmann::json::array();
    for (const SweepCell& c : cells)
      table.push_back({{"layer", c.layer}, {"dim", c.dim}, {"value", c.value}, {"seconds", c.seconds}});
    print_json({{"measure", args.measure},
                {"metric", args.metric},
                {"k", args.k},
                {"layers", args.layers},
                {"dims", dims},
                {"rows", last.rows},
                {"cells", table},
                {"seconds", seconds},
                {"output", args.output},
                {"html", args.html.empty() ? nlohmann::json() : nlohmann::json(args.html)}});
    return 0;
  }
  std::printf("sweep: %s over %zu layers x %zu dims (%lld rows), %.3f s\n", args.measure.c_str(), layers.size(),
              dims.size(), static_cast<long long>(last.rows), seconds);
  std::printf("%8s", "layer");
  for (const std::int64_t dim : dims) std::printf(" %9lld", static_cast<long long>(dim));
  std::printf("\n");
  std::size_t at = 0;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    std::printf("%8zu", l);
    for (std::size_t d = 0; d < dims.size(); ++d, ++at) std::printf(" %9.4f", cells[at].value);
    std::printf("\n");
  }
  std::printf("wrote %s%s%s\n", args.output.c_str(), args.html.empty() ? "" : " and ", args.html.c_str());
  return 0;
}

}  // namespace

Command register_sweep(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand(
      "sweep", "measure every (layer, Matryoshka dim) of per-layer embeddings: a table and an HTML heat-map");
  auto args = std::make_shared<SweepArgs>();
  sub->add_option("LAYER", args->layers,
                  "the pooled outputs of the same rows at each layer, in order ([n x d_l] float32/float64 each)")
      ->required();
  sub->add_option("--dims", args->dims, "Matryoshka dimensions, comma separated (each <= every layer's d)")
      ->required()
      ->delimiter(',')
      ->check(at_least(1));
  sub->add_option("--measure", args->measure,
                  "recall (recall@k of each cell's kNN graph against the last layer's full-dimension graph), "
                  "knn_accuracy (leave-one-out, --labels), silhouette (--labels), linear_cka (against the last "
                  "layer), uniformity (log E exp(-2 |x - y|^2))")
      ->required()
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(kSweepMeasures), std::end(kSweepMeasures))));
  sub->add_option("-k", args->k, "neighbours for recall and knn_accuracy (default 10)")->check(at_least(1));
  sub->add_option("--labels", args->labels, "int .npy vector of classes, one per row");
  sub->add_option("--metric", args->metric, "of the neighbour graphs and the silhouette (default cosine)")
      ->check(parsed_by(parse_metric));
  sub->add_option("-o", args->output, "output: CSV table layer,dim,value,seconds")->required();
  sub->add_option("--html", args->html, "output: the heat-map of the values over (layer, dim)");
  sub->footer(
      "Examples:\n"
      "  latent sweep layer4.npy layer8.npy layer12.npy --dims 32,64,128,768 --measure recall -o sweep.csv "
      "--html sweep.html\n"
      "  latent sweep emb.npz:layer_6 emb.npz:layer_12 --dims 64,256 --measure knn_accuracy --labels y.npy "
      "-o acc.csv --json");
  return {sub, [args, &global] { return run_sweep(*args, global); }};
}

}  // namespace latent::cli
