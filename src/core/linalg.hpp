// The library's dense decompositions (private), in one source: Eigen's BDCSVD
// and SelfAdjointEigenSolver are the most expensive templates of the library to
// compile, so they are instantiated once here rather than in every source that
// needs them. All in double; inputs are never modified.
#pragma once

#include <vector>

#include "latent/core/types.hpp"

namespace latent::detail {

/// numpy.linalg.lstsq(a, b, rcond): the minimum-norm least-squares solution
/// [a.cols x b.cols] of a [n x d] x = b [n x m] through BDCSVD, singular values
/// below `threshold` x the largest dropped (threshold <= 0: machine epsilon x
/// max(n, d), numpy's rcond=None).
RowMatrixd svd_least_squares(const RowMatrixd& a, const RowMatrixd& b, double threshold);

/// The orthogonal factor U V^T [d x d] of the square `m`, with det +1 when
/// `proper_rotation` (the last column of U flipped when det(U V^T) < 0); m's
/// singular values, descending, are written to `singular_values`.
RowMatrixd svd_orthogonal_factor(const RowMatrixd& m, bool proper_rotation, std::vector<double>& singular_values);

/// The transposed Moore-Penrose pseudo-inverse U S^+ V^T [k x d] of a [k x d],
/// singular values at or below rcond x the largest treated as zero (rcond <= 0:
/// machine epsilon x max(k, d)). Returns false, leaving `out` untouched, when a
/// spans nothing (no singular value, or the largest is not positive).
bool svd_pseudo_inverse_transposed(const RowMatrixd& a, double rcond, RowMatrixd& out);

/// Eigen's BDCSVD of m with `options` (Eigen::ComputeThinU and / or
/// Eigen::ComputeThinV, or 0 for the values only): singular values descending,
/// and U, V when asked (empty otherwise).
struct SvdFactors {
  Eigen::VectorXd values;
  Eigen::MatrixXd u, v;
};
SvdFactors svd_factors(const Eigen::MatrixXd& m, unsigned int options);

/// Eigen's SelfAdjointEigenSolver of the symmetric m: eigenvalues ascending and,
/// when `vectors`, the eigenvectors as columns (empty otherwise); `converged` is
/// false when the iteration did not converge.
struct SymmetricEigen {
  Eigen::VectorXd values;
  Eigen::MatrixXd vectors;
  bool converged = true;
};
SymmetricEigen symmetric_eigen(const Eigen::MatrixXd& m, bool vectors = true);

/// V diag(lambda)^(-1/2) V^T from a symmetric_eigen with vectors (the inverse
/// square root of a positive definite matrix, as Eigen's operatorInverseSqrt).
Eigen::MatrixXd inverse_sqrt(const SymmetricEigen& eigen);

}  // namespace latent::detail
