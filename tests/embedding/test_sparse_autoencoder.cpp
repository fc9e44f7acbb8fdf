// Sparse codes: the CSR container (validation, dense round trip, its .npz file
// written, mapped back and refused when corrupt), the bundled sparse autoencoder
// (data/sae, made by data/sae/make_sae.py) against a long-double evaluation of
// its definitions on the bundled encoder latents (topk, relu, jumprelu codes,
// decoding, statistics), the properties (topk rows hold exactly k entries when
// the k largest pre-activations are positive), feature edits and steering, and
// the errors of each entry point.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/embedding/sparse_autoencoder.hpp"
#include "latent/similarity/search.hpp"
#include "support/spawn_support.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using Index = std::int64_t;
using Long = long double;
namespace fs = std::filesystem;

const std::string kData = std::string(LATENT_SOURCE_DIR) + "/data/";

// --------------------------------------------------------------- SparseMatrix ----

TEST(SparseMatrix, ValidatesItsArraysAndRoundTripsDense) {
  RowMatrixf dense = RowMatrixf::Zero(3, 5);
  dense(0, 1) = 2.0f;
  dense(0, 4) = -1.0f;
  dense(2, 0) = 0.5f;
  const SparseMatrix m = SparseMatrix::from_dense(dense);
  EXPECT_EQ(m.rows(), 3);
  EXPECT_EQ(m.cols(), 5);
  EXPECT_EQ(m.nnz(), 3);
  EXPECT_EQ(m.row_nnz(1), 0);
  EXPECT_EQ(m.to_dense(), dense);

  EXPECT_THROW(SparseMatrix(2, 3, {0, 1}, {0}, {1.0f}), InvalidArgument);              // offsets size
  EXPECT_THROW(SparseMatrix(1, 3, {0, 2}, {2, 1}, {1.0f, 1.0f}), InvalidArgument);     // unsorted
  EXPECT_THROW(SparseMatrix(1, 3, {0, 2}, {1, 1}, {1.0f, 1.0f}), InvalidArgument);     // duplicate
  EXPECT_THROW(SparseMatrix(1, 3, {0, 1}, {3}, {1.0f}), InvalidArgument);              // column out of range
  EXPECT_THROW(SparseMatrix(2, 3, {0, 2, 1}, {0, 1}, {1.0f, 1.0f}), InvalidArgument);  // decreasing
  EXPECT_THROW(SparseMatrix(1, 3, {1, 1}, {0}, {1.0f}), InvalidArgument);              // not from 0
  EXPECT_THROW(SparseMatrix(1, 3, {0, 1}, {0}, {std::nanf("")}), NonFiniteValue);
  const std::string message = testing::message_of<InvalidArgument>([] {
    SparseMatrix(2, 4, {0, 1, 3}, {0, 3, 2}, {1.0f, 1.0f, 1.0f});
  });
  EXPECT_NE(message.find("row 1"), std::string::npos) << message;
}

class SparseFiles : public testing::TempDirTest {};

