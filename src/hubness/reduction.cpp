// Hubness reductions: validation, per-point statistics, the re-ranking of each
// row by (key, primary distance, id). Rows are independent, so the parallel loop
// over fixed row chunks gives the same result for any thread count.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "hubness_detail.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/core/names.hpp"

namespace latent {

namespace detail {

void check_distance_graph(std::string_view function, std::string_view argument, const DistanceGraph& graph,
                          std::int64_t n_indexed) {
  const std::int64_t rows = graph.n_queries(), cols = graph.k();
  if (rows == 0 || cols == 0) {
    raise<EmptyInput>(function, argument, "is empty", "rows=" + std::to_string(rows) + ", cols=" + std::to_string(cols));
  }
  if (graph.distances.size() == 0) {
    raise<InvalidArgument>(function, argument, "graph without distances: the reduction needs them");
  }
  if (graph.distances.rows() != rows || graph.distances.cols() != cols) {
    raise<DimensionMismatch>(function, argument, "distances and ids differ in shape",
                             "ids " + std::to_string(rows) + "x" + std::to_string(cols) + ", distances " +
                                 std::to_string(graph.distances.rows()) + "x" + std::to_string(graph.distances.cols()));
  }
  if (graph.metric == Metric::ip) {
    raise<InvalidArgument>(function, argument, "metric ip is not a distance (use cosine, l2, sqeuclidean, l1, linf)");
  }
  if (n_indexed < 0) n_indexed = rows;
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t p = 0; p < cols; ++p) {
      const std::int64_t id = graph.ids(i, p);
      const double d = graph.distances(i, p);
      if (id < 0 || id >= n_indexed) {
        raise<InvalidArgument>(function, argument, "id outside the indexed points (missing neighbours are not supported)",
                               "row " + std::to_string(i) + ", column " + std::to_string(p) + ", id " +
                                   std::to_string(id) + ", n=" + std::to_string(n_indexed));
      }
      if (graph.self_excluded && id == i) {
        raise<InvalidArgument>(function, argument, "a self-excluded graph lists a row's own id",
                               "row " + std::to_string(i) + ", column " + std::to_string(p));
      }
      if (!std::isfinite(d)) raise_non_finite(function, argument, d, i, p);
      if (p > 0 && d < graph.distances(i, p - 1)) {
        raise<InvalidArgument>(function, argument, "rows must be sorted nearest first",
                               "row " + std::to_string(i) + ", column " + std::to_string(p));
      }
    }
  }
}

}  // namespace detail

namespace {

constexpr NamedValue<Reduction> kNames[] = {
    {"none", Reduction::none},
    {"mp", Reduction::mutual_proximity},
    {"mp-normal", Reduction::mutual_proximity_normal},
    {"ls", Reduction::local_scaling},
    {"nicdm", Reduction::nicdm},
    {"dsl", Reduction::dis_sim_local},
    {"csls", Reduction::csls},
    {"lc", Reduction::localized_centering},
};

std::int64_t default_k_local(Reduction method) {
  switch (method) {
    case Reduction::local_scaling:
    case Reduction::nicdm:
    case Reduction::dis_sim_local: return 5;
    case Reduction::csls: return 10;
    case Reduction::localized_centering: return 40;
    default: return 0;
  }
}

// scipy.special.ndtr(a), the structure of cephes' ndtr, so keys match scipy's
// norm.sf to the last bits as far as erf / erfc agree.
double ndtr(double a) {
  constexpr double kSqrtHalf = 0.70710678118654752440;
  const double x = a * kSqrtHalf;
  const double z = std::abs(x);
  if (z < kSqrtHalf) return 0.5 + 0.5 * std::erf(x);
  const double y = 0.5 * std::erfc(z);
  return x > 0 ? 1.0 - y : y;
}

// Survival function of N(mu, sd) at t (sd = 0: a step at mu).
double normal_sf(double t, double mu, double sd) {
  if (sd > 0) return ndtr(-((t - mu) / sd));
  return t > mu ? 0.0 : (t < mu ? 1.0 : 0.5);
}

// The query-side statistic of one row (the same formula fit uses for the
// indexed rows). For mp-normal, `spread` receives the standard deviation.
double row_statistic(Reduction method, const double* d, std::int64_t count, std::int64_t k_local, double& spread) {
  switch (method) {
    case Reduction::local_scaling: return d[k_local - 1];
    case Reduction::nicdm: {
      double sum = 0;
      for (std::int64_t p = 0; p < k_local; ++p) sum += d[p];
      return sum / static_cast<double>(k_local);
    }
    case Reduction::csls:
    case Reduction::localized_centering: {
      double sum = 0;
      for (std::int64_t p = 0; p < k_local; ++p) sum += d[p];
      return sum / static_cast<double>(k_local);  // converted to similarities by the caller
    }
    case Reduction::mutual_proximity_normal: {
      // Over the listed distances and the point itself (distance 0).
      const double values = static_cast<double>(count + 1);
      double sum = 0;
      for (std::int64_t p = 0; p < count; ++p) sum += d[p];
      const double mean = sum / values;
      double squares = mean * mean;
      for (std::int64_t p = 0; p < count; ++p) squares += (d[p] - mean) * (d[p] - mean);
      spread = std::sqrt(squares / values);
      return mean;
    }
    default: return 0;
  }
}

}  // namespace

