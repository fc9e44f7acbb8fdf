// latent/hubness.hpp - hubness measures from a kNN graph and hubness reductions
// as graph -> graph transforms (mutual proximity, local scaling, NICDM,
// DisSimLocal, CSLS, localized centering), CSLS between two sets of rows, plus
// the pipeline "exact kNN graph with C candidates -> reduce -> keep the top k".
//
// Conventions (the definitions of scikit-hubness, which the tests reproduce):
// - Self-exclusion is explicit: a graph with `self_excluded` lists the indexed
//   rows themselves, row i never contains id i. N_k(x) counts the lists holding x.
// - Reductions read and write a `DistanceGraph`: ids and primary distances in
//   double (cosine is 1 - cos), rows sorted by (distance, id). Every method maps
//   a candidate pair (x, y) to a key (smaller = nearer); the reduced row is the
//   candidates sorted by (key, primary distance, id). Only listed candidates can
//   enter a reduced list, so memory is O(n C) for n rows of C candidates.
// - Statistics (moments, means, erfc) are computed in double. Results are
//   identical for any thread count (fixed row chunks, no shared accumulators).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"
#include "latent/similarity/search.hpp"

namespace latent {

// ----------------------------------------------------------------- measures

/// Options of the hubness measures.
struct HubnessOptions {
  double hub_size = 2.0;      ///< a hub has N_k >= hub_size * k
  double atkinson_eps = 0.5;  ///< inequality aversion of the Atkinson index (>= 0)
};

/// The hubness measures of one graph. With N = N_k over the
/// n indexed points and S = sum N (= n_queries * k for full lists):
struct HubnessMeasures {
  double k_skewness = 0;          ///< population skewness m3 / m2^1.5 of N (0 when N is constant)
  double robinhood = 0;           ///< 0.5 sum |N - mean N| / S
  double antihub_occurrence = 0;  ///< share of indexed points with N = 0
  double hub_occurrence = 0;      ///< sum of N over hubs / S
  double gini = 0;                ///< sum_i sum_j |N_i - N_j| / (2 n S), by sorting in O(n log n)
  double atkinson = 0;            ///< 1 - mean(N^(1-eps))^(1/(1-eps)) / mean(N) (eps = 1: geometric mean)
  double groupie_ratio = 0;       ///< max N / S
  std::int64_t n_hubs = 0;
  std::int64_t n_antihubs = 0;
  std::int64_t k_occurrence_max = 0;
};

/// N_k: for each of the `n_indexed` points, the number of rows of `ids`
/// ([n_queries x k]) that list it. Ids must be in [0, n_indexed) (InvalidArgument
/// otherwise; -1, a missing neighbour, is skipped). O(n_queries k + n_indexed).
std::vector<std::int64_t> k_occurrence(const IdMatrix& ids, std::int64_t n_indexed);

/// Hub-prior sample selection (Liang et al. 2022, "Exploring and exploiting
/// hubness priors for high-quality GAN latent sampling"): the ids of the points
/// whose k-occurrence N_k reaches `threshold`, ascending. Hubs lie where the
/// samples are dense, so keeping them favours typical latents, as the
/// truncation trick does by shrinking latents towards the mean, but without
/// moving any sample (the kept ones are drawn from the prior unchanged).
/// `occurrence` as k_occurrence returns it; threshold >= 1 (InvalidArgument).
std::vector<std::int64_t> select_hubs(const std::vector<std::int64_t>& occurrence, std::int64_t threshold);

/// Measures of a list of k-occurrences; `k` is the list length (hub threshold).
/// Throws EmptyInput for no points, InvalidK for k < 1, InvalidArgument for a bad
/// option or a negative count. O(n log n) (the sort of the Gini index).
HubnessMeasures hubness_measures(const std::vector<std::int64_t>& occurrence, std::int64_t k,
                                 const HubnessOptions& options = {});

/// Measures of the lists in `ids` ([n_queries x k]) over `n_indexed` points.
HubnessMeasures hubness_measures(const IdMatrix& ids, std::int64_t n_indexed, const HubnessOptions& options = {});

/// Measures of a self-excluded kNN graph (n_indexed = its rows). A graph that is
/// not self-excluded needs the `ids` overload with n_indexed (InvalidArgument).
HubnessMeasures hubness_measures(const KnnGraph& graph, const HubnessOptions& options = {});

// ----------------------------------------------------------------- graphs with double distances

/// Candidate lists with primary distances in double, the input and output of the
/// reductions. `ids`, `distances`: [n_queries x C]; rows sorted by (distance, id);
/// distances are smaller-is-nearer (`cosine` stores 1 - cos). After a reduction,
/// `distances` holds the method's secondary distance (see `Reduction`).
struct DistanceGraph {
  IdMatrix ids;
  RowMatrixd distances;
  Metric metric = Metric::l2;  ///< the primary metric of the distances
  bool self_excluded = false;  ///< rows are the indexed points, row i never lists i

