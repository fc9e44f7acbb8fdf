// DisSimGlobal: DisSimLocal with one centroid for every point, the mean c of the
// indexed v (v = x for l2 and sqeuclidean, x / |x| for cosine). r_x = |v_x - c|^2
// and the key of (x, y) is e - r_x - r_y with e = |v_x - v_y|^2, ties broken by
// e; since e - r_x - r_y = -2 <v_x - c, v_y - c>, it ranks by the inner product
// of the centred vectors. Fit keeps c, not the vectors.
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "method.hpp"

namespace latent::detail {
namespace {

// The global centroid c of the indexed v.
struct DsgCentroid final : MethodData {
  std::vector<double> c;
};

// v of row i of x in double (the unit row under cosine; a zero row is refused).
template <class T>
void global_v(std::string_view function, std::string_view argument, const MatrixView<T>& x, std::int64_t i,
              Metric metric, double* v) {
  for (std::int64_t t = 0; t < x.cols; ++t) v[t] = static_cast<double>(x.row(i)[t]);
  if (metric != Metric::cosine) return;
  const double norm = dsl_norm(x.row(i), x.cols);
  if (!(norm > 0))
    raise<NumericalError>(function, argument, "has a zero row, whose cosine is undefined", "row " + std::to_string(i));
  dsl_unit(norm, x.cols, v);
}

double squared_distance_to(const double* v, const std::vector<double>& c) {
  double r = 0;
  for (std::size_t t = 0; t < c.size(); ++t) r += (v[t] - c[t]) * (v[t] - c[t]);
  return r;
}

// r = |v - c|^2 of every row of x.
template <class T>
std::vector<double> radii(std::string_view function, std::string_view argument, const MatrixView<T>& x, Metric metric,
                          const std::vector<double>& c) {
  require_non_empty(function, argument, x);
  require_finite(function, argument, x);
  std::vector<double> r(static_cast<std::size_t>(x.rows)), v(static_cast<std::size_t>(x.cols));
  for (std::int64_t i = 0; i < x.rows; ++i) {
    global_v(function, argument, x, i, metric, v.data());
    r[static_cast<std::size_t>(i)] = squared_distance_to(v.data(), c);
  }
  return r;
}

template <class T>
std::vector<double> centroid(std::string_view function, const MatrixView<T>& x, Metric metric) {
  require_non_empty(function, "vectors", x);
  require_finite(function, "vectors", x);
  std::vector<double> c(static_cast<std::size_t>(x.cols), 0.0), v(static_cast<std::size_t>(x.cols));
  for (std::int64_t i = 0; i < x.rows; ++i) {
    global_v(function, "vectors", x, i, metric, v.data());
    for (std::size_t t = 0; t < c.size(); ++t) c[t] += v[t];
  }
  for (double& value : c) value /= static_cast<double>(x.rows);
  return c;
}

std::vector<double> radii_of(std::string_view function, std::string_view argument, const VectorsRef& x, Metric metric,
                             const std::vector<double>& c) {
  return x.f32 != nullptr ? radii(function, argument, *x.f32, metric, c) : radii(function, argument, *x.f64, metric, c);
}

struct DsgKeys final : RowKeys {
  const DistanceGraph* query = nullptr;
  const double* indexed_r = nullptr;
  const double* query_r = nullptr;  // the query rows' r; null: the indexed rows (self-excluded)

  void compute(std::int64_t row, double* key, double* second) override {
    const std::int64_t* ids = &query->ids(row, 0);
    const double r = query_r != nullptr ? query_r[row] : indexed_r[row];
    for (std::int64_t p = 0; p < query->k(); ++p) {
      second[p] = dsl_squared_distance(query->distances(row, p), query->metric);
      key[p] = second[p] - r - indexed_r[ids[p]];
    }
  }
};

class DsgScorer final : public QueryScorer {
 public:
  DsgScorer(const DistanceGraph& query, const double* indexed_r, std::vector<double> query_r)
      : query_(query), indexed_r_(indexed_r), query_r_(std::move(query_r)) {}
  std::unique_ptr<RowKeys> row_keys() const override {
    auto keys = std::make_unique<DsgKeys>();
    keys->query = &query_;
    keys->indexed_r = indexed_r_;
    keys->query_r = query_r_.empty() ? nullptr : query_r_.data();
    return keys;
  }

 private:
  const DistanceGraph& query_;
  const double* indexed_r_;
  std::vector<double> query_r_;
};

class DisSimGlobal final : public ReductionMethod {
 public:
  std::int64_t default_k_local() const override { return 1; }
  bool reads_k_local_columns() const override { return false; }

  void check_fit(std::string_view function, const DistanceGraph& indexed, const VectorsRef& vectors) const override {
    check_dis_sim_fit(function, indexed, vectors, "DisSimGlobal");
  }

  void fit(std::string_view function, const DistanceGraph& indexed, const VectorsRef& vectors, const ReductionOptions&,
           HubnessReducer::State& state) const override {
    auto data = std::make_unique<DsgCentroid>();
    data->c = vectors.f32 != nullptr ? centroid(function, *vectors.f32, indexed.metric)
                                     : centroid(function, *vectors.f64, indexed.metric);
    state.statistic = radii_of(function, "vectors", vectors, indexed.metric, data->c);
    state.data = std::move(data);
  }

  void save(ModelWriter& writer, const HubnessReducer::State& state) const override {
    writer.put("centroid", static_cast<const DsgCentroid&>(*state.data).c);
  }

  void load(const ModelReader& reader, const ReductionOptions&, HubnessReducer::State& state) const override {
    auto data = std::make_unique<DsgCentroid>();
    data->c = reader.get_doubles("centroid");
    if (data->c.empty()) inconsistent_reducer(reader.path(), "the centroid");
    for (const double value : data->c)
      if (!std::isfinite(value)) inconsistent_reducer(reader.path(), "the centroid");
    state.data = std::move(data);
  }

  std::unique_ptr<QueryScorer> prepare(const QueryContext& query) const override {
    constexpr std::string_view kFunction = "HubnessReducer::transform";
    const VectorsRef& vectors = query.query_vectors;
    const std::vector<double>& c = static_cast<const DsgCentroid&>(*query.state.data).c;
    std::vector<double> query_r;  // empty: the query rows are the indexed rows
    if (vectors.present() && !query.query.self_excluded) {
      require_same_dim(kFunction, "query_vectors", vectors.cols(), "fitted vectors",
                       static_cast<std::int64_t>(c.size()));
      if (vectors.rows() != query.query.n_queries()) {
        raise<DimensionMismatch>(
            kFunction, "query_vectors", "needs one row per query row",
            "vectors=" + std::to_string(vectors.rows()) + ", rows=" + std::to_string(query.query.n_queries()));
      }
      query_r = radii_of(kFunction, "query_vectors", vectors, query.state.metric, c);
    } else if (!query.query.self_excluded) {
      raise<InvalidArgument>(kFunction, "query_vectors", "DisSimGlobal needs the query vectors");
    }
    return std::make_unique<DsgScorer>(query.query, query.state.statistic.data(), std::move(query_r));
  }
};

}  // namespace

const ReductionMethod& dis_sim_global_method() {
  static const DisSimGlobal method;
  return method;
}

}  // namespace latent::detail
