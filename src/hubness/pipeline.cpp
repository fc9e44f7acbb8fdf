// Conversions between graph types, the exact candidate graph with distances
// recomputed in double, and the reduce-and-measure pipeline.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "hubness_detail.hpp"
#include "latent/core/errors.hpp"

namespace latent {

DistanceGraph to_distance_graph(const KnnGraph& graph) {
  constexpr std::string_view kFunction = "to_distance_graph";
  if (graph.scores.size() == 0 && graph.ids.size() != 0) {
    raise<InvalidArgument>(kFunction, "graph", "graph without distances (scores are empty)");
  }
  if (graph.metric == Metric::ip) {
    raise<InvalidArgument>(kFunction, "graph",
                           "metric ip is not a distance (use cosine, angular, l2, sqeuclidean, l1, linf)");
  }
  if (graph.scores.rows() != graph.ids.rows() || graph.scores.cols() != graph.ids.cols()) {
    raise<DimensionMismatch>(kFunction, "graph", "scores and ids differ in shape");
  }
  DistanceGraph out;
  out.ids = graph.ids;
  out.distances = graph.scores.cast<double>();
  if (is_directional(graph.metric)) out.distances = (1.0 - out.distances.array()).matrix();
  out.metric = graph.metric;
  out.self_excluded = graph.self_excluded;
  return out;
}

DistanceGraph keep_top(const DistanceGraph& graph, std::int64_t k) {
  require_k("keep_top", k, graph.k(), "graph");
  DistanceGraph out;
  out.ids = graph.ids.leftCols(k);
  out.distances = graph.distances.leftCols(k);
  out.metric = graph.metric;
  out.self_excluded = graph.self_excluded;
  return out;
}

namespace {

// Every other row is a candidate: no search, the n (n - 1) / 2 distances in
// double into an n x n scratch (8 n^2 bytes, the output is 16 n (n - 1)), then
// each row sorted by (distance, id).
template <class T>
DistanceGraph complete_graph(const MatrixView<T>& x, Metric metric, const SearchOptions& options) {
  require_non_empty("exact_candidate_graph", "x", x);
  if (options.validate_finite) require_finite("exact_candidate_graph", "x", x);
  const std::int64_t n = x.rows;
  std::vector<double> norms(static_cast<std::size_t>(n), 0.0);
  if (is_directional(metric)) {
    for (std::int64_t i = 0; i < n; ++i) {
      norms[static_cast<std::size_t>(i)] = detail::exact_norm(x.row(i), x.cols);
      if (!(norms[static_cast<std::size_t>(i)] > 0)) {
        raise<NumericalError>("exact_candidate_graph", "x", "has a zero row, whose cosine is undefined",
                              "row " + std::to_string(i));
      }
    }
  }
  RowMatrixd dense(n, n);
  parallel_for(n, 8, options.parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t j = i + 1; j < n; ++j) {
        const double d = detail::exact_distance(x.row(i), x.row(j), x.cols, metric, norms[static_cast<std::size_t>(i)],
                                                norms[static_cast<std::size_t>(j)]);
        dense(i, j) = d;
        dense(j, i) = d;
      }
    }
  });
  DistanceGraph out;
  out.ids.resize(n, n - 1);
  out.distances.resize(n, n - 1);
  out.metric = metric;
  out.self_excluded = true;
  parallel_for(n, 64, options.parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(n - 1));
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t j = 0, q = 0; j < n; ++j)
        if (j != i) order[static_cast<std::size_t>(q++)] = j;
      std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
        return dense(i, a) != dense(i, b) ? dense(i, a) < dense(i, b) : a < b;
      });
      for (std::int64_t p = 0; p < n - 1; ++p) {
        out.ids(i, p) = order[static_cast<std::size_t>(p)];
        out.distances(i, p) = dense(i, order[static_cast<std::size_t>(p)]);
      }
    }
  });
  return out;
}

