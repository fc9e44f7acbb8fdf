// Helpers shared by the whitening module's sources (private).
#pragma once

#include <cstdint>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent::detail {

/// (x - shift) M for x [n x d], shift [d], M [d x k] (double): float rows are
/// centred in float and multiplied through the kernel layer's GEMM, double rows
/// through Eigen; both in fixed row blocks (results do not depend on threads).
RowMatrix<float> project(const MatrixView<float>& x, const std::vector<double>& shift, const RowMatrixd& matrix,
                         const Parallel& parallel);
RowMatrix<double> project(const MatrixView<double>& x, const std::vector<double>& shift, const RowMatrixd& matrix,
                          const Parallel& parallel);

/// DimensionMismatch unless x has `dim` columns (dim < 0: any), NonFiniteValue.
template <class T>
void check_rows(const char* function, const char* argument, const MatrixView<T>& x, std::int64_t dim);

/// NotFitted unless `fitted`.
void require_fitted(const char* function, bool fitted);

}  // namespace latent::detail
