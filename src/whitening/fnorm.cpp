// The f-norm: per-column Gaussian rank transform, then row L2 normalisation
// (see FNorm in whitening.hpp for the rank definition), and the normal quantile.
#include <algorithm>
#include <cmath>
#include <string>

#include "../core/row_norms.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/whitening.hpp"
#include "../core/validation.hpp"
#include "../kernels/row_transforms.hpp"

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

// The fractional rank of v among the n sorted values s (see FNorm), doubled so
// that the ranks of reference values and their ties are exact integers m
// (rank = m / 2); `interpolated` tells whether v fell between reference values.
template <class T>
double doubled_rank(const T* s, std::int64_t n, T v, bool& interpolated) {
  interpolated = false;
  const std::int64_t lo = std::lower_bound(s, s + n, v) - s;
  const std::int64_t hi = std::upper_bound(s + lo, s + n, v) - s;
  if (lo < hi) return static_cast<double>(lo + 1 + hi);  // 2 x the mean of ranks lo+1 .. hi
  if (lo == 0) return 1;
  if (lo == n) return static_cast<double>(2 * n + 1);
  interpolated = true;
  const T left = s[lo - 1], right = s[lo];
  const std::int64_t left_start = std::lower_bound(s, s + lo, left) - s;
  const std::int64_t right_end = std::upper_bound(s + lo, s + n, right) - s;
  const double rank_left = static_cast<double>(left_start + 1 + lo) / 2;
  const double rank_right = static_cast<double>(lo + 1 + right_end) / 2;
  const double t = (static_cast<double>(v) - static_cast<double>(left)) /
                   (static_cast<double>(right) - static_cast<double>(left));
  return 2 * (rank_left + t * (rank_right - rank_left));
}

// The score of rank m / 2 among n reference rows; the same expression fills the
// table and scores interpolated ranks, so table and direct values agree bitwise.
double rank_score(double doubled, std::int64_t n) {
  return normal_quantile(doubled / 2 * (1.0 / static_cast<double>(n + 1)));
}

constexpr std::uint32_t kFNormVersion = 1;

}  // namespace

template <class T>
FNorm<T>::FNorm(const Parallel& parallel) : parallel_(parallel) {}

template <class T>
void FNorm<T>::set_reference(std::vector<T> sorted, std::int64_t rows, std::int64_t dim) {
  sorted_ = std::move(sorted);
  reference_rows_ = rows;
  dim_ = dim;
  rank_quantiles_.assign(static_cast<std::size_t>(2 * rows + 2), 0.0);
  parallel_for(2 * rows + 2, 4096, parallel_, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t m = std::max<std::int64_t>(begin, 1); m < end; ++m)
      rank_quantiles_[static_cast<std::size_t>(m)] = rank_score(static_cast<double>(m), rows);
  });
}

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
  set_reference(std::move(sorted), n, d);
  return *this;
}

template <class T>
RowMatrix<T> FNorm<T>::transform(const MatrixView<T>& x) const {
  detail::require_fitted("FNorm::transform", is_fitted());
  detail::check_rows("FNorm::transform", "x", x, dim_);
  RowMatrix<T> out(x.rows, x.cols);
  // Column by column within a block of rows, so one sorted column stays in cache.
  parallel_for(x.rows, 256, parallel_, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t j = 0; j < dim_; ++j) {
      const T* column = sorted_.data() + j * reference_rows_;
      for (std::int64_t i = begin; i < end; ++i) {
        bool interpolated = false;
        const double doubled = doubled_rank(column, reference_rows_, x.row(i)[j], interpolated);
        out(i, j) = static_cast<T>(interpolated ? rank_score(doubled, reference_rows_)
                                                : rank_quantiles_[static_cast<std::size_t>(doubled)]);
      }
    }
  });
  detail::normalize_rows(out, parallel_);
  return out;
}

// One sort of (value, row) per column gives both the reference column and the
// tie-averaged rank of every fitted value: equal to fit(x).transform(x), without
// the binary searches.
template <class T>
RowMatrix<T> FNorm<T>::fit_transform(const MatrixView<T>& x) {
  if (x.rows < 2) raise<EmptyInput>("FNorm::fit", "x", "needs at least 2 rows", "n=" + std::to_string(x.rows));
  require_non_empty("FNorm::fit", "x", x);
  require_finite("FNorm::fit", "x", x);
  const std::int64_t n = x.rows, d = x.cols;
  std::vector<T> sorted(static_cast<std::size_t>(n * d));
  std::vector<std::int64_t> doubled_ranks(static_cast<std::size_t>(n * d));  // column-major, like sorted
  parallel_for(d, 16, parallel_, [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::pair<T, std::int64_t>> entries(static_cast<std::size_t>(n));
    for (std::int64_t j = begin; j < end; ++j) {
      for (std::int64_t i = 0; i < n; ++i) entries[static_cast<std::size_t>(i)] = {x.row(i)[j], i};
      std::sort(entries.begin(), entries.end());
      T* column = sorted.data() + j * n;
      std::int64_t* ranks = doubled_ranks.data() + j * n;
      for (std::int64_t a = 0; a < n;) {
        std::int64_t b = a + 1;
        while (b < n && entries[static_cast<std::size_t>(b)].first == entries[static_cast<std::size_t>(a)].first) ++b;
        for (std::int64_t t = a; t < b; ++t) {
          column[t] = entries[static_cast<std::size_t>(t)].first;
          ranks[entries[static_cast<std::size_t>(t)].second] = a + 1 + b;  // 2 x the mean rank of the ties
        }
        a = b;
      }
    }
  });
  set_reference(std::move(sorted), n, d);
  RowMatrix<T> out(n, d);
  parallel_for(n, 256, parallel_, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t j = 0; j < d; ++j)
      for (std::int64_t i = begin; i < end; ++i)
        out(i, j) = static_cast<T>(rank_quantiles_[static_cast<std::size_t>(doubled_ranks[static_cast<std::size_t>(j * n + i)])]);
  });
  detail::normalize_rows(out, parallel_);
  return out;
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
  std::vector<T> columns(static_cast<std::size_t>(sorted.size()));
  for (Eigen::Index j = 0; j < sorted.rows(); ++j) {
    for (Eigen::Index i = 0; i < sorted.cols(); ++i) {
      if (i > 0 && sorted(j, i) < sorted(j, i - 1))
        raise<IoError>("FNorm::load", path, "holds an inconsistent model", "a column is not sorted");
      columns[static_cast<std::size_t>(j * sorted.cols() + i)] = static_cast<T>(sorted(j, i));
    }
  }
  FNorm out;
  out.set_reference(std::move(columns), sorted.cols(), sorted.rows());
  return out;
}

template class FNorm<float>;
template class FNorm<double>;

}  // namespace latent
