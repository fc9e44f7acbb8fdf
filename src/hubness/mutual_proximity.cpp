// Mutual proximity, empiric: c(x, y) = number of points farther from both x and
// y. Over all n points (complete graph) with a rank table and a 16-lane counting
// loop; over candidate lists (a point outside a list counts as farther than every
// listed point) in O(C) per pair.
// Integer counts: exact, whatever the thread count.
#include <algorithm>
#include <cmath>

#include "hubness_detail.hpp"

namespace latent::detail {
namespace {

constexpr std::int64_t kLanes = 16;

// Ranks of one sorted row: out[id] = 1 + number of entries with a smaller distance.
void rank_row(const std::int64_t* ids, const double* distances, std::int64_t count, std::uint16_t* out) {
  std::int64_t first_equal = 0;
  for (std::int64_t p = 0; p < count; ++p) {
    if (p > 0 && distances[p] != distances[p - 1]) first_equal = p;
    out[ids[p]] = static_cast<std::uint16_t>(1 + first_equal);
  }
}

// #{j : a_row[j] > a and b_row[j] > b} over a padded row; 16 independent lanes so
// the baseline compiler vectorizes it (counts stay below 2^16: n <= 65535).
std::int64_t count_both_above(const std::uint16_t* a_row, std::uint16_t a, const std::uint16_t* b_row,
                              std::uint16_t b, std::int64_t stride) {
  std::uint16_t lanes[kLanes] = {};
  for (std::int64_t j = 0; j < stride; j += kLanes) {
    for (std::int64_t l = 0; l < kLanes; ++l) {
      lanes[l] = static_cast<std::uint16_t>(lanes[l] + ((a_row[j + l] > a) & (b_row[j + l] > b)));
    }
  }
  std::int64_t total = 0;
  for (std::int64_t l = 0; l < kLanes; ++l) total += lanes[l];
  return total;
}

// Entries of a sorted row with distance <= t.
std::uint16_t count_at_most(const double* distances, std::int64_t count, double t) {
  return static_cast<std::uint16_t>(std::upper_bound(distances, distances + count, t) - distances);
}

}  // namespace

RankTable build_rank_table(const DistanceGraph& indexed, const Parallel& parallel) {
  const std::int64_t n = indexed.n_queries();
  RankTable table;
  table.stride = (n + kLanes - 1) / kLanes * kLanes;
  table.ranks.assign(static_cast<std::size_t>(n * table.stride), 0);
  parallel_for(n, 64, parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t x = begin; x < end; ++x) {
      rank_row(&indexed.ids(x, 0), &indexed.distances(x, 0), indexed.k(), &table.ranks[static_cast<std::size_t>(x * table.stride)]);
    }
  });
  return table;
}

void mp_counts_exact(const DistanceGraph& indexed, const RankTable& table, const DistanceGraph& query,
                     std::int64_t row, std::int64_t keep, std::vector<std::uint16_t>& query_ranks,
                     std::vector<double>& best, double* keys) {
  const std::int64_t n = indexed.n_queries();
  const std::int64_t c_indexed = indexed.k();
  const std::int64_t c_query = query.k();
  const std::int64_t* ids = &query.ids(row, 0);
  const double* distances = &query.distances(row, 0);
  const std::uint16_t* x_ranks = nullptr;
  if (query.self_excluded) {
    x_ranks = &table.ranks[static_cast<std::size_t>(row * table.stride)];
  } else {
    query_ranks.assign(static_cast<std::size_t>(table.stride), 0);
    rank_row(ids, distances, c_query, query_ranks.data());
    x_ranks = query_ranks.data();
  }
  // Only the best `keep` keys matter: c(x, y) <= #{j : d(x, j) > d(x, y)} =
  // c_query - a bounds the key from below, and a grows along the row, so once
  // the bound exceeds the keep-th best key the rest of the row cannot enter.
  best.clear();
  const double dn = static_cast<double>(n);
  for (std::int64_t p = 0; p < c_query; ++p) {
    const std::int64_t y = ids[p];
    const double dxy = distances[p];
    const std::uint16_t a = count_at_most(distances, c_query, dxy);
    if (keep < c_query && static_cast<std::int64_t>(best.size()) == keep &&
        1.0 - static_cast<double>(c_query - a) / dn > best.front()) {
      for (std::int64_t q = p; q < c_query; ++q) keys[q] = HUGE_VAL;
      return;
    }
    const std::uint16_t b = count_at_most(&indexed.distances(y, 0), c_indexed, dxy);
    const std::int64_t c =
        count_both_above(x_ranks, a, &table.ranks[static_cast<std::size_t>(y * table.stride)], b, table.stride);
    keys[p] = 1.0 - static_cast<double>(c) / dn;
    best.push_back(keys[p]);  // max-heap of the keep smallest keys
    std::push_heap(best.begin(), best.end());
    if (static_cast<std::int64_t>(best.size()) > keep) {
      std::pop_heap(best.begin(), best.end());
      best.pop_back();
    }
  }
}

void mp_counts_candidates(const DistanceGraph& indexed, const DistanceGraph& query, std::int64_t row,
                          std::int64_t self, double n_points, std::vector<std::int32_t>& mark, double* keys) {
  const std::int64_t c_indexed = indexed.k();
  const std::int64_t c_query = query.k();
  const std::int64_t* ids = &query.ids(row, 0);
  const double* distances = &query.distances(row, 0);
  // Position in C(x) = (x, c_1, ..., c_C): the point itself (if indexed) is 0.
  if (self >= 0) mark[static_cast<std::size_t>(self)] = 0;
  for (std::int64_t p = 0; p < c_query; ++p) mark[static_cast<std::size_t>(ids[p])] = static_cast<std::int32_t>(p + 1);
  for (std::int64_t p = 0; p < c_query; ++p) {
    const std::int64_t y = ids[p];
    const double dxy = distances[p];
    const double* y_distances = &indexed.distances(y, 0);
    const std::int64_t* y_ids = &indexed.ids(y, 0);
    std::int64_t c = 0;
    // x at or beyond y's last candidate: nothing is known to be farther from y.
    if (dxy < y_distances[c_indexed - 1]) {
      const auto position = static_cast<std::int32_t>(p + 1);
      c = c_query - p - 1;  // every j after y in x's list ...
      for (std::int64_t t = 0; t < c_indexed; ++t) {
        const std::int32_t in_x = mark[static_cast<std::size_t>(y_ids[t])];
        if (y_distances[t] <= dxy) {
          if (in_x > position) --c;  // ... unless y lists it at most as far as x
        } else if (in_x < 0) {
          ++c;  // listed by y only, farther from y than x; unlisted by x = farther from x
        }
      }
    }
    keys[p] = 1.0 - static_cast<double>(c) / n_points;
  }
  if (self >= 0) mark[static_cast<std::size_t>(self)] = -1;
  for (std::int64_t p = 0; p < c_query; ++p) mark[static_cast<std::size_t>(ids[p])] = -1;
}

}  // namespace latent::detail
