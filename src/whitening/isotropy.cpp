// Isotropy and spectrum measures (see IsotropyReport in whitening.hpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "../core/row_norms.hpp"
#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"
#include "latent/whitening.hpp"
#include "../kernels/row_transforms.hpp"

namespace latent {
namespace {

template <class T>
double average_cosine_of(const MatrixView<T>& x) {
  const char* function = "average_cosine";
  if (x.rows < 2) raise<EmptyInput>(function, "x", "needs at least 2 rows", "n=" + std::to_string(x.rows));
  require_non_empty(function, "x", x);
  require_finite(function, "x", x);
  std::vector<double> sum(static_cast<std::size_t>(x.cols), 0.0);
  for (std::int64_t i = 0; i < x.rows; ++i) {
    const T* row = x.row(i);
    const double squares = detail::squared_norm_in_order(row, x.cols);
    if (squares == 0)
      raise<InvalidArgument>(function, "x", "has a row of norm 0 (its cosine is undefined)", "row " + std::to_string(i));
    const double inverse = 1.0 / std::sqrt(squares);
    for (std::int64_t j = 0; j < x.cols; ++j) sum[static_cast<std::size_t>(j)] += row[j] * inverse;
  }
  double total = 0;
  for (const double value : sum) total += value * value;
  const double n = static_cast<double>(x.rows);
  return (total - n) / (n * (n - 1));
}

// log sum_i exp(v_i) over a stream, per column, for the columns of P and of -P.
class ColumnLogSumExp {
 public:
  explicit ColumnLogSumExp(std::int64_t columns)
      : max_(static_cast<std::size_t>(2 * columns), -std::numeric_limits<double>::infinity()),
        sum_(static_cast<std::size_t>(2 * columns), 0.0) {}

  template <class T>
  void add(const RowMatrix<T>& block) {
    const std::int64_t d = block.cols();
    for (std::int64_t j = 0; j < d; ++j) {
      double high = -std::numeric_limits<double>::infinity(), low = std::numeric_limits<double>::infinity();
      for (std::int64_t i = 0; i < block.rows(); ++i) {
        high = std::max(high, static_cast<double>(block(i, j)));
        low = std::min(low, static_cast<double>(block(i, j)));
      }
      update(static_cast<std::size_t>(j), high, [&](double m) {
        double s = 0;
        for (std::int64_t i = 0; i < block.rows(); ++i) s += std::exp(static_cast<double>(block(i, j)) - m);
        return s;
      });
      update(static_cast<std::size_t>(d + j), -low, [&](double m) {
        double s = 0;
        for (std::int64_t i = 0; i < block.rows(); ++i) s += std::exp(-static_cast<double>(block(i, j)) - m);
        return s;
      });
    }
  }
  std::vector<double> values() const {
    std::vector<double> out(max_.size());
    for (std::size_t c = 0; c < out.size(); ++c) out[c] = max_[c] + std::log(sum_[c]);
    return out;
  }

 private:
  template <class F>
  void update(std::size_t c, double block_max, F block_sum) {
    const double m = std::max(max_[c], block_max);
    sum_[c] = sum_[c] * std::exp(max_[c] - m) + block_sum(m);
    max_[c] = m;
  }
  std::vector<double> max_, sum_;
};

template <class T>
IsotropyReport isotropy_of(const MatrixView<T>& x, const Parallel& parallel) {
  IsotropyReport report;
  report.average_cosine = average_cosine_of(x);  // validates x
  report.rows = x.rows;
  report.dim = x.cols;
  const std::int64_t d = x.cols;
  const double n = static_cast<double>(x.rows);

  MomentAccumulator moments;
  moments.add(x, parallel);
  const RowMatrixd covariance = moments.covariance();
  report.eigenvalues = symmetric_spectrum(covariance).values;
  double total = 0;
  for (const double value : report.eigenvalues) total += std::max(value, 0.0);
  double cumulative = 0;
  for (std::size_t c = 0; c < report.eigenvalues.size(); ++c) {
    const double share = total > 0 ? std::max(report.eigenvalues[c], 0.0) / total : 0.0;
    report.explained_variance_ratio.push_back(share);
    cumulative += share;
    if (report.components_90 == 0 && cumulative >= 0.9) report.components_90 = static_cast<std::int64_t>(c + 1);
    if (report.components_99 == 0 && cumulative >= 0.99) report.components_99 = static_cast<std::int64_t>(c + 1);
  }
  if (report.components_90 == 0) report.components_90 = d;
  if (report.components_99 == 0) report.components_99 = d;

  // X^T X = M2 + n mu mu^T (a sum of non-negative parts: no cancellation).
  const Eigen::Map<const Eigen::VectorXd> mu(moments.mean().data(), d);
  const RowMatrixd second = covariance * n + n * mu * mu.transpose();
  const Spectrum spectrum = symmetric_spectrum(second);
  std::vector<double> singular;
  for (const double value : spectrum.values) singular.push_back(std::sqrt(std::max(value, 0.0)));
  report.effective_rank = effective_rank(singular);

  ColumnLogSumExp log_z(d);
  const std::vector<double> no_shift(static_cast<std::size_t>(d), 0.0);
  constexpr std::int64_t kRows = 4096;
  for (std::int64_t start = 0; start < x.rows; start += kRows) {
    const MatrixView<T> block(x.row(start), std::min(kRows, x.rows - start), d, x.row_stride);
    log_z.add(detail::project(block, no_shift, spectrum.vectors, parallel));
  }
  const std::vector<double> values = log_z.values();
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  report.partition_isotropy = std::exp(*low - *high);
  return report;
}

}  // namespace

double average_cosine(const MatrixView<float>& x) { return average_cosine_of(x); }
double average_cosine(const MatrixView<double>& x) { return average_cosine_of(x); }
IsotropyReport isotropy(const MatrixView<float>& x, const Parallel& parallel) { return isotropy_of(x, parallel); }
IsotropyReport isotropy(const MatrixView<double>& x, const Parallel& parallel) { return isotropy_of(x, parallel); }

}  // namespace latent
