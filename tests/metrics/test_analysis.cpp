// metrics.hpp, the analysis measures: invariances of CKA, CCA/SVCCA and RSA used
// as oracles, minibatch CKA against its unbiased-HSIC definition, LiDAR and the
// collapse diagnostics on constructed spaces, and the assignment and clustering
// agreement scores against brute force and hand-computed cases. The comparisons
// with numpy, scipy and scikit-learn on the bundled encoder latents are in
// tests/python/test_analysis.py.
#include <gtest/gtest.h>

#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using testing::message_of;
using testing::random_normal;

RowMatrixd orthogonal(std::int64_t d, std::uint32_t seed) {
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(random_normal<double>(d, d, seed));
  return Eigen::MatrixXd(qr.householderQ());
}

RowMatrixf as_float(const RowMatrixd& x) { return x.cast<float>(); }

// Two spaces that share a signal: b = a W + noise.
struct SharedSignal {
  RowMatrixd a = random_normal<double>(400, 8, 21);
  RowMatrixd b = a * random_normal<double>(8, 6, 22) + 0.5 * random_normal<double>(400, 6, 23);
};

TEST(Comparison, CkaIsInvariantToOrthogonalMapsAndIsotropicScaling) {
  const SharedSignal s;
  const RowMatrixd moved = s.b * orthogonal(6, 24) * 7.5;
  EXPECT_NEAR(linear_cka(s.a, moved), linear_cka(s.a, s.b), 1e-12);
  EXPECT_NEAR(rbf_cka(as_float(s.a), as_float(moved)), rbf_cka(as_float(s.a), as_float(s.b)), 1e-6);
  // A non-isotropic scaling changes it: the oracle can fail.
  RowMatrixd stretched = s.b;
  stretched.col(0) *= 20.0;
  EXPECT_GT(std::abs(linear_cka(s.a, stretched) - linear_cka(s.a, s.b)), 1e-3);
}

TEST(Comparison, CcaIsInvariantToInvertibleMapsAndSvccaToOrthogonalOnes) {
  const SharedSignal s;
  const RowMatrixf a = as_float(s.a), b = as_float(s.b);
  const RowMatrixd general = random_normal<double>(6, 6, 25) + 3.0 * RowMatrixd::Identity(6, 6);
  const RowMatrixf mapped = as_float(s.b * general);
  const std::vector<double> rho = canonical_correlations(a, b), rho_mapped = canonical_correlations(a, mapped);
  ASSERT_EQ(rho.size(), 6u);
  for (std::size_t i = 0; i < rho.size(); ++i) EXPECT_NEAR(rho[i], rho_mapped[i], 1e-5) << i;
  EXPECT_TRUE(std::is_sorted(rho.rbegin(), rho.rend()));
  EXPECT_NEAR(svcca(a, mapped, 1.0), std::accumulate(rho.begin(), rho.end(), 0.0) / 6, 1e-5);
  // The 99% truncation follows the principal directions: orthogonal maps and scaling keep it.
  const RowMatrixf rotated = as_float(s.b * orthogonal(6, 26) * 0.1);
  EXPECT_NEAR(svcca(a, rotated), svcca(a, b), 1e-5);
  // PWCCA weighs by the units of the space of fewer dimensions (b here): the
  // other space may go through any invertible map, and b's units may be permuted.
  const RowMatrixf a_mapped = as_float(s.a * (random_normal<double>(8, 8, 28) + 3.0 * RowMatrixd::Identity(8, 8)));
  EXPECT_NEAR(pwcca(a_mapped, b), pwcca(a, b), 1e-5);
  RowMatrixf permuted = b;
  permuted.col(0).swap(permuted.col(4));
  EXPECT_NEAR(pwcca(a, permuted), pwcca(a, b), 1e-9);
  // A space against an invertible map of itself: every correlation is 1.
  for (const double value : canonical_correlations(b, mapped)) EXPECT_NEAR(value, 1.0, 1e-5);
  EXPECT_NEAR(pwcca(b, mapped), 1.0, 1e-5);
  // Noise shares little.
  const RowMatrixf noise = random_normal<float>(400, 6, 27);
  EXPECT_LT(svcca(a, noise), 0.2);
  EXPECT_LT(pwcca(a, noise), 0.2);
}

