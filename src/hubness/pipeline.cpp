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
    raise<InvalidArgument>(kFunction, "graph", "metric ip is not a distance (use cosine, l2, sqeuclidean, l1, linf)");
  }
  if (graph.scores.rows() != graph.ids.rows() || graph.scores.cols() != graph.ids.cols()) {
    raise<DimensionMismatch>(kFunction, "graph", "scores and ids differ in shape");
  }
  DistanceGraph out;
  out.ids = graph.ids;
  out.distances = graph.scores.cast<double>();
  if (graph.metric == Metric::cosine) out.distances = (1.0 - out.distances.array()).matrix();
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

// Sums over the coordinates in double with four accumulators (the dependency
// chain of one accumulator, not the arithmetic, bounds a single sum); the
// products and differences of float inputs are exact in double.
template <class T, class Term>
double sum_terms(const T* a, const T* b, std::int64_t dim, Term term) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::int64_t t = 0;
  for (; t + 4 <= dim; t += 4) {
    s0 += term(static_cast<double>(a[t]), static_cast<double>(b[t]));
    s1 += term(static_cast<double>(a[t + 1]), static_cast<double>(b[t + 1]));
    s2 += term(static_cast<double>(a[t + 2]), static_cast<double>(b[t + 2]));
    s3 += term(static_cast<double>(a[t + 3]), static_cast<double>(b[t + 3]));
  }
  for (; t < dim; ++t) s0 += term(static_cast<double>(a[t]), static_cast<double>(b[t]));
  return (s0 + s1) + (s2 + s3);
}

// The direct-formula distance in double (l2 is the root of the summed squares,
// cosine 1 - a.b / (|a| |b|) clamped to [0, 2]).
template <class T>
double exact_distance(const T* a, const T* b, std::int64_t dim, Metric metric, double norm_a, double norm_b) {
  switch (metric) {
    case Metric::cosine: {
      const double dot = sum_terms(a, b, dim, [](double u, double v) { return u * v; });
      return 1.0 - std::clamp(dot / (norm_a * norm_b), -1.0, 1.0);
    }
    case Metric::l1:
      return sum_terms(a, b, dim, [](double u, double v) { return std::abs(u - v); });
    case Metric::linf: {
      double m = 0;
      for (std::int64_t t = 0; t < dim; ++t) m = std::max(m, std::abs(static_cast<double>(a[t]) - static_cast<double>(b[t])));
      return m;
    }
    default: {
      const double sum = sum_terms(a, b, dim, [](double u, double v) { return (u - v) * (u - v); });
      return metric == Metric::l2 ? std::sqrt(sum) : sum;
    }
  }
}

// Every other row is a candidate: no search, the n (n - 1) / 2 distances in
// double into an n x n scratch (8 n^2 bytes, the output is 16 n (n - 1)), then
// each row sorted by (distance, id).
template <class T>
DistanceGraph complete_graph(const MatrixView<T>& x, Metric metric, const SearchOptions& options) {
  require_non_empty("exact_candidate_graph", "x", x);
  if (options.validate_finite) require_finite("exact_candidate_graph", "x", x);
  const std::int64_t n = x.rows;
  std::vector<double> norms(static_cast<std::size_t>(n), 0.0);
  if (metric == Metric::cosine) {
    for (std::int64_t i = 0; i < n; ++i) {
      norms[static_cast<std::size_t>(i)] = std::sqrt(sum_terms(x.row(i), x.row(i), x.cols, [](double u, double v) { return u * v; }));
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
        const double d = exact_distance(x.row(i), x.row(j), x.cols, metric, norms[static_cast<std::size_t>(i)],
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
    raise<InvalidArgument>(kFunction, "metric", "ip is not a distance (use cosine, l2, sqeuclidean, l1, linf)");
  }
  require_k(kFunction, candidates, x.rows - 1, "the other rows of x");
  if (candidates == x.rows - 1) return complete_graph(x, metric, options);
  // Extra columns re-ranked in double decide near ties at the C-th place.
  const std::int64_t margin = std::max<std::int64_t>(8, candidates / 4);
  const std::int64_t wide = std::min(x.rows - 1, candidates + margin);
  const KnnGraph graph = knn_graph(x, wide, metric, options);
  std::vector<double> norms;
  if (metric == Metric::cosine) {
    norms.resize(static_cast<std::size_t>(x.rows));
    for (std::int64_t i = 0; i < x.rows; ++i) {
      norms[static_cast<std::size_t>(i)] = std::sqrt(sum_terms(x.row(i), x.row(i), x.cols, [](double u, double v) { return u * v; }));
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
        d[static_cast<std::size_t>(p)] = exact_distance(x.row(i), x.row(ids[p]), x.cols, metric, na, nb);
      }
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + candidates, order.end(), [&](std::int64_t a, std::int64_t b) {
        const double da = d[static_cast<std::size_t>(a)], db = d[static_cast<std::size_t>(b)];
        return da != db ? da < db : ids[a] < ids[b];
      });
      for (std::int64_t p = 0; p < candidates; ++p) {
        const auto q = static_cast<std::size_t>(order[static_cast<std::size_t>(p)]);
        out.ids(i, p) = ids[q];
        out.distances(i, p) = d[q];
      }
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
    raise<InvalidK>(kFunction, "k", "exceeds the candidates", "k=" + std::to_string(k) + ", candidates=" +
                                                                   std::to_string(candidates));
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
