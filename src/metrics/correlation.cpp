// Pearson and Spearman correlation; alignment and uniformity (Wang & Isola 2020).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/kernels/batched.hpp"
#include "latent/metrics.hpp"

namespace latent {
namespace {

void check_samples(const char* function, const std::vector<double>& x, const std::vector<double>& y) {
  require_same_dim(function, "x", static_cast<std::int64_t>(x.size()), "y", static_cast<std::int64_t>(y.size()));
  if (x.size() < 2) raise<EmptyInput>(function, "x", "needs at least 2 values", "n=" + std::to_string(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
      raise<NonFiniteValue>(function, std::isfinite(x[i]) ? "y" : "x", "has a NaN or Inf",
                            "index " + std::to_string(i));
}

double pearson_unchecked(const char* function, const std::vector<double>& x, const std::vector<double>& y) {
  const auto n = static_cast<double>(x.size());
  const double mean_x = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mean_x, dy = y[i] - mean_y;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (!(sxx > 0) || !(syy > 0))
    raise<NumericalError>(function, sxx > 0 ? "y" : "x", "is constant: the correlation is undefined");
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

}  // namespace

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t a = 0; a < order.size();) {
    std::size_t b = a;
    while (b < order.size() && values[order[b]] == values[order[a]]) ++b;
    const double rank = (static_cast<double>(a + 1) + static_cast<double>(b)) / 2.0;  // mean of a+1 .. b
    for (std::size_t t = a; t < b; ++t) ranks[order[t]] = rank;
    a = b;
  }
  return ranks;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  check_samples("pearson", x, y);
  return pearson_unchecked("pearson", x, y);
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  check_samples("spearman", x, y);
  return pearson_unchecked("spearman", average_ranks(x), average_ranks(y));
}

double alignment(const MatrixView<float>& a, const MatrixView<float>& b, double alpha) {
  const char* function = "alignment";
  require_non_empty(function, "a", a);
  require_same_dim(function, "rows of a", a.rows, "rows of b", b.rows);
  require_same_dim(function, "a", a.cols, "b", b.cols);
  if (!(alpha > 0)) raise<InvalidArgument>(function, "alpha", "must be > 0", std::to_string(alpha));
  require_finite(function, "a", a);
  require_finite(function, "b", b);
  double total = 0;
  for (std::int64_t i = 0; i < a.rows; ++i) {
    double squares = 0;
    for (std::int64_t j = 0; j < a.cols; ++j) {
      const double diff = static_cast<double>(a.row(i)[j]) - b.row(i)[j];
      squares += diff * diff;
    }
    total += std::pow(squares, alpha / 2.0);
  }
  return total / static_cast<double>(a.rows);
}

double uniformity(const MatrixView<float>& x, double t, const Parallel& parallel) {
  const char* function = "uniformity";
  require_non_empty(function, "x", x);
  if (x.rows < 2) raise<EmptyInput>(function, "x", "needs at least 2 rows", "n=" + std::to_string(x.rows));
  if (!(t > 0)) raise<InvalidArgument>(function, "t", "must be > 0", std::to_string(t));
  require_finite(function, "x", x);
  // Blocks of rows against all rows; per block the log-sum-exp of -t d^2 over j > i.
  constexpr std::int64_t kBlock = 256;
  const std::int64_t blocks = (x.rows + kBlock - 1) / kBlock;
  std::vector<double> block_max(static_cast<std::size_t>(blocks), -std::numeric_limits<double>::infinity());
  std::vector<double> block_sum(static_cast<std::size_t>(blocks), 0.0);
  kernels::BlockOptions options;  // one thread inside: the blocks are the parallel units
  options.parallel.threads = 1;
  parallel_for(blocks, 1, parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t block = begin; block < end; ++block) {
      const std::int64_t first = block * kBlock, rows = std::min(kBlock, x.rows - first);
      const std::int64_t rest = x.rows - first;  // columns j >= first
      RowMatrixf squared(rows, rest);
      kernels::similarity_f32(Metric::sqeuclidean, MatrixView<float>(x.row(first), rows, x.cols, x.row_stride),
                              MatrixView<float>(x.row(first), rest, x.cols, x.row_stride), squared.data(), rest,
                              options);
      double high = -std::numeric_limits<double>::infinity();
      for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t j = i + 1; j < rest; ++j) high = std::max(high, -t * static_cast<double>(squared(i, j)));
      double sum = 0;
      for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t j = i + 1; j < rest; ++j) sum += std::exp(-t * static_cast<double>(squared(i, j)) - high);
      block_max[static_cast<std::size_t>(block)] = high;
      block_sum[static_cast<std::size_t>(block)] = sum;
    }
  });
  double high = -std::numeric_limits<double>::infinity();
  for (std::int64_t b = 0; b < blocks; ++b)
    if (block_sum[static_cast<std::size_t>(b)] > 0) high = std::max(high, block_max[static_cast<std::size_t>(b)]);
  double sum = 0;
  for (std::int64_t b = 0; b < blocks; ++b)
    if (block_sum[static_cast<std::size_t>(b)] > 0)
      sum += block_sum[static_cast<std::size_t>(b)] * std::exp(block_max[static_cast<std::size_t>(b)] - high);
  const double pairs = static_cast<double>(x.rows) * static_cast<double>(x.rows - 1) / 2.0;
  return high + std::log(sum) - std::log(pairs);
}

}  // namespace latent
