// metrics/probes.hpp and the entropy and curvature of metrics/analysis.hpp:
// the ridge probe against the normal equations, cross-validation, ConSE,
// analogies on a planted parallelogram, WEAT against brute force, EvalRank,
// Renyi entropy and curvature on closed forms, and the errors. The
// scikit-learn/numpy comparisons are in tests/python/test_probes_and_edits.py.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using testing::random_normal;

TEST(Probes, RidgeSolvesTheNormalEquations) {
  RowMatrixf x = random_normal<float>(120, 5, 1);
  std::vector<std::int64_t> labels(120);
  for (std::int64_t i = 0; i < 120; ++i) {
    labels[static_cast<std::size_t>(i)] = 10 * (i % 3);
    x(i, i % 3) += 2.0f;
  }
  RidgeProbe probe(3.0);
  probe.fit(x, labels);
  // (X_c^T X_c + alpha I) W = X_c^T Y with Y in {-1, +1}.
  const RowMatrixd rows = x.cast<double>();
  const RowMatrixd centred = rows.rowwise() - rows.colwise().mean();
  RowMatrixd targets = -RowMatrixd::Ones(120, 3);
  for (std::int64_t i = 0; i < 120; ++i) targets(i, i % 3) = 1;
  const Eigen::MatrixXd gram = centred.transpose() * centred + 3.0 * Eigen::MatrixXd::Identity(5, 5);
  const Eigen::MatrixXd expected = gram.ldlt().solve(Eigen::MatrixXd(centred.transpose() * targets));
  EXPECT_LT((probe.weights() - expected).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_EQ(probe.classes(), (std::vector<std::int64_t>{0, 10, 20}));
  EXPECT_GT(probe.score(x, labels).accuracy, 0.8);
  // Cross-validation keeps the best alpha (the smallest among equals) and each alpha's accuracy.
  const std::vector<double> alphas = {1e6, 0.1, 1.0};
  RidgeProbe tuned;
  tuned.fit_cv(x, labels, alphas, 4);
  ASSERT_EQ(tuned.cv_accuracy().size(), 3u);
  const double best = *std::max_element(tuned.cv_accuracy().begin(), tuned.cv_accuracy().end());
  double chosen = std::numeric_limits<double>::infinity();
  for (std::size_t a = 0; a < alphas.size(); ++a)
    if (tuned.cv_accuracy()[a] == best) chosen = std::min(chosen, alphas[a]);
  EXPECT_EQ(tuned.alpha(), chosen);
  // Its weights are those of a plain fit at that alpha.
  EXPECT_LT((tuned.weights() - RidgeProbe(chosen).fit(x, labels).weights()).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_THROW(RidgeProbe(0.0), InvalidArgument);
  EXPECT_THROW(RidgeProbe().predict(x), NotFitted);
  EXPECT_THROW(RidgeProbe().fit(x, std::vector<std::int64_t>(120, 1)), InvalidArgument);
  EXPECT_THROW(RidgeProbe().fit_cv(x, labels, {1.0}, 1), InvalidArgument);
}

TEST(Probes, ConseCombinesTheTopSeenClasses) {
  RowMatrixd probabilities(2, 3);
  probabilities << 0.6, 0.3, 0.1, 0.1, 0.1, 0.8;
  RowMatrixf seen(3, 2), unseen(3, 2);
  seen << 1, 0, 0, 1, -1, 0;
  unseen << 1, 1, 1, -1, -1, 0.2f;
  // Row 0, top 2: (0.6 (1, 0) + 0.3 (0, 1)) / 0.9 points between unseen 0 and the x axis: unseen 0.
  // Row 1, top 1: (-1, 0): unseen 2.
  EXPECT_EQ(conse_predict(probabilities, seen, unseen, 2), (std::vector<std::int64_t>{0, 2}));
  EXPECT_THROW(conse_predict(probabilities, seen, unseen, 4), InvalidArgument);
  probabilities(0, 0) = -0.1;
  EXPECT_THROW(conse_predict(probabilities, seen, unseen, 2), InvalidArgument);
}

TEST(WordVectors, AnalogiesFindThePlantedParallelogram) {
  // king - man + woman = queen, planted among noise words.
  RowMatrixf v = random_normal<float>(30, 6, 3);
  const Eigen::RowVectorXf man = v.row(0), woman = v.row(1), king = v.row(2);
  v.row(3) = king - man + woman;  // queen
  IdMatrix questions(1, 3);
  questions << 0, 2, 1;  // man : king :: woman : ?
  for (const AnalogyMethod method : {AnalogyMethod::add, AnalogyMethod::mul})
    EXPECT_EQ(solve_analogies(v, questions, method), std::vector<std::int64_t>{3}) << to_string(method);
  questions(0, 2) = 30;
  EXPECT_THROW(solve_analogies(v, questions), InvalidArgument);
  EXPECT_EQ(parse_analogy_method("3cosmul"), AnalogyMethod::mul);
}

TEST(WordVectors, WeatCountsEveryPartitionAndEvalRankCountsBetterRows) {
  const RowMatrixf x = random_normal<float>(4, 5, 4), y = random_normal<float>(4, 5, 5);
  const RowMatrixf a = random_normal<float>(3, 5, 6), b = random_normal<float>(3, 5, 7);
  const WeatResult result = weat(x, y, a, b);
  EXPECT_TRUE(result.exact);
  EXPECT_EQ(result.partitions, 70);  // C(8, 4)
  EXPECT_GE(result.p_value, 0.0);
  EXPECT_LT(result.p_value, 1.0);
  // Swapping the targets flips the sign of the effect and mirrors the p-value's tail.
  const WeatResult swapped = weat(y, x, a, b);
  EXPECT_NEAR(swapped.effect_size, -result.effect_size, 1e-12);
  const WeatResult sampled = weat(x, y, a, b, 10, 1);
  EXPECT_FALSE(sampled.exact);
  EXPECT_EQ(sampled.partitions, 10);
  EXPECT_THROW(weat(x, y, a, b, 0), InvalidArgument);

  RowMatrixf v(4, 2);
  v << 1, 0, 0.9f, 0.1f, 0.5f, 0.5f, 0, 1;
  IdMatrix pairs(2, 2);
  pairs << 0, 2, 3, 2;  // row 1 beats row 2 for query 0 (rank 2); nothing beats row 2 for query 3 (rank 1)
  const EvalRankScores scores = evalrank(v, pairs);
  EXPECT_NEAR(scores.mrr, (0.5 + 1.0) / 2, 1e-12);
  EXPECT_NEAR(scores.hits1, 0.5, 1e-12);
  EXPECT_NEAR(scores.hits3, 1.0, 1e-12);
  pairs(1, 1) = 3;
  EXPECT_THROW(evalrank(v, pairs), InvalidArgument);
}

TEST(Entropy, RenyiEntropyAndCurvatureOfClosedForms) {
  // d orthonormal directions, each taken by n/d rows: A has d eigenvalues 1/d, entropy log d for every alpha.
  RowMatrixf x = RowMatrixf::Zero(12, 4);
  for (Eigen::Index i = 0; i < 12; ++i) x(i, i % 4) = 3.0f;
  for (const double alpha : {0.5, 1.0, 2.0}) EXPECT_NEAR(renyi_entropy(x, alpha), std::log(4.0), 1e-12) << alpha;
  // One direction: 0.
  EXPECT_NEAR(renyi_entropy(RowMatrixf(RowMatrixf::Ones(5, 3)), 1.0), 0.0, 1e-12);
  // Raw rows weigh by their squared norms: a row twice as long takes four times the share.
  RowMatrixf uneven = RowMatrixf::Zero(2, 2);
  uneven << 2, 0, 0, 1;
  const double p = 4.0 / 5.0;
  EXPECT_NEAR(renyi_entropy(uneven), -(p * std::log(p) + (1 - p) * std::log(1 - p)), 1e-12);
  EXPECT_NEAR(renyi_entropy(uneven, 1.0, true), std::log(2.0), 1e-12);
  RowMatrixf zero = x;
  zero.row(2).setZero();
  EXPECT_NO_THROW(renyi_entropy(zero));
  EXPECT_THROW(renyi_entropy(zero, 1.0, true), NumericalError);
  EXPECT_THROW(renyi_entropy(RowMatrixf(RowMatrixf::Zero(3, 2))), NumericalError);
  EXPECT_THROW(renyi_entropy(x, 0.0), InvalidArgument);
  // A square walked corner to corner turns by pi/2 at each step.
  RowMatrixf square(5, 2);
  square << 0, 0, 1, 0, 1, 1, 0, 1, 0, 0;
  EXPECT_NEAR(trajectory_curvature(square), M_PI / 2, 1e-12);
  RowMatrixf back(3, 1);
  back << 0, 1, 0;
  EXPECT_NEAR(trajectory_curvature(back), M_PI, 1e-12);
  EXPECT_THROW(trajectory_curvature(RowMatrixf(square.topRows(2))), InvalidArgument);
}

}  // namespace
}  // namespace latent
