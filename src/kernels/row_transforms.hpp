// Row transforms shared by the fitted models of several modules (private): the
// affine projection (x - shift) M through the kernel layer's GEMM. Row L2
// normalisation is core/row_norms.hpp.
#pragma once

#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent::detail {

/// (x - shift) M for x [n x d], shift [d], M [d x k] (double): rows are centred
/// in their own type (M rounded to it) and multiplied through the kernel
/// layer's GEMM path, f32 or f64 (results do not depend on threads).
RowMatrix<float> project(const MatrixView<float>& x, const std::vector<double>& shift, const RowMatrixd& matrix,
                         const Parallel& parallel);
RowMatrix<double> project(const MatrixView<double>& x, const std::vector<double>& shift, const RowMatrixd& matrix,
                          const Parallel& parallel);

}  // namespace latent::detail
