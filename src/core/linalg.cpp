// The library's dense decompositions (see linalg.hpp): Eigen's BDCSVD and
// SelfAdjointEigenSolver over column-major double matrices, the one
// instantiation of each in the library.
#include "linalg.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <Eigen/SVD>

#include <algorithm>
#include <limits>

namespace latent::detail {
namespace {

using ColMatrixd = Eigen::MatrixXd;

}  // namespace

RowMatrixd svd_least_squares(const RowMatrixd& a, const RowMatrixd& b, double threshold) {
  Eigen::BDCSVD<ColMatrixd> svd(a, Eigen::ComputeThinU | Eigen::ComputeThinV);
  svd.setThreshold(threshold > 0
                       ? threshold
                       : std::numeric_limits<double>::epsilon() * static_cast<double>(std::max(a.rows(), a.cols())));
  return svd.solve(ColMatrixd(b));
}

RowMatrixd svd_orthogonal_factor(const RowMatrixd& m, bool proper_rotation, std::vector<double>& singular_values) {
  Eigen::BDCSVD<ColMatrixd> svd(m, Eigen::ComputeFullU | Eigen::ComputeFullV);
  ColMatrixd u = svd.matrixU();
  const ColMatrixd& v = svd.matrixV();
  if (proper_rotation && (u * v.transpose()).determinant() < 0) u.col(u.cols() - 1) *= -1.0;
  const Eigen::VectorXd& sigma = svd.singularValues();
  singular_values.assign(sigma.data(), sigma.data() + sigma.size());
  return u * v.transpose();
}

bool svd_pseudo_inverse_transposed(const RowMatrixd& a, double rcond, RowMatrixd& out) {
  Eigen::BDCSVD<ColMatrixd> svd(a, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::VectorXd& sigma = svd.singularValues();
  if (sigma.size() == 0 || !(sigma(0) > 0)) return false;
  const double cutoff =
      rcond > 0 ? rcond : std::numeric_limits<double>::epsilon() * static_cast<double>(std::max(a.rows(), a.cols()));
  Eigen::VectorXd inverse = Eigen::VectorXd::Zero(sigma.size());
  for (Eigen::Index i = 0; i < sigma.size(); ++i)
    if (sigma(i) > cutoff * sigma(0)) inverse(i) = 1.0 / sigma(i);
  // A = U S V^T, A^+ = V S^+ U^T [d x k]; its transpose is U S^+ V^T [k x d].
  const RowMatrixd pinv_t = svd.matrixU() * inverse.asDiagonal() * svd.matrixV().transpose();
  out = pinv_t;
  return true;
}

SvdFactors svd_factors(const Eigen::MatrixXd& m, unsigned int options) {
  const Eigen::BDCSVD<ColMatrixd> svd(m, options);
  SvdFactors out;
  out.values = svd.singularValues();
  if (svd.computeU()) out.u = svd.matrixU();
  if (svd.computeV()) out.v = svd.matrixV();
  return out;
}

SymmetricEigen symmetric_eigen(const Eigen::MatrixXd& m, bool vectors) {
  const Eigen::SelfAdjointEigenSolver<ColMatrixd> solver(m,
                                                         vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
  SymmetricEigen out;
  out.converged = solver.info() == Eigen::Success;
  out.values = solver.eigenvalues();
  if (vectors) out.vectors = solver.eigenvectors();
  return out;
}

Eigen::MatrixXd inverse_sqrt(const SymmetricEigen& eigen) {
  return eigen.vectors * eigen.values.cwiseInverse().cwiseSqrt().asDiagonal() * eigen.vectors.adjoint();
}

}  // namespace latent::detail
