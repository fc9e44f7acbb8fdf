// k-means through FAISS (faiss_clustering.hpp): recovery of separated blobs,
// the result's own consistency (assignment = nearest centroid, objective =
// its sum), spherical centroids, seeded determinism for any thread count,
// restarts, and errors. Also the cross-check of PCA whitening against FAISS's
// PCAMatrix with eigen_power -0.5. The comparison with faiss.Kmeans and scikit-learn's
// NMI/ARI on the encoder latents is in tests/python/test_analysis.py.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <faiss/VectorTransform.h>

#include "latent/core/errors.hpp"
#include "latent/index/faiss_clustering.hpp"
#include "latent/metrics.hpp"
#include "latent/whitening.hpp"
#include "support/test_support.hpp"

namespace latent::index {
namespace {

using testing::random_normal;

// `k` blobs of `per` rows with unit noise, centres 20 apart; labels are the blob.
RowMatrixf blobs(std::int64_t k, std::int64_t per, std::int64_t d, std::vector<std::int64_t>& labels) {
  RowMatrixf x = random_normal<float>(k * per, d, 70);
  const RowMatrixf centres = 20.0f * random_normal<float>(k, d, 71);
  labels.resize(static_cast<std::size_t>(k * per));
  for (std::int64_t i = 0; i < k * per; ++i) {
    x.row(i) += centres.row(i % k);
    labels[static_cast<std::size_t>(i)] = i % k;
  }
  return x;
}

TEST(KMeans, RecoversSeparatedBlobsAndIsSelfConsistent) {
  std::vector<std::int64_t> labels;
  const RowMatrixf x = blobs(5, 200, 8, labels);
  KMeansOptions options;
  options.restarts = 3;
  const KMeansResult result = kmeans(x, 5, options);
  ASSERT_EQ(result.centroids.rows(), 5);
  EXPECT_NEAR(adjusted_rand_index(labels, result.assignment), 1.0, 1e-12);
  double objective = 0;
  for (std::int64_t i = 0; i < x.rows(); ++i) {
    const std::int64_t own = result.assignment[static_cast<std::size_t>(i)];
    const double own_distance = (x.row(i) - result.centroids.row(own)).cast<double>().squaredNorm();
    for (std::int64_t c = 0; c < 5; ++c)
      EXPECT_LE(own_distance, (x.row(i) - result.centroids.row(c)).cast<double>().squaredNorm() + 1e-3);
    objective += own_distance;
  }
  EXPECT_NEAR(result.objective, objective, 1e-4 * objective);
  // Converged on separated blobs: each centroid is the mean of its rows.
  for (std::int64_t c = 0; c < 5; ++c) {
    Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(8);
    double count = 0;
    for (std::int64_t i = 0; i < x.rows(); ++i)
      if (result.assignment[static_cast<std::size_t>(i)] == c) mean += x.row(i).cast<double>(), ++count;
    EXPECT_LT((mean / count - result.centroids.row(c).cast<double>()).norm(), 1e-3);
  }
}

TEST(KMeans, SphericalCentroidsAreUnitAndTheObjectiveIsTheCosineSum) {
  // Four directions (the first axes) with noise: separated by angle, not by norm.
  RowMatrixf x = random_normal<float>(400, 6, 74);
  std::vector<std::int64_t> labels(400);
  for (std::int64_t i = 0; i < 400; ++i) {
    labels[static_cast<std::size_t>(i)] = i % 4;
    x(i, i % 4) += static_cast<float>(8 + i % 7);
  }
  KMeansOptions options;
  options.spherical = true;
  const KMeansResult result = kmeans(x, 4, options);
  double cosines = 0;
  for (std::int64_t c = 0; c < 4; ++c) EXPECT_NEAR(result.centroids.row(c).norm(), 1.0, 1e-5);
  for (std::int64_t i = 0; i < x.rows(); ++i)
    cosines += x.row(i).normalized().dot(result.centroids.row(result.assignment[static_cast<std::size_t>(i)]));
  EXPECT_NEAR(result.objective, cosines, 1e-3);
  EXPECT_GT(normalized_mutual_info(labels, result.assignment), 0.9);
  RowMatrixf zero = x;
  zero.row(7).setZero();
  EXPECT_THROW(kmeans(zero, 4, options), NumericalError);
  options.spherical = false;
  EXPECT_NO_THROW(kmeans(zero, 4, options));
}

TEST(KMeans, SeededAndTheSameForAnyThreadCount) {
  const RowMatrixf x = random_normal<float>(3000, 16, 72);  // no structure: many near ties
  KMeansOptions options;
  options.seed = 5;
  options.parallel = Parallel{1};
  const KMeansResult one = kmeans(x, 12, options);
  for (const int threads : {2, 4}) {
    options.parallel = Parallel{threads};
    const KMeansResult many = kmeans(x, 12, options);
    EXPECT_EQ(many.assignment, one.assignment) << threads;
    EXPECT_EQ(many.centroids, one.centroids) << threads;
    EXPECT_EQ(many.objective, one.objective) << threads;
  }
  options.seed = 6;
  EXPECT_NE(kmeans(x, 12, options).centroids, one.centroids);
  // Restarts keep the best of several runs: never worse than the first alone.
  options.seed = 5;
  options.restarts = 4;
  EXPECT_LE(kmeans(x, 12, options).objective, one.objective * (1 + 1e-6));
}

TEST(KMeans, BadInputsAreTypedErrors) {
  const RowMatrixf x = random_normal<float>(20, 3, 73);
  EXPECT_THROW(kmeans(RowMatrixf(0, 3), 2), EmptyInput);
  EXPECT_THROW(kmeans(x, 0), InvalidK);
  EXPECT_THROW(kmeans(x, 21), InvalidK);
  KMeansOptions options;
  options.iterations = 0;
  EXPECT_THROW(kmeans(x, 2, options), InvalidArgument);
  options = {};
  options.restarts = 0;
  EXPECT_THROW(kmeans(x, 2, options), InvalidArgument);
  options = {};
  options.max_points_per_centroid = -1;
  EXPECT_THROW(kmeans(x, 2, options), InvalidArgument);
  RowMatrixf bad = x;
  bad(3, 1) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(kmeans(bad, 2), NonFiniteValue);
  // k = n: every row its own centroid.
  const KMeansResult all = kmeans(x, 20);
  EXPECT_NEAR(all.objective, 0.0, 1e-9);
}

// PCA whitening against FAISS's PCAMatrix(d, d, eigen_power = -0.5). FAISS
// 1.7.3 takes the eigenvalues of X_c^T X_c without dividing by n, so its
// output is latent's (the 1/n covariance) divided by sqrt(n), up to the sign of
// each component.
TEST(WhiteningCrossCheck, PcaWhiteningIsFaissPcaMatrixWithEigenPowerMinusHalf) {
  const RowMatrixf x = (random_normal<float>(2000, 12, 75) * random_normal<float>(12, 12, 76)).eval();
  Whitening<float> ours;
  const RowMatrixf y = ours.fit_transform(x);
  faiss::PCAMatrix pca(12, 12, -0.5f, false);
  pca.train(2000, x.data());
  RowMatrixf theirs(2000, 12);
  pca.apply_noalloc(2000, x.data(), theirs.data());
  for (Eigen::Index j = 0; j < 12; ++j) {
    const float sign = y.col(j).dot(theirs.col(j)) >= 0 ? 1.0f : -1.0f;  // eigenvectors' signs are free
    EXPECT_LT((y.col(j) - sign * std::sqrt(2000.0f) * theirs.col(j)).cwiseAbs().maxCoeff(), 1e-3f) << j;
  }
}

}  // namespace
}  // namespace latent::index
