// The relative module's SVDs (see svd.hpp): Eigen's BDCSVD over column-major
// double matrices, the one instantiation of the library.
#include "svd.hpp"

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
  svd.setThreshold(threshold > 0 ? threshold
                                 : std::numeric_limits<double>::epsilon() *
                                       static_cast<double>(std::max(a.rows(), a.cols())));
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

}  // namespace latent::detail
