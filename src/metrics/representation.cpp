// Measures of a representation as a whole: effective rank (RankMe), linear,
// RBF and minibatch CKA, RSA, the R^2 of an affine map between two spaces, the
// silhouette of labelled rows, CCA/SVCCA/PWCCA and the matching of units.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <Eigen/Cholesky>

#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity/search.hpp"

#include "../core/linalg.hpp"
#include "../core/random.hpp"
#include "scatter.hpp"

namespace latent {
namespace {

template <class T>
double cka(const MatrixView<T>& a, const MatrixView<T>& b) {
  const detail::JointScatter s = detail::joint_scatter(a, b);
  const double self_a = s.aa.norm(), self_b = s.bb.norm();
  if (!(self_a > 0) || !(self_b > 0)) return std::numeric_limits<double>::quiet_NaN();
  return s.ab.squaredNorm() / (self_a * self_b);
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

// ------------------------------------------------------------- analysis measures

namespace latent {
namespace {

void check_pair_rows(const char* function, const MatrixView<float>& a, const MatrixView<float>& b) {
  require_non_empty(function, "a", a);
  require_non_empty(function, "b", b);
  require_same_dim(function, "rows of a", a.rows, "rows of b", b.rows);
  require_finite(function, "a", a);
  require_finite(function, "b", b);
}

// The [n x n] scores of the rows among themselves, in double (checked already).
RowMatrixd self_similarity(const MatrixView<float>& x, Metric metric) {
  const RowMatrixd v = x.map().cast<double>();
  SearchOptions options;
  options.validate_finite = false;
  return similarity(v, v, metric, options);
}

// The centred RBF kernel H K H, sigma the median distance of distinct rows.
RowMatrixd centred_rbf(const MatrixView<float>& x, bool& constant) {
  RowMatrixd d = self_similarity(x, Metric::sqeuclidean);
  d.diagonal().setZero();
  const Eigen::Index n = d.rows();
  std::vector<double> upper;
  upper.reserve(static_cast<std::size_t>(n * (n - 1) / 2));
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) upper.push_back(std::sqrt(d(i, j)));
  double sigma = 0;
  if (!upper.empty()) {
    const std::size_t half = upper.size() / 2;
    std::nth_element(upper.begin(), upper.begin() + static_cast<std::ptrdiff_t>(half), upper.end());
    sigma = upper[half];
    if (upper.size() % 2 == 0) {  // numpy's median: the mean of the two middle values
      const double below = *std::max_element(upper.begin(), upper.begin() + static_cast<std::ptrdiff_t>(half));
      sigma = 0.5 * (sigma + below);
    }
  }
  constant = !(sigma > 0);
  RowMatrixd k = (-d / (2.0 * sigma * sigma)).array().exp().matrix();
  const Eigen::RowVectorXd column_means = k.colwise().mean();
  const Eigen::VectorXd row_means = k.rowwise().mean();
  const double mean = k.mean();
  k.rowwise() -= column_means;
  k.colwise() -= row_means;
  k.array() += mean;
  return k;
}

// W [d x r] such that the columns of X_c W are orthonormal and span the
// leading principal directions of the centred rows X_c, from their scatter
// S = X_c^T X_c: every direction of variance above 1e-12 of the largest, the
// fewest that reach `variance` of the total. W = V_r L_r^-1/2 from the
// eigen-decomposition of S, then one Cholesky-QR step in d-space (W <- W R^-1,
// R^T R = W^T S W), which restores the orthonormality the eigenvectors of small
// eigenvalues lose to rounding.
Eigen::MatrixXd whitening_basis(const RowMatrixd& s, double variance, const char* function, const char* argument) {
  const detail::SymmetricEigen solver = detail::symmetric_eigen(s);
  const Eigen::VectorXd values = solver.values.reverse();
  const double largest = values.size() > 0 ? values(0) : 0.0;
  if (!(largest > 0)) raise<NumericalError>(function, argument, "has all rows equal: no direction of variance");
  const double total = values.cwiseMax(0.0).sum();
  Eigen::Index kept = 0;
  double covered = 0;
  while (kept < values.size() && values(kept) > 1e-12 * largest && covered < variance * total)
    covered += values(kept++);
  Eigen::MatrixXd w = solver.vectors.rowwise().reverse().leftCols(kept);
  w *= values.head(kept).cwiseSqrt().cwiseInverse().asDiagonal();
  const Eigen::LLT<Eigen::MatrixXd> cholesky(w.transpose() * s * w);
  const Eigen::MatrixXd lower = cholesky.matrixL();
  return lower.triangularView<Eigen::Lower>().solve(w.transpose()).transpose();
}

}  // namespace

double rbf_cka(const MatrixView<float>& a, const MatrixView<float>& b) {
  check_pair_rows("rbf_cka", a, b);
  bool constant_a = false, constant_b = false;
  const RowMatrixd k = centred_rbf(a, constant_a), l = centred_rbf(b, constant_b);
  if (constant_a || constant_b)
    raise<NumericalError>("rbf_cka", constant_a ? "a" : "b", "has all rows equal: the RBF bandwidth is 0");
  // tr(K H L H) = sum of the elementwise product of the centred (symmetric) kernels.
  const double cross = (k.array() * l.array()).sum();
  return cross / std::sqrt(k.squaredNorm() * l.squaredNorm());
}

double rsa(const MatrixView<float>& a, const MatrixView<float>& b) {
  check_pair_rows("rsa", a, b);
  const auto upper_cosine_distances = [](const MatrixView<float>& x, const char* argument) {
    for (std::int64_t i = 0; i < x.rows; ++i)
      if (std::all_of(x.row(i), x.row(i) + x.cols, [](float value) { return value == 0.0f; }))
        raise<NumericalError>("rsa", argument, "has a zero row, whose cosine is undefined", "row " + std::to_string(i));
    const RowMatrixd cos = self_similarity(x, Metric::cosine);
    std::vector<double> upper;
    for (Eigen::Index i = 0; i < cos.rows(); ++i)
      for (Eigen::Index j = i + 1; j < cos.cols(); ++j) upper.push_back(1.0 - cos(i, j));
    return upper;
  };
  if (a.rows < 3)
    raise<InvalidArgument>("rsa", "a", "needs at least 3 rows (2 pairs)", "rows=" + std::to_string(a.rows));
  return spearman(upper_cosine_distances(a, "a"), upper_cosine_distances(b, "b"));
}

double affine_r2(const MatrixView<float>& a, const MatrixView<float>& b) {
  check_pair_rows("affine_r2", a, b);
  const detail::JointScatter s = detail::joint_scatter(a, b);
  const double total = s.bb.trace();
  if (!(total > 0)) raise<NumericalError>("affine_r2", "b", "has all rows equal: R^2 is undefined");
  if (!(s.aa.trace() > 0)) return 0.0;  // a constant a predicts only the mean of b
  // The least-squares fit of the centred b is its projection onto the span of the
  // centred a: |U^T B_c|^2 for an orthonormal basis U = A_c W of that span.
  const Eigen::MatrixXd w = whitening_basis(s.aa, 1.0, "affine_r2", "a");
  return (w.transpose() * s.ab).squaredNorm() / total;
}

double silhouette(const MatrixView<float>& x, const std::vector<std::int64_t>& labels, Metric metric,
                  const Parallel& parallel) {
  constexpr std::string_view kFunction = "silhouette";
  require_non_empty(kFunction, "x", x);
  require_finite(kFunction, "x", x);
  if (static_cast<std::int64_t>(labels.size()) != x.rows)
    raise<DimensionMismatch>(kFunction, "labels", "needs one label per row",
                             "labels=" + std::to_string(labels.size()) + ", rows=" + std::to_string(x.rows));
  if (metric != Metric::cosine && metric != Metric::l2)
    raise<InvalidArgument>(kFunction, "metric", "must be cosine or l2", std::string(to_string(metric)));
  std::vector<std::int64_t> classes = labels;
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  const auto c = static_cast<std::int64_t>(classes.size());
  if (c < 2 || c > x.rows - 1)
    raise<InvalidArgument>(kFunction, "labels", "must hold between 2 and n - 1 distinct labels",
                           "labels=" + std::to_string(c) + ", rows=" + std::to_string(x.rows));
  std::vector<std::int64_t> index(labels.size()), sizes(static_cast<std::size_t>(c), 0);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    index[i] = std::lower_bound(classes.begin(), classes.end(), labels[i]) - classes.begin();
    ++sizes[static_cast<std::size_t>(index[i])];
  }
  SearchOptions options;
  options.parallel = parallel;
  options.validate_finite = false;
  const Metric searched = metric == Metric::cosine ? Metric::cosine : Metric::l2;
  // Blocks of rows against all rows: per row, the summed distance to each class.
  const std::int64_t block = std::max<std::int64_t>(1, (std::int64_t{1} << 22) / x.rows);
  const RowMatrixd rows = x.map().cast<double>();
  double total = 0;
  for (std::int64_t start = 0; start < x.rows; start += block) {
    const std::int64_t count = std::min(block, x.rows - start);
    const RowMatrixd scores =
        similarity(MatrixView<double>(rows.data() + start * x.cols, count, x.cols), rows, searched, options);
    for (std::int64_t r = 0; r < count; ++r) {
      std::vector<double> sums(static_cast<std::size_t>(c), 0.0);
      for (std::int64_t j = 0; j < x.rows; ++j) {
        if (j == start + r) continue;
        const double d = metric == Metric::cosine ? 1.0 - scores(r, j) : scores(r, j);
        sums[static_cast<std::size_t>(index[static_cast<std::size_t>(j)])] += d;
      }
      const auto own = static_cast<std::size_t>(index[static_cast<std::size_t>(start + r)]);
      if (sizes[own] == 1) continue;  // s = 0
      const double a_i = sums[own] / static_cast<double>(sizes[own] - 1);
      double b_i = std::numeric_limits<double>::infinity();
      for (std::size_t q = 0; q < sums.size(); ++q)
        if (q != own) b_i = std::min(b_i, sums[q] / static_cast<double>(sizes[q]));
      const double scale = std::max(a_i, b_i);
      total += scale > 0 ? (b_i - a_i) / scale : 0.0;
    }
  }
  return total / static_cast<double>(x.rows);
}

}  // namespace latent

// ------------------------------------------------------------- minibatch CKA, CCA family, feature matching

namespace latent {
namespace {

// The unbiased HSIC (Song et al. 2012) of linear kernels K = X X^T and
// L = Y Y^T of m >= 4 centred rows, from their feature-space sums:
// tr(K~ L~) = |X^T Y|_F^2 - sum_i s_i t_i, 1'K~1 = -sum s, K~1 = -s, with
// s_i = |x_i|^2 and t_i = |y_i|^2 (K~, L~ the kernels with a zero diagonal).
double unbiased_hsic(double cross_squared, const Eigen::VectorXd& s, const Eigen::VectorXd& t) {
  const auto m = static_cast<double>(s.size());
  const double diagonal = s.dot(t);
  return (cross_squared - diagonal + s.sum() * t.sum() / ((m - 1) * (m - 2)) - 2.0 / (m - 2) * diagonal) /
         (m * (m - 3));
}

void check_variance(const char* function, double variance) {
  if (!(variance > 0 && variance <= 1))
    raise<InvalidArgument>(function, "variance", "must be in (0, 1]", std::to_string(variance));
}

std::vector<double> singular_values_of(const Eigen::MatrixXd& m) {
  const Eigen::VectorXd singular = detail::svd_factors(m, 0).values;
  std::vector<double> values(static_cast<std::size_t>(singular.size()));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::min(1.0, singular(static_cast<Eigen::Index>(i)));
  return values;
}

// Canonical correlations: the singular values of U_a^T U_b = W_a^T S_ab W_b.
std::vector<double> canonical(const MatrixView<float>& a, const MatrixView<float>& b, double variance,
                              const char* function) {
  const detail::JointScatter s = detail::joint_scatter(a, b);
  return singular_values_of(whitening_basis(s.aa, variance, function, "a").transpose() * s.ab *
                            whitening_basis(s.bb, variance, function, "b"));
}

// Squared norms of the centred rows, in double.
Eigen::VectorXd centred_squared_norms(const RowMatrixd& rows) {
  const RowMatrixd centred = rows.rowwise() - rows.colwise().mean();
  return centred.rowwise().squaredNorm();
}

}  // namespace

double minibatch_cka(const MatrixView<float>& a, const MatrixView<float>& b, std::int64_t batch_size,
                     std::uint64_t seed) {
  check_pair_rows("minibatch_cka", a, b);
  if (batch_size < 4 || batch_size > a.rows)
    raise<InvalidArgument>("minibatch_cka", "batch_size", "must be between 4 and the number of rows",
                           "batch_size=" + std::to_string(batch_size) + ", rows=" + std::to_string(a.rows));
  detail::SplitMix64 random{seed};
  const std::vector<std::int64_t> order = random.sample(a.rows, a.rows);
  double cross = 0, self_a = 0, self_b = 0;
  RowMatrixf batch_a(batch_size, a.cols), batch_b(batch_size, b.cols);
  for (std::int64_t start = 0; start + batch_size <= a.rows; start += batch_size) {
    for (std::int64_t r = 0; r < batch_size; ++r) {
      const std::int64_t row = order[static_cast<std::size_t>(start + r)];
      batch_a.row(r) = Eigen::Map<const Eigen::RowVectorXf>(a.row(row), a.cols);
      batch_b.row(r) = Eigen::Map<const Eigen::RowVectorXf>(b.row(row), b.cols);
    }
    // Centred rows: HSIC_1 does not change under a shift of the rows, and
    // without the shift a large mean cannot swamp the variance in rounding.
    const detail::JointScatter s = detail::joint_scatter(MatrixView<float>(batch_a), MatrixView<float>(batch_b));
    const Eigen::VectorXd norms_a = centred_squared_norms(batch_a.cast<double>());
    const Eigen::VectorXd norms_b = centred_squared_norms(batch_b.cast<double>());
    cross += unbiased_hsic(s.ab.squaredNorm(), norms_a, norms_b);
    self_a += unbiased_hsic(s.aa.squaredNorm(), norms_a, norms_a);
    self_b += unbiased_hsic(s.bb.squaredNorm(), norms_b, norms_b);
  }
  if (!(self_a > 0) || !(self_b > 0))
    raise<NumericalError>("minibatch_cka", self_a > 0 ? "b" : "a",
                          "has no variance the unbiased HSIC can see (its estimate is <= 0)");
  return cross / std::sqrt(self_a * self_b);
}

std::vector<double> canonical_correlations(const MatrixView<float>& a, const MatrixView<float>& b) {
  check_pair_rows("canonical_correlations", a, b);
  return canonical(a, b, 1.0, "canonical_correlations");
}

double svcca(const MatrixView<float>& a, const MatrixView<float>& b, double variance) {
  check_pair_rows("svcca", a, b);
  check_variance("svcca", variance);
  const std::vector<double> rho = canonical(a, b, variance, "svcca");
  return std::accumulate(rho.begin(), rho.end(), 0.0) / static_cast<double>(rho.size());
}

double pwcca(const MatrixView<float>& a, const MatrixView<float>& b) {
  check_pair_rows("pwcca", a, b);
  const bool a_side = a.cols <= b.cols;  // the weights come from the space of fewer units
  const detail::JointScatter s = detail::joint_scatter(a, b);
  const RowMatrixd& s_xx = a_side ? s.aa : s.bb;
  const RowMatrixd s_xy = a_side ? s.ab : RowMatrixd(s.ab.transpose());
  const Eigen::MatrixXd w_x = whitening_basis(s_xx, 1.0, "pwcca", a_side ? "a" : "b");
  const Eigen::MatrixXd w_y = whitening_basis(a_side ? s.bb : s.aa, 1.0, "pwcca", a_side ? "b" : "a");
  const detail::SvdFactors svd =
      detail::svd_factors(Eigen::MatrixXd(w_x.transpose() * s_xy * w_y), Eigen::ComputeThinU);
  // <h_i, x_j> for the canonical variates h = X_c W_x P over the centred units x_j: P^T W_x^T S_xx.
  const Eigen::MatrixXd projections = svd.u.transpose() * (w_x.transpose() * s_xx);
  const Eigen::VectorXd weights = projections.cwiseAbs().rowwise().sum();
  const Eigen::VectorXd rho = svd.values.cwiseMin(1.0);
  return weights.dot(rho) / weights.sum();
}

FeatureMatching match_features(const MatrixView<float>& a, const MatrixView<float>& b, bool one_to_one) {
  check_pair_rows("match_features", a, b);
  if (a.rows < 2) raise<InvalidArgument>("match_features", "a", "needs at least 2 rows for a correlation", "rows=1");
  const detail::JointScatter s = detail::joint_scatter(a, b);
  FeatureMatching result;
  result.correlation = RowMatrixd::Zero(a.cols, b.cols);
  for (std::int64_t i = 0; i < a.cols; ++i)
    for (std::int64_t j = 0; j < b.cols; ++j)
      if (s.aa(i, i) > 0 && s.bb(j, j) > 0) result.correlation(i, j) = s.ab(i, j) / std::sqrt(s.aa(i, i) * s.bb(j, j));
  if (one_to_one) {
    result.match = linear_assignment(result.correlation, true);
  } else {
    result.match.resize(static_cast<std::size_t>(a.cols));
    for (std::int64_t i = 0; i < a.cols; ++i) {
      Eigen::Index best = 0;
      result.correlation.row(i).maxCoeff(&best);  // the first maximum: the smaller index on ties
      result.match[static_cast<std::size_t>(i)] = best;
    }
  }
  double total = 0;
  std::int64_t matched = 0;
  for (std::int64_t i = 0; i < a.cols; ++i)
    if (const std::int64_t j = result.match[static_cast<std::size_t>(i)]; j >= 0)
      total += result.correlation(i, j), ++matched;
  result.mean_correlation = total / static_cast<double>(matched);
  return result;
}

}  // namespace latent