TEST_F(SparseFiles, WrittenFilesAreMappedBackAndCorruptOnesRefused) {
  const RowMatrixf dense =
      (testing::random_normal<float>(40, 30, 1).array() > 1.0f).select(testing::random_normal<float>(40, 30, 2), 0.0f);
  const SparseMatrix m = SparseMatrix::from_dense(dense);
  write_sparse_npz(path("codes.npz"), m);
  const SparseMatrix back = read_sparse_npz(path("codes.npz"));
  EXPECT_TRUE(back.mapped());
  EXPECT_EQ(back.to_dense(), dense);
  // Its members are plain arrays of an .npz, as scipy writes them.
  EXPECT_EQ(open_array(path("codes.npz") + ":indptr").vector<std::int64_t>().back(), m.nnz());
  EXPECT_EQ(open_array(path("codes.npz") + ":shape").vector<std::int64_t>(), (std::vector<std::int64_t>{40, 30}));

  const std::string bytes = testing::read_text_file(path("codes.npz"));
  std::ofstream(path("truncated.npz"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_THROW(read_sparse_npz(path("truncated.npz")), IoError);
  EXPECT_THROW(read_sparse_npz(path("missing.npz")), IoError);
  // An .npz without the CSR members names what is missing.
  write_npy(path("x.npy"), dense);
  const std::string message = testing::message_of<IoError>([&] { read_sparse_npz(path("x.npy")); });
  EXPECT_FALSE(message.empty());
  // An empty matrix round-trips.
  write_sparse_npz(path("empty.npz"), SparseMatrix::from_dense(RowMatrixf(RowMatrixf::Zero(4, 7))));
  const SparseMatrix empty = read_sparse_npz(path("empty.npz"));
  EXPECT_EQ(empty.rows(), 4);
  EXPECT_EQ(empty.nnz(), 0);
}

// ---------------------------------------------------------- sparse autoencoder ----

struct Reference {
  std::vector<std::vector<Long>> pre;  // [n][m]
};

// pre = (x - b_dec) W_enc + b_enc in long double.
Reference reference_pre(const RowMatrixf& x, const std::string& dir) {
  const RowMatrixf w_enc = read_npy_matrix<float>(dir + "/W_enc.npy");
  const std::vector<float> b_enc = read_npy_vector<float>(dir + "/b_enc.npy");
  const std::vector<float> b_dec = read_npy_vector<float>(dir + "/b_dec.npy");
  Reference r;
  r.pre.assign(static_cast<std::size_t>(x.rows()), std::vector<Long>(static_cast<std::size_t>(w_enc.cols())));
  for (Index i = 0; i < x.rows(); ++i)
    for (Index j = 0; j < w_enc.cols(); ++j) {
      Long sum = b_enc[static_cast<std::size_t>(j)];
      for (Index t = 0; t < x.cols(); ++t)
        sum += (static_cast<Long>(x(i, t)) - b_dec[static_cast<std::size_t>(t)]) * w_enc(t, j);
      r.pre[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)] = sum;
    }
  return r;
}

TEST(SparseAutoencoder, TopkCodesFollowTheDefinitionOnTheBundledLatents) {
  const RowMatrixf x = read_npy_matrix<float>(kData + "encoders/mlp_seed0.npy").topRows(500);
  const SparseAutoencoder sae = SparseAutoencoder::load(kData + "sae");
  ASSERT_EQ(sae.dim(), 64);
  ASSERT_EQ(sae.features(), 256);
  const Reference ref = reference_pre(x, kData + "sae");
  SaeEncodeOptions options;
  options.k = 8;
  const SparseMatrix codes = sae.encode(x, options);
  Index rows_checked = 0;
  for (Index i = 0; i < x.rows(); ++i) {
    const auto& pre = ref.pre[static_cast<std::size_t>(i)];
    std::vector<Index> order(pre.size());
    std::iota(order.begin(), order.end(), Index{0});
    std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return pre[a] > pre[b]; });
    // Rows whose 8th and 9th pre-activations are within float rounding may swap them.
    if (pre[order[7]] - pre[order[8]] < 1e-4) continue;
    ++rows_checked;
    std::vector<std::pair<Index, Long>> expected;
    for (Index e = 0; e < 8; ++e)
      if (pre[order[e]] > 0) expected.emplace_back(order[e], pre[order[e]]);
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(codes.row_nnz(i), static_cast<Index>(expected.size())) << "row " << i;
    for (Index e = 0; e < codes.row_nnz(i); ++e) {
      const Index at = codes.offsets()[i] + e;
      EXPECT_EQ(codes.indices()[at], expected[static_cast<std::size_t>(e)].first) << "row " << i;
      EXPECT_NEAR(codes.values()[at], static_cast<double>(expected[static_cast<std::size_t>(e)].second), 1e-4);
    }
  }
  EXPECT_GT(rows_checked, 490);
}

TEST(SparseAutoencoder, TopkRowsHoldExactlyKWhenThePreActivationsArePositive) {
  const RowMatrixf x = read_npy_matrix<float>(kData + "encoders/mlp_seed0.npy").topRows(300);
  const RowMatrixf w_enc = read_npy_matrix<float>(kData + "sae/W_enc.npy");
  std::vector<float> b_enc = read_npy_vector<float>(kData + "sae/b_enc.npy");
  for (float& b : b_enc) b += 1e4f;  // every pre-activation positive
  const SparseAutoencoder shifted(w_enc, b_enc, read_npy_matrix<float>(kData + "sae/W_dec.npy"),
                                  read_npy_vector<float>(kData + "sae/b_dec.npy"));
  for (const Index k : {1, 8, 32, 256}) {
    SaeEncodeOptions options;
    options.k = k;
    const SparseMatrix codes = shifted.encode(x, options);
    for (Index i = 0; i < codes.rows(); ++i) ASSERT_EQ(codes.row_nnz(i), k) << "k=" << k << " row " << i;
  }
}

