// The measurements of `latent report` (see report.hpp) and its terminal and JSON
// renderings. Every number comes from the public library API; this file only
// decides what to run, in which order, and how to explain it.
#include "report.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "latent/metrics.hpp"

namespace latent::cli {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The translations the comparison tries: Procrustes needs equal dimensions.
std::vector<TranslationMethod> comparison_translations(std::int64_t dim_a, std::int64_t dim_b) {
  if (dim_a == dim_b) return {TranslationMethod::procrustes, TranslationMethod::affine};
  return {TranslationMethod::affine};
}

class Runner {
 public:
  Runner(const MatrixView<float>& x, const ReportOptions& options, Progress& progress)
      : x_(x), options_(options), progress_(progress) {
    search_.parallel = options.parallel;
  }

  // The candidate graph of rows `y` (C neighbours per row, self excluded).
  DistanceGraph candidates(const MatrixView<float>& y) const {
    return exact_candidate_graph(y, candidates_count(), options_.metric, search_);
  }

  std::int64_t candidates_count() const { return std::min(std::max(options_.candidates, options_.k), x_.rows - 1); }

  MethodResult measure(std::string name, std::string description, const DistanceGraph& top_k,
                       std::chrono::steady_clock::time_point start) const {
    MethodResult result;
    result.name = std::move(name);
    result.description = std::move(description);
    result.occurrence = k_occurrence(top_k.ids, x_.rows);
    result.measures = hubness_measures(result.occurrence, options_.k);
    result.knn_accuracy =
        options_.labels.empty() ? kNaN : loo_knn_accuracy(top_k.ids, options_.labels, 0, options_.parallel);
    result.seconds = seconds_since(start);
    return result;
  }

  // A graph reduction (mp, ls, csls) of `graph`, top k kept.
  DistanceGraph reduce(Reduction method, const DistanceGraph& graph) const {
    ReductionOptions reduction;
    reduction.method = method;
    reduction.parallel = options_.parallel;
    return HubnessReducer(reduction).fit_transform(graph, options_.k);
  }

  void step(const std::string& name) { progress_.step(name); }

 private:
  const MatrixView<float>& x_;
  const ReportOptions& options_;
  Progress& progress_;
  SearchOptions search_;
};

std::string hubness_verdict(double skewness) {
  // Rules of thumb from the hubness literature (Radovanovic et al. 2010;
  // Feldbauer and Flexer 2019): skewness near 0 is a balanced graph, above ~1.5
  // a few points crowd many neighbour lists.
  if (skewness < 0.5) return "low hubness: the neighbour lists are balanced";
  if (skewness < 1.5) return "moderate hubness: some points appear in many neighbour lists";
  return "strong hubness: a few hubs crowd the neighbour lists and many points are never retrieved";
}

// The most balanced graph -- the k-skewness closest to 0 (mutual proximity can
// overshoot to negative values) -- among the repairs that keep accuracy within
// the tolerance (when labels are given); the space as given when no repair
// brings |k-skewness| down by at least 0.1.
void recommend(SpaceReport& report, double tolerance) {
  const MethodResult& base = report.methods[0];
  auto imbalance = [&](std::size_t i) { return std::abs(report.methods[i].measures.k_skewness); };
  std::size_t best = 0;
  for (std::size_t i = 1; i < report.methods.size(); ++i) {
    const MethodResult& m = report.methods[i];
    if (report.labelled && m.knn_accuracy < base.knn_accuracy - tolerance) continue;
    if (imbalance(i) < imbalance(best)) best = i;
  }
  if (best != 0 && imbalance(best) > imbalance(0) - 0.1) best = 0;
  report.recommended = best;
  char text[512];
  const MethodResult& chosen = report.methods[best];
  if (best == 0) {
    std::snprintf(text, sizeof text,
                  "no repair brings the k-skewness (%.2f) closer to 0 by 0.1 or more%s; keep the space as it is",
                  base.measures.k_skewness, report.labelled ? " without costing kNN accuracy" : "");
  } else if (report.labelled) {
    std::snprintf(text, sizeof text,
                  "it brings the k-skewness from %.2f to %.2f and changes leave-one-out kNN accuracy from %.4f to "
                  "%.4f (repairs costing more than %.2f accuracy were not considered)",
                  base.measures.k_skewness, chosen.measures.k_skewness, base.knn_accuracy, chosen.knn_accuracy,
                  tolerance);
  } else {
    std::snprintf(text, sizeof text,
                  "it brings the k-skewness from %.2f to %.2f (no labels given: accuracy not checked)",
                  base.measures.k_skewness, chosen.measures.k_skewness);
  }
  report.reason = text;
}

}  // namespace