TEST(Comparison, CcaOfRankDeficientSpacesUsesTheirRank) {
  // b has 5 columns but rank 2; a's column space contains b's: two correlations of 1.
  const RowMatrixd a = random_normal<double>(200, 4, 30);
  RowMatrixd b(200, 5);
  b << a.col(0), a.col(1), a.col(0) + a.col(1), 2 * a.col(0), a.col(1) - a.col(0);
  const std::vector<double> rho = canonical_correlations(as_float(a), as_float(b));
  ASSERT_EQ(rho.size(), 2u);
  EXPECT_NEAR(rho[0], 1.0, 1e-6);
  EXPECT_NEAR(rho[1], 1.0, 1e-6);
  const RowMatrixf constant = RowMatrixf(RowMatrixf::Constant(200, 3, 2.0f));
  EXPECT_CONTAINS(message_of<NumericalError>([&] { svcca(as_float(a), constant); }), "b");
  EXPECT_THROW(svcca(as_float(a), as_float(b), 0.0), InvalidArgument);
  EXPECT_THROW(svcca(as_float(a), as_float(b), 1.5), InvalidArgument);
}

TEST(Comparison, RsaIsInvariantToMonotoneTransformsOfTheDistances) {
  // For unit rows x, the rows [x (x) x (x) x, x] / sqrt 2 have cosine (c^3 + c) / 2,
  // a strictly increasing function of the cosine c of x: every distance rank is kept.
  const RowMatrixf x = random_normal<float>(60, 4, 31).rowwise().normalized();
  RowMatrixf cubed(60, 64 + 4);
  for (Eigen::Index r = 0; r < 60; ++r) {
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j)
        for (int k = 0; k < 4; ++k) cubed(r, 16 * i + 4 * j + k) = x(r, i) * x(r, j) * x(r, k);
    cubed.row(r).tail(4) = x.row(r);
  }
  // (to float rounding, which may swap pairs of nearly equal distance)
  EXPECT_NEAR(rsa(x, cubed), 1.0, 1e-6);
  const RowMatrixf other = random_normal<float>(60, 7, 32);
  EXPECT_NEAR(rsa(x, other), rsa(cubed, other), 1e-6);
  EXPECT_LT(std::abs(rsa(x, other)), 0.3);
}

// The unbiased HSIC of Song et al. written out term by term.
double hsic_by_sums(const RowMatrixd& k0, const RowMatrixd& l0) {
  const Eigen::Index m = k0.rows();
  RowMatrixd k = k0, l = l0;
  k.diagonal().setZero();
  l.diagonal().setZero();
  double trace = 0, sum_k = 0, sum_l = 0, cross = 0;
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index j = 0; j < m; ++j) {
      trace += k(i, j) * l(j, i);
      sum_k += k(i, j);
      sum_l += l(i, j);
      for (Eigen::Index t = 0; t < m; ++t) cross += k(i, j) * l(j, t);
    }
  const auto md = static_cast<double>(m);
  return (trace + sum_k * sum_l / ((md - 1) * (md - 2)) - 2.0 / (md - 2) * cross) / (md * (md - 3));
}

TEST(Comparison, MinibatchCkaIsTheUnbiasedHsicRatio) {
  const SharedSignal s;
  const RowMatrixf a = as_float(s.a.topRows(40)), b = as_float(s.b.topRows(40));
  // One batch of all rows: the shuffle does not matter (HSIC_1 is a symmetric statistic).
  const RowMatrixd ad = a.cast<double>(), bd = b.cast<double>();
  const RowMatrixd k = ad * ad.transpose(), l = bd * bd.transpose();
  const double expected = hsic_by_sums(k, l) / std::sqrt(hsic_by_sums(k, k) * hsic_by_sums(l, l));
  EXPECT_NEAR(minibatch_cka(a, b, 40, 1), expected, 1e-9);
  EXPECT_NEAR(minibatch_cka(a, b, 40, 2), expected, 1e-9);
  // Smaller batches: seeded, and close to the full linear CKA on a large sample.
  const RowMatrixf big_a = as_float(s.a), big_b = as_float(s.b);
  EXPECT_EQ(minibatch_cka(big_a, big_b, 50, 7), minibatch_cka(big_a, big_b, 50, 7));
  EXPECT_NE(minibatch_cka(big_a, big_b, 50, 7), minibatch_cka(big_a, big_b, 50, 8));
  EXPECT_NEAR(minibatch_cka(big_a, big_b, 100, 7), linear_cka(s.a, s.b), 0.05);
  EXPECT_THROW(minibatch_cka(big_a, big_b, 3), InvalidArgument);
  EXPECT_THROW(minibatch_cka(big_a, big_b, 401), InvalidArgument);
}

