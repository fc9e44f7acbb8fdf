// The f-norm: per-column Gaussian rank transform, then row L2 normalisation
// (see FNorm in whitening.hpp for the rank definition), and the normal quantile.
#include <algorithm>
#include <cmath>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/whitening.hpp"
#include "whitening_detail.hpp"

namespace latent {

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) raise<InvalidArgument>("normal_quantile", "p", "must be in (0, 1)", "p=" + std::to_string(p));
  // Acklam's rational approximation (relative error 1.15e-9) ...
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01, -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  auto tail = [&](double q) {
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  };
  double x;
  if (p < kLow) {
    x = tail(std::sqrt(-2 * std::log(p)));
  } else if (p <= 1 - kLow) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    x = -tail(std::sqrt(-2 * std::log1p(-p)));
  }
  // ... refined by one Halley step on Phi(x) = erfc(-x / sqrt 2) / 2 (cubic convergence).
  const double error = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = error * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

namespace {

// The fractional rank of v among the n sorted values s (see FNorm).
template <class T>
double fractional_rank(const T* s, std::int64_t n, T v) {
  const std::int64_t lo = std::lower_bound(s, s + n, v) - s;
  const std::int64_t hi = std::upper_bound(s + lo, s + n, v) - s;
  if (lo < hi) return static_cast<double>(lo + 1 + hi) / 2;  // mean of ranks lo+1 .. hi
  if (lo == 0) return 0.5;
  if (lo == n) return static_cast<double>(n) + 0.5;
  const T left = s[lo - 1], right = s[lo];
  const std::int64_t left_start = std::lower_bound(s, s + lo, left) - s;
  const std::int64_t right_end = std::upper_bound(s + lo, s + n, right) - s;
  const double rank_left = static_cast<double>(left_start + 1 + lo) / 2;
  const double rank_right = static_cast<double>(lo + 1 + right_end) / 2;
  const double t = (static_cast<double>(v) - static_cast<double>(left)) /
                   (static_cast<double>(right) - static_cast<double>(left));
  return rank_left + t * (rank_right - rank_left);
}

constexpr std::uint32_t kFNormVersion = 1;

}  // namespace

template <class T>
FNorm<T>::FNorm(const Parallel& parallel) : parallel_(parallel) {}

template <class T>
FNorm<T>& FNorm<T>::fit(const MatrixView<T>& x) {
  if (x.rows < 2) raise<EmptyInput>("FNorm::fit", "x", "needs at least 2 rows", "n=" + std::to_string(x.rows));
  require_non_empty("FNorm::fit", "x", x);
  require_finite("FNorm::fit", "x", x);
  const std::int64_t n = x.rows, d = x.cols;
  std::vector<T> sorted(static_cast<std::size_t>(n * d));
  parallel_for(d, 16, parallel_, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t j = begin; j < end; ++j) {
      T* column = sorted.data() + j * n;
      for (std::int64_t i = 0; i < n; ++i) column[i] = x.row(i)[j];
      std::sort(column, column + n);
    }
  });
  sorted_ = std::move(sorted);
  reference_rows_ = n;
  dim_ = d;
  return *this;
}

template <class T>
RowMatrix<T> FNorm<T>::transform(const MatrixView<T>& x) const {
  detail::require_fitted("FNorm::transform", is_fitted());
  detail::check_rows("FNorm::transform", "x", x, dim_);
  const double scale = 1.0 / static_cast<double>(reference_rows_ + 1);
  RowMatrix<T> out(x.rows, x.cols);
  parallel_for(x.rows, 256, parallel_, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t j = 0; j < dim_; ++j) {
        const double rank = fractional_rank(sorted_.data() + j * reference_rows_, reference_rows_, x.row(i)[j]);
        out(i, j) = static_cast<T>(normal_quantile(rank * scale));
      }
    }
  });
  detail::normalize_rows(out, parallel_);
  return out;
}

template <class T>
RowMatrix<T> FNorm<T>::fit_transform(const MatrixView<T>& x) {
  return fit(x).transform(x);
}

template <class T>
void FNorm<T>::save(const std::string& path) const {
  detail::require_fitted("FNorm::save", is_fitted());
  ModelWriter writer("fnorm", kFNormVersion);
  RowMatrixd sorted(dim_, reference_rows_);
  for (std::int64_t j = 0; j < dim_; ++j)
    for (std::int64_t i = 0; i < reference_rows_; ++i) sorted(j, i) = static_cast<double>(sorted_[static_cast<std::size_t>(j * reference_rows_ + i)]);
  writer.put("sorted_columns", MatrixView<double>(sorted));
  writer.save(path);
}

template <class T>
FNorm<T> FNorm<T>::load(const std::string& path) {
  const ModelReader reader(path, "fnorm", kFNormVersion);
  const RowMatrixd sorted = reader.get_matrix("sorted_columns");
  if (sorted.rows() < 1 || sorted.cols() < 2 || !sorted.allFinite())
    raise<IoError>("FNorm::load", path, "holds an inconsistent model", "sorted_columns");
  FNorm out;
  out.dim_ = sorted.rows();
  out.reference_rows_ = sorted.cols();
  out.sorted_.resize(static_cast<std::size_t>(sorted.size()));
  for (Eigen::Index j = 0; j < sorted.rows(); ++j) {
    for (Eigen::Index i = 0; i < sorted.cols(); ++i) {
      if (i > 0 && sorted(j, i) < sorted(j, i - 1))
        raise<IoError>("FNorm::load", path, "holds an inconsistent model", "a column is not sorted");
      out.sorted_[static_cast<std::size_t>(j * sorted.cols() + i)] = static_cast<T>(sorted(j, i));
    }
  }
  return out;
}

template class FNorm<float>;
template class FNorm<double>;

}  // namespace latent
