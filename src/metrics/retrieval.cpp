// Retrieval metrics from neighbour lists and relevance judgements.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <unordered_map>

#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"

namespace latent {

RetrievalScores retrieval_scores(const IdMatrix& retrieved, const Relevance& relevance, std::int64_t k) {
  const char* function = "retrieval_scores";
  require_k(function, k, retrieved.cols(), "retrieved (columns)");
  require_same_dim(function, "relevance rows", static_cast<std::int64_t>(relevance.ids.size()), "retrieved rows",
                   retrieved.rows());
  const bool graded = !relevance.gains.empty();
  if (graded)
    require_same_dim(function, "gains rows", static_cast<std::int64_t>(relevance.gains.size()), "relevance rows",
                     static_cast<std::int64_t>(relevance.ids.size()));
  RetrievalScores scores;
  scores.k = k;
  std::unordered_map<std::int64_t, double> gain_of;
  std::vector<double> ideal, ranks;
  for (std::int64_t i = 0; i < retrieved.rows(); ++i) {
    const auto& relevant = relevance.ids[static_cast<std::size_t>(i)];
    if (graded)
      require_same_dim(function, "gains of query " + std::to_string(i),
                       static_cast<std::int64_t>(relevance.gains[static_cast<std::size_t>(i)].size()),
                       "its relevant ids", static_cast<std::int64_t>(relevant.size()));
    if (relevant.empty()) {
      ++scores.skipped;
      continue;
    }
    gain_of.clear();
    ideal.clear();
    for (std::size_t r = 0; r < relevant.size(); ++r) {
      const double gain = graded ? relevance.gains[static_cast<std::size_t>(i)][r] : 1.0;
      if (!(gain >= 0) || !std::isfinite(gain))
        raise<InvalidArgument>(function, "gains", "must be finite and >= 0",
                               "query " + std::to_string(i) + ", gain " + std::to_string(gain));
      if (!gain_of.emplace(relevant[r], gain).second)
        raise<InvalidArgument>(function, "relevance", "lists an id twice",
                               "query " + std::to_string(i) + ", id " + std::to_string(relevant[r]));
      ideal.push_back(gain);
    }
    std::sort(ideal.begin(), ideal.end(), std::greater<>());
    const auto n_relevant = static_cast<std::int64_t>(relevant.size());
    // One pass over the whole list: the cut-off measures stop counting at k,
    // R-precision at R = |relevant|, and the rank is the first hit anywhere.
    double hits = 0, dcg = 0, idcg = 0, precision_sum = 0, hits_within_r = 0;
    std::int64_t first_rank = 0;
    for (std::int64_t r = 0; r < retrieved.cols(); ++r) {
      const bool within_k = r < k;
      const double discount = 1.0 / std::log2(static_cast<double>(r) + 2.0);
      if (within_k && r < n_relevant) idcg += ideal[static_cast<std::size_t>(r)] * discount;
      const std::int64_t id = retrieved(i, r);
      if (id < 0) continue;
      const auto found = gain_of.find(id);
      if (found == gain_of.end()) continue;
      if (first_rank == 0) first_rank = r + 1;
      if (r < n_relevant) hits_within_r += 1;
      if (!within_k) continue;
      hits += 1;
      dcg += found->second * discount;
      precision_sum += hits / static_cast<double>(r + 1);
    }
    ++scores.queries;
    scores.recall += hits / static_cast<double>(n_relevant);
    scores.precision += hits / static_cast<double>(k);
    scores.hit += hits > 0 ? 1.0 : 0.0;
    scores.mrr += first_rank > 0 && first_rank <= k ? 1.0 / static_cast<double>(first_rank) : 0.0;
    scores.ndcg += idcg > 0 ? dcg / idcg : 0.0;
    scores.map += precision_sum / static_cast<double>(std::min(k, n_relevant));
    scores.r_precision += hits_within_r / static_cast<double>(n_relevant);
    if (first_rank == 0) {
      ++scores.unranked;
      first_rank = retrieved.cols() + 1;
    }
    ranks.push_back(static_cast<double>(first_rank));
  }
  if (scores.queries == 0) raise<EmptyInput>(function, "relevance", "no query has a relevant id");
  const auto n = static_cast<double>(scores.queries);
  scores.recall /= n;
  scores.precision /= n;
  scores.hit /= n;
  scores.mrr /= n;
  scores.ndcg /= n;
  scores.map /= n;
  scores.r_precision /= n;
  for (const double rank : ranks) scores.mean_rank += rank;
  scores.mean_rank /= n;
  const std::size_t middle = ranks.size() / 2;
  std::nth_element(ranks.begin(), ranks.begin() + static_cast<std::ptrdiff_t>(middle), ranks.end());
  scores.median_rank = ranks[middle];
  if (ranks.size() % 2 == 0)
    scores.median_rank = 0.5 * (scores.median_rank +
                                *std::max_element(ranks.begin(), ranks.begin() + static_cast<std::ptrdiff_t>(middle)));
  return scores;
}

double neighbor_recall(const IdMatrix& found, const IdMatrix& exact, std::int64_t k) {
  const char* function = "neighbor_recall";
  require_same_dim(function, "found rows", found.rows(), "exact rows", exact.rows());
  require_k(function, k, std::min(found.cols(), exact.cols()), "columns of found and exact");
  if (found.rows() == 0) raise<EmptyInput>(function, "found", "has no rows");
  double total = 0;
  for (Eigen::Index i = 0; i < found.rows(); ++i) {
    std::int64_t hits = 0;
    for (std::int64_t a = 0; a < k; ++a) {
      const std::int64_t id = found(i, a);
      if (id < 0) continue;
      for (std::int64_t b = 0; b < k; ++b) hits += exact(i, b) == id ? 1 : 0;
    }
    total += static_cast<double>(hits) / static_cast<double>(k);
  }
  return total / static_cast<double>(found.rows());
}

}  // namespace latent
