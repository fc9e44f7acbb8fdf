// metrics.hpp: retrieval metrics against hand-computed cases, correlation
// (scipy's conventions), alignment / uniformity against a plain double
// reference, effective rank and CKA properties.
#include <gtest/gtest.h>

#include <Eigen/QR>

#include <cmath>

#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using testing::message_of;
using testing::random_normal;

TEST(Retrieval, HandComputedScores) {
  IdMatrix retrieved(2, 3);
  retrieved << 1, 2, 3, 4, 5, 6;
  Relevance relevance;
  relevance.ids = {{2, 9}, {7}};
  const RetrievalScores s = retrieval_scores(retrieved, relevance, 3);
  // Query 0: one hit (id 2) at rank 2 of 2 relevant; query 1: none.
  EXPECT_DOUBLE_EQ(s.recall, 0.25);
  EXPECT_DOUBLE_EQ(s.precision, 1.0 / 6.0);
  EXPECT_DOUBLE_EQ(s.mrr, 0.25);
  EXPECT_NEAR(s.ndcg, 0.5 * (1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0)), 1e-12);
  EXPECT_DOUBLE_EQ(s.map, 0.5 * (0.5 / 2));
  EXPECT_EQ(s.queries, 2);
  EXPECT_EQ(s.skipped, 0);
}

TEST(Retrieval, HitRPrecisionAndRanksReadTheWholeList) {
  IdMatrix retrieved(4, 4);
  retrieved << 1, 2, 3, 4,  //
      5, 6, 7, 8,           //
      9, -1, 10, 11,        //
      12, 13, 14, 15;
  Relevance relevance;
  // Query 0: relevant {2, 4} (R = 2), first hit at rank 2, one of them in the top 2.
  // Query 1: relevant {8}, first hit at rank 4 (beyond k = 2, inside the list).
  // Query 2: relevant {10, 11, 99} (R = 3): the first three ids hold 10 only; rank 3.
  // Query 3: relevant {77}: not listed, rank K + 1 = 5.
  relevance.ids = {{2, 4}, {8}, {10, 11, 99}, {77}};
  const RetrievalScores s = retrieval_scores(retrieved, relevance, 2);
  EXPECT_DOUBLE_EQ(s.hit, 0.25);
  EXPECT_DOUBLE_EQ(s.r_precision, (0.5 + 0 + 1.0 / 3 + 0) / 4);
  EXPECT_DOUBLE_EQ(s.mean_rank, (2 + 4 + 3 + 5) / 4.0);
  EXPECT_DOUBLE_EQ(s.median_rank, 3.5);  // ranks 2 3 4 5
  EXPECT_EQ(s.unranked, 1);
  EXPECT_DOUBLE_EQ(s.mrr, 0.5 / 4);  // only query 0 is answered within k
  relevance.ids = {{2, 4}, {8}, {10, 11, 99}, {}};
  const RetrievalScores odd = retrieval_scores(retrieved, relevance, 4);
  EXPECT_DOUBLE_EQ(odd.median_rank, 3.0);  // ranks 2 4 3
  EXPECT_DOUBLE_EQ(odd.hit, 1.0);
  EXPECT_EQ(odd.unranked, 0);
  EXPECT_EQ(odd.skipped, 1);
}

TEST(Retrieval, PerfectListsScoreOneAndGradedGainsShapeNdcg) {
  IdMatrix retrieved(1, 3);
  retrieved << 5, 6, 7;
  Relevance relevance;
  relevance.ids = {{5, 6, 7}};
  const RetrievalScores perfect = retrieval_scores(retrieved, relevance, 3);
  EXPECT_DOUBLE_EQ(perfect.recall, 1.0);
  EXPECT_DOUBLE_EQ(perfect.ndcg, 1.0);
  EXPECT_DOUBLE_EQ(perfect.map, 1.0);
  EXPECT_DOUBLE_EQ(perfect.r_precision, 1.0);
  EXPECT_DOUBLE_EQ(perfect.median_rank, 1.0);
  relevance.gains = {{1.0, 2.0, 3.0}};  // the list is in the worst order
  const double dcg = 1 + 2 / std::log2(3.0) + 3 / std::log2(4.0), idcg = 3 + 2 / std::log2(3.0) + 1 / std::log2(4.0);
  EXPECT_NEAR(retrieval_scores(retrieved, relevance, 3).ndcg, dcg / idcg, 1e-12);
}

TEST(Retrieval, Errors) {
  IdMatrix retrieved(1, 2);
  retrieved << 0, 1;
  Relevance relevance;
  relevance.ids = {{0}};
  EXPECT_THROW(retrieval_scores(retrieved, relevance, 3), InvalidK);
  relevance.ids = {{0}, {1}};
  EXPECT_THROW(retrieval_scores(retrieved, relevance, 1), DimensionMismatch);
  relevance.ids = {{}};
  EXPECT_THROW(retrieval_scores(retrieved, relevance, 1), EmptyInput);
  relevance.ids = {{3, 3}};
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { retrieval_scores(retrieved, relevance, 1); }), "twice");
}

TEST(Correlation, SpearmanAveragesTiesAndPearsonIsLinear) {
  // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9486832980505138
  EXPECT_NEAR(spearman({1, 2, 2, 3}, {1, 3, 2, 4}), 0.9486832980505138, 1e-12);
  EXPECT_EQ(average_ranks({10, 20, 20, 5}), (std::vector<double>{2, 3.5, 3.5, 1}));
  EXPECT_NEAR(pearson({1, 2, 3, 4}, {3, 5, 7, 9}), 1.0, 1e-15);
  EXPECT_NEAR(pearson({1, 2, 3}, {1, 3, 2}), 0.5, 1e-15);
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {1, 8, 27, 64}), 1.0, 1e-15);  // monotone, not linear
  EXPECT_THROW(pearson({1, 1, 1}, {1, 2, 3}), NumericalError);
  EXPECT_THROW(spearman({1, 2}, {1, 2, 3}), DimensionMismatch);
  EXPECT_THROW(pearson({1}, {1}), EmptyInput);
}

