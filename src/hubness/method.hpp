// The private interface every hubness reduction method implements (not installed).
//
// A method supplies two things: the per-point statistic fit keeps for the
// indexed points (sigma_x, mu_x, r_x, ...), and the key of a candidate pair
// (x, y) that transform sorts each row by. HubnessReducer (reduction.cpp) owns
// everything else: the checks shared by all methods, save / load of the shared
// fields, and the sort of each row by (key, tie-break distance, id).
//
// Adding a method: a new method_<name>.cpp implementing ReductionMethod, its
// getter declared below, and one case in reduction_method() (reduction.cpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/hubness.hpp"

namespace latent {

namespace detail {

/// What a method keeps besides the per-point statistics (mutual proximity:
/// the indexed graph; DisSimLocal: the indexed vectors). Owned by the state.
struct MethodData {
  virtual ~MethodData() = default;
};

}  // namespace detail

/// The fitted state of a reducer.
struct HubnessReducer::State {
  std::int64_t n = 0;                      ///< indexed points
  std::int64_t k_local = 0;                ///< the k_local in use
  Metric metric = Metric::l2;              ///< of the fitted graph
  std::vector<double> statistic, spread;   ///< per indexed point, [n] or empty
  std::unique_ptr<detail::MethodData> data;  ///< the method's own, may be null
};

namespace detail {

/// Row vectors handed to fit or transform: none, float or double (at most one set).
struct VectorsRef {
  const MatrixView<float>* f32 = nullptr;
  const MatrixView<double>* f64 = nullptr;

  bool present() const { return f32 != nullptr || f64 != nullptr; }
  std::int64_t rows() const { return f32 != nullptr ? f32->rows : f64 != nullptr ? f64->rows : 0; }
  std::int64_t cols() const { return f32 != nullptr ? f32->cols : f64 != nullptr ? f64->cols : 0; }
};

/// A transform call after the shared checks: the query graph ([m x C'] against
/// the fitted n points, same metric, k_local <= C' where the method reads it).
struct QueryContext {
  const HubnessReducer::State& state;
  const ReductionOptions& options;
  const DistanceGraph& query;
  VectorsRef query_vectors;  ///< absent unless the caller passed them
  std::int64_t k = 0;        ///< columns kept, 1 <= k <= C'
};

/// Keys of the query rows of one parallel chunk; it may keep scratch across the
/// rows of that chunk (one object per chunk, so no sharing between threads).
class RowKeys {
 public:
  virtual ~RowKeys() = default;
  /// Writes key[p] (smaller = nearer) for the C' candidates of query row `row`.
  /// `second` holds the row's primary distances on entry; a method may replace
  /// them with the distances that break ties between equal keys.
  virtual void compute(std::int64_t row, double* key, double* second) = 0;
};

/// One transform call of a method, prepared once and shared by the threads.
class QueryScorer {
 public:
  virtual ~QueryScorer() = default;
  /// Rows per parallel chunk.
  virtual std::int64_t chunk_rows() const { return 256; }
  /// The keys of one chunk of rows.
  virtual std::unique_ptr<RowKeys> row_keys() const = 0;
};

/// A QueryScorer whose rows need no scratch: every chunk gets a copy of `Keys`.
template <class Keys>
class StatelessScorer final : public QueryScorer {
 public:
  explicit StatelessScorer(Keys keys) : keys_(std::move(keys)) {}
  std::unique_ptr<RowKeys> row_keys() const override { return std::make_unique<Keys>(keys_); }

 private:
  Keys keys_;
};

/// One reduction method. Implementations are stateless singletons.
class ReductionMethod {
 public:
  virtual ~ReductionMethod() = default;

  /// The k_local used when the options leave it 0 (0: the method reads none).
  virtual std::int64_t default_k_local() const = 0;
  /// Whether fit keeps a statistic per point, and a spread per point (load
  /// checks the saved sizes against these).
  virtual bool keeps_statistic() const { return true; }
  virtual bool keeps_spread() const { return false; }
  /// Whether a query row's own statistic reads its first k_local columns, so a
  /// query graph needs C' >= k_local.
  virtual bool reads_k_local_columns() const { return true; }

  /// Checks what only this method requires of fit's input (metric, vectors);
  /// runs after the shared graph checks, before k_local is checked.
  virtual void check_fit(std::string_view /*function*/, const DistanceGraph& /*indexed*/,
                         const VectorsRef& /*vectors*/) const {}
  /// Fills state.statistic / spread / data from the checked self-excluded graph
  /// (state.n, k_local and metric are set; vectors, if present, have n rows).
  virtual void fit(std::string_view function, const DistanceGraph& indexed, const VectorsRef& vectors,
                   const ReductionOptions& options, HubnessReducer::State& state) const = 0;

