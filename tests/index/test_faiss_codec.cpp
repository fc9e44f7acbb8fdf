// Vector codecs (PQ, OPQ, VQ through FAISS): on the bundled encoder latents, the
// decoded rows against the codebooks themselves (a PQ row is the concatenation of
// its sub-codes' centroids, each the nearest in its sub-space; a VQ row is the
// nearest centroid), the reconstruction error falling with the code size and
// lower with OPQ than PQ at the same size, the recall of the decoded rows, save /
// load bit for bit, and the errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/index/faiss_codec.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity/search.hpp"
#include "support/test_support.hpp"

namespace latent::index {
namespace {

using Index = std::int64_t;

const RowMatrixf& latents() {
  static const RowMatrixf x = read_npy_matrix<float>(std::string(LATENT_SOURCE_DIR) + "/data/encoders/mlp_seed0.npy");
  return x;
}

TEST(VectorCodec, PqRowsAreTheirSubCodesNearestCentroids) {
  const RowMatrixf& x = latents();
  CodecOptions options;
  options.subquantizers = 8;
  options.bits = 6;
  VectorCodec pq(options);
  pq.fit(x);
  EXPECT_EQ(pq.code_size(), 6);  // 8 x 6 bits
  const RowMatrixf back = pq.decode(pq.encode(x));
  // Each 8-d slice of a decoded row is the nearest, among the decoded slices of all
  // rows (a subset of that sub-space's centroids), to the original slice.
  for (Index m = 0; m < 8; ++m) {
    const RowMatrixf slice = x.middleCols(8 * m, 8), decoded = back.middleCols(8 * m, 8);
    for (Index i = 0; i < 50; ++i) {
      const float own = (slice.row(i) - decoded.row(i)).squaredNorm();
      for (Index j = 0; j < x.rows(); ++j) ASSERT_LE(own, (slice.row(i) - decoded.row(j)).squaredNorm() + 1e-4f);
    }
  }
  EXPECT_NEAR(pq.reconstruction_error(x), (back - x).rowwise().squaredNorm().cast<double>().mean(), 1e-6);
}

TEST(VectorCodec, ErrorFallsWithTheCodeSizeAndOpqBeatsPq) {
  const RowMatrixf& x = latents();
  const RowMatrixf base = x.topRows(1800), queries = x.bottomRows(200);
  const double variance = (base.rowwise() - base.colwise().mean()).rowwise().squaredNorm().cast<double>().mean();
  double previous = variance;
  for (const Index m : {4, 8, 16}) {
    CodecOptions options;
    options.subquantizers = m;
    options.bits = 8;
    VectorCodec pq(options);
    pq.fit(base);
    const double error = pq.reconstruction_error(base);
    EXPECT_LT(error, previous) << "M=" << m;
    previous = error;
    if (m == 8) {
      options.kind = CodecKind::opq;
      VectorCodec opq(options);
      opq.fit(base);
      EXPECT_EQ(opq.code_size(), pq.code_size());
      EXPECT_LT(opq.reconstruction_error(base), error);
    }
  }
  // The decoded rows find most exact neighbours at M = 16 (16 bytes, 16x smaller).
  CodecOptions options;
  options.subquantizers = 16;
  VectorCodec pq(options);
  pq.fit(base);
  const KnnGraph exact = knn(queries, base, 10, Metric::cosine);
  const KnnGraph decoded = knn(queries, pq.decode(pq.encode(base)), 10, Metric::cosine);
  EXPECT_GE(neighbor_recall(decoded.ids, exact.ids, 10), 0.6);
}

TEST(VectorCodec, VqIsTheNearestCentroid) {
  const RowMatrixf& x = latents();
  CodecOptions options;
  options.kind = CodecKind::vq;
  options.centroids = 300;  // two id bytes
  VectorCodec vq(options);
  vq.fit(x);
  EXPECT_EQ(vq.code_size(), 2);
  const std::vector<std::int64_t> ids = vq.assign(x);
  const RowMatrix<std::uint8_t> codes = vq.encode(x);
  const RowMatrixf back = vq.decode(codes);
  for (Index i = 0; i < x.rows(); ++i) {
    EXPECT_EQ(codes(i, 0) | (codes(i, 1) << 8), ids[static_cast<std::size_t>(i)]);
    for (Index j = 0; j < 300; j += 37) {
      const RowMatrixf centroid = vq.decode(RowMatrix<std::uint8_t>(codes.row(i)));
      EXPECT_EQ(back.row(i), centroid.row(0));
    }
  }
  // Every row's centroid is at least as near as any other row's centroid.
  for (Index i = 0; i < 40; ++i)
    for (Index j = 0; j < x.rows(); ++j)
      ASSERT_LE((x.row(i) - back.row(i)).squaredNorm(), (x.row(i) - back.row(j)).squaredNorm() + 1e-3f);
}

class CodecFiles : public testing::TempDirTest {};

TEST_F(CodecFiles, SavedCodecsLoadBitForBit) {
  const RowMatrixf& x = latents();
  for (const CodecKind kind : {CodecKind::pq, CodecKind::opq, CodecKind::vq}) {
    CodecOptions options;
    options.kind = kind;
    options.subquantizers = 8;
    options.bits = 6;
    options.iterations = 10;
    options.rotation_iterations = 5;
    options.centroids = 64;
    VectorCodec codec(options);
    codec.fit(x);
    codec.save(path("codec.model"));
    const VectorCodec loaded = VectorCodec::load(path("codec.model"));
    EXPECT_EQ(loaded.encode(x), codec.encode(x)) << to_string(kind);
    EXPECT_EQ(loaded.decode(codec.encode(x)), codec.decode(codec.encode(x))) << to_string(kind);
  }
  std::fstream file(path("codec.model"), std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(48);
  file.put('\x55');
  file.close();
  EXPECT_THROW(VectorCodec::load(path("codec.model")), IoError);
}

TEST(VectorCodecErrors, NameTheArgument) {
  const RowMatrixf& x = latents();
  CodecOptions options;
  options.subquantizers = 7;  // 64 is not a multiple
  EXPECT_THROW(VectorCodec(options).fit(x), InvalidArgument);
  options.subquantizers = 8;
  options.bits = 17;
  EXPECT_THROW(VectorCodec{options}, InvalidArgument);
  options.bits = 12;  // 4096 centroids per sub-space, 2000 rows
  EXPECT_THROW(VectorCodec(options).fit(x), InvalidArgument);
  options.bits = 8;
  VectorCodec pq(options);
  EXPECT_THROW(pq.encode(x), NotFitted);
  pq.fit(x);
  EXPECT_THROW(pq.encode(RowMatrixf(x.leftCols(32))), DimensionMismatch);
  EXPECT_THROW(pq.decode(RowMatrix<std::uint8_t>(RowMatrix<std::uint8_t>::Zero(2, 5))), DimensionMismatch);
  EXPECT_THROW(pq.assign(x), InvalidArgument);
  RowMatrixf nan = x.topRows(300);
  nan(3, 3) = std::nanf("");
  EXPECT_THROW(VectorCodec(options).fit(nan), NonFiniteValue);
  CodecOptions vq;
  vq.kind = CodecKind::vq;
  vq.centroids = 3000;
  EXPECT_THROW(VectorCodec(vq).fit(x), InvalidArgument);
  EXPECT_EQ(parse_codec_kind("opq"), CodecKind::opq);
  EXPECT_THROW(parse_codec_kind("rq"), InvalidArgument);
}

}  // namespace
}  // namespace latent::index
