// k-NN classification by majority or distance-weighted vote (ties to the nearest
// tied neighbour) and k-NN regression.
#include "latent/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

#include "latent/core/errors.hpp"

namespace latent {
namespace {

// k (0: all columns) checked against the columns, every id of the first k
// columns in [-1, n_points).
std::int64_t checked_neighbors(std::string_view function, const IdMatrix& neighbors, std::int64_t k,
                               std::int64_t n_points, const char* points) {
  if (k == 0) k = neighbors.cols();
  require_k(function, k, neighbors.cols(), "neighbors");
  for (std::int64_t i = 0; i < neighbors.rows(); ++i) {
    for (std::int64_t p = 0; p < k; ++p) {
      const std::int64_t id = neighbors(i, p);
      if (id < -1 || id >= n_points) {
        raise<InvalidArgument>(
            function, "neighbors", std::string("id outside the ") + points,
            "row " + std::to_string(i) + ", id " + std::to_string(id) + ", " + points + "=" + std::to_string(n_points));
      }
    }
  }
  return k;
}

// The distances of the first k neighbours: the shape of `neighbors`, finite and
// >= 0 where the id is valid.
void check_distances(std::string_view function, const IdMatrix& neighbors, const RowMatrixd& distances,
                     std::int64_t k) {
  if (distances.rows() != neighbors.rows() || distances.cols() != neighbors.cols()) {
    raise<DimensionMismatch>(function, "distances", "must have the shape of neighbors",
                             std::to_string(distances.rows()) + " x " + std::to_string(distances.cols()) + " vs " +
                                 std::to_string(neighbors.rows()) + " x " + std::to_string(neighbors.cols()));
  }
  for (std::int64_t i = 0; i < neighbors.rows(); ++i) {
    for (std::int64_t p = 0; p < k; ++p) {
      if (neighbors(i, p) < 0) continue;
      const double d = distances(i, p);
      if (!std::isfinite(d)) detail::raise_non_finite(function, "distances", d, i, p);
      if (d < 0) {
        raise<InvalidArgument>(function, "distances", "must be >= 0",
                               "row " + std::to_string(i) + ", column " + std::to_string(p) + ": " + std::to_string(d));
      }
    }
  }
}

// The vote weights of row i's valid neighbours among the first k: 1 / d, or,
// when one is at distance 0, 1 for those at 0 and 0 for the others
// (scikit-learn's rule); uniform 1 without distances. Writes (rank, weight).
void neighbour_weights(const IdMatrix& neighbors, const RowMatrixd* distances, std::int64_t i, std::int64_t k,
                       std::vector<std::pair<std::int64_t, double>>& weights) {
  weights.clear();
  bool at_zero = false;
  for (std::int64_t p = 0; p < k; ++p) {
    if (neighbors(i, p) < 0) continue;
    at_zero = at_zero || (distances != nullptr && (*distances)(i, p) == 0);
    weights.emplace_back(p, distances == nullptr ? 1.0 : 1.0 / (*distances)(i, p));
  }
  if (at_zero)
    for (auto& [rank, weight] : weights) weight = (*distances)(i, rank) == 0 ? 1.0 : 0.0;
}

// The class of largest total weight, equal totals to the nearest neighbour's.
std::vector<std::int64_t> vote(const IdMatrix& neighbors, const RowMatrixd* distances,
                               const std::vector<std::int64_t>& labels, std::int64_t k, const Parallel& parallel) {
  const std::int64_t n_queries = neighbors.rows();
  std::vector<std::int64_t> predicted(static_cast<std::size_t>(n_queries), -1);
  parallel_for(n_queries, 1024, parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::pair<std::int64_t, double>> weights;
    std::vector<std::tuple<std::int64_t, std::int64_t, double>> votes;  // (label, rank, weight)
    for (std::int64_t i = begin; i < end; ++i) {
      neighbour_weights(neighbors, distances, i, k, weights);
      votes.clear();
      for (const auto& [rank, weight] : weights)
        votes.emplace_back(labels[static_cast<std::size_t>(neighbors(i, rank))], rank, weight);
      std::sort(votes.begin(), votes.end());
      std::int64_t best_label = -1, best_rank = 0;
      double best_total = -1;
      for (std::size_t a = 0; a < votes.size();) {
        std::size_t b = a;
        double total = 0;
        // summed in rank order, so the total does not depend on the thread count
        for (; b < votes.size() && std::get<0>(votes[b]) == std::get<0>(votes[a]); ++b) total += std::get<2>(votes[b]);
        const std::int64_t nearest = std::get<1>(votes[a]);  // sorted by rank within a label
        if (total > best_total || (total == best_total && nearest < best_rank)) {
          best_label = std::get<0>(votes[a]);
          best_total = total;
          best_rank = nearest;
        }
        a = b;
      }
      predicted[static_cast<std::size_t>(i)] = best_label;
    }
  });
  return predicted;
}

}  // namespace

std::vector<std::int64_t> knn_predict(const IdMatrix& neighbors, const std::vector<std::int64_t>& labels,
                                      std::int64_t k, const Parallel& parallel) {
  k = checked_neighbors("knn_predict", neighbors, k, static_cast<std::int64_t>(labels.size()), "labels");
  return vote(neighbors, nullptr, labels, k, parallel);
}

std::vector<std::int64_t> knn_predict_weighted(const IdMatrix& neighbors, const RowMatrixd& distances,
                                               const std::vector<std::int64_t>& labels, std::int64_t k,
                                               const Parallel& parallel) {
  constexpr std::string_view kFunction = "knn_predict_weighted";
  k = checked_neighbors(kFunction, neighbors, k, static_cast<std::int64_t>(labels.size()), "labels");
  check_distances(kFunction, neighbors, distances, k);
  return vote(neighbors, &distances, labels, k, parallel);
}

RowMatrixd knn_regress(const IdMatrix& neighbors, const MatrixView<double>& targets, std::int64_t k,
                       const RowMatrixd* distances, const Parallel& parallel) {
  constexpr std::string_view kFunction = "knn_regress";
  require_non_empty(kFunction, "targets", targets);
  require_finite(kFunction, "targets", targets);
  k = checked_neighbors(kFunction, neighbors, k, targets.rows, "targets rows");
  if (distances != nullptr) check_distances(kFunction, neighbors, *distances, k);
  RowMatrixd out(neighbors.rows(), targets.cols);
  parallel_for(neighbors.rows(), 256, parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::pair<std::int64_t, double>> weights;
    for (std::int64_t i = begin; i < end; ++i) {
      neighbour_weights(neighbors, distances, i, k, weights);
      double total = 0;
      out.row(i).setZero();
      for (const auto& [rank, weight] : weights) {
        const double* target = targets.row(neighbors(i, rank));
        for (std::int64_t c = 0; c < targets.cols; ++c) out(i, c) += weight * target[c];
        total += weight;
      }
      if (weights.empty())
        out.row(i).setConstant(std::numeric_limits<double>::quiet_NaN());
      else
        out.row(i) /= total;
    }
  });
  return out;
}

double knn_accuracy(const IdMatrix& neighbors, const std::vector<std::int64_t>& labels,
                    const std::vector<std::int64_t>& query_labels, std::int64_t k, const Parallel& parallel) {
  if (static_cast<std::int64_t>(query_labels.size()) != neighbors.rows()) {
    raise<DimensionMismatch>(
        "knn_accuracy", "query_labels", "needs one label per row of neighbors",
        "labels=" + std::to_string(query_labels.size()) + ", rows=" + std::to_string(neighbors.rows()));
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
