// Probabilistic embeddings: KL (three directions), 2-Wasserstein, Bhattacharyya and
// the expected squared distance against their textbook formulas in long double;
// the properties (KL >= 0 and 0 only for equal Gaussians, W2 of point masses is
// l2); the Monte-Carlo match probability against its zero-variance limit and a
// quadrature; exact KL search through the KL -> MIPS reduction against the sorted
// divergence matrix on Gaussians made from the bundled encoder latents; log I_nu
// against mpmath values; the vMF normaliser, mean resultant length and KL against
// the closed forms on S^2; and the errors of each entry point.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/similarity/probabilistic.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using Index = std::int64_t;
using Long = long double;

template <class T>
GaussianEmbedding<T> random_gaussians(Index rows, Index dim, std::uint32_t seed, double mean_scale = 1.0) {
  const RowMatrix<T> mean = (mean_scale * testing::random_normal<double>(rows, dim, seed)).cast<T>();
  const RowMatrix<T> log_variance = (0.7 * testing::random_normal<double>(rows, dim, seed + 1000)).cast<T>();
  return GaussianEmbedding<T>::from_log_variance(mean, log_variance);
}

// KL(p_i || q_j) from the textbook formula, in long double.
template <class T>
Long kl_reference(const GaussianEmbedding<T>& p, Index i, const GaussianEmbedding<T>& q, Index j) {
  Long sum = 0;
  for (Index t = 0; t < p.dim(); ++t) {
    const Long mp = p.mean()(i, t), sp = p.variance()(i, t), mq = q.mean()(j, t), sq = q.variance()(j, t);
    sum += std::log(sq / sp) + (sp + (mp - mq) * (mp - mq)) / sq - 1;
  }
  return sum / 2;
}

TEST(GaussianKl, MatchesTheFormulaInEveryDirection) {
  const auto queries = random_gaussians<double>(20, 16, 1);
  const auto base = random_gaussians<double>(30, 16, 2);
  const RowMatrixd forward = kl_divergence(queries, base);
  const RowMatrixd reverse = kl_divergence(queries, base, KlDirection::reverse);
  const RowMatrixd symmetric = kl_divergence(queries, base, KlDirection::symmetric);
  for (Index i = 0; i < 20; ++i) {
    for (Index j = 0; j < 30; ++j) {
      const Long f = kl_reference(queries, i, base, j), r = kl_reference(base, j, queries, i);
      EXPECT_NEAR(forward(i, j), static_cast<double>(f), 1e-12 * static_cast<double>(f));
      EXPECT_NEAR(reverse(i, j), static_cast<double>(r), 1e-12 * static_cast<double>(r));
      EXPECT_NEAR(symmetric(i, j), static_cast<double>(f + r), 1e-12 * static_cast<double>(f + r));
    }
  }
  // One dimension by hand: KL(N(0, 1) || N(1, 2)) = (log 2 + (1 + 1) / 2 - 1) / 2 = log(2) / 2.
  const GaussianEmbedding<float> p(RowMatrixf::Constant(1, 1, 0.0f), RowMatrixf::Constant(1, 1, 1.0f));
  const GaussianEmbedding<float> q(RowMatrixf::Constant(1, 1, 1.0f), RowMatrixf::Constant(1, 1, 2.0f));
  EXPECT_NEAR(kl_divergence(p, q)(0, 0), 0.5 * std::log(2.0), 1e-15);
}