template <class T>
DistanceGraph exact_candidates(const MatrixView<T>& x, std::int64_t candidates, Metric metric,
                               const SearchOptions& options) {
  constexpr std::string_view kFunction = "exact_candidate_graph";
  if (metric == Metric::ip) {
    raise<InvalidArgument>(kFunction, "metric",
                           "ip is not a distance (use cosine, angular, l2, sqeuclidean, l1, linf)");
  }
  require_k(kFunction, candidates, x.rows - 1, "the other rows of x");
  if (candidates == x.rows - 1) return complete_graph(x, metric, options);
  const std::int64_t wide = detail::candidate_search_width(candidates, x.rows);
  const KnnGraph graph = knn_graph(x, wide, metric, options);
  std::vector<double> norms;
  if (is_directional(metric)) {
    norms.resize(static_cast<std::size_t>(x.rows));
    for (std::int64_t i = 0; i < x.rows; ++i) {
      norms[static_cast<std::size_t>(i)] = detail::exact_norm(x.row(i), x.cols);
    }
  }
  DistanceGraph out;
  out.ids.resize(x.rows, candidates);
  out.distances.resize(x.rows, candidates);
  out.metric = metric;
  out.self_excluded = true;
  parallel_for(x.rows, 256, options.parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<double> d(static_cast<std::size_t>(wide));
    std::vector<std::int64_t> order(static_cast<std::size_t>(wide));
    for (std::int64_t i = begin; i < end; ++i) {
      const std::int64_t* ids = &graph.ids(i, 0);
      for (std::int64_t p = 0; p < wide; ++p) {
        const double na = norms.empty() ? 0 : norms[static_cast<std::size_t>(i)];
        const double nb = norms.empty() ? 0 : norms[static_cast<std::size_t>(ids[p])];
        d[static_cast<std::size_t>(p)] = detail::exact_distance(x.row(i), x.row(ids[p]), x.cols, metric, na, nb);
      }
      detail::keep_nearest_candidates(ids, d.data(), wide, candidates, order, &out.ids(i, 0), &out.distances(i, 0));
    }
  });
  return out;
}

template <class T>
HubnessPipelineResult pipeline(const MatrixView<T>& x, std::int64_t k, Metric metric,
                               const HubnessPipelineOptions& options) {
  constexpr std::string_view kFunction = "reduce_hubness";
  require_non_empty(kFunction, "x", x);
  require_k(kFunction, k, x.rows - 1, "the other rows of x");
  std::int64_t candidates = options.candidates;
  if (candidates <= 0 || candidates > x.rows - 1) candidates = x.rows - 1;
  if (k > candidates) {
    raise<InvalidK>(kFunction, "k", "exceeds the candidates",
                    "k=" + std::to_string(k) + ", candidates=" + std::to_string(candidates));
  }
  HubnessPipelineResult result;
  result.candidates = exact_candidates(x, candidates, metric, options.search);
  result.before = hubness_measures(result.candidates.ids.leftCols(k).eval(), x.rows, options.measures);
  if (options.reduction.method == Reduction::none) {
    result.reduced = keep_top(result.candidates, k);
  } else {
    HubnessReducer reducer(options.reduction);
    result.reduced = reducer.fit_transform(result.candidates, x, k);
  }
  result.after = hubness_measures(result.reduced.ids, x.rows, options.measures);
  return result;
}

}  // namespace

namespace detail {

void keep_nearest_candidates(const std::int64_t* ids, const double* d, std::int64_t wide, std::int64_t candidates,
                             std::vector<std::int64_t>& order, std::int64_t* out_ids, double* out_distances) {
  order.resize(static_cast<std::size_t>(wide));
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + candidates, order.end(), [&](std::int64_t a, std::int64_t b) {
    const double da = d[a], db = d[b];
    return da != db ? da < db : ids[a] < ids[b];
  });
  for (std::int64_t p = 0; p < candidates; ++p) {
    const auto q = static_cast<std::size_t>(order[static_cast<std::size_t>(p)]);
    out_ids[p] = ids[q];
    out_distances[p] = d[q];
  }
}

}  // namespace detail

DistanceGraph exact_candidate_graph(const MatrixView<float>& x, std::int64_t candidates, Metric metric,
                                    const SearchOptions& options) {
  return exact_candidates(x, candidates, metric, options);
}
DistanceGraph exact_candidate_graph(const MatrixView<double>& x, std::int64_t candidates, Metric metric,
                                    const SearchOptions& options) {
  return exact_candidates(x, candidates, metric, options);
}

HubnessPipelineResult reduce_hubness(const MatrixView<float>& x, std::int64_t k, Metric metric,
                                     const HubnessPipelineOptions& options) {
  return pipeline(x, k, metric, options);
}
HubnessPipelineResult reduce_hubness(const MatrixView<double>& x, std::int64_t k, Metric metric,
                                     const HubnessPipelineOptions& options) {
  return pipeline(x, k, metric, options);
}

}  // namespace latent
