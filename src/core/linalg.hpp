// The library's dense decompositions (private), in one source: Eigen's BDCSVD
// and SelfAdjointEigenSolver are the most expensive templates of the library to
// compile, so they are instantiated once here rather than in every source that
// needs them. When the library is built with LAPACKE, symmetric_eigen and
// svd_orthogonal_factor call LAPACK (dsyevd, dgesdd) for matrices of 64 rows or
// more, with OpenBLAS on one thread for the call (so the bits do not depend on
// OPENBLAS_NUM_THREADS); Eigen's solvers do it when the address space is capped
// (OpenBLAS hangs when it cannot reserve its buffers). Both give the same
// results up to rounding, 1e-10 relative on the whitening models of the tests.
// All in double; inputs are never modified.
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

/// The eigen-decomposition of the symmetric m (its lower triangle is read):
/// LAPACK's dsyevd or Eigen's SelfAdjointEigenSolver; eigenvalues ascending and,
/// when `vectors`, the eigenvectors as columns (empty otherwise); `converged` is
/// false when the iteration did not converge.
struct SymmetricEigen {
  Eigen::VectorXd values;
  Eigen::MatrixXd vectors;
  bool converged = true;
};
SymmetricEigen symmetric_eigen(const Eigen::MatrixXd& m, bool vectors = true);

/// True when the library was built with LAPACKE.
bool lapack_built();

/// While alive, switches the LAPACK calls above on or off (off: Eigen's solvers
/// at every size), for tests that compare the two; process-wide, not for use
/// while other threads decompose.
class ScopedLapack {
 public:
  explicit ScopedLapack(bool enabled);
  ~ScopedLapack();
  ScopedLapack(const ScopedLapack&) = delete;
  ScopedLapack& operator=(const ScopedLapack&) = delete;

 private:
  bool previous_;
};

/// V diag(lambda)^(-1/2) V^T from a symmetric_eigen with vectors (the inverse
/// square root of a positive definite matrix, as Eigen's operatorInverseSqrt).
Eigen::MatrixXd inverse_sqrt(const SymmetricEigen& eigen);

}  // namespace latent::detail
