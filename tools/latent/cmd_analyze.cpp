// latent analyze A.npy [B.npy] --measures NAME[,NAME...] [--labels Y.npy] [--rows N] [--seed S] [--json]
//
// Measures of one embedding space (with labels) or of two spaces over the same
// rows, by name; one JSON object keyed by the measure names with --json.
// Two-space measures read rows i of A and B as the same item.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "blame_inputs.hpp"
#include "cli.hpp"
#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"
#include "latent/relative.hpp"
#ifdef LATENT_TOOL_HAVE_FAISS
#include "latent/index/faiss_clustering.hpp"
#endif

namespace latent::cli {
namespace {

struct AnalyzeArgs {
  std::string a, b, measures, labels;
  std::int64_t rows = 2000;
  std::uint64_t seed = 0;
};

// What a measure needs and what it is, for --help and the checks.
struct MeasureInfo {
  bool two_spaces;
  bool labels;
  const char* definition;
};

const std::map<std::string, MeasureInfo>& measures() {
  static const std::map<std::string, MeasureInfo> table = {
      {"cka", {true, false, "linear CKA of A and B (all rows)"}},
      {"cka_rbf",
       {true, false,
        "RBF-kernel CKA, K = exp(-d^2 / (2 sigma^2)), sigma the median pairwise Euclidean distance of each space "
        "(first --rows rows)"}},
      {"cka_minibatch",
       {true, false,
        "minibatch linear CKA with the unbiased HSIC over batches of min(1000, n) rows shuffled by --seed "
        "(Nguyen et al. 2021)"}},
      {"rsa",
       {true, false,
        "Spearman correlation of the upper triangles of the cosine-distance matrices of A and B (first --rows rows)"}},
      {"r2", {true, false, "R^2 of the least-squares affine map from A to B, total over B's dimensions (all rows)"}},
      {"cca", {true, false, "mean canonical correlation of A and B (all directions of variance, all rows)"}},
      {"svcca",
       {true, false,
        "mean canonical correlation after keeping, in each space, the top principal directions that explain 99% of "
        "the variance (Raghu et al. 2017)"}},
      {"pwcca",
       {true, false,
        "canonical correlations weighted by the variates' projections onto the space of fewer dimensions "
        "(Morcos et al. 2018)"}},
      {"feature_match",
       {true, false,
        "mean Pearson correlation of A's units with B's under the one-to-one matching of largest total correlation"}},
      {"stitching",
       {true, true,
        "zero-shot stitching: a nearest-class-mean head (cosine) fitted on B's even rows reads A's odd rows mapped "
        "by orthogonal Procrustes fitted on 300 anchor pairs (uniform, --seed); the share labelled right"}},
      {"stitching_relative",
       {true, true,
        "the same head fitted on B's cosine relative representations (same anchors) reading A's relative "
        "representations"}},
      {"prototype_accuracy",
       {false, true, "share of rows whose nearest class mean by cosine (means of all rows) is their own class"}},
      {"silhouette", {false, true, "mean cosine silhouette of the labels (all rows)"}},
      {"lidar",
       {false, true,
        "LiDAR: effective rank of the LDA matrix S_w^-1/2 S_b S_w^-1/2 of the labels, delta = 1e-4 added to S_w, "
        "epsilon = 1e-8 added to each eigenvalue share (Thilak et al. 2023)"}},
      {"ridge_probe",
       {false, true,
        "accuracy of a closed-form ridge linear probe (one-vs-all, as scikit-learn's RidgeClassifier), 5-fold "
        "cross-validated (fold f: rows i % 5 == f), at the best alpha of 0.01, 0.1, 1, 10, 100, 1000"}},
      {"renyi_entropy",
       {false, false,
        "matrix-based Renyi entropy (alpha 1, von Neumann, natural log) of the Gram matrix A A^T divided by its "
        "trace"}},
      {"curvature",
       {false, false, "mean angle (radians) between consecutive steps of A's rows taken in order as a trajectory"}},
      {"rankme", {false, false, "RankMe: exp of the entropy of the normalised singular values of A"}},
      {"min_std", {false, false, "smallest per-dimension standard deviation (divisor n - 1)"}},
      {"vicreg_variance", {false, false, "VICReg variance term: mean over dimensions of max(0, 1 - sqrt(var + 1e-4))"}},
      {"vicreg_covariance", {false, false, "VICReg covariance term: sum of the squared off-diagonal covariances / d"}},
      {"active_units", {false, false, "dimensions of variance above 0.01"}},
#ifdef LATENT_TOOL_HAVE_FAISS
      {"nmi",
       {false, true,
        "normalised mutual information (arithmetic mean of the entropies) of the labels and a spherical k-means "
        "of A with k = the number of labels (FAISS, 25 iterations, seeded by --seed)"}},
      {"ari", {false, true, "adjusted Rand index of the labels and the spherical k-means above"}},
      {"cluster_accuracy",
       {false, true, "share of rows in agreement under the best one-to-one map of the k-means clusters to labels"}},
#endif
  };
  return table;
}

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream stream(list);
  for (std::string name; std::getline(stream, name, ',');)
    if (!name.empty()) names.push_back(name);
  return names;
}

int run_analyze(const AnalyzeArgs& args, const GlobalOptions& global) {
  const std::vector<std::string> names = split_names(args.measures);
  if (names.empty()) usage_error("--measures names no measure");
  for (const std::string& name : names) {
    const auto found = measures().find(name);
    if (found == measures().end()) {
      std::string known;
      for (const auto& [known_name, info] : measures()) known += (known.empty() ? "" : ", ") + known_name;
      usage_error("--measures: unknown measure '" + name + "' (known: " + known + ")");
    }
    if (found->second.two_spaces && args.b.empty())
      usage_error("--measures " + name + " compares two spaces: give B.npy");
    if (found->second.labels && args.labels.empty()) usage_error("--measures " + name + " needs --labels");
  }
  const InputMatrix a(args.a, "A");
  std::unique_ptr<InputMatrix> b;
  if (!args.b.empty()) {
    b = std::make_unique<InputMatrix>(args.b, "B");
    if (b->view().rows != a.view().rows)
      throw DimensionMismatch("B " + args.b + ": has " + std::to_string(b->view().rows) + " rows, A has " +
                              std::to_string(a.view().rows) + " (row i of each must be the same item)");
  }
  std::vector<std::int64_t> labels;
  if (!args.labels.empty()) {
    labels = read_int_vector(args.labels, "--labels", "labels");
    if (static_cast<std::int64_t>(labels.size()) != a.view().rows)
      throw IoError("--labels: " + args.labels + ": needs one label per row of A (labels=" +
                    std::to_string(labels.size()) + ", rows=" + std::to_string(a.view().rows) + ")");
  }
  const std::int64_t sample = std::min(args.rows, a.view().rows);
  const auto first = [&](const InputMatrix& m) {
    return MatrixView<float>(m.view().data, sample, m.view().cols, m.view().row_stride);
  };
  nlohmann::json out;
  const auto start = std::chrono::steady_clock::now();
  std::optional<CollapseDiagnostics> collapse;
  std::optional<std::vector<std::int64_t>> clusters;
  const auto compute = [&](const std::string& name) -> double {
    if (name == "cka") return linear_cka(a.view(), b->view());
    if (name == "cka_rbf") return rbf_cka(first(a), first(*b));
    if (name == "cka_minibatch")
      return minibatch_cka(a.view(), b->view(), std::min<std::int64_t>(1000, a.view().rows), args.seed);
    if (name == "rsa") return rsa(first(a), first(*b));
    if (name == "r2") return affine_r2(a.view(), b->view());
    if (name == "cca") return svcca(a.view(), b->view(), 1.0);
    if (name == "svcca") return svcca(a.view(), b->view(), 0.99);
    if (name == "pwcca") return pwcca(a.view(), b->view());
    if (name == "feature_match") return match_features(a.view(), b->view(), true).mean_correlation;
    if (name == "stitching" || name == "stitching_relative") {
      const std::int64_t n = a.view().rows;
      AnchorOptions draw;
      draw.seed = args.seed;
      const std::vector<std::int64_t> anchors = select_anchors(a.view(), std::min<std::int64_t>(300, n / 2), draw);
      std::vector<std::int64_t> train, test;
      for (std::int64_t i = 0; i < n; ++i) (i % 2 == 0 ? train : test).push_back(i);
      StitchingOptions stitch;
      stitch.method = name == "stitching" ? StitchMethod::translation : StitchMethod::relative;
      return stitching_accuracy(a.view(), b->view(), labels, anchors, train, test, stitch).accuracy;
    }
    if (name == "silhouette") return silhouette(a.view(), labels, Metric::cosine, global.parallel());
    if (name == "lidar") return lidar(a.view(), labels);
    if (name == "ridge_probe") {
      RidgeProbe probe;
      probe.fit_cv(a.view(), labels, {0.01, 0.1, 1.0, 10.0, 100.0, 1000.0}, 5);
      return *std::max_element(probe.cv_accuracy().begin(), probe.cv_accuracy().end());
    }
    if (name == "renyi_entropy") return renyi_entropy(a.view(), 1.0);
    if (name == "curvature") return trajectory_curvature(a.view());
    if (name == "prototype_accuracy") {
      PrototypeClassifier classifier(Metric::cosine);
      return classifier.fit(a.view(), labels).score(a.view(), labels).accuracy;
    }
    if (name == "rankme" || name == "min_std" || name == "vicreg_variance" || name == "vicreg_covariance" ||
        name == "active_units") {
      if (!collapse) collapse = collapse_diagnostics(a.view());
      if (name == "rankme") return collapse->rankme;
      if (name == "min_std") return collapse->min_std;
      if (name == "vicreg_variance") return collapse->vicreg_variance;
      if (name == "vicreg_covariance") return collapse->vicreg_covariance;
      return static_cast<double>(collapse->active_units);
    }
#ifdef LATENT_TOOL_HAVE_FAISS
    if (!clusters) {
      index::KMeansOptions options;
      options.spherical = true;
      options.seed = args.seed;
      options.parallel = global.parallel();
      std::vector<std::int64_t> distinct = labels;
      std::sort(distinct.begin(), distinct.end());
      const auto k = std::unique(distinct.begin(), distinct.end()) - distinct.begin();
      clusters = index::kmeans(a.view(), k, options).assignment;
    }
    if (name == "nmi") return normalized_mutual_info(labels, *clusters);
    if (name == "ari") return adjusted_rand_index(labels, *clusters);
    return cluster_accuracy(labels, *clusters);
#else
    throw InvalidArgument("--measures " + name + ": this build has no FAISS");
#endif
  };
  for (const std::string& name : names) {
    out[name] =
        blame_inputs({{"a", "A", args.a}, {"b", "B", args.b}, {"x", "A", args.a}, {"labels", "--labels", args.labels}},
                     [&] { return compute(name); });
  }
  const double seconds = seconds_since(start);
  if (global.json) {
    print_json(out);
    return 0;
  }
  std::printf("analyze: %s%s, %lld rows (%.3f s)\n", args.a.c_str(), args.b.empty() ? "" : (" vs " + args.b).c_str(),
              static_cast<long long>(a.view().rows), seconds);
  for (const std::string& name : names) std::printf("  %-20s %.6f\n", name.c_str(), out[name].get<double>());
  return 0;
}

}  // namespace