TEST(GaussianKl, IsNonNegativeAndZeroOnlyForEqualGaussians) {
  const auto g = random_gaussians<float>(40, 8, 3);
  const RowMatrixd self = kl_divergence(g, g, KlDirection::symmetric);
  for (Index i = 0; i < 40; ++i) {
    EXPECT_EQ(self(i, i), 0.0);
    for (Index j = 0; j < 40; ++j) {
      if (j == i) continue;
      EXPECT_GT(self(i, j), 0.0);
    }
  }
  // Nearly equal: a mean moved by one ulp, or a variance by one part in 1e6, is > 0.
  RowMatrixd mean = RowMatrixd::Constant(1, 3, 0.5), variance = RowMatrixd::Constant(1, 3, 2.0);
  RowMatrixd moved_mean = mean, moved_variance = variance;
  moved_mean(0, 1) = std::nextafter(0.5, 1.0);
  moved_variance(0, 2) *= 1.000001;
  const GaussianEmbedding<double> a(mean, variance), b(moved_mean, variance), c(mean, moved_variance);
  EXPECT_GT(kl_divergence(a, b)(0, 0), 0.0);
  EXPECT_GT(kl_divergence(a, c)(0, 0), 0.0);
  const auto many = random_gaussians<double>(50, 4, 4, 0.01);
  EXPECT_GE(kl_divergence(many, many).minCoeff(), 0.0);
}

TEST(GaussianDistances, WassersteinBhattacharyyaAndExpectedSquaredDistance) {
  const auto queries = random_gaussians<double>(15, 12, 5);
  const auto base = random_gaussians<double>(25, 12, 6);
  const RowMatrixd w2 = wasserstein2_distance(queries, base);
  const RowMatrixd bc = bhattacharyya_distance(queries, base);
  const RowMatrixd esd = expected_squared_distance(queries, base);
  for (Index i = 0; i < 15; ++i) {
    for (Index j = 0; j < 25; ++j) {
      Long w = 0, b = 0, e = 0;
      for (Index t = 0; t < 12; ++t) {
        const Long m1 = queries.mean()(i, t), v1 = queries.variance()(i, t);
        const Long m2 = base.mean()(j, t), v2 = base.variance()(j, t);
        w += (m1 - m2) * (m1 - m2) + (std::sqrt(v1) - std::sqrt(v2)) * (std::sqrt(v1) - std::sqrt(v2));
        const Long v = (v1 + v2) / 2;  // Sigma = (Sigma_1 + Sigma_2) / 2
        b += (m1 - m2) * (m1 - m2) / (8 * v) + std::log(v / std::sqrt(v1 * v2)) / 2;
        e += (m1 - m2) * (m1 - m2) + v1 + v2;
      }
      EXPECT_NEAR(w2(i, j), static_cast<double>(std::sqrt(w)), 1e-13 * w2(i, j));
      EXPECT_NEAR(bc(i, j), static_cast<double>(b), 1e-12 * bc(i, j));
      EXPECT_NEAR(esd(i, j), static_cast<double>(e), 1e-13 * esd(i, j));
    }
  }
  // Point masses (equal variances): W2 is the l2 distance of the means; the
  // Bhattacharyya distance of equal Gaussians is 0.
  const RowMatrixd means = testing::random_normal<double>(10, 5, 7);
  const GaussianEmbedding<double> points(means, RowMatrixd::Constant(10, 5, 1e-300));
  const RowMatrixd l2 = wasserstein2_distance(points, points);
  for (Index i = 0; i < 10; ++i)
    for (Index j = 0; j < 10; ++j) EXPECT_NEAR(l2(i, j), (means.row(i) - means.row(j)).norm(), 1e-14);
  EXPECT_EQ(bhattacharyya_distance(points, points).diagonal().cwiseAbs().maxCoeff(), 0.0);
}

