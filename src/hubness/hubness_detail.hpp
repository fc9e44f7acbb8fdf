// Internals shared by the hubness translation units (not installed).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "latent/hubness.hpp"

namespace latent::detail {

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
void mp_counts_exact(const DistanceGraph& indexed, const RankTable& table, const DistanceGraph& query,
                     std::int64_t row, std::int64_t keep, std::vector<std::uint16_t>& query_ranks,
                     std::vector<double>& best, double* keys);

/// Mutual proximity over candidate lists for query row `row`: only y in C(x) can
/// enter x's list, and a point outside a list counts as farther than every listed
/// point (the candidate rule of hubness.hpp); `mark` is
/// scratch of n entries, all -1 on entry and on return.
void mp_counts_candidates(const DistanceGraph& indexed, const DistanceGraph& query, std::int64_t row,
                          std::vector<std::int32_t>& mark, double* keys);

}  // namespace latent::detail
