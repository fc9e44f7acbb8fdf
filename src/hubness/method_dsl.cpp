// DisSimLocal: on v = x (l2, sqeuclidean) or x / |x| (cosine) and the squared
// Euclidean distance e of the v, r_x = |v_x - c_x|^2 with c_x the mean of v_x
// and its k_local - 1 nearest candidates; the key of (x, y) is e - r_x - r_y,
// ties broken by e. Fit keeps a copy of the indexed vectors.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "latent/core/errors.hpp"
#include "method.hpp"

namespace latent::detail {

// The squared Euclidean distance e of the DisSimLocal vectors, from the primary
// distance: l2 d -> d^2, sqeuclidean d -> d, cosine d = 1 - cos -> |v_x - v_y|^2 =
// 2 d for unit vectors. (Equal to recomputing e from the vectors up to rounding;
// it keeps the cost at O(C) per row instead of O(C dim).)
double dsl_squared_distance(double d, Metric metric) {
  switch (metric) {
    case Metric::l2: return d * d;
    case Metric::cosine: return 2.0 * d;
    default: return d;
  }
}

// e is sorted up to ties, so the k_local - 1 nearest by (e, id) are among the
// first k_local - 1 candidates and the ones whose e equals the last of them.
void dsl_nearest(const std::int64_t* ids, const double* e, std::int64_t count, std::int64_t k_local,
                 std::vector<std::pair<double, std::int64_t>>& nearest) {
  const std::int64_t need = k_local - 1;
  nearest.clear();
  for (std::int64_t p = 0; p < count && (p < need || (need > 0 && e[p] <= e[need - 1])); ++p) {
    nearest.emplace_back(e[p], ids[p]);
  }
  std::partial_sort(nearest.begin(), nearest.begin() + need, nearest.end());
  nearest.resize(static_cast<std::size_t>(need));
}

double dsl_radius_of_sum(const double* v, const double* centroid_sum, std::int64_t dim, std::int64_t k_local) {
  double r = 0;
  for (std::int64_t t = 0; t < dim; ++t) {
    const double diff = v[t] - centroid_sum[t] / static_cast<double>(k_local);
    r += diff * diff;
  }
  return r;
}

void check_dis_sim_fit(std::string_view function, const DistanceGraph& indexed, const VectorsRef& vectors,
                       const char* method) {
  if (indexed.metric != Metric::l2 && indexed.metric != Metric::sqeuclidean && indexed.metric != Metric::cosine) {
    raise<InvalidArgument>(function, "indexed", std::string(method) + " needs l2, sqeuclidean or cosine",
                           "metric=" + std::string(to_string(indexed.metric)));
  }
  if (!vectors.present()) {
    raise<InvalidArgument>(function, "vectors",
                           std::string(method) + " needs the indexed vectors: call fit(graph, vectors)");
  }
}

namespace {

// The DisSimLocal vectors: one owned copy of the rows in their own scalar type
// and, under cosine, their norms; v = x (l2, sqeuclidean) or x / |x| (cosine),
// formed in double when a row is read.
struct DslVectors final : MethodData {
  RowMatrixf rows_float;
  RowMatrixd rows_double;
  std::vector<double> norms;  // cosine only
  std::int64_t dim = 0;

  void row(std::int64_t i, double* out) const {
    if (rows_float.size() != 0) {
      for (std::int64_t t = 0; t < dim; ++t) out[t] = static_cast<double>(rows_float(i, t));
    } else {
      for (std::int64_t t = 0; t < dim; ++t) out[t] = rows_double(i, t);
    }
    if (!norms.empty()) dsl_unit(norms[static_cast<std::size_t>(i)], dim, out);
  }
};

template <class T>
std::unique_ptr<DslVectors> make_dsl_vectors(std::string_view function, std::string_view argument,
                                             const MatrixView<T>& x, Metric metric, const Parallel& parallel) {
  require_non_empty(function, argument, x);
  require_finite(function, argument, x);
  auto v = std::make_unique<DslVectors>();
  v->dim = x.cols;
  if constexpr (std::is_same_v<T, float>) {
    v->rows_float = x.map();
  } else {
    v->rows_double = x.map();
  }
  if (metric == Metric::cosine) {
    v->norms.resize(static_cast<std::size_t>(x.rows));
    parallel_for(x.rows, 1024, parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) v->norms[static_cast<std::size_t>(i)] = dsl_norm(x.row(i), x.cols);
    });
    for (std::int64_t i = 0; i < x.rows; ++i) {
      if (!(v->norms[static_cast<std::size_t>(i)] > 0)) {
        raise<NumericalError>(function, argument, "has a zero row, whose cosine is undefined", "row " + std::to_string(i));
      }
    }
  }
  return v;
}

