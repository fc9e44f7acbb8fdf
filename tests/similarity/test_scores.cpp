// similarity/scores.hpp: bilinear and Mahalanobis scores against their
// definitions (the identity matrix gives the dot product and l2), the softmax
// and InfoNCE on hand cases, hard negatives on a hand-built corpus, errors. The
// numpy/scipy comparisons are in tests/python/test_probes_and_edits.py.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "latent/core/errors.hpp"
#include "latent/similarity.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using testing::random_normal;

TEST(Scores, BilinearAndMahalanobisFollowTheirDefinitions) {
  const RowMatrixf q = random_normal<float>(6, 4, 1), b = random_normal<float>(5, 4, 2);
  const RowMatrixd identity = RowMatrixd::Identity(4, 4);
  EXPECT_LT((bilinear_scores(q, b, identity) - similarity(q, b, Metric::ip).cast<double>()).cwiseAbs().maxCoeff(),
            1e-5);
  EXPECT_LT((mahalanobis_distances(q, b, identity) - similarity(q, b, Metric::l2).cast<double>()).cwiseAbs().maxCoeff(),
            1e-5);
  // A diagonal M scales each coordinate by sqrt(m_jj); a singular one ignores a coordinate.
  RowMatrixd diagonal = RowMatrixd::Zero(4, 4);
  diagonal.diagonal() << 4, 1, 0, 9;
  const RowMatrixd d = mahalanobis_distances(q, b, diagonal);
  const Eigen::RowVectorXd diff = q.row(2).cast<double>() - b.row(3).cast<double>();
  EXPECT_NEAR(d(2, 3), std::sqrt(4 * diff(0) * diff(0) + diff(1) * diff(1) + 9 * diff(3) * diff(3)), 1e-9);
  RowMatrixd indefinite = identity;
  indefinite(1, 1) = -1;
  EXPECT_THROW(mahalanobis_distances(q, b, indefinite), InvalidArgument);
  RowMatrixd asymmetric = identity;
  asymmetric(0, 1) = 0.5;
  EXPECT_THROW(mahalanobis_distances(q, b, asymmetric), InvalidArgument);
  EXPECT_THROW(bilinear_scores(q, b, RowMatrixd(RowMatrixd::Identity(3, 4))), DimensionMismatch);
}

TEST(Scores, SoftmaxAndInfoNce) {
  // Orthonormal queries and keys: cosine 1 with the own key, 0 with the others.
  const RowMatrixf e = RowMatrixf::Identity(4, 4);
  const RowMatrixd p = softmax_scores(e, e, 0.5);
  const double own = std::exp(2.0) / (std::exp(2.0) + 3.0);
  EXPECT_NEAR(p(1, 1), own, 1e-12);
  EXPECT_NEAR(p.row(2).sum(), 1.0, 1e-12);
  EXPECT_NEAR(info_nce(e, e, 0.5), -std::log(own), 1e-12);
  // Equal scores everywhere: log n.
  const RowMatrixf same = RowMatrixf::Ones(5, 3);
  EXPECT_NEAR(info_nce(same, same, 0.1), std::log(5.0), 1e-12);
  EXPECT_THROW(info_nce(e, e, 0.0), InvalidArgument);
  EXPECT_THROW(info_nce(e, RowMatrixf(e.topRows(3)), 1.0), DimensionMismatch);
  EXPECT_THROW(softmax_scores(e, e, 1.0, Metric::l2), InvalidArgument);
}

TEST(Scores, HardNegativesSkipPositivesAndKeepTheRankWindow) {
  // One query along x; corpus rows at decreasing cosine 1, 0.9, 0.8, ... 0.1.
  RowMatrixf query(1, 2), corpus(10, 2);
  query << 1, 0;
  for (int i = 0; i < 10; ++i) {
    const double c = 1.0 - 0.1 * i;
    corpus(i, 0) = static_cast<float>(c);
    corpus(i, 1) = static_cast<float>(std::sqrt(1 - c * c));
  }
  HardNegativeOptions options;
  options.count = 3;
  options.rank_min = 1;
  options.rank_max = 6;
  // Positives 0 and 2 leave 1, 3, 4, 5, 6, ... in rank order 0, 1, 2, 3, 4: ranks 1..3 are 3, 4, 5.
  IdMatrix got = mine_hard_negatives(query, corpus, {{0, 2}}, options);
  EXPECT_EQ(got(0, 0), 3);
  EXPECT_EQ(got(0, 1), 4);
  EXPECT_EQ(got(0, 2), 5);
  // A margin of 0.35 below the weakest positive (0.8): scores below 0.45 only.
  options.margin = 0.35;
  got = mine_hard_negatives(query, corpus, {{0, 2}}, options);
  EXPECT_EQ(got(0, 0), 6);
  EXPECT_EQ(got(0, 1), 7);
  EXPECT_EQ(got(0, 2), -1);  // row 8 has rank 6, outside [1, 6)
  // A ratio cap of 0.65 x 0.8 = 0.52: rows 6 and 7 (0.4, 0.3), and row 5 at 0.5.
  options.margin = std::numeric_limits<double>::quiet_NaN();
  options.max_ratio = 0.65;
  got = mine_hard_negatives(query, corpus, {{0, 2}}, options);
  EXPECT_EQ(got(0, 0), 5);
  EXPECT_EQ(got(0, 1), 6);
  EXPECT_EQ(got(0, 2), 7);
  options.max_ratio = 0;
  EXPECT_THROW(mine_hard_negatives(query, corpus, {{0}}, options), InvalidArgument);
  options.max_ratio = std::numeric_limits<double>::quiet_NaN();
  options.rank_max = options.rank_min;
  EXPECT_THROW(mine_hard_negatives(query, corpus, {{0}}, options), InvalidArgument);
  EXPECT_THROW(mine_hard_negatives(query, corpus, {{11}}), InvalidArgument);
  EXPECT_THROW(mine_hard_negatives(query, corpus, {}), DimensionMismatch);
}

}  // namespace
}  // namespace latent
