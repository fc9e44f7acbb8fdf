// embedding/edits.hpp: subspace removal (orthogonality, partial strength,
// dependent directions), concept directions and steering, random projections
// (seeded, their structure), fusion and pair features, and the errors. The
// comparisons with numpy on real rows are in tests/python/test_probes_and_edits.py.
#include <gtest/gtest.h>

#include <Eigen/QR>

#include <cmath>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/embedding.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using testing::random_normal;

TEST(Edits, RemovingASubspaceLeavesNothingAlongIt) {
  const RowMatrixd x = random_normal<double>(50, 8, 1);
  RowMatrixd directions = random_normal<double>(3, 8, 2);
  directions.row(2) = 2.0 * directions.row(0) - directions.row(1);  // dependent: the span has rank 2
  const RowMatrixd removed = remove_subspace(x, directions);
  EXPECT_LT((removed * directions.transpose()).cwiseAbs().maxCoeff(), 1e-12);
  // Idempotent, and the part orthogonal to the directions is untouched.
  EXPECT_LT((remove_subspace(removed, directions) - removed).cwiseAbs().maxCoeff(), 1e-12);
  // Half strength: the component along the span is halved.
  const RowMatrixd half = remove_subspace(x, directions, 0.5);
  EXPECT_LT(((x - half) - 0.5 * (x - removed)).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((remove_subspace(x, directions, 0.0) - x).cwiseAbs().maxCoeff(), 0.0 + 1e-15);
  const RowMatrixf xf = x.cast<float>();
  EXPECT_LT((remove_subspace(xf, directions).cast<double>() - removed).cwiseAbs().maxCoeff(), 1e-5);
  EXPECT_THROW(remove_subspace(x, directions, 1.5), InvalidArgument);
  EXPECT_THROW(remove_subspace(x, RowMatrixd(RowMatrixd::Zero(2, 8))), InvalidArgument);
  EXPECT_THROW(remove_subspace(x, random_normal<double>(2, 7, 3)), DimensionMismatch);
}

TEST(Edits, ReplacingASubspaceSetsItsCoordinates) {
  const RowMatrixd x = random_normal<double>(20, 6, 8);
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(random_normal<double>(6, 6, 9));
  const RowMatrixd m = Eigen::MatrixXd(qr.householderQ()).leftCols(2).transpose();  // orthonormal rows
  RowMatrixd target(1, 2);
  target << 0.5, -3.0;
  const RowMatrixd replaced = replace_subspace(x, m, target);
  for (Eigen::Index i = 0; i < 20; ++i) {
    EXPECT_NEAR((replaced.row(i) * m.transpose())(0), 0.5, 1e-12);
    EXPECT_NEAR((replaced.row(i) * m.transpose())(1), -3.0, 1e-12);
  }
  // The orthogonal complement is untouched: replace = remove + y M.
  EXPECT_LT((replaced - (remove_subspace(x, m).rowwise() + (target * m).row(0))).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_THROW(replace_subspace(x, m, RowMatrixd(RowMatrixd::Zero(3, 2))), DimensionMismatch);
  const std::vector<double> d = {3.0, 4.0, 0, 0, 0, 0};
  const std::vector<double> scores = projection_scores(x, d);
  EXPECT_NEAR(scores[5], (3 * x(5, 0) + 4 * x(5, 1)) / 5, 1e-12);
  EXPECT_THROW(projection_scores(x, std::vector<double>(6, 0.0)), InvalidArgument);
}

TEST(Edits, ConceptDirectionIsTheDifferenceOfMeansAndSteeringAddsIt) {
  RowMatrixf x(4, 2);
  x << 1, 0, 3, 2, 0, 1, 0, 3;
  const std::vector<std::int64_t> labels = {5, 5, 9, 9};
  const std::vector<double> raw = concept_direction(x, labels, 5, 9, false);  // (2, 1) - (0, 2)
  EXPECT_DOUBLE_EQ(raw[0], 2.0);
  EXPECT_DOUBLE_EQ(raw[1], -1.0);
  const std::vector<double> unit = concept_direction(x, labels, 5, 9);
  EXPECT_NEAR(unit[0], 2 / std::sqrt(5.0), 1e-15);
  const RowMatrixf moved = steer(x, raw, 0.5);
  EXPECT_FLOAT_EQ(moved(0, 0), 2.0f);
  EXPECT_FLOAT_EQ(moved(3, 1), 2.5f);
  EXPECT_THROW(concept_direction(x, labels, 5, 4), InvalidArgument);
  EXPECT_THROW(concept_direction(x, {5, 5, 9}, 5, 9), DimensionMismatch);
  EXPECT_THROW(steer(x, {1.0}, 1.0), DimensionMismatch);
}

TEST(Edits, RandomProjectionsAreSeededWithTheirStructure) {
  for (const RandomProjection kind :
       {RandomProjection::gaussian, RandomProjection::sign, RandomProjection::count_sketch}) {
    SCOPED_TRACE(std::string(to_string(kind)));
    const RowMatrixd r = random_projection_matrix(30, 12, kind, 7);
    EXPECT_EQ(r, random_projection_matrix(30, 12, kind, 7));
    EXPECT_NE(r, random_projection_matrix(30, 12, kind, 8));
    const RowMatrixd x = random_normal<double>(9, 30, 4);
    EXPECT_LT((random_project(x, 12, kind, 7) - x * r).cwiseAbs().maxCoeff(), 1e-12);
    const RowMatrixf xf = x.cast<float>();
    EXPECT_LT((random_project(xf, 12, kind, 7).cast<double>() - x * r).cwiseAbs().maxCoeff(), 1e-4);
  }
  const RowMatrixd sign = random_projection_matrix(30, 16, RandomProjection::sign);
  EXPECT_EQ(sign.cwiseAbs().minCoeff(), 0.25);
  EXPECT_EQ(sign.cwiseAbs().maxCoeff(), 0.25);
  const RowMatrixd sketch = random_projection_matrix(30, 16, RandomProjection::count_sketch);
  for (Eigen::Index i = 0; i < sketch.rows(); ++i) {
    EXPECT_EQ((sketch.row(i).array() != 0).count(), 1);
    EXPECT_EQ(sketch.row(i).cwiseAbs().sum(), 1.0);
  }
  EXPECT_THROW(random_projection_matrix(0, 4, RandomProjection::sign), InvalidArgument);
  EXPECT_THROW(parse_random_projection("sparse"), InvalidArgument);
}

TEST(Edits, FusionAndPairFeatures) {
  const RowMatrixf a = random_normal<float>(5, 3, 5), b = random_normal<float>(5, 2, 6);
  const RowMatrixf joined = concatenate_embeddings({a, b}, {1.0, 2.0});
  ASSERT_EQ(joined.cols(), 5);
  for (Eigen::Index i = 0; i < 5; ++i) {
    EXPECT_NEAR(joined.row(i).head(3).norm(), 1.0f, 1e-6f);
    EXPECT_NEAR(joined.row(i).tail(2).norm(), 2.0f, 1e-6f);
  }
  const RowMatrixf mean = average_embeddings({a, b});
  ASSERT_EQ(mean.cols(), 3);
  EXPECT_NEAR(mean(0, 2), a(0, 2) / a.row(0).norm() / 2, 1e-6f);  // b is padded with 0
  // A block that does not cover a row (zeros there are fine) leaves the average to the others.
  RowMatrixf gaps = b;
  gaps.row(1).setZero();
  const RowMatrixf covered = average_embeddings({a, gaps}, true, {{1, 1, 1, 1, 1}, {1, 0, 1, 1, 1}});
  EXPECT_LT((covered.row(1) - a.row(1) / a.row(1).norm()).cwiseAbs().maxCoeff(), 1e-6f);
  EXPECT_THROW(average_embeddings({a, gaps}), NumericalError);
  EXPECT_THROW(average_embeddings({a, gaps}, true, {{1, 0, 1, 1, 1}, {1, 0, 1, 1, 1}}), InvalidArgument);
  EXPECT_THROW(average_embeddings({a, gaps}, true, {{1, 1}}), DimensionMismatch);
  EXPECT_THROW(concatenate_embeddings({a, RowMatrixf(b.topRows(4))}), DimensionMismatch);
  EXPECT_THROW(concatenate_embeddings({a, b}, {1.0}), DimensionMismatch);
  EXPECT_THROW(concatenate_embeddings({}), EmptyInput);
  const RowMatrixf features = pair_features(a, RowMatrixf(a * 2.0f));
  ASSERT_EQ(features.cols(), 12);
  EXPECT_FLOAT_EQ(features(1, 6), std::abs(a(1, 0)));         // |u - 2u|
  EXPECT_FLOAT_EQ(features(1, 9), 2.0f * a(1, 0) * a(1, 0));  // u * 2u
  EXPECT_THROW(pair_features(a, b), DimensionMismatch);
}

}  // namespace
}  // namespace latent
