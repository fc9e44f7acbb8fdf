// Helpers of the hubness tests: dense double distances (the golden kit's
// direct formulas, scipy's cdist loops) and graphs cut from them.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>

#include "latent/core/parallel.hpp"
#include "latent/hubness.hpp"

namespace latent::testing {

/// Symmetric [n x n] distances of the rows of x in double, zero diagonal:
/// l2 = sqrt(sum (a - b)^2), sqeuclidean its square, cosine = 1 - a.b / (|a| |b|).
template <class T>
RowMatrixd dense_distances(const RowMatrix<T>& x, Metric metric) {
  const std::int64_t n = x.rows(), dim = x.cols();
  std::vector<double> norms(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (std::int64_t t = 0; t < dim; ++t) s += static_cast<double>(x(i, t)) * static_cast<double>(x(i, t));
    norms[static_cast<std::size_t>(i)] = std::sqrt(s);
  }
  RowMatrixd d = RowMatrixd::Zero(n, n);
  parallel_for(n, 16, Parallel{}, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t j = i + 1; j < n; ++j) {
        double s = 0;
        if (metric == Metric::cosine) {
          for (std::int64_t t = 0; t < dim; ++t) s += static_cast<double>(x(i, t)) * static_cast<double>(x(j, t));
          double c = s / (norms[static_cast<std::size_t>(i)] * norms[static_cast<std::size_t>(j)]);
          c = std::clamp(c, -1.0, 1.0);
          s = 1.0 - c;
        } else {
          for (std::int64_t t = 0; t < dim; ++t) {
            const double diff = static_cast<double>(x(i, t)) - static_cast<double>(x(j, t));
            s += diff * diff;
          }
          if (metric == Metric::l2) s = std::sqrt(s);
        }
        d(i, j) = s;
      }
    }
  });
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < i; ++j) d(i, j) = d(j, i);
  return d;
}

/// The self-excluded graph of the c nearest other points of each row of a dense
/// distance matrix, by (distance, id).
inline DistanceGraph graph_from_dense(const RowMatrixd& d, std::int64_t c, Metric metric) {
  const std::int64_t n = d.rows();
  DistanceGraph g;
  g.ids.resize(n, c);
  g.distances.resize(n, c);
  g.metric = metric;
  g.self_excluded = true;
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    order.resize(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    order.erase(order.begin() + i);
    std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return d(i, a) != d(i, b) ? d(i, a) < d(i, b) : a < b;
    });
    for (std::int64_t p = 0; p < c; ++p) {
      g.ids(i, p) = order[static_cast<std::size_t>(p)];
      g.distances(i, p) = d(i, order[static_cast<std::size_t>(p)]);
    }
  }
  return g;
}

/// Rows of a and b (same shape) with identical ids in the same order.
inline std::int64_t identical_rows(const IdMatrix& a, const IdMatrix& b) {
  std::int64_t same = 0;
  for (std::int64_t i = 0; i < a.rows(); ++i) same += (a.row(i).array() == b.row(i).array()).all() ? 1 : 0;
  return same;
}

}  // namespace latent::testing