TEST(AlignmentUniformity, MatchTheDoubleReference) {
  RowMatrixf x = random_normal<float>(300, 5, 1);  // two row blocks of the implementation
  for (int i = 0; i < 300; ++i) x.row(i).normalize();
  double sum = 0;
  for (int i = 0; i < 300; ++i)
    for (int j = i + 1; j < 300; ++j) sum += std::exp(-2.0 * (x.row(i) - x.row(j)).cast<double>().squaredNorm());
  EXPECT_NEAR(uniformity(x, 2.0, Parallel{2}), std::log(sum / (300.0 * 299 / 2)), 1e-5);
  EXPECT_DOUBLE_EQ(alignment(x, x), 0.0);
  RowMatrixf shifted = x;
  shifted.col(0).array() += 2.0f;
  EXPECT_NEAR(alignment(x, shifted), 4.0, 1e-5);
  EXPECT_NEAR(alignment(x, shifted, 1.0), 2.0, 1e-5);
  EXPECT_THROW(uniformity(MatrixView<float>(x.data(), 1, 5)), EmptyInput);
}

TEST(Representation, EffectiveRankAndCkaProperties) {
  EXPECT_NEAR(effective_rank({2, 2, 2, 2}), 4.0, 1e-12);
  EXPECT_NEAR(effective_rank({5, 0, 0}), 1.0, 1e-12);
  const RowMatrixd x = random_normal<double>(100, 6, 2);
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(random_normal<double>(6, 6, 3));
  const RowMatrixd rotated = x * Eigen::MatrixXd(qr.householderQ()) * 3.0;
  EXPECT_NEAR(linear_cka(x, rotated), 1.0, 1e-12);
  EXPECT_LT(linear_cka(x, random_normal<double>(100, 6, 4)), 0.5);
}

TEST(Representation, RbfCkaRsaAndAffineR2Properties) {
  const RowMatrixf x = random_normal<float>(80, 5, 5);
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(random_normal<double>(5, 5, 6));
  // A rotation, a scale and a shift change no distance ratio, cosine rank or affine fit.
  const RowMatrixf moved = (x.cast<double>() * Eigen::MatrixXd(qr.householderQ()) * 2.5).cast<float>();
  EXPECT_NEAR(rbf_cka(x, moved), 1.0, 1e-6);
  EXPECT_NEAR(rbf_cka(x, x), 1.0, 1e-12);
  EXPECT_NEAR(rsa(x, moved), 1.0, 1e-9);
  RowMatrixf shifted = moved;
  shifted.col(0).array() += 3.0f;
  EXPECT_NEAR(affine_r2(x, shifted), 1.0, 1e-6);
  const RowMatrixf noise = random_normal<float>(80, 3, 7);
  EXPECT_LT(affine_r2(noise, x), 0.2);
  EXPECT_LT(rbf_cka(x, noise), 0.3);
  RowMatrixf constant = RowMatrixf::Ones(80, 2);
  EXPECT_CONTAINS(testing::message_of<NumericalError>([&] { rbf_cka(x, constant); }), "b");
  EXPECT_THROW(affine_r2(x, constant), NumericalError);
  EXPECT_THROW(rsa(x, RowMatrixf(x.topRows(10))), DimensionMismatch);
  RowMatrixf zero = x;
  zero.row(4).setZero();
  EXPECT_CONTAINS(testing::message_of<NumericalError>([&] { rsa(zero, x); }), "row 4");
}

TEST(Representation, SilhouetteOfAHandCase) {
  // Four points on a line, two classes {0, 1} and {2, 3} at l2: a = 1 for every point,
  // b = the mean distance to the other pair: points 0 and 3 -> 2.5, 1 and 2 -> 1.5.
  RowMatrixf x(4, 1);
  x << 0, 1, 2, 3;
  const std::vector<std::int64_t> labels = {7, 7, 9, 9};
  const double expected = ((2.5 - 1) / 2.5 * 2 + (1.5 - 1) / 1.5 * 2) / 4;
  EXPECT_NEAR(silhouette(x, labels, Metric::l2), expected, 1e-12);
  EXPECT_NEAR(silhouette(x, labels, Metric::l2, Parallel{2}), expected, 1e-12);
  // A class of one row scores 0.
  RowMatrixf y(5, 1);
  y << 0, 1, 2, 3, 10;
  const double a = silhouette(y, {7, 7, 9, 9, 4}, Metric::l2);
  EXPECT_LT(a, expected);
  EXPECT_THROW(silhouette(x, {7, 7, 7, 7}, Metric::l2), InvalidArgument);
  EXPECT_THROW(silhouette(x, {7, 7, 9}, Metric::l2), DimensionMismatch);
  EXPECT_THROW(silhouette(x, labels, Metric::ip), InvalidArgument);
}

TEST(Retrieval, NeighborRecall) {
  IdMatrix found(2, 2), exact(2, 2);
  found << 1, 2, 3, 4;
  exact << 2, 1, 4, 5;
  EXPECT_DOUBLE_EQ(neighbor_recall(found, exact, 2), 0.75);
  EXPECT_THROW(neighbor_recall(found, exact, 3), InvalidK);
}

}  // namespace
}  // namespace latent