TEST(MatchProbability, PointMassesGiveTheSigmoidAndSamplingConverges) {
  const RowMatrixd means = testing::random_normal<double>(6, 4, 8);
  const GaussianEmbedding<double> points(means, RowMatrixd::Constant(6, 4, 1e-300));
  MatchProbabilityOptions options;
  options.scale = 2.0;
  options.shift = 1.5;
  const RowMatrixd exact = match_probability(points, points, options);
  for (Index i = 0; i < 6; ++i)
    for (Index j = 0; j < 6; ++j)
      EXPECT_NEAR(exact(i, j), 1.0 / (1.0 + std::exp(2.0 * (means.row(i) - means.row(j)).norm() - 1.5)), 1e-12);

  // One dimension, N(0, 1) against N(0, 1): z1 - z2 ~ N(0, 2), so p = E sigmoid(-a |z| + b)
  // over that law, by the trapezoid rule.
  const GaussianEmbedding<double> unit(RowMatrixd::Zero(1, 1), RowMatrixd::Ones(1, 1));
  double integral = 0.0;
  const double step = 1e-4;
  for (double z = -12.0; z <= 12.0; z += step) {
    integral += step * std::exp(-z * z / 4.0) / std::sqrt(4.0 * M_PI) / (1.0 + std::exp(2.0 * std::abs(z) - 1.5));
  }
  options.samples = 512;
  const double estimate = match_probability(unit, unit, options)(0, 0);
  EXPECT_NEAR(estimate, integral, 0.01);  // standard error ~0.5 / J = 0.001

  // The same draws whatever the thread count.
  const auto g = random_gaussians<float>(30, 6, 9);
  options.samples = 4;
  Parallel one, four;
  one.threads = 1;
  four.threads = 4;
  EXPECT_EQ(match_probability(g, g, options, one), match_probability(g, g, options, four));
}

// Gaussians from the bundled data: the means are one encoder's latents of 2,000
// images, the variances the squared disagreement of a second encoder trained with
// another seed, plus 0.01.
GaussianEmbedding<float> encoder_gaussians() {
  const std::string data = std::string(LATENT_SOURCE_DIR) + "/data/encoders/";
  const RowMatrixf a = read_npy_matrix<float>(data + "mlp_seed0.npy");
  const RowMatrixf b = read_npy_matrix<float>(data + "mlp_seed1.npy");
  const float scale = 1.0f / a.rowwise().norm().mean();
  const RowMatrixf variance = ((a - b) * scale).cwiseAbs2().array() + 0.01f;
  return GaussianEmbedding<float>(a * scale, variance);
}

template <class T>
KnnGraph sorted_divergences(const RowMatrixd& divergences, Index k, bool self) {
  KnnGraph graph;
  graph.ids.resize(divergences.rows(), k);
  graph.scores.resize(divergences.rows(), k);
  for (Index i = 0; i < divergences.rows(); ++i) {
    std::vector<Index> order;
    for (Index j = 0; j < divergences.cols(); ++j)
      if (!(self && i == j)) order.push_back(j);
    std::stable_sort(order.begin(), order.end(),
                     [&](Index x, Index y) { return divergences(i, x) < divergences(i, y); });
    for (Index e = 0; e < k; ++e) {
      graph.ids(i, e) = order[static_cast<std::size_t>(e)];
      graph.scores(i, e) = static_cast<float>(divergences(i, order[static_cast<std::size_t>(e)]));
    }
  }
  return graph;
}

void expect_same(const KnnGraph& got, const KnnGraph& expected, const std::string& context) {
  ASSERT_EQ(got.ids.rows(), expected.ids.rows());
  EXPECT_EQ(got.metric, Metric::l2);
  for (Index i = 0; i < got.ids.rows(); ++i) {
    for (Index e = 0; e < got.ids.cols(); ++e) {
      ASSERT_EQ(got.ids(i, e), expected.ids(i, e)) << context << " row " << i << " rank " << e;
      ASSERT_EQ(got.scores(i, e), expected.scores(i, e)) << context << " row " << i << " rank " << e;
    }
  }
}

TEST(KlSearch, ReducedTopKEqualsTheDirectTopKOnEncoderLatents) {
  const GaussianEmbedding<float> all = encoder_gaussians();
  const GaussianEmbedding<float> base(all.mean().topRows(1700), all.variance().topRows(1700));
  const GaussianEmbedding<float> queries(all.mean().bottomRows(300), all.variance().bottomRows(300));
  for (const KlDirection direction : {KlDirection::forward, KlDirection::reverse, KlDirection::symmetric}) {
    const RowMatrixd divergences = kl_divergence(queries, base, direction);
    for (const Index k : {1, 10}) {
      expect_same(kl_knn(queries, base, k, direction), sorted_divergences<float>(divergences, k, false),
                  std::string(to_string(direction)) + " k=" + std::to_string(k));
    }
  }
  const GaussianEmbedding<float> small(all.mean().topRows(500), all.variance().topRows(500));
  expect_same(kl_knn_graph(small, 5), sorted_divergences<float>(kl_divergence(small, small), 5, true), "graph");
}