TEST(SparseAutoencoder, ReluJumpReluDecodeAndStats) {
  const RowMatrixf x = read_npy_matrix<float>(kData + "encoders/mlp_seed0.npy").topRows(400);
  const SparseAutoencoder sae = SparseAutoencoder::load(kData + "sae");
  const Reference ref = reference_pre(x, kData + "sae");
  for (const SaeActivation activation : {SaeActivation::relu, SaeActivation::jumprelu}) {
    SaeEncodeOptions options;
    options.activation = activation;
    options.threshold = 0.75;
    const double threshold = activation == SaeActivation::relu ? 0.0 : 0.75;
    const RowMatrixf codes = sae.encode(x, options).to_dense();
    for (Index i = 0; i < x.rows(); ++i)
      for (Index j = 0; j < 256; ++j) {
        const Long pre = ref.pre[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
        if (std::abs(static_cast<double>(pre) - threshold) < 1e-4) continue;  // within rounding of the cut
        EXPECT_NEAR(codes(i, j), pre > threshold ? static_cast<double>(pre) : 0.0, 1e-4) << i << " " << j;
      }
  }
  // Decoding: z W_dec + b_dec; stats: the definitions over the same codes.
  SaeEncodeOptions topk;
  topk.k = 8;
  const SparseMatrix codes = sae.encode(x, topk);
  const RowMatrixf x_hat = sae.decode(codes);
  const RowMatrixf z = codes.to_dense();
  Long error = 0, total = 0;
  const Eigen::RowVectorXd mean = x.cast<double>().colwise().mean();
  for (Index i = 0; i < x.rows(); ++i)
    for (Index t = 0; t < x.cols(); ++t) {
      Long value = sae.decoder_bias()[static_cast<std::size_t>(t)];
      for (Index j = 0; j < 256; ++j) value += static_cast<Long>(z(i, j)) * sae.decoder()(j, t);
      EXPECT_NEAR(x_hat(i, t), static_cast<double>(value), 1e-4);
      error += (x(i, t) - value) * (x(i, t) - value);
      total += (x(i, t) - mean(t)) * (x(i, t) - mean(t));
    }
  const SaeStats stats = sae_stats(sae, x, topk);
  EXPECT_EQ(stats.rows, 400);
  EXPECT_NEAR(stats.mse, static_cast<double>(error) / (400.0 * 64.0), 1e-5 * stats.mse);
  EXPECT_NEAR(stats.explained_variance, static_cast<double>(1 - error / total), 1e-5);
  std::vector<char> active(256, 0);
  for (Index e = 0; e < codes.nnz(); ++e) active[static_cast<std::size_t>(codes.indices()[e])] = 1;
  EXPECT_DOUBLE_EQ(stats.dead_fraction, static_cast<double>(std::count(active.begin(), active.end(), 0)) / 256.0);
  EXPECT_DOUBLE_EQ(stats.mean_active, static_cast<double>(codes.nnz()) / 400.0);
  EXPECT_GT(stats.explained_variance, 0.6);
}

TEST(SparseAutoencoder, EditsAndSteering) {
  const RowMatrixf x = read_npy_matrix<float>(kData + "encoders/mlp_seed0.npy").topRows(200);
  const SparseAutoencoder sae = SparseAutoencoder::load(kData + "sae");
  SaeEncodeOptions options;
  options.k = 8;
  const SparseMatrix codes = sae.encode(x, options);
  const Index feature = codes.indices()[0];  // active in row 0
  const RowMatrixf before = codes.to_dense();
  const RowMatrixf scaled =
      edit_features(codes, {{feature, FeatureEdit::Kind::scale, 3.0f}, {5, FeatureEdit::Kind::add, 1.5f}}).to_dense();
  for (Index i = 0; i < codes.rows(); ++i) {
    EXPECT_EQ(scaled(i, feature), 3.0f * before(i, feature));
    EXPECT_EQ(scaled(i, 5), before(i, 5) + 1.5f);
  }
  // Scaling by 0 removes the feature (zeros are dropped).
  const SparseMatrix removed = edit_features(codes, {{feature, FeatureEdit::Kind::scale, 0.0f}});
  for (Index e = 0; e < removed.nnz(); ++e) EXPECT_NE(removed.indices()[e], feature);

  // No edit leaves the rows as they are; an edit moves each row by the change of its reconstruction.
  EXPECT_EQ(steer(sae, x, {}, options), x);
  const RowMatrixf steered = steer(sae, x, {{7, FeatureEdit::Kind::add, 2.0f}}, options);
  for (Index i = 0; i < x.rows(); ++i)
    for (Index t = 0; t < x.cols(); ++t) EXPECT_NEAR(steered(i, t) - x(i, t), 2.0f * sae.decoder()(7, t), 1e-4);
  const RowMatrixf base = read_npy_matrix<float>(kData + "encoders/mlp_seed0.npy").bottomRows(1000);
  const KnnGraph hits = steered_knn(sae, x, base, 5, Metric::cosine, {{7, FeatureEdit::Kind::add, 2.0f}}, options);
  EXPECT_EQ(hits.ids, knn(steered, base, 5, Metric::cosine).ids);
}

class SaeErrors : public testing::TempDirTest {};

TEST_F(SaeErrors, NameTheWeightOrTheArgument) {
  const RowMatrixf w_enc = testing::random_normal<float>(6, 10, 3);
  const RowMatrixf w_dec = testing::random_normal<float>(10, 6, 4);
  const std::vector<float> b_enc(10, 0.0f), b_dec(6, 0.0f);
  EXPECT_NO_THROW(SparseAutoencoder(w_enc, b_enc, w_dec, b_dec));
  EXPECT_THROW(SparseAutoencoder(w_enc, std::vector<float>(9), w_dec, b_dec), DimensionMismatch);
  EXPECT_THROW(SparseAutoencoder(w_enc, b_enc, RowMatrixf(w_dec.transpose()), b_dec), DimensionMismatch);
  EXPECT_THROW(SparseAutoencoder(w_enc, b_enc, w_dec, std::vector<float>(5)), DimensionMismatch);
  RowMatrixf nan = w_enc;
  nan(1, 1) = std::nanf("");
  EXPECT_THROW(SparseAutoencoder(nan, b_enc, w_dec, b_dec), NonFiniteValue);

  fs::create_directory(path("weights"));
  write_npy(path("weights/W_enc.npy"), w_enc);
  write_npy(path("weights/b_enc.npy"), b_enc);
  write_npy(path("weights/W_dec.npy"), w_dec);
  const std::string missing = testing::message_of<IoError>([&] { SparseAutoencoder::load(path("weights")); });
  EXPECT_NE(missing.find("b_dec.npy"), std::string::npos) << missing;
  write_npy(path("weights/b_dec.npy"), std::vector<float>(7, 0.0f));
  const std::string shape = testing::message_of<DimensionMismatch>([&] { SparseAutoencoder::load(path("weights")); });
  EXPECT_NE(shape.find("b_dec"), std::string::npos) << shape;

  const SparseAutoencoder sae(w_enc, b_enc, w_dec, b_dec);
  SaeEncodeOptions options;
  options.k = 11;
  EXPECT_THROW(sae.encode(testing::random_normal<float>(3, 6, 5), options), InvalidArgument);
  options.k = 2;
  EXPECT_THROW(sae.encode(testing::random_normal<float>(3, 5, 5), options), DimensionMismatch);
  EXPECT_THROW(sae.encode(RowMatrixf(0, 6), options), EmptyInput);
  options.activation = SaeActivation::jumprelu;
  options.threshold = std::nan("");
  EXPECT_THROW(sae.encode(testing::random_normal<float>(3, 6, 5), options), InvalidArgument);
  EXPECT_THROW(sae.decode(SparseMatrix::from_dense(RowMatrixf(RowMatrixf::Ones(2, 9)))), DimensionMismatch);
  const SparseMatrix codes = SparseMatrix::from_dense(RowMatrixf(RowMatrixf::Ones(2, 10)));
  EXPECT_THROW(edit_features(codes, {{10, FeatureEdit::Kind::add, 1.0f}}), InvalidArgument);
  EXPECT_EQ(parse_sae_activation("jumprelu"), SaeActivation::jumprelu);
  EXPECT_THROW(parse_sae_activation("gelu", "--activation"), InvalidArgument);
}

}  // namespace
}  // namespace latent
