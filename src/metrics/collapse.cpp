// Rank and collapse of one representation: LiDAR (the effective rank of the
// linear discriminant matrix of labelled rows), the per-dimension collapse
// diagnostics (VICReg's variance and covariance terms, active units, RankMe),
// the matrix-based Renyi entropy and the curvature of a trajectory.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../core/linalg.hpp"
#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"
#include "scatter.hpp"

namespace latent {

double lidar(const MatrixView<float>& x, const std::vector<std::int64_t>& labels, double delta, double epsilon) {
  constexpr std::string_view kFunction = "lidar";
  require_non_empty(kFunction, "x", x);
  require_finite(kFunction, "x", x);
  if (static_cast<std::int64_t>(labels.size()) != x.rows)
    raise<DimensionMismatch>(kFunction, "labels", "needs one label per row",
                             "labels=" + std::to_string(labels.size()) + ", rows=" + std::to_string(x.rows));
  if (!(delta > 0) || !std::isfinite(delta))
    raise<InvalidArgument>(kFunction, "delta", "must be finite and > 0", std::to_string(delta));
  if (!(epsilon >= 0) || !std::isfinite(epsilon))
    raise<InvalidArgument>(kFunction, "epsilon", "must be finite and >= 0", std::to_string(epsilon));
  std::vector<std::int64_t> classes = labels;
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  const auto c = static_cast<Eigen::Index>(classes.size());
  if (c < 2) raise<InvalidArgument>(kFunction, "labels", "must hold at least 2 distinct labels", std::to_string(c));
  const RowMatrixd rows = x.map().cast<double>();
  RowMatrixd means = RowMatrixd::Zero(c, x.cols);
  std::vector<std::int64_t> index(labels.size());
  Eigen::VectorXd sizes = Eigen::VectorXd::Zero(c);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    index[i] = std::lower_bound(classes.begin(), classes.end(), labels[i]) - classes.begin();
    means.row(index[i]) += rows.row(static_cast<Eigen::Index>(i));
    sizes(index[i]) += 1;
  }
  means.array().colwise() /= sizes.array();
  RowMatrixd within = rows;
  for (std::size_t i = 0; i < labels.size(); ++i) within.row(static_cast<Eigen::Index>(i)) -= means.row(index[i]);
  const RowMatrixd between_rows = means.rowwise() - means.colwise().mean();
  const Eigen::MatrixXd between = between_rows.transpose() * between_rows / static_cast<double>(c - 1);
  Eigen::MatrixXd scatter = detail::scatter(MatrixView<double>(within), nullptr) / static_cast<double>(x.rows);
  scatter.diagonal().array() += delta;
  if (!(between.trace() > 0)) raise<NumericalError>(kFunction, "x", "has all class means equal: LiDAR is undefined");
  const Eigen::MatrixXd inverse_root = detail::inverse_sqrt(detail::symmetric_eigen(scatter));
  const Eigen::VectorXd lambda =
      detail::symmetric_eigen(inverse_root * between * inverse_root, false).values.cwiseMax(0.0);
  const double total = lambda.sum();
  double entropy = 0;
  for (Eigen::Index k = 0; k < lambda.size(); ++k) {
    const double p = lambda(k) / total + epsilon;
    entropy -= p * std::log(p);
  }
  return std::exp(entropy);
}