TEST(Comparison, FeatureMatchingFindsPermutedUnits) {
  const RowMatrixd a = random_normal<double>(300, 5, 40);
  const std::vector<std::int64_t> permutation = {3, 0, 4, 1, 2};
  RowMatrixd b(300, 6);
  for (int j = 0; j < 5; ++j) b.col(permutation[static_cast<std::size_t>(j)]) = 2.0 * a.col(j).array() + 1.0;
  b.col(5) = random_normal<double>(300, 1, 41).col(0);
  for (const bool one_to_one : {true, false}) {
    const FeatureMatching m = match_features(as_float(a), as_float(b), one_to_one);
    EXPECT_EQ(m.match, permutation);
    EXPECT_NEAR(m.mean_correlation, 1.0, 1e-6);
    EXPECT_NEAR(m.correlation(0, 3), 1.0, 1e-6);
  }
  // More units in a than in b: one is left unmatched by the one-to-one matching,
  // while argmax may reuse a unit.
  const FeatureMatching wide = match_features(as_float(b), as_float(a), true);
  EXPECT_EQ(std::count(wide.match.begin(), wide.match.end(), -1), 1);
  EXPECT_EQ(wide.match[5], -1);
  EXPECT_THROW(match_features(as_float(a.topRows(1)), as_float(b.topRows(1))), InvalidArgument);
}

TEST(Collapse, LidarCountsTheDiscriminativeDirections) {
  // Four classes whose means differ along two axes only, unit within-class noise:
  // S_b has rank 2, so LiDAR is between 1 and 2, and 2 for equal spreads.
  const std::int64_t per_class = 500;
  RowMatrixf x = random_normal<float>(4 * per_class, 6, 50);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(4 * per_class));
  const double means[4][2] = {{10, 0}, {-10, 0}, {0, 10}, {0, -10}};
  for (std::int64_t i = 0; i < 4 * per_class; ++i) {
    const std::int64_t c = i / per_class;
    labels[static_cast<std::size_t>(i)] = 100 + c;
    x(i, 0) += static_cast<float>(means[c][0]);
    x(i, 1) += static_cast<float>(means[c][1]);
  }
  const double value = lidar(x, labels);
  EXPECT_GT(value, 1.9);
  EXPECT_LT(value, 2.05);
  // Collapse the second axis: one direction remains.
  RowMatrixf flat = x;
  for (std::int64_t i = 0; i < flat.rows(); ++i) flat(i, 1) -= static_cast<float>(means[i / per_class][1]);
  EXPECT_LT(lidar(flat, labels), 1.3);
  EXPECT_THROW(lidar(x, std::vector<std::int64_t>(labels.size(), 1)), InvalidArgument);
  EXPECT_THROW(lidar(x, {1, 2}), DimensionMismatch);
  EXPECT_THROW(lidar(x, labels, 0.0), InvalidArgument);
}

TEST(Collapse, DiagnosticsOfAPartlyCollapsedSpace) {
  // Columns with standard deviations 2, 1, 0.05 and a constant column.
  RowMatrixf x = random_normal<float>(5000, 4, 60);
  x.col(0) *= 2.0f;
  x.col(2) *= 0.05f;
  x.col(3).setConstant(3.0f);
  const CollapseDiagnostics d = collapse_diagnostics(x);
  ASSERT_EQ(d.std.size(), 4u);
  EXPECT_NEAR(d.std[0], 2.0, 0.1);
  EXPECT_NEAR(d.std[2], 0.05, 0.005);
  EXPECT_EQ(d.std[3], 0.0);
  EXPECT_EQ(d.min_std, 0.0);
  EXPECT_EQ(d.active_units, 2);
  // Hinge: columns 0 and 1 are above 1 (about 0), columns 2 and 3 miss by ~0.95 and 0.99.
  EXPECT_NEAR(d.vicreg_variance,
              (0 + std::max(0.0, 1 - std::sqrt(d.std[1] * d.std[1] + 1e-4)) +
               (1 - std::sqrt(d.std[2] * d.std[2] + 1e-4)) + (1 - std::sqrt(1e-4))) /
                  4,
              1e-12);
  EXPECT_LT(d.vicreg_covariance, 0.01);  // independent columns
  EXPECT_GT(d.rankme, 1.0);
  EXPECT_LT(d.rankme, 4.0);
  RowMatrixf copies = x;
  copies.col(1) = copies.col(0);
  EXPECT_GT(collapse_diagnostics(copies).vicreg_covariance, 2 * 16.0 / 4 * 0.9);  // 2 C_01^2 / d, C_01 ~ 4
  EXPECT_THROW(collapse_diagnostics(RowMatrixf(x.topRows(1))), InvalidArgument);
  EXPECT_EQ(collapse_diagnostics(RowMatrixf(RowMatrixf::Zero(3, 2))).rankme, 0.0);
}

