// Scores with a given matrix, softmax / InfoNCE and hard-negative mining (see
// similarity/scores.hpp). Similarities come from `similarity` / `knn` (the GEMM
// path for float rows), so they agree with the search functions.
#include <algorithm>
#include <cmath>
#include <string>

#include "../core/linalg.hpp"
#include "latent/core/errors.hpp"
#include "latent/similarity.hpp"

namespace latent {
namespace {

template <class T>
void check_input(const char* function, const char* argument, const MatrixView<T>& x) {
  require_non_empty(function, argument, x);
  require_finite(function, argument, x);
}

void check_pair(const char* function, const MatrixView<float>& queries, const MatrixView<float>& base) {
  check_input(function, "queries", queries);
  check_input(function, "base", base);
}

void check_temperature(const char* function, double temperature) {
  if (!(temperature > 0) || !std::isfinite(temperature))
    raise<InvalidArgument>(function, "temperature", "must be finite and > 0", std::to_string(temperature));
}

void check_softmax_metric(const char* function, Metric metric) {
  if (metric != Metric::cosine && metric != Metric::ip)
    raise<InvalidArgument>(function, "metric", "must be cosine or ip", std::string(to_string(metric)));
}

// Row-wise log-softmax of s / t, in double.
RowMatrixd log_softmax(const RowMatrixf& scores, double temperature) {
  RowMatrixd z = scores.cast<double>() / temperature;
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    const double high = z.row(i).maxCoeff();
    const double log_sum = high + std::log((z.row(i).array() - high).exp().sum());
    z.row(i).array() -= log_sum;
  }
  return z;
}

}  // namespace

RowMatrixd bilinear_scores(const MatrixView<float>& queries, const MatrixView<float>& base,
                           const MatrixView<double>& matrix) {
  constexpr const char* kFunction = "bilinear_scores";
  check_pair(kFunction, queries, base);
  check_input(kFunction, "matrix", matrix);
  require_same_dim(kFunction, "rows of matrix", matrix.rows, "columns of queries", queries.cols);
  require_same_dim(kFunction, "columns of matrix", matrix.cols, "columns of base", base.cols);
  const RowMatrixd left = queries.map().cast<double>() * matrix.map();
  return left * base.map().cast<double>().transpose();
}

RowMatrixd mahalanobis_distances(const MatrixView<float>& queries, const MatrixView<float>& base,
                                 const MatrixView<double>& matrix) {
  constexpr const char* kFunction = "mahalanobis_distances";
  check_pair(kFunction, queries, base);
  check_input(kFunction, "matrix", matrix);
  require_same_dim(kFunction, "rows of matrix", matrix.rows, "columns of queries", queries.cols);
  require_same_dim(kFunction, "columns of matrix", matrix.cols, "columns of queries", queries.cols);
  require_same_dim(kFunction, "columns of base", base.cols, "columns of queries", queries.cols);
  const Eigen::MatrixXd m = matrix.map();
  const double scale = m.cwiseAbs().maxCoeff();
  if ((m - m.transpose()).cwiseAbs().maxCoeff() > 1e-10 * scale)
    raise<InvalidArgument>(kFunction, "matrix", "is not symmetric");
  // M = V diag(lambda) V^T = G G^T with G = V diag(sqrt lambda): (q - b)^T M (q - b) = |(q - b)^T G|^2.
  const detail::SymmetricEigen solver = detail::symmetric_eigen(0.5 * (m + m.transpose()));
  const Eigen::VectorXd& lambda = solver.values;
  const double largest = std::max(std::abs(lambda.minCoeff()), std::abs(lambda.maxCoeff()));
  if (lambda.minCoeff() < -1e-10 * largest)
    raise<InvalidArgument>(kFunction, "matrix", "is not positive semi-definite",
                           "smallest eigenvalue " + std::to_string(lambda.minCoeff()));
  const Eigen::MatrixXd g = solver.vectors * lambda.cwiseMax(0.0).cwiseSqrt().asDiagonal();
  const RowMatrixd q = queries.map().cast<double>() * g, b = base.map().cast<double>() * g;
  SearchOptions options;
  options.validate_finite = false;
  return similarity(MatrixView<double>(q), MatrixView<double>(b), Metric::l2, options);
}