int report_steps(const ReportOptions& options) { return 9 + (options.compare != nullptr ? 1 : 0); }

namespace {

// The repairs, each measured the same way; `graph` is the candidate graph of x.
void measure_repairs(SpaceReport& report, Runner& run, const MatrixView<float>& x, const DistanceGraph& graph,
                     const ReportOptions& options) {
  run.step("whitening");
  auto start = std::chrono::steady_clock::now();
  {
    // BERT-whitening keeping the components that carry 99 % of the variance:
    // whitening all of them would blow up the noise directions to unit variance.
    WhiteningOptions whitening;
    whitening.dim = std::max<std::int64_t>(report.isotropy.components_99, 1);
    whitening.parallel = options.parallel;
    const RowMatrixf white = Whitening<float>(whitening).fit_transform(x);
    report.methods.push_back(
        run.measure("whitening",
                    "PCA whitening to the " + std::to_string(whitening.dim) + " components holding 99% of the variance",
                    keep_top(run.candidates(MatrixView<float>(white)), options.k), start));
  }

  run.step("f-norm");
  start = std::chrono::steady_clock::now();
  const RowMatrixf gaussianised = FNorm<float>(options.parallel).fit_transform(x);
  const DistanceGraph fnorm_graph = run.candidates(MatrixView<float>(gaussianised));
  report.methods.push_back(run.measure("f-norm", "rank-to-Gaussian per dimension, then L2 normalisation",
                                       keep_top(fnorm_graph, options.k), start));
  const double fnorm_graph_seconds = report.methods.back().seconds;

  const std::string over = " over the " + std::to_string(report.candidates) + " nearest candidates";
  run.step("mutual proximity");
  start = std::chrono::steady_clock::now();
  report.methods.push_back(
      run.measure("mp", "mutual proximity (empiric)" + over, run.reduce(Reduction::mutual_proximity, graph), start));
  run.step("local scaling");
  start = std::chrono::steady_clock::now();
  report.methods.push_back(
      run.measure("ls", "local scaling (k = 5)" + over, run.reduce(Reduction::local_scaling, graph), start));
  run.step("CSLS");
  start = std::chrono::steady_clock::now();
  report.methods.push_back(run.measure("csls", "cross-domain similarity local scaling (k = 10)" + over,
                                       run.reduce(Reduction::csls, graph), start));
  run.step("f-norm + mutual proximity");
  start = std::chrono::steady_clock::now();
  report.methods.push_back(run.measure("f-norm+mp", "f-norm, then mutual proximity" + over,
                                       run.reduce(Reduction::mutual_proximity, fnorm_graph), start));
  report.methods.back().seconds += fnorm_graph_seconds;
}

// The five rows listed most often (ties to the smaller row), from methods[0].
void find_hubs(SpaceReport& report) {
  const std::vector<std::int64_t>& occurrence = report.methods[0].occurrence;
  std::vector<std::int64_t> order(occurrence.size());
  std::iota(order.begin(), order.end(), 0);
  const std::size_t top = std::min<std::size_t>(5, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                    [&](std::int64_t a, std::int64_t b) {
                      return occurrence[a] != occurrence[b] ? occurrence[a] > occurrence[b] : a < b;
                    });
  for (std::size_t i = 0; i < top; ++i) report.hubs.emplace_back(order[i], occurrence[order[i]]);
}

// The cross-space comparison with the second space of `options`.
void compare_spaces_step(SpaceReport& report, const MatrixView<float>& x, const ReportOptions& options) {
  const MatrixView<float>& other = *options.compare;
  report.compare_rows = std::min(x.rows, other.rows);
  report.compare_dim = other.cols;
  report.n_anchors = static_cast<std::int64_t>(options.anchors.size());
  report.anchors_source = options.anchors_source;
  const RowMatrixd a = x.map().cast<double>();
  const RowMatrixd b = other.map().cast<double>();
  CompareOptions compare;
  compare.k = options.k;
  compare.parallel = options.parallel;
  report.comparison = compare_representations(
      a, b, report.compare_rows, options.anchors, {RelativeSimilarity::cosine, RelativeSimilarity::l1}, false,
      comparison_translations(a.cols(), b.cols()), compare, report.path, report.compare_path, options.anchors_source);
}

// The analysis section. Stitching fits its head on the even rows of the second
// space and reads the odd rows of the first, through the comparison's anchors.
void analysis_step(SpaceReport& report, const MatrixView<float>& x, const ReportOptions& options) {
  AnalysisSection& out = report.analysis;
  out.collapse = collapse_diagnostics(x);
  if (report.labelled) {
    out.lidar = lidar(x, options.labels);
    PrototypeClassifier head(Metric::cosine);
    out.prototype_accuracy = head.fit(x, options.labels).score(x, options.labels).accuracy;
  }
  if (options.compare == nullptr) return;
  const std::int64_t rows = std::min(x.rows, options.compare->rows);
  const MatrixView<float> a(x.data, rows, x.cols, x.row_stride);
  const MatrixView<float> b(options.compare->data, rows, options.compare->cols, options.compare->row_stride);
  out.cka = linear_cka(a, b);
  out.svcca = svcca(a, b);
  if (!report.labelled || rows < 4) return;
  const std::vector<std::int64_t> labels(options.labels.begin(), options.labels.begin() + rows);
  std::vector<std::int64_t> train, test;
  for (std::int64_t i = 0; i < rows; ++i) (i % 2 == 0 ? train : test).push_back(i);
  StitchingOptions stitch;
  const StitchingResult translated = stitching_accuracy(a, b, labels, options.anchors, train, test, stitch);
  out.stitching = translated.accuracy;
  out.stitching_ceiling = translated.target_accuracy;
  stitch.method = StitchMethod::relative;
  out.stitching_relative = stitching_accuracy(a, b, labels, options.anchors, train, test, stitch).accuracy;
}

}  // namespace