// The best assignment by trying every permutation of the columns.
double brute_force_best(const RowMatrixd& cost) {
  std::vector<int> columns(static_cast<std::size_t>(cost.cols()));
  std::iota(columns.begin(), columns.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  do {
    double total = 0;
    for (Eigen::Index i = 0; i < cost.rows(); ++i) total += cost(i, columns[static_cast<std::size_t>(i)]);
    best = std::min(best, total);
  } while (std::next_permutation(columns.begin(), columns.end()));
  return best;
}

TEST(Clustering, LinearAssignmentIsOptimalAndOneToOne) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    const std::int64_t rows = 2 + static_cast<std::int64_t>(seed % 4),
                       cols = rows + static_cast<std::int64_t>(seed % 3);
    const RowMatrixd cost = random_normal<double>(rows, cols, seed).array().round();  // ties on purpose
    const std::vector<std::int64_t> match = linear_assignment(cost);
    double total = 0;
    std::vector<std::int64_t> used;
    for (std::int64_t i = 0; i < rows; ++i) {
      ASSERT_GE(match[static_cast<std::size_t>(i)], 0);
      total += cost(i, match[static_cast<std::size_t>(i)]);
      used.push_back(match[static_cast<std::size_t>(i)]);
    }
    std::sort(used.begin(), used.end());
    EXPECT_EQ(std::unique(used.begin(), used.end()), used.end());
    EXPECT_NEAR(total, brute_force_best(cost), 1e-12) << seed;
    // Transposed (more rows than columns): the same total; the extra rows get -1.
    const std::vector<std::int64_t> back = linear_assignment(cost.transpose());
    double back_total = 0;
    for (std::size_t j = 0; j < back.size(); ++j)
      if (back[j] >= 0) back_total += cost(back[j], static_cast<Eigen::Index>(j));
    EXPECT_EQ(std::count(back.begin(), back.end(), -1), cols - rows);
    EXPECT_NEAR(back_total, total, 1e-12);
    // maximize is minimize of the negated cost.
    const std::vector<std::int64_t> best = linear_assignment(cost, true);
    double best_total = 0;
    for (std::int64_t i = 0; i < rows; ++i) best_total += cost(i, best[static_cast<std::size_t>(i)]);
    EXPECT_NEAR(best_total, -brute_force_best(-cost), 1e-12);
  }
  EXPECT_THROW(linear_assignment(RowMatrixd(0, 3)), EmptyInput);
  RowMatrixd bad = RowMatrixd::Ones(2, 2);
  bad(1, 0) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(linear_assignment(bad), NonFiniteValue);
}

TEST(Clustering, AgreementScoresOfHandCases) {
  const std::vector<std::int64_t> truth = {0, 0, 0, 1, 1, 1};
  // The same partition under other names: every score is 1.
  const std::vector<std::int64_t> renamed = {7, 7, 7, -2, -2, -2};
  EXPECT_NEAR(normalized_mutual_info(truth, renamed), 1.0, 1e-12);
  EXPECT_NEAR(adjusted_rand_index(truth, renamed), 1.0, 1e-12);
  EXPECT_NEAR(cluster_accuracy(truth, renamed), 1.0, 1e-12);
  // One row moved: contingency [[2, 1], [0, 3]].
  const std::vector<std::int64_t> moved = {0, 0, 1, 1, 1, 1};
  const double n = 6, mi = (2 * std::log(6.0 * 2 / (3 * 2)) + 1 * std::log(6.0 * 1 / (3 * 4)) +
                            3 * std::log(6.0 * 3 / (3 * 4))) /
                           n;
  const double h_truth = std::log(2.0), h_moved = -(2 / n) * std::log(2 / n) - (4 / n) * std::log(4 / n);
  EXPECT_NEAR(normalized_mutual_info(truth, moved), mi / ((h_truth + h_moved) / 2), 1e-12);
  // ARI: index = C(2,2) + C(3,2) = 4; rows 3 + 3 = 6; columns C(2,2) + C(4,2) = 7; C(6,2) = 15.
  const double expected_index = 6.0 * 7.0 / 15.0;
  EXPECT_NEAR(adjusted_rand_index(truth, moved), (4 - expected_index) / (6.5 - expected_index), 1e-12);
  EXPECT_NEAR(cluster_accuracy(truth, moved), 5.0 / 6.0, 1e-12);
  // More clusters than classes: the best one-to-one map leaves a cluster out.
  EXPECT_NEAR(cluster_accuracy(truth, {0, 1, 2, 3, 3, 3}), 4.0 / 6.0, 1e-12);
  // Degenerate partitions.
  const std::vector<std::int64_t> one(6, 4), singletons = {0, 1, 2, 3, 4, 5};
  EXPECT_EQ(normalized_mutual_info(one, one), 1.0);
  EXPECT_EQ(normalized_mutual_info(truth, one), 0.0);
  EXPECT_EQ(adjusted_rand_index(singletons, singletons), 1.0);
  EXPECT_EQ(adjusted_rand_index(truth, one), 0.0);
  EXPECT_THROW(normalized_mutual_info(truth, {1, 2}), DimensionMismatch);
  EXPECT_THROW(adjusted_rand_index({}, {}), EmptyInput);
  EXPECT_THROW(cluster_accuracy({}, {}), EmptyInput);
}

}  // namespace
}  // namespace latent