Command register_analyze(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("analyze", "measures of one embedding space, or of two over the same rows, by name");
  auto args = std::make_shared<AnalyzeArgs>();
  sub->add_option("A", args->a, "rows, [n x d_a] float32/float64 .npy")->required();
  sub->add_option("B", args->b, "a second space over the same rows, [n x d_b]");
  sub->add_option("--measures", args->measures, "comma-separated measure names (see below)")->required();
  sub->add_option("--labels", args->labels, "int labels of A's rows, .npy [n]");
  sub->add_option("--rows", args->rows, "rows used by cka_rbf and rsa, the first N (default 2000)")->check(at_least(3));
  sub->add_option(
      "--seed", args->seed,
      "seed of the randomised measures: cka_minibatch's shuffle, the k-means of nmi, ari and cluster_accuracy, "
      "the anchors of stitching "
      "(default 0)");
  std::string footer = "Measures:\n";
  for (const auto& [name, info] : measures()) footer += "  " + name + ": " + info.definition + "\n";
  footer +=
      "Examples:\n"
      "  latent analyze data/encoders/mlp_seed0.npy data/encoders/mlp_seed1.npy --measures cka,cka_rbf,rsa,r2 --json\n"
      "  latent analyze data/encoders/mlp_seed0.npy --labels data/encoders/labels.npy "
      "--measures prototype_accuracy,silhouette";
  sub->footer(footer);
  return {sub, [args, &global] { return run_analyze(*args, global); }};
}

}  // namespace latent::cli