SpaceReport build_report(const std::string& path, const MatrixView<float>& x, const ReportOptions& options,
                         Progress& progress) {
  const auto started = std::chrono::steady_clock::now();
  SpaceReport report;
  report.path = path;
  report.compare_path = options.compare_path;
  report.rows = x.rows;
  report.dim = x.cols;
  report.k = options.k;
  report.metric = options.metric;
  report.labelled = !options.labels.empty();
  Runner run(x, options, progress);
  report.candidates = run.candidates_count();

  run.step("norms and isotropy");
  report.norms = row_stats(x, options.parallel);
  report.isotropy = isotropy(x, options.parallel);

  run.step("kNN graph");
  const auto start = std::chrono::steady_clock::now();
  const DistanceGraph graph = run.candidates(x);
  report.methods.push_back(run.measure("none", "the space as given", keep_top(graph, options.k), start));
  measure_repairs(report, run, x, graph, options);

  find_hubs(report);
  report.verdict = hubness_verdict(report.methods[0].measures.k_skewness);
  recommend(report, options.accuracy_tolerance);

  run.step("analysis");
  analysis_step(report, x, options);

  if (options.compare != nullptr) {
    run.step("cross-space comparison");
    compare_spaces_step(report, x, options);
  }
  run.step("done");
  report.seconds = seconds_since(started);
  return report;
}