RowMatrixd softmax_scores(const MatrixView<float>& queries, const MatrixView<float>& keys, double temperature,
                          Metric metric) {
  check_temperature("softmax_scores", temperature);
  check_softmax_metric("softmax_scores", metric);
  return log_softmax(similarity(queries, keys, metric), temperature).array().exp();
}

double info_nce(const MatrixView<float>& queries, const MatrixView<float>& keys, double temperature, Metric metric) {
  check_input("info_nce", "queries", queries);
  check_input("info_nce", "keys", keys);
  check_temperature("info_nce", temperature);
  check_softmax_metric("info_nce", metric);
  require_same_dim("info_nce", "rows of keys", keys.rows, "rows of queries", queries.rows);
  const RowMatrixd log_p = log_softmax(similarity(queries, keys, metric), temperature);
  return -log_p.diagonal().mean();
}

IdMatrix mine_hard_negatives(const MatrixView<float>& queries, const MatrixView<float>& corpus,
                             const std::vector<std::vector<std::int64_t>>& positives,
                             const HardNegativeOptions& options) {
  constexpr const char* kFunction = "mine_hard_negatives";
  check_pair(kFunction, queries, corpus);
  require_same_dim(kFunction, "positives", static_cast<std::int64_t>(positives.size()), "rows of queries",
                   queries.rows);
  if (options.count < 1) raise<InvalidArgument>(kFunction, "count", "must be >= 1", std::to_string(options.count));
  if (options.rank_min < 0 || options.rank_max <= options.rank_min)
    raise<InvalidArgument>(
        kFunction, "rank_max", "must exceed rank_min >= 0",
        "rank_min=" + std::to_string(options.rank_min) + ", rank_max=" + std::to_string(options.rank_max));
  check_softmax_metric(kFunction, options.metric);
  if (!std::isnan(options.max_ratio) && !(options.max_ratio > 0 && std::isfinite(options.max_ratio)))
    raise<InvalidArgument>(kFunction, "max_ratio", "must be finite and > 0 (NaN: no cap)",
                           std::to_string(options.max_ratio));
  std::size_t most = 0;
  for (const auto& list : positives) {
    most = std::max(most, list.size());
    for (const std::int64_t id : list)
      if (id < 0 || id >= corpus.rows)
        raise<InvalidArgument>(kFunction, "positives", "holds an id outside the corpus",
                               "id=" + std::to_string(id) + ", rows=" + std::to_string(corpus.rows));
  }
  SearchOptions search;
  search.parallel = options.parallel;
  const std::int64_t k = std::min<std::int64_t>(corpus.rows, options.rank_max + static_cast<std::int64_t>(most));
  const KnnGraph graph = knn(queries, corpus, k, options.metric, search);
  IdMatrix out = IdMatrix::Constant(queries.rows, options.count, -1);
  for (std::int64_t i = 0; i < queries.rows; ++i) {
    std::vector<std::int64_t> own = positives[static_cast<std::size_t>(i)];
    std::sort(own.begin(), own.end());
    double lowest_positive = std::numeric_limits<double>::infinity();
    const bool capped = !std::isnan(options.margin) || !std::isnan(options.max_ratio);
    if (!own.empty() && capped) {
      const RowMatrixf positive_scores =
          similarity(MatrixView<float>(queries.row(i), 1, queries.cols), corpus, options.metric, search);
      for (const std::int64_t id : own)
        lowest_positive = std::min(lowest_positive, static_cast<double>(positive_scores(0, id)));
    }
    std::int64_t rank = 0, taken = 0;
    for (std::int64_t r = 0; r < k && taken < options.count && rank < options.rank_max; ++r) {
      const std::int64_t id = graph.ids(i, r);
      if (std::binary_search(own.begin(), own.end(), id)) continue;
      const std::int64_t this_rank = rank++;
      if (this_rank < options.rank_min) continue;
      const auto score = static_cast<double>(graph.scores(i, r));
      if (!std::isnan(options.margin) && !(score < lowest_positive - options.margin)) continue;
      if (!std::isnan(options.max_ratio) && !(score <= options.max_ratio * lowest_positive)) continue;
      out(i, taken++) = id;
    }
  }
  return out;
}

}  // namespace latent
