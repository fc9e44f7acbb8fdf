// Centred scatter matrices (sums of products of centred columns) for the
// measures of metrics.hpp (private). One pass of the kernel layer's
// crossprod_f64 (each product exact or accumulated in double, per-ISA, threaded,
// the same for any thread count), so the measures that need second moments of
// one or two spaces work on d x d matrices and never touch an n x n or a
// second n x d double copy.
#pragma once

#include <cstdint>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"
#include "latent/kernels/batched.hpp"

namespace latent::detail {

/// Column means in double, summed in row order.
template <class T>
std::vector<double> column_means(const MatrixView<T>& x) {
  std::vector<double> mean(static_cast<std::size_t>(x.cols), 0.0);
  for (std::int64_t i = 0; i < x.rows; ++i)
    for (std::int64_t j = 0; j < x.cols; ++j) mean[static_cast<std::size_t>(j)] += static_cast<double>(x.row(i)[j]);
  for (double& value : mean) value /= static_cast<double>(x.rows);
  return mean;
}

/// S = sum over rows r of (x_r - shift)(x_r - shift)^T ([d x d]); shift null: 0.
template <class T>
RowMatrixd scatter(const MatrixView<T>& x, const double* shift, const Parallel& parallel = {}) {
  RowMatrixd s(x.cols, x.cols);
  kernels::crossprod_f64(x, shift, s.data(), x.cols, kernels::BlockOptions{parallel});
  return s;
}

/// The centred scatter of the joined columns [a, b] (rows are the same items),
/// cut into its blocks: aa = A_c^T A_c, ab = A_c^T B_c, bb = B_c^T B_c.
struct JointScatter {
  RowMatrixd aa, ab, bb;
};
template <class T>
JointScatter joint_scatter(const MatrixView<T>& a, const MatrixView<T>& b, const Parallel& parallel = {}) {
  RowMatrix<T> joined(a.rows, a.cols + b.cols);
  joined.leftCols(a.cols) = a.map();
  joined.rightCols(b.cols) = b.map();
  const MatrixView<T> rows(joined);
  const std::vector<double> mean = column_means(rows);
  const RowMatrixd s = scatter(rows, mean.data(), parallel);
  return {s.topLeftCorner(a.cols, a.cols), s.topRightCorner(a.cols, b.cols), s.bottomRightCorner(b.cols, b.cols)};
}

}  // namespace latent::detail