  std::int64_t n_queries() const { return ids.rows(); }
  std::int64_t k() const { return ids.cols(); }
};

/// A `KnnGraph` as distances: cosine scores s become 1 - s (in double), other
/// distance metrics are copied. Throws InvalidArgument for `ip` (not a distance)
/// and for a graph without scores ("graph without distances").
DistanceGraph to_distance_graph(const KnnGraph& graph);

/// The first k columns of every row (k <= graph.k(), InvalidK otherwise).
DistanceGraph keep_top(const DistanceGraph& graph, std::int64_t k);

/// Exact candidate graph of `x` ([n x dim]): each row's C nearest other rows
/// (1 <= C <= n - 1, InvalidK otherwise) with distances recomputed in double by
/// the direct formula (l2 = sqrt(sum (x_t - y_t)^2), cosine = 1 - x.y / (|x| |y|)),
/// sorted by (distance, id). The candidates come from `knn_graph` (float GEMM)
/// with a margin of extra columns that are re-ranked in double, so a near tie at
/// the C-th place is decided in double. Metrics: l2, sqeuclidean, cosine, l1,
/// linf. Throws what knn_graph throws. Memory O(n (C + margin)), margin =
/// max(8, C / 4); cost: one kNN graph plus n (C + margin) dim double operations.
/// C = n - 1 (the complete graph) skips the search: all n (n - 1) / 2 distances
/// in double (an 8 n^2-byte scratch besides the 16 n (n - 1)-byte output).
DistanceGraph exact_candidate_graph(const MatrixView<float>& x, std::int64_t candidates, Metric metric,
                                    const SearchOptions& options = {});
DistanceGraph exact_candidate_graph(const MatrixView<double>& x, std::int64_t candidates, Metric metric,
                                    const SearchOptions& options = {});

// ----------------------------------------------------------------- reductions

/// The reduction methods; the CLI names are in parentheses. k_local is
/// ReductionOptions::k_local (0 picks the default given here).
enum class Reduction {
  none,                     ///< (none) the graph unchanged
  mutual_proximity,         ///< (mp) empiric: 1 - c(x, y) / n, c = points farther from both (strict)
  mutual_proximity_normal,  ///< (mp-normal) 1 - SF(d; mu_x, sd_x) SF(d; mu_y, sd_y), moments over the list + self
  local_scaling,            ///< (ls) reports 1 - exp(-d^2 / (sigma_x sigma_y)), sigma = k_local-th distance (5)
  nicdm,                    ///< (nicdm) d / sqrt(mu_x mu_y), mu = mean of the k_local nearest distances (5)
  dis_sim_local,            ///< (dsl) e - r_x - r_y on squared Euclidean e, needs the vectors (k_local 5)
  csls,                     ///< (csls) 2 cos - r_x - r_y (cosine) or 2 d - r_x - r_y (distances), k_local 10
  localized_centering,      ///< (lc) cos(x, y) - LA(y)^gamma, LA = mean cos to the k_local nearest (40); cosine only
  dis_sim_global,           ///< (dsg) DisSimLocal with the dataset mean as every centroid; needs the vectors
};

/// True for the methods whose fit (and transform of outside queries) needs the
/// vectors: DisSimLocal and DisSimGlobal.
inline bool needs_vectors(Reduction method) {
  return method == Reduction::dis_sim_local || method == Reduction::dis_sim_global;
}

/// "none", "mp", "mp-normal", "ls", "nicdm", "dsl", "csls", "lc", "dsg".
std::string_view to_string(Reduction method);
/// Parses those names; InvalidArgument naming `argument` and the accepted names.
Reduction parse_reduction(std::string_view name, std::string_view argument = "method");

struct ReductionOptions {
  Reduction method = Reduction::mutual_proximity;
  std::int64_t k_local = 0;  ///< neighbourhood of the local statistics; 0: the method's default
  double lc_gamma = 1.0;     ///< localized centering penalty exponent (LA clamped at 0 when gamma != 1)
  Parallel parallel;
};

/// A fitted hubness reduction: `fit` takes the self-excluded candidate graph of
/// the indexed set ([n x C], every row complete, C >= k_local) and keeps its
/// per-point statistics (sigma_x, mu_x, r_x, ...; O(n)) and, for mutual proximity
/// empiric, a copy of the graph (O(n C)). `transform` re-ranks a query graph
/// ([m x C'] against the same n points) and returns its first k columns (k = 0:
/// all C'). A query's own statistics come from its own row with the same formula
/// as the indexed points' (including an implicit self at distance 0 where the
/// method counts one), so `transform(g)` of the fitted graph g equals
/// `fit_transform(g)`; a self-excluded query graph is the indexed set itself.
///
/// Methods and what a short candidate list means:
/// - mutual proximity empiric: over all n points when the graph is complete
///   (C = n - 1 self-excluded, or C = n for outside queries) and n <= 65535:
///   c(x, y) = #{j : d(x, j) > d(x, y) and d(y, j) > d(y, x)}, O(n / 16) per
///   pair with an n x n uint16 rank table (2 n^2 bytes); when k < C, a row stops
///   at the first candidate whose bound 1 - #{j farther from x} / n exceeds the
///   k-th best key (O(n^3 / 16) only for k = C). Otherwise over the candidate
///   lists with the candidate rule (HubnessReducer): a point outside a list counts as
///   farther than every listed point, and c = 0 when x lies at or beyond y's
///   last candidate; O(m C^2). Key 1 - c / n with n = all indexed points.
/// - mutual proximity normal: mu, sd (ddof 0) over the C listed distances and
///   the point itself (0), as scikit-hubness computes them from a graph that
///   stores self; SF(t) = 0.5 erfc((t - mu) / (sd sqrt 2)).
/// - local scaling, NICDM, CSLS, localized centering: statistics from the first
///   k_local columns; fit throws InvalidK when C < k_local.
/// - DisSimLocal: v = x (l2, sqeuclidean) or x / |x| (cosine); e = |v_x - v_y|^2
///   taken from the primary distance (l2: d^2, sqeuclidean: d, cosine: 2 d);
///   centroid c_x = mean of v_x and its k_local - 1 nearest candidates by (e, id)
///   (the point itself is one of the k_local, as in scikit-hubness); r_x =
///   |v_x - c_x|^2; reported s = e - r_x - r_y (no global shift); rows sorted by
///   (s, e, id). Needs the vectors in fit (InvalidArgument otherwise) and keeps a
///   copy of them in their scalar type (4 or 8 n dim bytes); transform of
///   outside queries needs their vectors too. Cost O(n k_local dim + n C).
/// - DisSimGlobal: as DisSimLocal with c_x = c, the mean of the indexed v, for
///   every point: r_x = |v_x - c|^2, s = e - r_x - r_y (= -2 <v_x - c, v_y - c>).
///   Needs the vectors in fit (keeps only c: 8 dim bytes) and, for outside
///   queries, in transform; k_local is not used. Cost O(n dim + n C).
/// Errors: NotFitted (transform before fit), InvalidArgument (ids out of range or
/// -1, a self id in a self-excluded graph, rows not sorted, unsupported metric,
/// no distances), NonFiniteValue (NaN / Inf distances or vectors), InvalidK,
/// DimensionMismatch (vectors vs graph rows, query vs indexed dims, query graph
/// width vs the fitted n). Thread-safe for concurrent `transform` calls.
class HubnessReducer {
 public:
  explicit HubnessReducer(const ReductionOptions& options = {});
  ~HubnessReducer();
  HubnessReducer(HubnessReducer&&) noexcept;
  HubnessReducer& operator=(HubnessReducer&&) noexcept;