  /// Writes what transform needs besides the shared fields and statistics.
  virtual void save(ModelWriter& /*writer*/, const HubnessReducer::State& /*state*/) const {}
  /// Reads what save wrote into a state whose shared fields are loaded and
  /// checked; inconsistent_reducer() on anything inconsistent.
  virtual void load(const ModelReader& /*reader*/, const ReductionOptions& /*options*/,
                    HubnessReducer::State& /*state*/) const {}

  /// Checks what only this method requires of transform's input and prepares
  /// the keys of the query rows.
  virtual std::unique_ptr<QueryScorer> prepare(const QueryContext& query) const = 0;
  /// The distance reported for a kept candidate of key `key`.
  virtual double reported_distance(double key) const { return key; }
  /// True when mutual proximity empiric counts over all points.
  virtual bool exact_over_all(const HubnessReducer::State& /*state*/) const { return false; }
};

/// Transform's re-ranking (reduction.cpp): each row of `query` ([m x C']) sorted
/// by (key, tie-break distance, id) with the keys of `scorer`, its first k kept,
/// reported as method.reported_distance(key). Shared with latent::mpi, which
/// supplies the keys of rows whose candidates live on other ranks.
DistanceGraph rank_by_keys(const ReductionMethod& method, const QueryScorer& scorer, const DistanceGraph& query,
                           std::int64_t k, const Parallel& parallel);

/// The method of `method` (reduction.cpp holds the table).
const ReductionMethod& reduction_method(Reduction method);

// One getter per method unit.
const ReductionMethod& no_reduction_method();                 // method_none.cpp
const ReductionMethod& mutual_proximity_method();             // method_mutual_proximity.cpp
const ReductionMethod& mutual_proximity_normal_method();      // method_mp_normal.cpp
const ReductionMethod& local_scaling_method();                // method_local_scaling.cpp
const ReductionMethod& nicdm_method();                        // method_local_scaling.cpp
const ReductionMethod& dis_sim_local_method();                // method_dsl.cpp
const ReductionMethod& dis_sim_global_method();               // method_dsg.cpp
const ReductionMethod& csls_method();                         // method_csls.cpp
const ReductionMethod& localized_centering_method();          // method_localized_centering.cpp

// DisSimLocal's pieces (method_dsl.cpp), shared with latent::mpi, whose rows'
// neighbours live on other ranks.

/// |x| in double, summed in order: the cosine norm of a DisSimLocal vector.
template <class T>
double dsl_norm(const T* x, std::int64_t dim) {
  double sum = 0;
  for (std::int64_t t = 0; t < dim; ++t) sum += static_cast<double>(x[t]) * static_cast<double>(x[t]);
  return std::sqrt(sum);
}
/// v /= norm in place (the cosine DisSimLocal vector of a row already in double).
inline void dsl_unit(double norm, std::int64_t dim, double* v) {
  for (std::int64_t t = 0; t < dim; ++t) v[t] /= norm;
}
/// e = |v_x - v_y|^2 from the primary distance d (l2: d^2, sqeuclidean: d, cosine: 2 d).
double dsl_squared_distance(double d, Metric metric);

/// DisSimLocal's and DisSimGlobal's fit checks: an l2, sqeuclidean or cosine
/// graph and the vectors (InvalidArgument naming `method` otherwise).
void check_dis_sim_fit(std::string_view function, const DistanceGraph& indexed, const VectorsRef& vectors,
                       const char* method);
/// The k_local - 1 nearest of a row's `count` candidates by (e, id), nearest
/// first (e sorted up to ties): the neighbours in x's centroid.
void dsl_nearest(const std::int64_t* ids, const double* e, std::int64_t count, std::int64_t k_local,
                 std::vector<std::pair<double, std::int64_t>>& nearest);
/// r = |v - c|^2 with c = centroid_sum / k_local, centroid_sum = v plus the
/// nearest neighbours' v added in dsl_nearest's order ([dim] each).
double dsl_radius_of_sum(const double* v, const double* centroid_sum, std::int64_t dim, std::int64_t k_local);

/// Raises IoError: `path` holds an inconsistent hubness-reducer model.
[[noreturn]] void inconsistent_reducer(const std::string& path, const std::string& what);

/// Mean of the first `count` distances of a row (summed in order).
inline double mean_distance(const double* d, std::int64_t count) {
  double sum = 0;
  for (std::int64_t p = 0; p < count; ++p) sum += d[p];
  return sum / static_cast<double>(count);
}

/// Mean cosine similarity 1 - d of the first `count` cosine distances of a row.
inline double mean_similarity(const double* d, std::int64_t count) {
  double sum = 0;
  for (std::int64_t p = 0; p < count; ++p) sum += 1.0 - d[p];
  return sum / static_cast<double>(count);
}

}  // namespace detail
}  // namespace latent
