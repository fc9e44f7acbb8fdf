// RelativeIndex: relative representations in a FAISS index, searched zero-shot
// from another model's space (the golden kit's encoder latents encA / encB:
// row i of both is Fashion-MNIST test image 5000+i under two different models).
#include <gtest/gtest.h>

#include <Eigen/QR>

#include <filesystem>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/index/relative_index.hpp"
#include "latent/similarity.hpp"
#include "support/test_support.hpp"

namespace latent::index {
namespace {

using latent::testing::message_of;
using latent::testing::random_normal;

TEST(RelativeIndex, RotatedQuerySpaceGivesTheSameNeighbours) {
  // Cosine relative representations are invariant to a rotation of the space:
  // queries from a rotated copy of the space, with the rotated anchors, must find
  // exactly what the unrotated queries find.
  const RowMatrixf x = random_normal<float>(400, 16, 41);
  const RowMatrixf anchors = x.topRows(40);
  const Eigen::HouseholderQR<Eigen::MatrixXf> qr(random_normal<float>(16, 16, 42));
  const RowMatrixf rotation = qr.householderQ();
  const RowMatrixf x_rotated = x * rotation;
  const RowMatrixf anchors_rotated = anchors * rotation;
  RelativeIndex index(anchors, "Flat");
  index.add(x);
  const KnnGraph same = index.search(MatrixView<float>(x.data() + 100 * 16, 50, 16), 5);
  const KnnGraph other = index.search(MatrixView<float>(x_rotated.data() + 100 * 16, 50, 16), anchors_rotated, 5);
  EXPECT_EQ(same.ids, other.ids);
  for (Eigen::Index i = 0; i < 50; ++i) EXPECT_EQ(same.ids(i, 0), 100 + i);
  for (Eigen::Index i = 0; i < same.scores.size(); ++i)
    EXPECT_NEAR(same.scores.data()[i], other.scores.data()[i], 1e-5f);
  const RowMatrixf narrow = random_normal<float>(39, 16, 43);
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { index.search(x_rotated.topRows(2), narrow, 1); }),
                  "query_anchors");
  const RowMatrixf wide = random_normal<float>(40, 17, 44);
  EXPECT_THROW(index.search(x_rotated.topRows(2), wide, 1), DimensionMismatch);
}

TEST(RelativeIndex, ZeroShotSearchAcrossTwoEncoders) {
  const std::string dir = std::string(LATENT_GOLDEN_DIR) + "/inputs";
  if (!std::filesystem::exists(dir + "/encA.npy") || !std::filesystem::exists(dir + "/encB.npy")) {
    GTEST_SKIP() << "golden encoder latents not found in " << dir;
  }
  const RowMatrixf a = read_npy_matrix<float>(dir + "/encA.npy");
  const RowMatrixf b = read_npy_matrix<float>(dir + "/encB.npy");
  constexpr std::int64_t kAnchors = 300;
  const std::int64_t n = a.rows() - kAnchors;
  RelativeIndex index(a.topRows(kAnchors), "HNSW32");
  index.add(a.bottomRows(n));  // ids 0..n-1 = rows kAnchors..
  IndexSearchOptions options;
  options.ef_search = 128;
  const KnnGraph found = index.search(b.bottomRows(n), b.topRows(kAnchors), 10, options);
  std::int64_t top1 = 0, top10 = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    top1 += found.ids(i, 0) == i ? 1 : 0;
    for (std::int64_t j = 0; j < 10; ++j) top10 += found.ids(i, j) == i ? 1 : 0;
  }
  const double top1_rate = static_cast<double>(top1) / static_cast<double>(n);
  const double top10_rate = static_cast<double>(top10) / static_cast<double>(n);
  RecordProperty("zero_shot_top1", std::to_string(top1_rate));
  RecordProperty("zero_shot_top10", std::to_string(top10_rate));
  std::printf("zero-shot encB -> encA over %lld items: top-1 %.3f, top-10 %.3f (chance %.4f)\n",
              static_cast<long long>(n), top1_rate, top10_rate, 1.0 / static_cast<double>(n));
  // Chance is 1/1700 (0.0006): the same image under another model is found
  // more than 50 times as often as chance at rank 1.
  EXPECT_GT(top1_rate, 0.05);
  EXPECT_GT(top10_rate, 0.2);
  // The index finds what an exact search of the same relative representations
  // finds (HNSW with efSearch 128 is near exact at this size) ...
  const RowMatrixf query_relative =
      RelativeProjection<float>().fit(MatrixView<float>(b.topRows(kAnchors))).transform(b.bottomRows(n));
  const KnnGraph exact = knn(query_relative, index.project(a.bottomRows(n)), 1, Metric::cosine);
  std::int64_t exact_top1 = 0;
  for (std::int64_t i = 0; i < n; ++i) exact_top1 += exact.ids(i, 0) == i ? 1 : 0;
  EXPECT_NEAR(top1_rate, static_cast<double>(exact_top1) / static_cast<double>(n), 0.01);
  // ... while searching encB's raw vectors in encA's space (same dimension, no
  // shared basis) is at chance level.
  const KnnGraph absolute = knn(b.bottomRows(n), a.bottomRows(n), 1, Metric::cosine);
  std::int64_t absolute_top1 = 0;
  for (std::int64_t i = 0; i < n; ++i) absolute_top1 += absolute.ids(i, 0) == i ? 1 : 0;
  EXPECT_LT(absolute_top1 * 5, top1);
}

}  // namespace
}  // namespace latent::index