TEST(KlSearch, DoubleRowsAndEveryRowAsCandidate) {
  const auto base = random_gaussians<double>(60, 7, 10);
  const auto queries = random_gaussians<double>(9, 7, 11);
  for (const Index k : {3, 60}) {
    expect_same(kl_knn(queries, base, k, KlDirection::symmetric),
                sorted_divergences<double>(kl_divergence(queries, base, KlDirection::symmetric), k, false),
                "k=" + std::to_string(k));
  }
  // Near-identical Gaussians far from the origin: candidates the bound cannot
  // certify are scanned, and the result is still the direct one.
  RowMatrixd mean = 1e4 * RowMatrixd::Ones(40, 3) + 1e-6 * testing::random_normal<double>(40, 3, 12);
  const GaussianEmbedding<double> tight(mean, RowMatrixd::Constant(40, 3, 1e-3));
  expect_same(kl_knn_graph(tight, 4), sorted_divergences<double>(kl_divergence(tight, tight), 4, true), "tight");
}

// ------------------------------------------------------------------------ vMF ----

TEST(Bessel, LogBesselIMatchesMpmath) {
  struct Case {
    double nu, x, log_i;
  };
  // mpmath.log(mpmath.besseli(nu, x)) at 30 digits.
  const Case cases[] = {
      {0, 0.001, 2.4999998437500174652e-7},  {0, 1.0, 0.23591435850717864869},
      {0.5, 2.5, 1.1161553514087611678},     {1, 10.0, 7.8902038341042122935},
      {31, 5.0, -49.492471968719966378},     {31, 100.0, 91.988975079706840893},
      {383, 10.0, -1282.5107553388867892},   {383, 1000.0, 923.10806459013605767},
      {383, 50000.0, 49992.204277328255698}, {0, 700.0, 695.80569999844344908},
      {2.5, 10000.0, 9994.4755912658072361}, {1000, 1e-05, -18118.200824018336972},
  };
  for (const Case& c : cases) {
    EXPECT_NEAR(log_bessel_i(c.nu, c.x), c.log_i, 1e-13 * std::max(1.0, std::abs(c.log_i)))
        << "nu=" << c.nu << " x=" << c.x;
  }
  EXPECT_EQ(log_bessel_i(0.0, 0.0), 0.0);
  EXPECT_EQ(log_bessel_i(2.0, 0.0), -std::numeric_limits<double>::infinity());
}

TEST(Vmf, ClosedFormsOnTheTwoSphere) {
  // d = 3: C_3(kappa) = kappa / (4 pi sinh kappa), A_3(kappa) = coth(kappa) - 1 / kappa.
  for (const double kappa : {0.01, 0.5, 3.0, 40.0, 600.0}) {
    const double log_c =
        std::log(kappa) - std::log(4.0 * M_PI) - (kappa + std::log1p(-std::exp(-2.0 * kappa)) - std::log(2.0));
    EXPECT_NEAR(vmf_log_normalizer(3, kappa), log_c, 1e-12 * std::max(1.0, std::abs(log_c))) << kappa;
    EXPECT_NEAR(vmf_mean_resultant_length(3, kappa), 1.0 / std::tanh(kappa) - 1.0 / kappa, 1e-12) << kappa;
  }
  RowMatrixd directions(3, 3);
  directions << 1, 0, 0, 0, 2, 0, 1, 1, 0;  // scaled to unit rows by the container
  const VmfEmbedding<double> v(directions, {2.0, 5.0, 0.5});
  EXPECT_NEAR(v.mean_direction().row(1).norm(), 1.0, 1e-15);
  const RowMatrixd kl = vmf_kl_divergence(v, v);
  for (Index i = 0; i < 3; ++i) {
    EXPECT_NEAR(kl(i, i), 0.0, 1e-12);
    for (Index j = 0; j < 3; ++j) {
      const double kp = v.kappa()[static_cast<std::size_t>(i)], kq = v.kappa()[static_cast<std::size_t>(j)];
      const auto log_c = [](double k) { return std::log(k / (4.0 * M_PI * std::sinh(k))); };
      const double cosine = v.mean_direction().row(i).dot(v.mean_direction().row(j));
      const double expected = log_c(kp) - log_c(kq) + (1.0 / std::tanh(kp) - 1.0 / kp) * (kp - kq * cosine);
      EXPECT_NEAR(kl(i, j), expected, 1e-12) << i << " " << j;
      EXPECT_GE(kl(i, j), -1e-12);
    }
  }
}