std::string_view to_string(Reduction method) { return name_of(kNames, method); }

Reduction parse_reduction(std::string_view name, std::string_view argument) {
  return parse_name(kNames, name, "parse_reduction", argument, "reduction");
}

namespace {

// The DisSimLocal vectors: one owned copy of the rows in their own scalar type
// and, under cosine, their norms; v = x (l2, sqeuclidean) or x / |x| (cosine),
// formed in double when a row is read.
struct DslVectors {
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
    if (!norms.empty()) {
      const double norm = norms[static_cast<std::size_t>(i)];
      for (std::int64_t t = 0; t < dim; ++t) out[t] /= norm;
    }
  }
};

template <class T>
DslVectors make_dsl_vectors(std::string_view function, std::string_view argument, const MatrixView<T>& x,
                            Metric metric, const Parallel& parallel) {
  require_non_empty(function, argument, x);
  require_finite(function, argument, x);
  DslVectors v;
  v.dim = x.cols;
  if constexpr (std::is_same_v<T, float>) {
    v.rows_float = x.map();
  } else {
    v.rows_double = x.map();
  }
  if (metric == Metric::cosine) {
    v.norms.resize(static_cast<std::size_t>(x.rows));
    parallel_for(x.rows, 1024, parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) {
        double sum = 0;
        for (std::int64_t t = 0; t < x.cols; ++t) sum += static_cast<double>(x.row(i)[t]) * static_cast<double>(x.row(i)[t]);
        v.norms[static_cast<std::size_t>(i)] = std::sqrt(sum);
      }
    });
    for (std::int64_t i = 0; i < x.rows; ++i) {
      if (!(v.norms[static_cast<std::size_t>(i)] > 0)) {
        raise<NumericalError>(function, argument, "has a zero row, whose cosine is undefined", "row " + std::to_string(i));
      }
    }
  }
  return v;
}

}  // namespace

struct HubnessReducer::State {
  std::int64_t n = 0;
  std::int64_t k_local = 0;
  Metric metric = Metric::l2;
  std::vector<double> statistic, spread;
  DistanceGraph graph;           // mp: the indexed candidate lists
  bool complete = false;         // mp: rule over all n points
  detail::RankTable ranks;       // mp over all n points
  DslVectors vectors;            // dsl: the indexed rows
};

HubnessReducer::HubnessReducer(const ReductionOptions& options) : options_(options) {
  if (options.k_local < 0) {
    raise<InvalidK>("HubnessReducer", "k_local", "must be >= 0 (0: the method's default)",
                    "k_local=" + std::to_string(options.k_local));
  }
  if (!(options.lc_gamma > 0) || !std::isfinite(options.lc_gamma)) {
    raise<InvalidArgument>("HubnessReducer", "lc_gamma", "must be a positive number",
                           "lc_gamma=" + std::to_string(options.lc_gamma));
  }
}
HubnessReducer::~HubnessReducer() = default;
HubnessReducer::HubnessReducer(HubnessReducer&&) noexcept = default;
HubnessReducer& HubnessReducer::operator=(HubnessReducer&&) noexcept = default;

namespace {
constexpr std::uint32_t kReducerVersion = 1;

[[noreturn]] void inconsistent_reducer(const std::string& path, const std::string& what) {
  raise<IoError>("HubnessReducer::load", path, "holds an inconsistent model", what);
}
}  // namespace

