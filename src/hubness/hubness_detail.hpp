// Internals shared by the hubness translation units (not installed).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "latent/hubness.hpp"
#include "latent/kernels/pairwise.hpp"

namespace latent::detail {

// ---------------------------------------------------------------- the exact candidate graph
// (pipeline.cpp; the sharded pipeline of latent::mpi computes the same numbers)

// Sums over the coordinates in double with four accumulators (the dependency
// chain of one accumulator, not the arithmetic, bounds a single sum), for
// double rows; float rows go through the kernel layer (exact_dot below).
template <class T, class Term>
inline double sum_terms(const T* a, const T* b, std::int64_t dim, Term term) {
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

// The sums of the exact distances: float rows through the kernel layer's
// widened kernels (SIMD, sums in double), double rows with sum_terms.
inline double exact_dot(const float* a, const float* b, std::int64_t dim) {
  return kernels::dot_f32_wide(a, b, static_cast<std::size_t>(dim));
}
inline double exact_dot(const double* a, const double* b, std::int64_t dim) {
  return sum_terms(a, b, dim, [](double u, double v) { return u * v; });
}
inline double exact_squares(const float* a, const float* b, std::int64_t dim) {
  return kernels::sqeuclidean_f32_wide(a, b, static_cast<std::size_t>(dim));
}
inline double exact_squares(const double* a, const double* b, std::int64_t dim) {
  return sum_terms(a, b, dim, [](double u, double v) { return (u - v) * (u - v); });
}
inline double exact_l1(const float* a, const float* b, std::int64_t dim) {
  return kernels::l1_f32_wide(a, b, static_cast<std::size_t>(dim));
}
inline double exact_l1(const double* a, const double* b, std::int64_t dim) {
  return sum_terms(a, b, dim, [](double u, double v) { return std::abs(u - v); });
}
/// |a| in double, with the inner product's own sums (so a row's cosine with
/// itself is 1 up to one rounding).
template <class T>
inline double exact_norm(const T* a, std::int64_t dim) {
  return std::sqrt(exact_dot(a, a, dim));
}

// The direct-formula distance in double (l2 is the root of the summed squares,
// cosine 1 - a.b / (|a| |b|) clamped to [0, 2], angular the angle over pi).
template <class T>
inline double exact_distance(const T* a, const T* b, std::int64_t dim, Metric metric, double norm_a, double norm_b) {
  switch (metric) {
    case Metric::cosine:
    case Metric::angular: {
      const double dot = exact_dot(a, b, dim);
      const double cosine = std::clamp(dot / (norm_a * norm_b), -1.0, 1.0);
      return 1.0 - (metric == Metric::angular ? angular_from_cosine(cosine) : cosine);
    }
    case Metric::l1:
      return exact_l1(a, b, dim);
    case Metric::linf: {
      double m = 0;
      for (std::int64_t t = 0; t < dim; ++t)
        m = std::max(m, std::abs(static_cast<double>(a[t]) - static_cast<double>(b[t])));
      return m;
    }
    default: {
      const double sum = exact_squares(a, b, dim);
      return metric == Metric::l2 ? std::sqrt(sum) : sum;
    }
  }
}

/// The columns of the float search that exact_candidate_graph re-ranks in double
/// for C candidates among `rows` rows: C plus a margin of max(8, C / 4), at most rows - 1.
inline std::int64_t candidate_search_width(std::int64_t candidates, std::int64_t rows) {
  return std::min(rows - 1, candidates + std::max<std::int64_t>(8, candidates / 4));
}

/// The first `candidates` of `wide` (id, double distance) pairs of one row by
/// (distance, id), written to out_ids / out_distances; `order` is scratch.
void keep_nearest_candidates(const std::int64_t* ids, const double* d, std::int64_t wide, std::int64_t candidates,
                             std::vector<std::int64_t>& order, std::int64_t* out_ids, double* out_distances);

// ---------------------------------------------------------------- checks and mutual proximity

/// Checks a candidate graph at a public boundary: shapes, distances present and
/// finite, ids in [0, n_indexed) (no -1), no self id in a self-excluded graph,
/// rows sorted by distance, a distance metric. n_indexed < 0: the graph's rows.
void check_distance_graph(std::string_view function, std::string_view argument, const DistanceGraph& graph,
                          std::int64_t n_indexed);

/// Mutual proximity (empiric) over all points: the rank table of a complete
/// self-excluded graph, [n x stride] uint16, R[x][j] = 1 + #{d(x, .) < d(x, j)},
/// R[x][x] = 0, padding 0.
struct RankTable {
  std::vector<std::uint16_t> ranks;
  std::int64_t stride = 0;
};
RankTable build_rank_table(const DistanceGraph& indexed, const Parallel& parallel);

/// c(x, y) for the candidates of query row `row` (keys = 1 - c / n written to
/// `keys`, aligned with the row). Candidates that provably cannot be among the
/// `keep` smallest keys get +inf without being counted. `query_ranks`, `best`:
/// scratch.
void mp_counts_exact(const DistanceGraph& indexed, const RankTable& table, const DistanceGraph& query, std::int64_t row,
                     std::int64_t keep, std::vector<std::uint16_t>& query_ranks, std::vector<double>& best,
                     double* keys);

/// Mutual proximity over candidate lists for query row `row`: only y in C(x) can
/// enter x's list, and a point outside a list counts as farther than every listed
/// point (the candidate rule of hubness.hpp); `mark` is scratch with an entry per
/// id of `indexed`, all -1 on entry and on return. `self`: the query point's own
/// id in `indexed` (-1: not an indexed point); keys are 1 - c / `n_points`.
/// A fitted reducer passes self = row for a self-excluded query and n_points =
/// indexed rows; latent::mpi passes a compact selection of the indexed rows
/// (ids renumbered, ids outside it mapped to one never-marked id) and the whole n.
void mp_counts_candidates(const DistanceGraph& indexed, const DistanceGraph& query, std::int64_t row, std::int64_t self,
                          double n_points, std::vector<std::int32_t>& mark, double* keys);

}  // namespace latent::detail
