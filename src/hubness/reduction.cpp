// HubnessReducer: the checks every method shares, save / load of the shared
// fields, and the re-ranking of each row by (key, tie-break distance, id). The
// methods themselves (their per-point statistic and pair key) are the
// method_*.cpp units behind method.hpp. Rows are independent, so the parallel
// loop over fixed row chunks gives the same result for any thread count.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "hubness_detail.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/core/names.hpp"
#include "method.hpp"

namespace latent {

namespace detail {

void check_distance_graph(std::string_view function, std::string_view argument, const DistanceGraph& graph,
                          std::int64_t n_indexed) {
  const std::int64_t rows = graph.n_queries(), cols = graph.k();
  if (rows == 0 || cols == 0) {
    raise<EmptyInput>(function, argument, "is empty",
                      "rows=" + std::to_string(rows) + ", cols=" + std::to_string(cols));
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
    raise<InvalidArgument>(function, argument,
                           "metric ip is not a distance (use cosine, angular, l2, sqeuclidean, l1, linf)");
  }
  if (n_indexed < 0) n_indexed = rows;
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t p = 0; p < cols; ++p) {
      const std::int64_t id = graph.ids(i, p);
      const double d = graph.distances(i, p);
      if (id < 0 || id >= n_indexed) {
        raise<InvalidArgument>(function, argument,
                               "id outside the indexed points (missing neighbours are not supported)",
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

const ReductionMethod& reduction_method(Reduction method) {
  switch (method) {
    case Reduction::none:
      return no_reduction_method();
    case Reduction::mutual_proximity:
      return mutual_proximity_method();
    case Reduction::mutual_proximity_normal:
      return mutual_proximity_normal_method();
    case Reduction::local_scaling:
      return local_scaling_method();
    case Reduction::nicdm:
      return nicdm_method();
    case Reduction::dis_sim_local:
      return dis_sim_local_method();
    case Reduction::csls:
      return csls_method();
    case Reduction::localized_centering:
      return localized_centering_method();
    case Reduction::dis_sim_global:
      return dis_sim_global_method();
  }
  raise<InvalidArgument>("reduction_method", "method", "is not a Reduction",
                         "value " + std::to_string(static_cast<int>(method)));
}

void inconsistent_reducer(const std::string& path, const std::string& what) {
  raise<IoError>("HubnessReducer::load", path, "holds an inconsistent model", what);
}

DistanceGraph rank_by_keys(const ReductionMethod& method, const QueryScorer& scorer, const DistanceGraph& query,
                           std::int64_t k, const Parallel& parallel) {
  const std::int64_t m = query.n_queries(), c = query.k();
  DistanceGraph out;
  out.ids.resize(m, k);
  out.distances.resize(m, k);
  out.metric = query.metric;
  out.self_excluded = query.self_excluded;
  parallel_for(m, scorer.chunk_rows(), parallel, [&](std::int64_t begin, std::int64_t end) {
    const std::unique_ptr<RowKeys> row_keys = scorer.row_keys();
    std::vector<double> key(static_cast<std::size_t>(c)), second(static_cast<std::size_t>(c));
    std::vector<std::int64_t> order(static_cast<std::size_t>(c));
    for (std::int64_t i = begin; i < end; ++i) {
      const std::int64_t* ids = &query.ids(i, 0);
      const double* d = &query.distances(i, 0);
      std::copy(d, d + c, second.begin());
      row_keys->compute(i, key.data(), second.data());
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
        out.distances(i, p) = method.reported_distance(key[q]);
      }
    }
  });
  return out;
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
    {"dsg", Reduction::dis_sim_global},
};

}  // namespace

std::string_view to_string(Reduction method) { return name_of(kNames, method); }

Reduction parse_reduction(std::string_view name, std::string_view argument) {
  return parse_name(kNames, name, "parse_reduction", argument, "reduction");
}

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

using detail::inconsistent_reducer;

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
  detail::reduction_method(options_.method).save(writer, state);
  writer.save(path);
}

namespace {

ReductionOptions load_options(const ModelReader& reader) {
  ReductionOptions options;
  try {
    options.method = parse_reduction(reader.get_string("method"));
    options.k_local = reader.get_int("k_local");
    options.lc_gamma = reader.get_double("lc_gamma");
  } catch (const InvalidArgument& e) {
    inconsistent_reducer(reader.path(), e.what());
  }
  if (options.k_local < 0) inconsistent_reducer(reader.path(), "k_local");
  return options;
}

}  // namespace

HubnessReducer HubnessReducer::load(const std::string& path) {
  const ModelReader reader(path, "hubness-reducer", kReducerVersion);
  const ReductionOptions options = load_options(reader);
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
  const detail::ReductionMethod& method = detail::reduction_method(options.method);
  if (state->n < 2 || state->statistic.size() != (method.keeps_statistic() ? n : 0) ||
      state->spread.size() != (method.keeps_spread() ? n : 0))
    inconsistent_reducer(path, "per-point statistics for n=" + std::to_string(state->n));
  for (const double value : state->statistic)
    if (!std::isfinite(value)) inconsistent_reducer(path, "a statistic is not finite");
  method.load(reader, options, *state);
  out.state_ = std::move(state);
  return out;
}

bool HubnessReducer::is_fitted() const { return state_ != nullptr; }
std::int64_t HubnessReducer::k_local() const {
  return options_.k_local > 0 ? options_.k_local : detail::reduction_method(options_.method).default_k_local();
}
const std::vector<double>& HubnessReducer::point_statistic() const {
  if (!state_) raise<NotFitted>("HubnessReducer::point_statistic", "", "call fit first");
  return state_->statistic;
}
const std::vector<double>& HubnessReducer::point_spread() const {
  if (!state_) raise<NotFitted>("HubnessReducer::point_spread", "", "call fit first");
  return state_->spread;
}
bool HubnessReducer::exact_over_all() const {
  return state_ != nullptr && detail::reduction_method(options_.method).exact_over_all(*state_);
}

namespace {

void fit_impl(const ReductionOptions& options, std::int64_t k_local, const DistanceGraph& indexed,
              const detail::VectorsRef& vectors, std::unique_ptr<HubnessReducer::State>& state) {
  constexpr std::string_view kFunction = "HubnessReducer::fit";
  detail::check_distance_graph(kFunction, "indexed", indexed, -1);
  if (!indexed.self_excluded) {
    raise<InvalidArgument>(kFunction, "indexed", "must be the self-excluded graph of the indexed set");
  }
  const detail::ReductionMethod& method = detail::reduction_method(options.method);
  const std::int64_t n = indexed.n_queries(), c = indexed.k();
  method.check_fit(kFunction, indexed, vectors);
  if (k_local > c) {
    raise<InvalidK>(kFunction, "k_local", "exceeds the candidates per row of the graph",
                    "k_local=" + std::to_string(k_local) + ", candidates=" + std::to_string(c));
  }
  if (vectors.present() && vectors.rows() != n) {
    raise<DimensionMismatch>(kFunction, "vectors", "needs one row per graph row",
                             "vectors=" + std::to_string(vectors.rows()) + ", graph rows=" + std::to_string(n));
  }
  auto fitted = std::make_unique<HubnessReducer::State>();
  fitted->n = n;
  fitted->k_local = k_local;
  fitted->metric = indexed.metric;
  method.fit(kFunction, indexed, vectors, options, *fitted);
  state = std::move(fitted);
}

// The shared checks of a query graph against the fitted state; returns k (0: all columns).
std::int64_t check_query(const HubnessReducer::State* state, const detail::ReductionMethod& method,
                         const DistanceGraph& query, std::int64_t k) {
  constexpr std::string_view kFunction = "HubnessReducer::transform";
  if (state == nullptr) raise<NotFitted>(kFunction, "", "call fit before transform");
  detail::check_distance_graph(kFunction, "query", query, state->n);
  if (query.self_excluded && query.n_queries() != state->n) {
    raise<DimensionMismatch>(kFunction, "query", "a self-excluded query graph must have the fitted rows",
                             "rows=" + std::to_string(query.n_queries()) + ", fitted=" + std::to_string(state->n));
  }
  if (query.metric != state->metric) {
    raise<InvalidArgument>(kFunction, "query", "metric differs from the fitted graph's",
                           std::string(to_string(query.metric)) + " vs " + std::string(to_string(state->metric)));
  }
  const std::int64_t c = query.k(), k_local = state->k_local;
  if (k == 0) k = c;
  require_k(kFunction, k, c, "query");
  if (method.reads_k_local_columns() && k_local > c) {
    raise<InvalidK>(kFunction, "k_local", "exceeds the candidates per query row",
                    "k_local=" + std::to_string(k_local) + ", candidates=" + std::to_string(c));
  }
  return k;
}

DistanceGraph transform_impl(const ReductionOptions& options, const HubnessReducer::State* state,
                             const DistanceGraph& query, const detail::VectorsRef& query_vectors, std::int64_t k) {
  const detail::ReductionMethod& method = detail::reduction_method(options.method);
  k = check_query(state, method, query, k);
  const std::unique_ptr<detail::QueryScorer> scorer =
      method.prepare(detail::QueryContext{*state, options, query, query_vectors, k});
  return detail::rank_by_keys(method, *scorer, query, k, options.parallel);
}

detail::VectorsRef vectors_of(const MatrixView<float>& x) { return {&x, nullptr}; }
detail::VectorsRef vectors_of(const MatrixView<double>& x) { return {nullptr, &x}; }

}  // namespace

HubnessReducer& HubnessReducer::fit(const DistanceGraph& indexed) {
  fit_impl(options_, k_local(), indexed, {}, state_);
  return *this;
}
HubnessReducer& HubnessReducer::fit(const DistanceGraph& indexed, const MatrixView<float>& vectors) {
  fit_impl(options_, k_local(), indexed, vectors_of(vectors), state_);
  return *this;
}
HubnessReducer& HubnessReducer::fit(const DistanceGraph& indexed, const MatrixView<double>& vectors) {
  fit_impl(options_, k_local(), indexed, vectors_of(vectors), state_);
  return *this;
}

DistanceGraph HubnessReducer::transform(const DistanceGraph& query, std::int64_t k) const {
  return transform_impl(options_, state_.get(), query, {}, k);
}
DistanceGraph HubnessReducer::transform(const DistanceGraph& query, const MatrixView<float>& query_vectors,
                                        std::int64_t k) const {
  return transform_impl(options_, state_.get(), query, vectors_of(query_vectors), k);
}
DistanceGraph HubnessReducer::transform(const DistanceGraph& query, const MatrixView<double>& query_vectors,
                                        std::int64_t k) const {
  return transform_impl(options_, state_.get(), query, vectors_of(query_vectors), k);
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