nlohmann::json report_json(const SpaceReport& r) {
  nlohmann::json methods = nlohmann::json::array();
  for (const MethodResult& m : r.methods) {
    methods.push_back({{"name", m.name},
                       {"description", m.description},
                       {"k_skewness", m.measures.k_skewness},
                       {"robinhood", m.measures.robinhood},
                       {"antihub_occurrence", m.measures.antihub_occurrence},
                       {"hub_occurrence", m.measures.hub_occurrence},
                       {"gini", m.measures.gini},
                       {"atkinson", m.measures.atkinson},
                       {"groupie_ratio", m.measures.groupie_ratio},
                       {"k_occurrence_max", *std::max_element(m.occurrence.begin(), m.occurrence.end())},
                       {"knn_accuracy", finite_or_null(m.knn_accuracy)},
                       {"seconds", m.seconds}});
  }
  nlohmann::json hubs = nlohmann::json::array();
  for (const auto& [row, count] : r.hubs) hubs.push_back({{"row", row}, {"k_occurrence", count}});
  const IsotropyReport& iso = r.isotropy;
  nlohmann::json out = {
      {"input", r.path},
      {"rows", r.rows},
      {"dim", r.dim},
      {"metric", std::string(to_string(r.metric))},
      {"k", r.k},
      {"candidates", r.candidates},
      {"labels", r.labelled},
      {"norms",
       {{"min", r.norms.norm_min},
        {"mean", r.norms.norm_mean()},
        {"max", r.norms.norm_max},
        {"zero_rows", r.norms.zero_rows}}},
      {"isotropy",
       {{"average_cosine", iso.average_cosine},
        {"partition_isotropy", iso.partition_isotropy},
        {"effective_rank", iso.effective_rank},
        {"components_90", iso.components_90},
        {"components_99", iso.components_99},
        {"eigenvalues", iso.eigenvalues}}},
      {"hubness", {{"verdict", r.verdict}, {"hubs", hubs}, {"k_occurrence", r.methods[0].occurrence}}},
      {"methods", methods},
      {"recommendation", {{"method", r.methods[r.recommended].name}, {"reason", r.reason}}},
      {"seconds", r.seconds}};
  const AnalysisSection& an = r.analysis;
  out["analysis"] = {{"rankme", an.collapse.rankme},
                     {"min_std", an.collapse.min_std},
                     {"mean_std", an.collapse.mean_std},
                     {"vicreg_variance", an.collapse.vicreg_variance},
                     {"vicreg_covariance", an.collapse.vicreg_covariance},
                     {"active_units", an.collapse.active_units},
                     {"lidar", finite_or_null(an.lidar)},
                     {"prototype_accuracy", finite_or_null(an.prototype_accuracy)},
                     {"cka", finite_or_null(an.cka)},
                     {"svcca", finite_or_null(an.svcca)},
                     {"stitching", finite_or_null(an.stitching)},
                     {"stitching_relative", finite_or_null(an.stitching_relative)},
                     {"stitching_ceiling", finite_or_null(an.stitching_ceiling)}};
  if (!r.comparison.empty()) {
    nlohmann::json representations;
    for (const auto& [name, s] : r.comparison) representations[name] = scores_json(s);
    out["compare"] = {{"input", r.compare_path},
                      {"rows", r.compare_rows},
                      {"dim", r.compare_dim},
                      {"anchors", r.n_anchors},
                      {"anchors_source", r.anchors_source},
                      {"representations", representations}};
  }
  return out;
}