void HubnessReducer::save(const std::string& path) const {
  if (!state_) raise<NotFitted>("HubnessReducer::save", "this reducer", "is not fitted (call fit first)");
  const State& state = *state_;
  ModelWriter writer("hubness-reducer", kReducerVersion);
  writer.put("method", std::string(to_string(options_.method)));
  writer.put("k_local", state.k_local);
  writer.put("lc_gamma", options_.lc_gamma);
  writer.put("n", state.n);
  writer.put("metric", std::string(to_string(state.metric)));
  writer.put("statistic", state.statistic);
  writer.put("spread", state.spread);
  if (options_.method == Reduction::mutual_proximity) {
    writer.put("graph_ids", std::vector<std::int64_t>(state.graph.ids.data(),
                                                      state.graph.ids.data() + state.graph.ids.size()));
    writer.put("graph_distances", MatrixView<double>(state.graph.distances));
  }
  if (options_.method == Reduction::dis_sim_local) {
    const DslVectors& v = state.vectors;
    const RowMatrixd rows = v.rows_float.size() != 0 ? RowMatrixd(v.rows_float.cast<double>()) : v.rows_double;
    writer.put("vectors", MatrixView<double>(rows));
    writer.put("norms", v.norms);
  }
  writer.save(path);
}

HubnessReducer HubnessReducer::load(const std::string& path) {
  const ModelReader reader(path, "hubness-reducer", kReducerVersion);
  ReductionOptions options;
  try {
    options.method = parse_reduction(reader.get_string("method"));
    options.k_local = reader.get_int("k_local");
    options.lc_gamma = reader.get_double("lc_gamma");
  } catch (const InvalidArgument& e) {
    inconsistent_reducer(path, e.what());
  }
  if (options.k_local < 0) inconsistent_reducer(path, "k_local");
  HubnessReducer out = [&] {
    try {
      return HubnessReducer(options);
    } catch (const Error& e) {
      inconsistent_reducer(path, e.what());
    }
  }();
  auto state = std::make_unique<State>();
  state->n = reader.get_int("n");
  state->k_local = options.k_local;
  try {
    state->metric = parse_metric(reader.get_string("metric"));
  } catch (const InvalidArgument& e) {
    inconsistent_reducer(path, e.what());
  }
  state->statistic = reader.get_doubles("statistic");
  state->spread = reader.get_doubles("spread");
  const auto n = static_cast<std::size_t>(state->n);
  const Reduction method = options.method;
  const bool with_statistic = method != Reduction::none && method != Reduction::mutual_proximity;
  if (state->n < 2 || state->statistic.size() != (with_statistic ? n : 0) ||
      state->spread.size() != (method == Reduction::mutual_proximity_normal ? n : 0))
    inconsistent_reducer(path, "per-point statistics for n=" + std::to_string(state->n));
  for (const double value : state->statistic)
    if (!std::isfinite(value)) inconsistent_reducer(path, "a statistic is not finite");
  if (method == Reduction::mutual_proximity) {
    const std::vector<std::int64_t> ids = reader.get_ints("graph_ids");
    state->graph.distances = reader.get_matrix("graph_distances");
    const std::int64_t c = state->graph.distances.cols();
    if (state->graph.distances.rows() != state->n || c < 1 || ids.size() != n * static_cast<std::size_t>(c))
      inconsistent_reducer(path, "the indexed graph");
    state->graph.ids = Eigen::Map<const IdMatrix>(ids.data(), state->n, c);
    state->graph.metric = state->metric;
    state->graph.self_excluded = true;
    try {
      detail::check_distance_graph("HubnessReducer::load", "the indexed graph", state->graph, state->n);
    } catch (const Error& e) {
      inconsistent_reducer(path, e.what());
    }
    state->complete = c == state->n - 1 && state->n <= 65535;
    if (state->complete) state->ranks = detail::build_rank_table(state->graph, options.parallel);
  }
  if (method == Reduction::dis_sim_local) {
    state->vectors.rows_double = reader.get_matrix("vectors");
    state->vectors.norms = reader.get_doubles("norms");
    state->vectors.dim = state->vectors.rows_double.cols();
    if (state->vectors.rows_double.rows() != state->n || state->vectors.dim < 1 ||
        !state->vectors.rows_double.allFinite() ||
        state->vectors.norms.size() != (state->metric == Metric::cosine ? n : 0))
      inconsistent_reducer(path, "the indexed vectors");
  }
  out.state_ = std::move(state);
  return out;
}