CollapseDiagnostics collapse_diagnostics(const MatrixView<float>& x, double active_threshold) {
  constexpr std::string_view kFunction = "collapse_diagnostics";
  require_non_empty(kFunction, "x", x);
  require_finite(kFunction, "x", x);
  if (x.rows < 2) raise<InvalidArgument>(kFunction, "x", "needs at least 2 rows for a variance", "rows=1");
  if (!(active_threshold >= 0) || !std::isfinite(active_threshold))
    raise<InvalidArgument>(kFunction, "active_threshold", "must be finite and >= 0", std::to_string(active_threshold));
  const std::vector<double> mean = detail::column_means(x);
  const Eigen::MatrixXd covariance = detail::scatter(x, mean.data()) / static_cast<double>(x.rows - 1);
  const auto d = static_cast<double>(x.cols);
  CollapseDiagnostics out;
  out.std.resize(static_cast<std::size_t>(x.cols));
  double sum_std = 0, hinge = 0;
  out.min_std = std::numeric_limits<double>::infinity();
  for (Eigen::Index j = 0; j < covariance.rows(); ++j) {
    const double variance = covariance(j, j);
    out.std[static_cast<std::size_t>(j)] = std::sqrt(variance);
    out.min_std = std::min(out.min_std, std::sqrt(variance));
    sum_std += std::sqrt(variance);
    hinge += std::max(0.0, 1.0 - std::sqrt(variance + 1e-4));
    if (variance > active_threshold) ++out.active_units;
  }
  out.mean_std = sum_std / d;
  out.vicreg_variance = hinge / d;
  out.vicreg_covariance = (covariance.squaredNorm() - covariance.diagonal().squaredNorm()) / d;
  // Singular values of the rows from the eigenvalues of their Gram matrix (d x d).
  const Eigen::VectorXd gram = detail::symmetric_eigen(detail::scatter(x, nullptr), false).values;
  std::vector<double> singular(static_cast<std::size_t>(x.cols));
  for (std::size_t j = 0; j < singular.size(); ++j)
    singular[j] = std::sqrt(std::max(0.0, gram(static_cast<Eigen::Index>(j))));
  const bool all_zero = std::all_of(singular.begin(), singular.end(), [](double s) { return s == 0; });
  out.rankme = all_zero ? 0.0 : effective_rank(singular);
  return out;
}

double renyi_entropy(const MatrixView<float>& x, double alpha, bool normalize_rows) {
  constexpr std::string_view kFunction = "renyi_entropy";
  require_non_empty(kFunction, "x", x);
  require_finite(kFunction, "x", x);
  if (!(alpha > 0) || !std::isfinite(alpha))
    raise<InvalidArgument>(kFunction, "alpha", "must be finite and > 0", std::to_string(alpha));
  RowMatrixd rows = x.map().cast<double>();
  for (std::int64_t i = 0; normalize_rows && i < x.rows; ++i) {
    const double norm = rows.row(i).norm();
    if (!(norm > 0))
      raise<NumericalError>(kFunction, "x", "has a zero row, whose cosine is undefined", "row " + std::to_string(i));
    rows.row(i) /= norm;
  }
  // The nonzero eigenvalues of Z Z^T are those of Z^T Z (d x d).
  const Eigen::VectorXd lambda =
      detail::symmetric_eigen(detail::scatter(MatrixView<double>(rows), nullptr), false).values.cwiseMax(0.0);
  const double trace = lambda.sum();
  if (!(trace > 0)) raise<NumericalError>(kFunction, "x", "has every row 0: the Gram matrix has no spectrum");
  const Eigen::VectorXd p = lambda / trace;
  if (alpha == 1.0) {
    double entropy = 0;
    for (Eigen::Index k = 0; k < p.size(); ++k)
      if (p(k) > 0) entropy -= p(k) * std::log(p(k));
    return entropy;
  }
  return std::log(p.array().pow(alpha).sum()) / (1.0 - alpha);
}

double trajectory_curvature(const MatrixView<float>& x) {
  constexpr std::string_view kFunction = "trajectory_curvature";
  require_non_empty(kFunction, "x", x);
  require_finite(kFunction, "x", x);
  if (x.rows < 3) raise<InvalidArgument>(kFunction, "x", "needs at least 3 points", "rows=" + std::to_string(x.rows));
  std::vector<Eigen::VectorXd> steps;
  for (std::int64_t k = 0; k + 1 < x.rows; ++k) {
    Eigen::VectorXd step(x.cols);
    for (std::int64_t j = 0; j < x.cols; ++j)
      step(j) = static_cast<double>(x.row(k + 1)[j]) - static_cast<double>(x.row(k)[j]);
    if (step.norm() > 0) steps.push_back(step.normalized());
  }
  if (steps.size() < 2)
    raise<InvalidArgument>(kFunction, "x", "has fewer than 2 steps of nonzero length", std::to_string(steps.size()));
  double total = 0;
  for (std::size_t k = 0; k + 1 < steps.size(); ++k)
    total += std::acos(std::clamp(steps[k].dot(steps[k + 1]), -1.0, 1.0));
  return total / static_cast<double>(steps.size() - 1);
}

}  // namespace latent