  HubnessReducer& fit(const DistanceGraph& indexed);
  /// DisSimLocal (and any other method) with the indexed vectors [n x dim].
  HubnessReducer& fit(const DistanceGraph& indexed, const MatrixView<float>& vectors);
  HubnessReducer& fit(const DistanceGraph& indexed, const MatrixView<double>& vectors);

  DistanceGraph transform(const DistanceGraph& query, std::int64_t k = 0) const;
  DistanceGraph transform(const DistanceGraph& query, const MatrixView<float>& query_vectors,
                          std::int64_t k = 0) const;
  DistanceGraph transform(const DistanceGraph& query, const MatrixView<double>& query_vectors,
                          std::int64_t k = 0) const;

  DistanceGraph fit_transform(const DistanceGraph& indexed, std::int64_t k = 0);
  DistanceGraph fit_transform(const DistanceGraph& indexed, const MatrixView<float>& vectors, std::int64_t k = 0);
  DistanceGraph fit_transform(const DistanceGraph& indexed, const MatrixView<double>& vectors, std::int64_t k = 0);

  /// Saves the fitted state (kind "hubness-reducer"): the options, the per-point
  /// statistics and what transform needs besides them (mutual proximity empiric:
  /// the indexed candidate graph; DisSimLocal: the indexed vectors, as double).
  /// Throws NotFitted, IoError.
  void save(const std::string& path) const;
  /// Loads a reducer saved by save(); `load(p).transform(g)` equals the saved
  /// reducer's. Throws IoError on a corrupt, foreign or inconsistent file.
  static HubnessReducer load(const std::string& path);