bool HubnessReducer::fitted() const { return state_ != nullptr; }
std::int64_t HubnessReducer::k_local() const {
  return options_.k_local > 0 ? options_.k_local : default_k_local(options_.method);
}
const std::vector<double>& HubnessReducer::point_statistic() const {
  if (!state_) raise<NotFitted>("HubnessReducer::point_statistic", "", "call fit first");
  return state_->statistic;
}
const std::vector<double>& HubnessReducer::point_spread() const {
  if (!state_) raise<NotFitted>("HubnessReducer::point_spread", "", "call fit first");
  return state_->spread;
}
bool HubnessReducer::exact_over_all() const { return state_ != nullptr && state_->complete; }

namespace {

// The squared Euclidean distance e of the DisSimLocal vectors, from the primary
// distance: l2 d -> d^2, sqeuclidean d -> d, cosine d = 1 - cos -> |v_x - v_y|^2 =
// 2 d for unit vectors. (Equal to recomputing e from the vectors up to rounding;
// it keeps the cost at O(C) per row instead of O(C dim).)
double squared_from_primary(double d, Metric metric) {
  switch (metric) {
    case Metric::l2: return d * d;
    case Metric::cosine: return 2.0 * d;
    default: return d;
  }
}

// r = |v - c|^2, c = mean of v and its k_local - 1 nearest candidates by (e, id);
// e is sorted up to ties, so those are among the first k_local - 1 candidates and
// the ones whose e equals the last of them.
double dsl_radius(const double* v, const DslVectors& indexed, const std::int64_t* ids, const double* e,
                  std::int64_t count, std::int64_t k_local, std::vector<std::pair<double, std::int64_t>>& nearest,
                  std::vector<double>& centroid, std::vector<double>& scratch) {
  const std::int64_t dim = indexed.dim;
  scratch.resize(static_cast<std::size_t>(dim));
  const std::int64_t need = k_local - 1;
  nearest.clear();
  for (std::int64_t p = 0; p < count && (p < need || (need > 0 && e[p] <= e[need - 1])); ++p) {
    nearest.emplace_back(e[p], ids[p]);
  }
  std::partial_sort(nearest.begin(), nearest.begin() + need, nearest.end());
  centroid.assign(v, v + dim);
  for (std::int64_t q = 0; q < need; ++q) {
    indexed.row(nearest[static_cast<std::size_t>(q)].second, scratch.data());
    for (std::int64_t t = 0; t < dim; ++t) centroid[static_cast<std::size_t>(t)] += scratch[static_cast<std::size_t>(t)];
  }
  double r = 0;
  for (std::int64_t t = 0; t < dim; ++t) {
    const double diff = v[t] - centroid[static_cast<std::size_t>(t)] / static_cast<double>(k_local);
    r += diff * diff;
  }
  return r;
}

}  // namespace

namespace {
template <class T>
HubnessReducer& fit_impl(HubnessReducer& self, std::unique_ptr<HubnessReducer::State>& state,
                         const ReductionOptions& options, const DistanceGraph& indexed, const MatrixView<T>* vectors);
}  // namespace

HubnessReducer& HubnessReducer::fit(const DistanceGraph& indexed) {
  return fit_impl<float>(*this, state_, options_, indexed, nullptr);
}
HubnessReducer& HubnessReducer::fit(const DistanceGraph& indexed, const MatrixView<float>& vectors) {
  return fit_impl(*this, state_, options_, indexed, &vectors);
}
HubnessReducer& HubnessReducer::fit(const DistanceGraph& indexed, const MatrixView<double>& vectors) {
  return fit_impl(*this, state_, options_, indexed, &vectors);
}