std::unique_ptr<DslVectors> make_dsl_vectors(std::string_view function, std::string_view argument,
                                             const VectorsRef& x, Metric metric, const Parallel& parallel) {
  return x.f32 != nullptr ? make_dsl_vectors(function, argument, *x.f32, metric, parallel)
                          : make_dsl_vectors(function, argument, *x.f64, metric, parallel);
}

// Scratch of one radius computation, reused across rows.
struct RadiusScratch {
  std::vector<std::pair<double, std::int64_t>> nearest;
  std::vector<double> centroid, row;
};

// r = |v - c|^2, c = mean of v and its k_local - 1 nearest candidates by (e, id).
double dsl_radius(const double* v, const DslVectors& indexed, const std::int64_t* ids, const double* e,
                  std::int64_t count, std::int64_t k_local, RadiusScratch& scratch) {
  const std::int64_t dim = indexed.dim;
  dsl_nearest(ids, e, count, k_local, scratch.nearest);
  scratch.row.resize(static_cast<std::size_t>(dim));
  scratch.centroid.assign(v, v + dim);
  for (const auto& [distance, id] : scratch.nearest) {
    indexed.row(id, scratch.row.data());
    for (std::int64_t t = 0; t < dim; ++t) scratch.centroid[static_cast<std::size_t>(t)] += scratch.row[static_cast<std::size_t>(t)];
  }
  return dsl_radius_of_sum(v, scratch.centroid.data(), dim, k_local);
}

const DslVectors& indexed_vectors(const HubnessReducer::State& state) {
  return static_cast<const DslVectors&>(*state.data);
}

class DslKeys final : public RowKeys {
 public:
  // `own` null: the query rows are the indexed rows, whose r is the fitted one.
  DslKeys(const HubnessReducer::State& state, const DistanceGraph& query, const DslVectors* own)
      : state_(state), query_(query), own_(own) {}

  void compute(std::int64_t row, double* key, double* second) override {
    const std::int64_t* ids = &query_.ids(row, 0);
    const double* d = &query_.distances(row, 0);
    const std::int64_t c = query_.k();
    const double* stat = state_.statistic.data();
    for (std::int64_t p = 0; p < c; ++p) second[p] = dsl_squared_distance(d[p], query_.metric);
    double r = 0;
    if (own_ == nullptr) {
      r = stat[row];
    } else {
      v_.resize(static_cast<std::size_t>(own_->dim));
      own_->row(row, v_.data());
      r = dsl_radius(v_.data(), indexed_vectors(state_), ids, second, c, state_.k_local, scratch_);
    }
    for (std::int64_t p = 0; p < c; ++p) key[p] = second[p] - r - stat[ids[p]];
  }

 private:
  const HubnessReducer::State& state_;
  const DistanceGraph& query_;
  const DslVectors* own_;
  std::vector<double> v_;
  RadiusScratch scratch_;
};

class DslScorer final : public QueryScorer {
 public:
  DslScorer(const HubnessReducer::State& state, const DistanceGraph& query, std::unique_ptr<DslVectors> own)
      : state_(state), query_(query), own_(std::move(own)) {}
  std::unique_ptr<RowKeys> row_keys() const override {
    return std::make_unique<DslKeys>(state_, query_, own_.get());
  }

 private:
  const HubnessReducer::State& state_;
  const DistanceGraph& query_;
  std::unique_ptr<DslVectors> own_;
};

class DisSimLocal final : public ReductionMethod {
 public:
  std::int64_t default_k_local() const override { return 5; }