  /// True after fit (or load).
  bool is_fitted() const;
  const ReductionOptions& options() const { return options_; }
  /// The k_local in use (the method's default when options().k_local == 0).
  std::int64_t k_local() const;
  /// The per-point statistic of the indexed set after fit: sigma_x (ls), mu_x
  /// (nicdm, mp-normal mean), r_x (dsl, csls), LA(x) (lc); empty for mp / none.
  const std::vector<double>& point_statistic() const;
  /// mp-normal only: the standard deviations sd_x (empty otherwise).
  const std::vector<double>& point_spread() const;
  /// True when mutual proximity empiric was fitted on a complete graph (rule 5.3).
  bool exact_over_all() const;

  struct State;

 private:
  ReductionOptions options_;
  std::unique_ptr<State> state_;
};

// ----------------------------------------------------------------- two-set CSLS

/// What csls_search returns: for each mapped source row, the k target rows of
/// largest CSLS (larger is better; the graph's metric is cosine, its scores
/// the CSLS values), and the two neighbourhood radii.
struct CslsMatches {
  KnnGraph matches;               ///< [n_source x k] target ids, CSLS scores
  std::vector<double> r_source;   ///< r_T(x): mean cosine of each source row to its k_local nearest targets
  std::vector<double> r_target;   ///< r_S(y): mean cosine of each target row to its k_local nearest sources
};

/// Cross-domain similarity local scaling between two sets (Conneau et al.
/// 2018, for retrieval across mapped spaces):
///   CSLS(x, y) = 2 cos(x, y) - r_T(x) - r_S(y),
/// with r_T(x) the mean cosine of source row x to its k_local nearest target
/// rows and r_S(y) the mean cosine of target row y to its k_local nearest
/// source rows. `mapped_source` are the source rows already mapped into the
/// target space (e.g. by LatentTranslator). Ties go to the smaller target id.
/// Validation as knn under cosine; InvalidK unless 1 <= k <= target rows and
/// 1 <= k_local <= both row counts. Cost: two kNN searches and one pass over
/// every (source, target) cosine by blocks of source rows (scratch: about 16
/// million cosines of the input's type);
/// scores are formed in double and rounded to float.
CslsMatches csls_search(const MatrixView<float>& mapped_source, const MatrixView<float>& target, std::int64_t k,
                        std::int64_t k_local = 10, const SearchOptions& options = {});
CslsMatches csls_search(const MatrixView<double>& mapped_source, const MatrixView<double>& target, std::int64_t k,
                        std::int64_t k_local = 10, const SearchOptions& options = {});

// ----------------------------------------------------------------- pipeline

struct HubnessPipelineOptions {
  ReductionOptions reduction;
  /// Candidates per point before the reduction; 0 or >= n - 1: all n - 1 other
  /// points (the exact, complete-graph setting; O(n^2) memory). Default 50, the
  /// scikit-hubness recommendation.
  std::int64_t candidates = 50;
  HubnessOptions measures;
  SearchOptions search;
};

/// What `reduce_hubness` returns: the candidate graph, the reduced top-k graph
/// and the measures before (first k candidates) and after.
struct HubnessPipelineResult {
  DistanceGraph candidates;  ///< [n x C], primary distances
  DistanceGraph reduced;     ///< [n x k], secondary distances (the candidates' first k for `none`)
  HubnessMeasures before;
  HubnessMeasures after;
};

/// Exact kNN graph of `x` with C candidates (`exact_candidate_graph`), reduction
/// fitted on it (DisSimLocal gets `x`), top k kept, measures before and after.
/// k must satisfy 1 <= k <= C (InvalidK) and k <= n - 1.
HubnessPipelineResult reduce_hubness(const MatrixView<float>& x, std::int64_t k, Metric metric,
                                     const HubnessPipelineOptions& options = {});
HubnessPipelineResult reduce_hubness(const MatrixView<double>& x, std::int64_t k, Metric metric,
                                     const HubnessPipelineOptions& options = {});

}  // namespace latent