namespace {

template <class T>
HubnessReducer& fit_impl(HubnessReducer& self, std::unique_ptr<HubnessReducer::State>& state,
                         const ReductionOptions& options, const DistanceGraph& indexed, const MatrixView<T>* vectors) {
  constexpr std::string_view kFunction = "HubnessReducer::fit";
  detail::check_distance_graph(kFunction, "indexed", indexed, -1);
  if (!indexed.self_excluded) {
    raise<InvalidArgument>(kFunction, "indexed", "must be the self-excluded graph of the indexed set");
  }
  const Reduction method = options.method;
  const std::int64_t n = indexed.n_queries(), c = indexed.k();
  const std::int64_t k_local = self.k_local();
  if (method == Reduction::localized_centering && indexed.metric != Metric::cosine) {
    raise<InvalidArgument>(kFunction, "indexed", "localized centering needs cosine distances",
                           "metric=" + std::string(to_string(indexed.metric)));
  }
  if (method == Reduction::dis_sim_local) {
    if (indexed.metric != Metric::l2 && indexed.metric != Metric::sqeuclidean && indexed.metric != Metric::cosine) {
      raise<InvalidArgument>(kFunction, "indexed", "DisSimLocal needs l2, sqeuclidean or cosine",
                             "metric=" + std::string(to_string(indexed.metric)));
    }
    if (vectors == nullptr) {
      raise<InvalidArgument>(kFunction, "vectors", "DisSimLocal needs the indexed vectors: call fit(graph, vectors)");
    }
  }
  if (k_local > c) {
    raise<InvalidK>(kFunction, "k_local", "exceeds the candidates per row of the graph",
                    "k_local=" + std::to_string(k_local) + ", candidates=" + std::to_string(c));
  }
  if (vectors != nullptr && vectors->rows != n) {
    raise<DimensionMismatch>(kFunction, "vectors", "needs one row per graph row",
                             "vectors=" + std::to_string(vectors->rows) + ", graph rows=" + std::to_string(n));
  }
  auto fitted = std::make_unique<HubnessReducer::State>();
  fitted->n = n;
  fitted->k_local = k_local;
  fitted->metric = indexed.metric;
  if (method == Reduction::dis_sim_local) {
    fitted->vectors = make_dsl_vectors(kFunction, "vectors", *vectors, indexed.metric, options.parallel);
  }

  if (method == Reduction::mutual_proximity) {
    fitted->graph = indexed;
    fitted->complete = c == n - 1 && n <= 65535;
    if (fitted->complete) fitted->ranks = detail::build_rank_table(indexed, options.parallel);
  } else if (method == Reduction::dis_sim_local) {
    fitted->statistic.resize(static_cast<std::size_t>(n));
    const DslVectors& v = fitted->vectors;
    parallel_for(n, 256, options.parallel, [&](std::int64_t begin, std::int64_t end) {
      std::vector<std::pair<double, std::int64_t>> nearest;
      std::vector<double> centroid, scratch, vx(static_cast<std::size_t>(v.dim)), e(static_cast<std::size_t>(c));
      for (std::int64_t i = begin; i < end; ++i) {
        for (std::int64_t p = 0; p < c; ++p) e[static_cast<std::size_t>(p)] = squared_from_primary(indexed.distances(i, p), indexed.metric);
        v.row(i, vx.data());
        fitted->statistic[static_cast<std::size_t>(i)] =
            dsl_radius(vx.data(), v, &indexed.ids(i, 0), e.data(), c, k_local, nearest, centroid, scratch);
      }
    });
  } else if (method != Reduction::none) {
    fitted->statistic.resize(static_cast<std::size_t>(n));
    if (method == Reduction::mutual_proximity_normal) fitted->spread.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      double spread = 0;
      double value = row_statistic(method, &indexed.distances(i, 0), c, k_local, spread);
      if ((method == Reduction::csls || method == Reduction::localized_centering) && indexed.metric == Metric::cosine) {
        value = 0;  // mean similarity 1 - d, summed as the golden reference does
        for (std::int64_t p = 0; p < k_local; ++p) value += 1.0 - indexed.distances(i, p);
        value /= static_cast<double>(k_local);
      }
      fitted->statistic[static_cast<std::size_t>(i)] = value;
      if (method == Reduction::mutual_proximity_normal) fitted->spread[static_cast<std::size_t>(i)] = spread;
    }
  }
  state = std::move(fitted);
  return self;
}

