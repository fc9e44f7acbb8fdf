// Measures of a representation as a whole: effective rank (RankMe) and linear CKA
// (moved here from whitening and relative: one implementation).
#include <cmath>
#include <limits>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"

namespace latent {
namespace {

template <class T>
double cka(const MatrixView<T>& a, const MatrixView<T>& b) {
  const RowMatrixd x = a.map().template cast<double>(), y = b.map().template cast<double>();
  const RowMatrixd xc = x.rowwise() - x.colwise().mean(), yc = y.rowwise() - y.colwise().mean();
  const double cross = (yc.transpose() * xc).squaredNorm();
  const double self_x = (xc.transpose() * xc).norm(), self_y = (yc.transpose() * yc).norm();
  if (!(self_x > 0) || !(self_y > 0)) return std::numeric_limits<double>::quiet_NaN();
  return cross / (self_x * self_y);
}

template <class T>
double checked_cka(const MatrixView<T>& a, const MatrixView<T>& b) {
  const char* function = "linear_cka";
  require_non_empty(function, "a", a);
  require_non_empty(function, "b", b);
  require_same_dim(function, "rows of a", a.rows, "rows of b", b.rows);
  require_finite(function, "a", a);
  require_finite(function, "b", b);
  return cka(a, b);
}

}  // namespace

double effective_rank(const std::vector<double>& singular_values) {
  double total = 0;
  for (const double value : singular_values) {
    if (!(value >= 0) || !std::isfinite(value))
      raise<InvalidArgument>("effective_rank", "singular_values", "must be finite and >= 0", std::to_string(value));
    total += value;
  }
  if (!(total > 0)) raise<InvalidArgument>("effective_rank", "singular_values", "are all 0");
  double entropy = 0;
  for (const double value : singular_values) {
    const double p = value / total;
    if (p > 0) entropy -= p * std::log(p);
  }
  return std::exp(entropy);
}

double linear_cka(const MatrixView<float>& a, const MatrixView<float>& b) { return checked_cka(a, b); }
double linear_cka(const MatrixView<double>& a, const MatrixView<double>& b) { return checked_cka(a, b); }

}  // namespace latent
