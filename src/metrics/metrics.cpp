// k-NN classification by majority vote, ties to the nearest tied neighbour.
#include "latent/metrics.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "latent/core/errors.hpp"

namespace latent {

std::vector<std::int64_t> knn_predict(const IdMatrix& neighbors, const std::vector<std::int64_t>& labels,
                                      std::int64_t k, const Parallel& parallel) {
  constexpr std::string_view kFunction = "knn_predict";
  const std::int64_t n_queries = neighbors.rows();
  if (k == 0) k = neighbors.cols();
  require_k(kFunction, k, neighbors.cols(), "neighbors");
  const auto n_labels = static_cast<std::int64_t>(labels.size());
  for (std::int64_t i = 0; i < n_queries; ++i) {
    for (std::int64_t p = 0; p < k; ++p) {
      const std::int64_t id = neighbors(i, p);
      if (id < -1 || id >= n_labels) {
        raise<InvalidArgument>(kFunction, "neighbors", "id outside the labelled points",
                               "row " + std::to_string(i) + ", id " + std::to_string(id) +
                                   ", labels=" + std::to_string(n_labels));
      }
    }
  }
  std::vector<std::int64_t> predicted(static_cast<std::size_t>(n_queries), -1);
  parallel_for(n_queries, 1024, parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::pair<std::int64_t, std::int64_t>> votes;  // (label, rank)
    for (std::int64_t i = begin; i < end; ++i) {
      votes.clear();
      for (std::int64_t p = 0; p < k; ++p) {
        const std::int64_t id = neighbors(i, p);
        if (id >= 0) votes.emplace_back(labels[static_cast<std::size_t>(id)], p);
      }
      std::sort(votes.begin(), votes.end());
      std::int64_t best_label = -1, best_count = 0, best_rank = 0;
      for (std::size_t a = 0; a < votes.size();) {
        std::size_t b = a;
        while (b < votes.size() && votes[b].first == votes[a].first) ++b;
        const auto count = static_cast<std::int64_t>(b - a);
        const std::int64_t nearest = votes[a].second;  // sorted by rank within a label
        if (count > best_count || (count == best_count && nearest < best_rank)) {
          best_label = votes[a].first;
          best_count = count;
          best_rank = nearest;
        }
        a = b;
      }
      predicted[static_cast<std::size_t>(i)] = best_label;
    }
  });
  return predicted;
}

double knn_accuracy(const IdMatrix& neighbors, const std::vector<std::int64_t>& labels,
                    const std::vector<std::int64_t>& query_labels, std::int64_t k, const Parallel& parallel) {
  if (static_cast<std::int64_t>(query_labels.size()) != neighbors.rows()) {
    raise<DimensionMismatch>("knn_accuracy", "query_labels", "needs one label per row of neighbors",
                             "labels=" + std::to_string(query_labels.size()) +
                                 ", rows=" + std::to_string(neighbors.rows()));
  }
  if (neighbors.rows() == 0) raise<EmptyInput>("knn_accuracy", "neighbors", "has no rows");
  const std::vector<std::int64_t> predicted = knn_predict(neighbors, labels, k, parallel);
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == query_labels[i] ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(predicted.size());
}

double loo_knn_accuracy(const IdMatrix& neighbors, const std::vector<std::int64_t>& labels, std::int64_t k,
                        const Parallel& parallel) {
  if (static_cast<std::int64_t>(labels.size()) != neighbors.rows()) {
    raise<DimensionMismatch>("loo_knn_accuracy", "labels", "needs one label per row of the self-excluded graph",
                             "labels=" + std::to_string(labels.size()) + ", rows=" + std::to_string(neighbors.rows()));
  }
  return knn_accuracy(neighbors, labels, labels, k, parallel);
}

}  // namespace latent