template <class T>
DistanceGraph transform_impl(const ReductionOptions& options, const HubnessReducer::State* state,
                             const DistanceGraph& query, const MatrixView<T>* query_vectors, std::int64_t k) {
  constexpr std::string_view kFunction = "HubnessReducer::transform";
  if (state == nullptr) raise<NotFitted>(kFunction, "", "call fit before transform");
  const Reduction method = options.method;
  detail::check_distance_graph(kFunction, "query", query, state->n);
  if (query.self_excluded && query.n_queries() != state->n) {
    raise<DimensionMismatch>(kFunction, "query", "a self-excluded query graph must have the fitted rows",
                             "rows=" + std::to_string(query.n_queries()) + ", fitted=" + std::to_string(state->n));
  }
  if (query.metric != state->metric) {
    raise<InvalidArgument>(kFunction, "query", "metric differs from the fitted graph's",
                           std::string(to_string(query.metric)) + " vs " + std::string(to_string(state->metric)));
  }
  const std::int64_t m = query.n_queries(), c = query.k(), k_local = state->k_local;
  if (k == 0) k = c;
  require_k(kFunction, k, c, "query");
  if (method != Reduction::none && method != Reduction::mutual_proximity && k_local > c) {
    raise<InvalidK>(kFunction, "k_local", "exceeds the candidates per query row",
                    "k_local=" + std::to_string(k_local) + ", candidates=" + std::to_string(c));
  }
  DslVectors own_vectors;
  const DslVectors* v_query = nullptr;  // null: the query rows are the indexed rows
  if (method == Reduction::dis_sim_local) {
    if (query_vectors != nullptr) {
      require_same_dim(kFunction, "query_vectors", query_vectors->cols, "fitted vectors", state->vectors.dim);
      if (query_vectors->rows != m) {
        raise<DimensionMismatch>(kFunction, "query_vectors", "needs one row per query row",
                                 "vectors=" + std::to_string(query_vectors->rows) + ", rows=" + std::to_string(m));
      }
    }
    if (query_vectors != nullptr && !query.self_excluded) {
      own_vectors = make_dsl_vectors(kFunction, "query_vectors", *query_vectors, state->metric, options.parallel);
      v_query = &own_vectors;
    } else if (!query.self_excluded) {
      raise<InvalidArgument>(kFunction, "query_vectors", "DisSimLocal needs the query vectors");
    }
  }
  const bool exact_mp = method == Reduction::mutual_proximity && state->complete &&
                        (query.self_excluded ? c == state->n - 1 : c == state->n);

  DistanceGraph out;
  out.ids.resize(m, k);
  out.distances.resize(m, k);
  out.metric = query.metric;
  out.self_excluded = query.self_excluded;
  const double* stat = state->statistic.data();
  const double* spread = state->spread.data();
  const bool cosine = query.metric == Metric::cosine;
  // Row chunks: small for the O(n^2)-per-row exact MP; for the candidate rule
  // at most ~128 chunks, since each allocates an n-entry marker array.
  const std::int64_t chunk = method != Reduction::mutual_proximity ? 256
                             : exact_mp                           ? 16
                                                                  : std::max<std::int64_t>(256, m / 128);
  parallel_for(m, chunk, options.parallel,
               [&](std::int64_t begin, std::int64_t end) {
    std::vector<double> key(static_cast<std::size_t>(c)), second(static_cast<std::size_t>(c)), centroid;
    std::vector<std::pair<double, std::int64_t>> nearest;
    std::vector<double> vx, scratch;
    std::vector<std::int64_t> order(static_cast<std::size_t>(c));
    std::vector<std::uint16_t> query_ranks;
    std::vector<double> heap;
    std::vector<std::int32_t> mark;
    if (method == Reduction::mutual_proximity && !exact_mp) mark.assign(static_cast<std::size_t>(state->n), -1);
    for (std::int64_t i = begin; i < end; ++i) {
      const std::int64_t* ids = &query.ids(i, 0);
      const double* d = &query.distances(i, 0);
      std::copy(d, d + c, second.begin());
      double own_spread = 0;
      const double own = row_statistic(method, d, c, k_local, own_spread);
      switch (method) {
        case Reduction::none:
          std::copy(d, d + c, key.begin());
          break;
        case Reduction::mutual_proximity:
          if (exact_mp) {
            detail::mp_counts_exact(state->graph, state->ranks, query, i, k, query_ranks, heap, key.data());
          } else {
            detail::mp_counts_candidates(state->graph, query, i, mark, key.data());
          }
          break;
        case Reduction::mutual_proximity_normal:
          for (std::int64_t p = 0; p < c; ++p) {
            const auto y = static_cast<std::size_t>(ids[p]);
            key[static_cast<std::size_t>(p)] =
                1.0 - normal_sf(d[p], own, own_spread) * normal_sf(d[p], stat[y], spread[y]);
          }
          break;
        case Reduction::local_scaling:
        case Reduction::nicdm:
          for (std::int64_t p = 0; p < c; ++p) {
            const double scale = own * stat[ids[p]];
            const double numerator = method == Reduction::local_scaling ? d[p] * d[p] : d[p];
            double s = 0;
            if (scale > 0) {
              s = numerator / (method == Reduction::local_scaling ? scale : std::sqrt(scale));
            } else if (numerator > 0) {
              s = HUGE_VAL;  // a zero scale (duplicates): only an equal point is near
            }
            key[static_cast<std::size_t>(p)] = s;
          }
          break;
        case Reduction::csls:
          if (cosine) {
            double r = 0;
            for (std::int64_t p = 0; p < k_local; ++p) r += 1.0 - d[p];
            r /= static_cast<double>(k_local);
            for (std::int64_t p = 0; p < c; ++p) key[static_cast<std::size_t>(p)] = -(2.0 * (1.0 - d[p]) - r - stat[ids[p]]);
          } else {
            for (std::int64_t p = 0; p < c; ++p) key[static_cast<std::size_t>(p)] = 2.0 * d[p] - own - stat[ids[p]];
          }
          break;
        case Reduction::localized_centering:
          for (std::int64_t p = 0; p < c; ++p) {
            const double affinity = stat[ids[p]];
            const double penalty = options.lc_gamma == 1.0 ? affinity : std::pow(std::max(affinity, 0.0), options.lc_gamma);
            key[static_cast<std::size_t>(p)] = -((1.0 - d[p]) - penalty);
          }
          break;
        case Reduction::dis_sim_local: {
          for (std::int64_t p = 0; p < c; ++p) second[static_cast<std::size_t>(p)] = squared_from_primary(d[p], query.metric);
          // An indexed row's r is the fitted one (same formula, same row).
          double r = 0;
          if (v_query == nullptr) {
            r = stat[i];
          } else {
            vx.resize(static_cast<std::size_t>(v_query->dim));
            v_query->row(i, vx.data());
            r = dsl_radius(vx.data(), state->vectors, ids, second.data(), c, k_local, nearest, centroid, scratch);
          }
          for (std::int64_t p = 0; p < c; ++p) {
            key[static_cast<std::size_t>(p)] = second[static_cast<std::size_t>(p)] - r - stat[ids[p]];
          }
          break;
        }
      }
      std::iota(order.begin(), order.end(), 0);
      const auto before = [&](std::int64_t a, std::int64_t b) {
        const auto ua = static_cast<std::size_t>(a), ub = static_cast<std::size_t>(b);
        if (key[ua] != key[ub]) return key[ua] < key[ub];
        if (second[ua] != second[ub]) return second[ua] < second[ub];
        return ids[a] < ids[b];
      };
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      for (std::int64_t p = 0; p < k; ++p) {
        const auto q = static_cast<std::size_t>(order[static_cast<std::size_t>(p)]);
        out.ids(i, p) = ids[q];
        // local scaling reports the similarity-turned-distance 1 - exp(-s); the
        // key s ranks the same without exp's saturation.
        out.distances(i, p) = method == Reduction::local_scaling ? -std::expm1(-key[q]) : key[q];
      }
    }
  });
  return out;
}

}  // namespace

DistanceGraph HubnessReducer::transform(const DistanceGraph& query, std::int64_t k) const {
  return transform_impl<float>(options_, state_.get(), query, nullptr, k);
}
DistanceGraph HubnessReducer::transform(const DistanceGraph& query, const MatrixView<float>& query_vectors,
                                        std::int64_t k) const {
  return transform_impl(options_, state_.get(), query, &query_vectors, k);
}
DistanceGraph HubnessReducer::transform(const DistanceGraph& query, const MatrixView<double>& query_vectors,
                                        std::int64_t k) const {
  return transform_impl(options_, state_.get(), query, &query_vectors, k);
}
DistanceGraph HubnessReducer::fit_transform(const DistanceGraph& indexed, std::int64_t k) {
  return fit(indexed).transform(indexed, k);
}
DistanceGraph HubnessReducer::fit_transform(const DistanceGraph& indexed, const MatrixView<float>& vectors,
                                            std::int64_t k) {
  return fit(indexed, vectors).transform(indexed, k);
}
DistanceGraph HubnessReducer::fit_transform(const DistanceGraph& indexed, const MatrixView<double>& vectors,
                                            std::int64_t k) {
  return fit(indexed, vectors).transform(indexed, k);
}

}  // namespace latent