  void check_fit(std::string_view function, const DistanceGraph& indexed, const VectorsRef& vectors) const override {
    check_dis_sim_fit(function, indexed, vectors, "DisSimLocal");
  }

  void fit(std::string_view function, const DistanceGraph& indexed, const VectorsRef& vectors,
           const ReductionOptions& options, HubnessReducer::State& state) const override;
  void save(ModelWriter& writer, const HubnessReducer::State& state) const override;
  void load(const ModelReader& reader, const ReductionOptions& options, HubnessReducer::State& state) const override;
  std::unique_ptr<QueryScorer> prepare(const QueryContext& query) const override;
};

void DisSimLocal::fit(std::string_view function, const DistanceGraph& indexed, const VectorsRef& vectors,
                      const ReductionOptions& options, HubnessReducer::State& state) const {
  std::unique_ptr<DslVectors> owned = make_dsl_vectors(function, "vectors", vectors, indexed.metric, options.parallel);
  const DslVectors& v = *owned;
  const std::int64_t n = state.n, c = indexed.k(), k_local = state.k_local;
  state.statistic.resize(static_cast<std::size_t>(n));
  parallel_for(n, 256, options.parallel, [&](std::int64_t begin, std::int64_t end) {
    RadiusScratch scratch;
    std::vector<double> vx(static_cast<std::size_t>(v.dim)), e(static_cast<std::size_t>(c));
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t p = 0; p < c; ++p) e[static_cast<std::size_t>(p)] = dsl_squared_distance(indexed.distances(i, p), indexed.metric);
      v.row(i, vx.data());
      state.statistic[static_cast<std::size_t>(i)] =
          dsl_radius(vx.data(), v, &indexed.ids(i, 0), e.data(), c, k_local, scratch);
    }
  });
  state.data = std::move(owned);
}

void DisSimLocal::save(ModelWriter& writer, const HubnessReducer::State& state) const {
  const DslVectors& v = indexed_vectors(state);
  const RowMatrixd rows = v.rows_float.size() != 0 ? RowMatrixd(v.rows_float.cast<double>()) : v.rows_double;
  writer.put("vectors", MatrixView<double>(rows));
  writer.put("norms", v.norms);
}

void DisSimLocal::load(const ModelReader& reader, const ReductionOptions&, HubnessReducer::State& state) const {
  auto v = std::make_unique<DslVectors>();
  v->rows_double = reader.get_matrix("vectors");
  v->norms = reader.get_doubles("norms");
  v->dim = v->rows_double.cols();
  if (v->rows_double.rows() != state.n || v->dim < 1 || !v->rows_double.allFinite() ||
      v->norms.size() != (state.metric == Metric::cosine ? static_cast<std::size_t>(state.n) : 0))
    inconsistent_reducer(reader.path(), "the indexed vectors");
  state.data = std::move(v);
}

std::unique_ptr<QueryScorer> DisSimLocal::prepare(const QueryContext& query) const {
  constexpr std::string_view kFunction = "HubnessReducer::transform";
  const VectorsRef& vectors = query.query_vectors;
  if (vectors.present()) {
    require_same_dim(kFunction, "query_vectors", vectors.cols(), "fitted vectors", indexed_vectors(query.state).dim);
    if (vectors.rows() != query.query.n_queries()) {
      raise<DimensionMismatch>(kFunction, "query_vectors", "needs one row per query row",
                               "vectors=" + std::to_string(vectors.rows()) +
                                   ", rows=" + std::to_string(query.query.n_queries()));
    }
  }
  std::unique_ptr<DslVectors> own;  // null: the query rows are the indexed rows
  if (vectors.present() && !query.query.self_excluded) {
    own = make_dsl_vectors(kFunction, "query_vectors", vectors, query.state.metric, query.options.parallel);
  } else if (!query.query.self_excluded) {
    raise<InvalidArgument>(kFunction, "query_vectors", "DisSimLocal needs the query vectors");
  }
  return std::make_unique<DslScorer>(query.state, query.query, std::move(own));
}

}  // namespace

const ReductionMethod& dis_sim_local_method() {
  static const DisSimLocal method;
  return method;
}

}  // namespace latent::detail
