// Cross-space comparison (see relative.hpp, where each score is defined).
// Neighbour lists come from knn_graph (cosine, self excluded, ties to the smaller
// id); counterpart ranks from blocks of block_rows rows of the cross-similarity
// matrix (the kernel layer's GEMM path, in the input's type), so memory is
// block_rows x n scores, never n x n. The own score s(a_i, b_i) is read from the
// same block as its competitors, so a rank never depends on two roundings of one
// pair. Sums are accumulated in double in row order (deterministic).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/kernels/pairwise.hpp"
#include "latent/metrics.hpp"
#include "latent/relative.hpp"
#include "relative_detail.hpp"

namespace latent {
namespace {

double pair_cosine(const float* a, const float* b, std::int64_t dim) {
  return kernels::cosine_f32(a, b, static_cast<std::size_t>(dim));
}
double pair_cosine(const double* a, const double* b, std::int64_t dim) {
  return kernels::cosine_f64(a, b, static_cast<std::size_t>(dim));
}

template <class T>
double mean_neighbourhood_jaccard(const MatrixView<T>& a, const MatrixView<T>& b, std::int64_t k,
                                  const Parallel& parallel) {
  SearchOptions search;
  search.parallel = parallel;
  search.validate_finite = false;  // checked once at the boundary
  const KnnGraph ga = knn_graph(a, k, Metric::cosine, search);
  const KnnGraph gb = knn_graph(b, k, Metric::cosine, search);
  double sum = 0;
  std::vector<std::int64_t> left(static_cast<std::size_t>(k)), right(static_cast<std::size_t>(k));
  for (std::int64_t i = 0; i < a.rows; ++i) {
    for (std::int64_t r = 0; r < k; ++r) {
      left[static_cast<std::size_t>(r)] = ga.ids(i, r);
      right[static_cast<std::size_t>(r)] = gb.ids(i, r);
    }
    std::sort(left.begin(), left.end());
    std::sort(right.begin(), right.end());
    std::int64_t common = 0;
    for (std::size_t x = 0, y = 0; x < left.size() && y < right.size();) {
      if (left[x] == right[y])
        ++common, ++x, ++y;
      else if (left[x] < right[y])
        ++x;
      else
        ++y;
    }
    sum += static_cast<double>(common) / static_cast<double>(2 * k - common);
  }
  return sum / static_cast<double>(a.rows);
}

template <class T>
void counterpart_ranks(const MatrixView<T>& a, const MatrixView<T>& b, const CompareOptions& options,
                       CrossSpaceScores& scores) {
  const std::int64_t n = a.rows;
  const bool larger_is_better = options.rank_metric == Metric::cosine;
  const std::int64_t block_rows = std::min(options.block_rows, n);
  std::vector<T> block(static_cast<std::size_t>(block_rows * n));
  std::vector<std::int64_t> ranks(static_cast<std::size_t>(n));
  for (std::int64_t start = 0; start < n; start += block_rows) {
    const std::int64_t rows = std::min(block_rows, n - start);
    detail::similarity_block(options.rank_metric, MatrixView<T>(a.row(start), rows, a.cols, a.row_stride), b,
                             block.data(), options.parallel);
    parallel_for(rows, 16, options.parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t r = begin; r < end; ++r) {
        const T* row = block.data() + r * n;
        const T own = row[start + r];
        std::int64_t better = 0;
        if (larger_is_better) {
          for (std::int64_t j = 0; j < n; ++j) better += row[j] > own;
        } else {
          for (std::int64_t j = 0; j < n; ++j) better += row[j] < own;
        }
        ranks[static_cast<std::size_t>(start + r)] = 1 + better;
      }
    });
  }
  double reciprocal = 0, total = 0, top = 0, cosines = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto rank = static_cast<double>(ranks[static_cast<std::size_t>(i)]);
    reciprocal += 1.0 / rank;
    total += rank;
    top += rank == 1.0 ? 1.0 : 0.0;
    cosines += pair_cosine(a.row(i), b.row(i), a.cols);
  }
  const auto count = static_cast<double>(n);
  scores.mrr = reciprocal / count;
  scores.top1 = top / count;
  scores.mean_rank = total / count;
  scores.mean_cos = cosines / count;
}

template <class T>
CrossSpaceScores compare(const MatrixView<T>& a, const MatrixView<T>& b, const CompareOptions& options) {
  const char* function = "compare_spaces";
  require_non_empty(function, "a", a);
  require_non_empty(function, "b", b);
  require_same_dim(function, "rows of a", a.rows, "rows of b", b.rows);
  if (a.rows < 2) raise<EmptyInput>(function, "a", "needs at least 2 rows", "rows=" + std::to_string(a.rows));
  if (options.rank_metric != Metric::cosine && options.rank_metric != Metric::l2)
    raise<InvalidArgument>(function, "rank_metric", "must be cosine or l2",
                           std::string(to_string(options.rank_metric)));
  if (options.block_rows < 1)
    raise<InvalidArgument>(function, "block_rows", "must be >= 1", "block_rows=" + std::to_string(options.block_rows));
  if (options.jaccard) require_k(function, options.k, a.rows - 1, "rows (self excluded)");
  require_finite(function, "a", a);
  require_finite(function, "b", b);
  detail::require_nonzero_rows(function, "a", a);
  detail::require_nonzero_rows(function, "b", b);
  if (options.rank_metric == Metric::l2) require_same_dim(function, "a", a.cols, "b", b.cols);

  CrossSpaceScores scores;
  scores.rows = a.rows;
  scores.k = options.jaccard ? options.k : 0;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  scores.jaccard = options.jaccard ? mean_neighbourhood_jaccard(a, b, options.k, options.parallel) : nan;
  scores.mrr = scores.top1 = scores.mean_rank = scores.mean_cos = nan;
  if (a.cols == b.cols) counterpart_ranks(a, b, options, scores);  // cross-space cosines need one dimension
  scores.cka = options.cka ? linear_cka(a, b) : nan;
  return scores;
}

}  // namespace

CrossSpaceScores compare_spaces(const MatrixView<float>& a, const MatrixView<float>& b, const CompareOptions& options) {
  return compare(a, b, options);
}
CrossSpaceScores compare_spaces(const MatrixView<double>& a, const MatrixView<double>& b,
                                const CompareOptions& options) {
  return compare(a, b, options);
}

}  // namespace latent