// ---------------------------------------------------------------------- errors ----

TEST(ProbabilisticErrors, NameTheArgument) {
  const RowMatrixf mean = RowMatrixf::Zero(3, 2);
  RowMatrixf variance = RowMatrixf::Ones(3, 2);
  variance(1, 1) = 0.0f;
  const std::string message = testing::message_of<InvalidArgument>([&] { GaussianEmbedding<float> g(mean, variance); });
  EXPECT_NE(message.find("variance"), std::string::npos) << message;
  EXPECT_NE(message.find("row 1, column 1"), std::string::npos) << message;
  EXPECT_THROW(GaussianEmbedding<float>(mean, RowMatrixf::Ones(3, 3)), DimensionMismatch);
  EXPECT_THROW(GaussianEmbedding<float>(RowMatrixf(0, 2), RowMatrixf(0, 2)), EmptyInput);
  RowMatrixf nan = mean;
  nan(2, 0) = std::nanf("");
  EXPECT_THROW(GaussianEmbedding<float>(nan, RowMatrixf::Ones(3, 2)), NonFiniteValue);
  EXPECT_THROW(GaussianEmbedding<float>::from_log_variance(mean, RowMatrixf(RowMatrixf::Constant(3, 2, 200.0f))),
               NumericalError);

  const GaussianEmbedding<float> a(mean, RowMatrixf::Ones(3, 2));
  const GaussianEmbedding<float> b(RowMatrixf::Zero(3, 4), RowMatrixf::Ones(3, 4));
  EXPECT_THROW(kl_divergence(a, b), DimensionMismatch);
  EXPECT_THROW(kl_knn(a, b, 1), DimensionMismatch);
  EXPECT_THROW(kl_knn(a, a, 4), InvalidK);
  EXPECT_THROW(kl_knn_graph(a, 3), InvalidK);
  MatchProbabilityOptions bad;
  bad.samples = 0;
  EXPECT_THROW(match_probability(a, a, bad), InvalidArgument);
  bad.samples = 2;
  bad.scale = -1.0;
  EXPECT_THROW(match_probability(a, a, bad), InvalidArgument);

  EXPECT_THROW(VmfEmbedding<float>(RowMatrixf::Zero(2, 3), {1.0f, 1.0f}), InvalidArgument);
  EXPECT_THROW(VmfEmbedding<float>(RowMatrixf::Ones(2, 3), {1.0f, 0.0f}), InvalidArgument);
  EXPECT_THROW(VmfEmbedding<float>(RowMatrixf::Ones(2, 3), {1.0f}), DimensionMismatch);
  EXPECT_THROW(VmfEmbedding<float>(RowMatrixf::Ones(2, 1), {1.0f, 1.0f}), InvalidArgument);
  EXPECT_THROW(log_bessel_i(-1.0, 1.0), InvalidArgument);
  EXPECT_THROW(vmf_log_normalizer(1, 1.0), InvalidArgument);
  EXPECT_EQ(parse_kl_direction("reverse"), KlDirection::reverse);
  EXPECT_THROW(parse_kl_direction("both"), InvalidArgument);
}

}  // namespace
}  // namespace latent