void print_report(const SpaceReport& r) {
  const IsotropyReport& iso = r.isotropy;
  std::printf("latent report: %s\n", r.path.c_str());
  std::printf("  shape        %lld rows x %lld dims; row norms min %.4g  mean %.4g  max %.4g (%lld zero rows)\n",
              static_cast<long long>(r.rows), static_cast<long long>(r.dim), r.norms.norm_min, r.norms.norm_mean(),
              r.norms.norm_max, static_cast<long long>(r.norms.zero_rows));
  std::printf(
      "  isotropy     average cosine %.4f, partition isotropy %.3g, effective rank %.1f of %lld;\n"
      "               %lld components hold 90%% of the variance, %lld hold 99%%\n",
      iso.average_cosine, iso.partition_isotropy, iso.effective_rank, static_cast<long long>(std::min(r.rows, r.dim)),
      static_cast<long long>(iso.components_90), static_cast<long long>(iso.components_99));
  const MethodResult& base = r.methods[0];
  std::printf("  hubness      k=%lld %s neighbours: k-skewness %.3f, %s\n", static_cast<long long>(r.k),
              std::string(to_string(r.metric)).c_str(), base.measures.k_skewness, r.verdict.c_str());
  std::printf("               antihubs (never a neighbour) %.1f%% of rows; largest hubs:",
              100 * base.measures.antihub_occurrence);
  for (const auto& [row, count] : r.hubs)
    std::printf(" row %lld (N=%lld)", static_cast<long long>(row), static_cast<long long>(count));
  std::printf("\n\n  %-11s %10s %10s %9s %9s %7s %9s %8s\n", "repair", "k-skew", "robinhood", "antihubs", "hubs",
              "max N", "kNN acc", "seconds");
  for (std::size_t i = 0; i < r.methods.size(); ++i) {
    const MethodResult& m = r.methods[i];
    char accuracy[32] = "-";
    if (std::isfinite(m.knn_accuracy)) std::snprintf(accuracy, sizeof accuracy, "%.4f", m.knn_accuracy);
    std::printf("%s %-11s %10.3f %10.4f %8.1f%% %8.1f%% %7lld %9s %8.2f\n", i == r.recommended ? "*" : " ",
                m.name.c_str(), m.measures.k_skewness, m.measures.robinhood, 100 * m.measures.antihub_occurrence,
                100 * m.measures.hub_occurrence,
                static_cast<long long>(*std::max_element(m.occurrence.begin(), m.occurrence.end())), accuracy,
                m.seconds);
  }
  std::printf("\n  recommended  %s: %s\n", r.methods[r.recommended].name.c_str(), r.reason.c_str());
  const AnalysisSection& an = r.analysis;
  std::printf(
      "\n  collapse     RankMe %.1f of %lld; %lld of %lld dimensions active (variance > 0.01); smallest std "
      "%.3g;\n               VICReg variance term %.4f, covariance term %.4g\n",
      an.collapse.rankme, static_cast<long long>(std::min(r.rows, r.dim)),
      static_cast<long long>(an.collapse.active_units), static_cast<long long>(r.dim), an.collapse.min_std,
      an.collapse.vicreg_variance, an.collapse.vicreg_covariance);
  if (r.labelled)
    std::printf("  labels       LiDAR %.2f (at most classes - 1); nearest-class-mean accuracy %.4f\n", an.lidar,
                an.prototype_accuracy);
  if (!r.comparison.empty()) {
    std::printf("\n  compare with %s (%lld rows, %lld-d), %lld anchors (%s):\n", r.compare_path.c_str(),
                static_cast<long long>(r.compare_rows), static_cast<long long>(r.compare_dim),
                static_cast<long long>(r.n_anchors), r.anchors_source.c_str());
    std::printf("  %-24s %8s %8s %8s %9s %8s\n", "representation", "jaccard", "mrr", "top1", "mean_cos", "cka");
    for (const auto& [name, s] : r.comparison)
      std::printf("  %-24s %8.4f %8.4f %8.4f %9.4f %8.4f\n", name.c_str(), s.jaccard, s.mrr, s.top1, s.mean_cos, s.cka);
    std::printf("  linear CKA %.4f, SVCCA %.4f", an.cka, an.svcca);
    if (std::isfinite(an.stitching))
      std::printf("; stitching accuracy %.4f translated, %.4f relative (the head on its own space: %.4f)", an.stitching,
                  an.stitching_relative, an.stitching_ceiling);
    std::printf("\n");
  }
  std::printf("\n  %.2f s\n", r.seconds);
}

}  // namespace latent::cli
