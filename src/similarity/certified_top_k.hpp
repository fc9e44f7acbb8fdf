// Exact top-k from the candidates of a reduced search (private to the similarity
// module). The hyperbolic and the Gaussian-KL searches turn their distance into an
// inner product of augmented rows, search that on the GEMM path, and come here: the
// candidates are re-scored with the exact form, and the k-th one's key must beat
// every row left out by more than the inner product's rounding allows, or the row
// is scanned against every base row.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent::detail {

/// Candidates a reduced search keeps per row: 2k + 16, plus the row itself when it
/// is left out, at most the base rows.
inline std::int64_t reduced_candidates(std::int64_t k, std::int64_t n_base, bool self_excluded) {
  return std::min<std::int64_t>(n_base, 2 * k + 16 + (self_excluded ? 1 : 0));
}

/// The exact k nearest of each row. `candidates` lists each row's best rows by the
/// reduced score, best first. key(i, j): the exact key of base row j for row i
/// (smaller is nearer; equal keys go to the smaller id). slack(i): a bound such
/// that every base row missing from row i's candidates has key >= (key of row i's
/// last candidate) - slack(i); it follows from the reduced score's rounding bound
/// E as 2E (a left-out row scores at most the last candidate by the reduced score,
/// which is within E of each exact score). score(key): the reported float.
/// `self_excluded`: row i never lists base row i.
template <class Key, class Slack, class Score>
KnnGraph certified_top_k(const KnnGraph& candidates, std::int64_t n_base, std::int64_t k, bool self_excluded,
                         Metric metric, const Parallel& parallel, const Key& key, const Slack& slack,
                         const Score& score) {
  using Index = std::int64_t;
  const Index rows = candidates.ids.rows(), wanted = candidates.ids.cols();
  KnnGraph graph;
  graph.ids.resize(rows, k);
  graph.scores.resize(rows, k);
  graph.metric = metric;
  graph.self_excluded = self_excluded;
  const auto nearest_first = [](const std::pair<double, Index>& x, const std::pair<double, Index>& y) {
    return x.first < y.first || (x.first == y.first && x.second < y.second);
  };
  parallel_for(rows, 16, parallel, [&](Index begin, Index end) {
    std::vector<std::pair<double, Index>> scored;
    for (Index i = begin; i < end; ++i) {
      scored.clear();
      for (Index e = 0; e < wanted; ++e) {
        const Index j = candidates.ids(i, e);
        if (!(self_excluded && j == i)) scored.emplace_back(key(i, j), j);
      }
      const double last_key = scored.back().first;  // the candidate with the worst reduced score
      std::partial_sort(scored.begin(), scored.begin() + k, scored.end(), nearest_first);
      const bool every_row = wanted == n_base;
      if (!every_row && !(last_key - scored[static_cast<std::size_t>(k - 1)].first > slack(i))) {
        scored.clear();
        for (Index j = 0; j < n_base; ++j) {
          if (!(self_excluded && j == i)) scored.emplace_back(key(i, j), j);
        }
        std::partial_sort(scored.begin(), scored.begin() + k, scored.end(), nearest_first);
      }
      for (Index e = 0; e < k; ++e) {
        graph.ids(i, e) = scored[static_cast<std::size_t>(e)].second;
        graph.scores(i, e) = score(scored[static_cast<std::size_t>(e)].first);
      }
    }
  });
  return graph;
}

}  // namespace latent::detail
