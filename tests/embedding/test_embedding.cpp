// embedding.hpp: normalization, pooling, Matryoshka truncation, quantization and
// its search, multi-vector sets and MUVERA. Closed forms and properties on small
// inputs; real-data figures on Fashion-MNIST (fixture fmnist_rows, skipped when
// absent) and the encoder latents of ../shared/golden/inputs.
#include <gtest/gtest.h>

#include <bitset>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/embedding.hpp"
#include "latent/kernels/isa.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using testing::message_of;
using testing::random_normal;

// ---------------------------------------------------------------- normalization

TEST(Normalize, RowsHaveUnitNormAndZeroRowsFollowThePolicy) {
  RowMatrixf x = random_normal<float>(20, 7, 1);
  x.row(3).setZero();
  EXPECT_CONTAINS(message_of<NumericalError>([&] { l2_normalize(x); }), "row 3");
  const RowMatrixf y = l2_normalize(x, ZeroNormPolicy::zero);
  for (int i = 0; i < 20; ++i) EXPECT_NEAR(y.row(i).norm(), i == 3 ? 0.0 : 1.0, 1e-6) << i;
  EXPECT_NEAR(y(0, 0), x(0, 0) / x.row(0).cast<double>().norm(), 1e-6);
}

TEST(Normalize, CenteringAndZScoresAreWhiteningsClasses) {
  const RowMatrixd x = random_normal<double>(50, 4, 2) * 3.0;
  const RowMatrixd c = center_rows(x);
  const RowMatrixd z = standardize_rows(x);
  for (int j = 0; j < 4; ++j) {
    EXPECT_NEAR(c.col(j).mean(), 0.0, 1e-12);
    EXPECT_NEAR(z.col(j).squaredNorm() / 50.0, 1.0, 1e-12);  // sd with 1/n
  }
}

// ---------------------------------------------------------------- pooling

TEST(Pooling, EveryMethodOnAHandCase) {
  RowMatrixf tokens(4, 2);
  tokens << 1, 2, 3, -4, 5, 6, 100, 100;  // the last token is padding
  const std::vector<std::uint8_t> mask = {1, 1, 1, 0};
  auto pooled = [&](Pooling method) {
    PoolingOptions options;
    options.method = method;
    return pool(tokens, mask, options);
  };
  EXPECT_FLOAT_EQ(pooled(Pooling::mean)(0, 0), 3.0f);
  EXPECT_FLOAT_EQ(pooled(Pooling::mean)(0, 1), 4.0f / 3.0f);
  EXPECT_FLOAT_EQ(pooled(Pooling::sum)(0, 1), 4.0f);
  EXPECT_FLOAT_EQ(pooled(Pooling::max)(0, 0), 5.0f);
  EXPECT_FLOAT_EQ(pooled(Pooling::max)(0, 1), 6.0f);
  EXPECT_FLOAT_EQ(pooled(Pooling::first)(0, 1), 2.0f);
  EXPECT_FLOAT_EQ(pooled(Pooling::last)(0, 0), 5.0f);
  // Position weights 1, 2, 3: (1 + 6 + 15) / 6.
  EXPECT_FLOAT_EQ(pooled(Pooling::weighted_mean)(0, 0), 22.0f / 6.0f);
  EXPECT_FLOAT_EQ(pooled(Pooling::min)(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(pooled(Pooling::min)(0, 1), -4.0f);
  const RowMatrixf mean_max = pooled(Pooling::mean_max);
  ASSERT_EQ(mean_max.cols(), 4);
  EXPECT_EQ(mean_max.leftCols(2), pooled(Pooling::mean));
  EXPECT_EQ(mean_max.rightCols(2), pooled(Pooling::max));
  EXPECT_EQ(pooled_dim(Pooling::mean_max, 2), 4);
  EXPECT_EQ(pooled_dim(Pooling::min, 2), 2);
}

TEST(Pooling, SuppliedWeightsReplaceThePositionWeights) {
  RowMatrixf tokens(4, 2);
  tokens << 1, 2, 3, -4, 5, 6, 100, 100;
  PoolingOptions options;
  options.method = Pooling::weighted_mean;
  options.weights = {0.5, 0.0, 2.0, 9.0};  // the padded token's weight never counts
  const RowMatrixf out = pool(tokens, {1, 1, 1, 0}, options);
  EXPECT_FLOAT_EQ(out(0, 0), (0.5f * 1 + 2.0f * 5) / 2.5f);
  EXPECT_FLOAT_EQ(out(0, 1), (0.5f * 2 + 2.0f * 6) / 2.5f);
  // Spans take the weights of their positions in the whole sequence.
  const RowMatrixf span = pool_spans(tokens, {{1, 3}}, options);
  EXPECT_FLOAT_EQ(span(0, 0), 5.0f);
  options.weights = {0.0, 0.0, 0.0, 1.0};
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { pool(tokens, {1, 1, 1, 0}, options); }), "sum to 0");
  options.weights = {1.0, -1.0, 1.0, 1.0};
  EXPECT_THROW(pool(tokens, {}, options), InvalidArgument);
  options.weights = {1.0, 1.0};
  EXPECT_THROW(pool(tokens, {}, options), DimensionMismatch);
  options.method = Pooling::mean;
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { pool(tokens, {}, options); }), "weighted_mean");
}

TEST(Pooling, MaskedPositionsNeverContribute) {
  const RowMatrixf tokens = random_normal<float>(9, 5, 3);
  std::vector<std::uint8_t> mask = {1, 0, 1, 1, 0, 1, 0, 0, 1};
  for (const Pooling method : {Pooling::mean, Pooling::max, Pooling::min, Pooling::mean_max, Pooling::sum,
                               Pooling::weighted_mean, Pooling::first, Pooling::last}) {
    PoolingOptions options;
    options.method = method;
    RowMatrixf changed = tokens;
    for (int t = 0; t < 9; ++t)
      if (mask[t] == 0) changed.row(t).setConstant(t == 1 ? std::nanf("") : 1e6f);  // padding may hold anything
    const RowMatrixf a = pool(tokens, mask, options);
    const RowMatrixf b = pool(changed, mask, options);
    EXPECT_EQ(a, b) << static_cast<int>(method);
  }
}

TEST(Pooling, LastTokenOfLeftAndRightPaddedBatches) {
  const RowMatrixf tokens = random_normal<float>(2 * 4, 3, 4);
  RowMatrix<std::uint8_t> right(2, 4), left(2, 4);
  right << 1, 1, 0, 0, 1, 1, 1, 1;
  left << 0, 0, 1, 1, 1, 1, 1, 1;
  PoolingOptions options;
  options.method = Pooling::last;
  options.padding = Padding::right;
  RowMatrixf out = pool_padded(tokens, right, options);
  EXPECT_EQ(out.row(0), tokens.row(1));
  EXPECT_EQ(out.row(1), tokens.row(7));
  options.padding = Padding::left;
  out = pool_padded(tokens, left, options);
  EXPECT_EQ(out.row(0), tokens.row(3));
  options.method = Pooling::first;
  out = pool_padded(tokens, left, options);
  EXPECT_EQ(out.row(0), tokens.row(2));
  // A right-padded mask declared left-padded is refused, naming the sequence.
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { pool_padded(tokens, right, options); }), "sequence 0");
}

TEST(Pooling, RaggedAndPaddedBatchesEqualOneSequenceAtATime) {
  const RowMatrixf tokens = random_normal<float>(10, 6, 5);
  const std::vector<std::int64_t> offsets = {0, 3, 4, 10};
  PoolingOptions options;
  options.method = Pooling::weighted_mean;
  const RowMatrixf ragged = pool_ragged(tokens, offsets, options, Parallel{2});
  for (int s = 0; s < 3; ++s) {
    const MatrixView<float> one(tokens.data() + offsets[s] * 6, offsets[s + 1] - offsets[s], 6);
    EXPECT_EQ(ragged.row(s), pool(one, {}, options)) << s;
  }
  const RowMatrixf padded_tokens = random_normal<float>(3 * 5, 6, 6);
  RowMatrix<std::uint8_t> mask(3, 5);
  mask << 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1;
  options.method = Pooling::mean;
  const RowMatrixf padded = pool_padded(padded_tokens, mask, options);
  for (int s = 0; s < 3; ++s) {
    const MatrixView<float> one(padded_tokens.data() + s * 5 * 6, 5, 6);
    const std::vector<std::uint8_t> row_mask(mask.data() + s * 5, mask.data() + (s + 1) * 5);
    EXPECT_EQ(padded.row(s), pool(one, row_mask, options)) << s;
  }
}

TEST(Pooling, OneSpanOverTheWholeSequenceIsMeanPooling) {
  const RowMatrixf tokens = random_normal<float>(12, 8, 7);
  const RowMatrixf whole = pool(tokens, {});
  const RowMatrixf span = pool_spans(tokens, {{0, 12}});
  EXPECT_EQ(whole, span);
  // Late chunking: each span is the mean of its own tokens.
  const RowMatrixf spans = pool_spans(tokens, {{0, 5}, {5, 12}});
  EXPECT_NEAR((spans.row(1) - tokens.middleRows(5, 7).colwise().mean()).norm(), 0.0, 1e-6);
}

TEST(Pooling, LayerMixingIsTheWeightedSum) {
  const RowMatrixf a = random_normal<float>(3, 4, 8), b = random_normal<float>(3, 4, 9);
  const RowMatrixf mixed = mix_layers({a, b}, {0.25, 0.75});
  EXPECT_NEAR((mixed - (0.25f * a + 0.75f * b)).norm(), 0.0, 1e-6);
  EXPECT_THROW(mix_layers({a}, {1.0, 2.0}), DimensionMismatch);
}

TEST(Pooling, Errors) {
  const RowMatrixf tokens = random_normal<float>(4, 3, 10);
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { pool(tokens, {1, 1}); }), "mask");
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { pool(tokens, {0, 0, 0, 0}); }), "masks every token");
  EXPECT_THROW(pool(MatrixView<float>(tokens.data(), 0, 3), {}), EmptyInput);
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { pool_ragged(tokens, {0, 2, 2, 4}); }), "sequence 1");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { pool_spans(tokens, {{2, 9}}); }), "span 0");
  RowMatrix<std::uint8_t> mask(2, 3);
  mask.setOnes();
  EXPECT_THROW(pool_padded(tokens, mask), DimensionMismatch);
  RowMatrixf bad = tokens;
  bad(2, 1) = std::nanf("");
  for (const Pooling method : {Pooling::mean, Pooling::max, Pooling::min, Pooling::mean_max, Pooling::sum}) {
    PoolingOptions options;
    options.method = method;
    EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { pool(bad, {}, options); }), "dimension 1");
  }
}

// ---------------------------------------------------------------- Matryoshka

TEST(Matryoshka, TruncationToAllDimensionsIsNormalization) {
  const RowMatrixf x = random_normal<float>(30, 16, 11);
  EXPECT_EQ(truncate_dims(x, 16), l2_normalize(x));
  const RowMatrixf t = truncate_dims(x, 5, false);
  EXPECT_EQ(t, x.leftCols(5));
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { truncate_dims(x, 17); }), "m=17");
}

TEST(Matryoshka, CurveReachesOneAtFullDimension) {
  const RowMatrixf x = random_normal<float>(300, 32, 12);
  const auto curve = matryoshka_curve(x, MatrixView<float>(), {4, 16, 32}, 10);
  ASSERT_EQ(curve.size(), 3u);
  EXPECT_DOUBLE_EQ(curve[2].recall, 1.0);
  EXPECT_DOUBLE_EQ(curve[2].ndcg, 1.0);
  EXPECT_LT(curve[0].recall, curve[1].recall);
  EXPECT_LT(curve[1].recall, 1.0);
}

// ---------------------------------------------------------------- quantization

TEST(Quantization, HalfPrecisionRoundTrips) {
  const RowMatrixf x = random_normal<float>(40, 33, 13);
  for (const auto type : {QuantizationType::f16, QuantizationType::bf16}) {
    Quantizer q(QuantizerOptions{type});
    q.fit_dim(33);
    const QuantizedMatrix codes = q.encode(x);
    EXPECT_EQ(codes.bytes(), 40 * 33 * 2);
    const RowMatrixf back = q.decode(codes);
    const double bound = type == QuantizationType::f16 ? std::ldexp(1.0, -11) : std::ldexp(1.0, -8);
    for (Eigen::Index i = 0; i < x.size(); ++i)
      ASSERT_LE(std::abs(back.data()[i] - x.data()[i]), bound * std::abs(x.data()[i]) + 1e-7) << i;
  }
}

TEST(Quantization, Int8RoundTripIsWithinHalfAStepAndClipsOutsideTheRange) {
  const RowMatrixf calibration = random_normal<float>(500, 17, 14);
  Quantizer q(QuantizerOptions{QuantizationType::int8});
  q.fit(calibration);
  const RowMatrixf back = q.decode(q.encode(calibration));
  for (int j = 0; j < 17; ++j) {
    const double step = (static_cast<double>(q.high()[j]) - q.low()[j]) / 255.0;
    for (int i = 0; i < 500; ++i) ASSERT_LE(std::abs(back(i, j) - calibration(i, j)), 0.5 * step * (1 + 1e-4)) << i;
  }
  // Outside the range: clipped to the nearest end, never wrapped to the other one.
  RowMatrixf outside(2, 17);
  for (int j = 0; j < 17; ++j) {
    outside(0, j) = q.high()[j] + 10.0f;
    outside(1, j) = q.low()[j] - 10.0f;
  }
  const QuantizedMatrix codes = q.encode(outside);
  for (int j = 0; j < 17; ++j) {
    EXPECT_EQ(static_cast<std::int8_t>(codes.row(0)[j]), 127);
    EXPECT_EQ(static_cast<std::int8_t>(codes.row(1)[j]), -128);
  }
  const RowMatrixf clipped = q.decode(codes);
  EXPECT_NEAR(clipped(0, 3), q.high()[3], 1e-5);
  EXPECT_NEAR(clipped(1, 3), q.low()[3], 1e-5);
}

// int4: 16 levels per dimension, two codes per byte (even dimensions in the low
// nibble), the int8 rule otherwise: q = round((x - low) / step), step = (high - low) / 15.
TEST(Quantization, Int4PacksTwoLevelsPerByteWithinHalfAStep) {
  const RowMatrixf calibration = random_normal<float>(400, 13, 17);
  Quantizer q(QuantizerOptions{QuantizationType::int4});
  q.fit(calibration);
  EXPECT_EQ(q.bytes_per_row(), 7);
  const QuantizedMatrix codes = q.encode(calibration);
  const RowMatrixf back = q.decode(codes);
  for (int j = 0; j < 13; ++j) {
    const double low = q.low()[j], step = (static_cast<double>(q.high()[j]) - low) / 15.0;
    for (int i = 0; i < 400; ++i) {
      const int level = (codes.row(i)[j / 2] >> (4 * (j % 2))) & 0xf;
      const double expected = std::nearbyint((static_cast<double>(calibration(i, j)) - low) / step);
      // The level of the formula, except exactly between two levels (float rounding may go either way).
      const double position = (calibration(i, j) - low) / step;
      if (std::abs(position - std::floor(position) - 0.5) > 1e-3) {
        ASSERT_EQ(level, static_cast<int>(expected)) << i << " " << j;
      }
      ASSERT_LE(std::abs(back(i, j) - calibration(i, j)), 0.5 * step * (1 + 1e-4)) << i << " " << j;
    }
  }
  // The unused high nibble of the last byte (odd dim) stays 0; outside values clip to 0 and 15.
  for (int i = 0; i < 400; ++i) ASSERT_EQ(codes.row(i)[6] >> 4, 0);
  RowMatrixf outside(1, 13);
  for (int j = 0; j < 13; ++j) outside(0, j) = (j % 2 == 0 ? q.high()[j] + 5.0f : q.low()[j] - 5.0f);
  const QuantizedMatrix clipped = q.encode(outside);
  for (int b = 0; b < 6; ++b) EXPECT_EQ(clipped.row(0)[b], 0x0f);  // low nibble 15, high nibble 0
  EXPECT_EQ(clipped.row(0)[6], 0x0f);
  EXPECT_THROW(Quantizer(QuantizerOptions{QuantizationType::int4}).fit_dim(4), InvalidArgument);
  EXPECT_EQ(parse_quantization_type("int4"), QuantizationType::int4);
}

TEST(Quantization, ZeroWidthCalibrationIsRefusedNamingTheDimension) {
  RowMatrixf calibration = random_normal<float>(10, 4, 15);
  calibration.col(2).setConstant(0.5f);
  Quantizer q(QuantizerOptions{QuantizationType::int8});
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { q.fit(calibration); }), "dimension 2");
  EXPECT_THROW(q.encode(calibration), NotFitted);
  EXPECT_THROW(Quantizer(QuantizerOptions{QuantizationType::int8}).fit_dim(4), InvalidArgument);
}

TEST(Quantization, BinaryCodesArePackbitsOfTheSign) {
  RowMatrixf x(1, 10);
  x << 1, -1, 2, 0, -3, 4, 5, -6, 7, -0.5;
  Quantizer q(QuantizerOptions{QuantizationType::binary});
  q.fit_dim(10);
  const QuantizedMatrix codes = q.encode(x);
  ASSERT_EQ(codes.bytes_per_row, 2);
  EXPECT_EQ(codes.codes[0], 0b10100110);  // numpy.packbits([1,0,1,0,0,1,1,0])
  EXPECT_EQ(codes.codes[1], 0b10000000);  // [1,0] then zero padding
  EXPECT_THROW(q.decode(codes), InvalidArgument);
}

class QuantizerFile : public testing::TempDirTest {};

TEST_F(QuantizerFile, Int4CalibrationSavesAndLoads) {
  const RowMatrixf calibration = random_normal<float>(50, 6, 18);
  Quantizer q(QuantizerOptions{QuantizationType::int4});
  q.fit(calibration);
  q.save(path("q4.model"));
  const Quantizer loaded = Quantizer::load(path("q4.model"));
  EXPECT_EQ(loaded.options().type, QuantizationType::int4);
  EXPECT_EQ(loaded.encode(calibration).codes, q.encode(calibration).codes);
  EXPECT_EQ(loaded.decode(q.encode(calibration)), q.decode(q.encode(calibration)));
}

TEST_F(QuantizerFile, CalibrationSavesLoadsAndRejectsCorruption) {
  const RowMatrixf calibration = random_normal<float>(100, 9, 16);
  QuantizerOptions options{QuantizationType::int8};
  options.range_quantile = 0.01;
  Quantizer q(options);
  q.fit(calibration);
  q.save(path("q.model"));
  const Quantizer loaded = Quantizer::load(path("q.model"));
  EXPECT_EQ(loaded.encode(calibration).codes, q.encode(calibration).codes);
  std::fstream file(path("q.model"), std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(40);
  file.put('\x7f');
  file.close();
  EXPECT_THROW(Quantizer::load(path("q.model")), IoError);
}

// Brute-force Hamming reference: popcount byte by byte.
IdMatrix reference_hamming_knn(const QuantizedMatrix& base, const QuantizedMatrix& queries, std::int64_t k) {
  IdMatrix ids(queries.rows, k);
  for (std::int64_t i = 0; i < queries.rows; ++i) {
    std::vector<std::pair<int, std::int64_t>> all;
    for (std::int64_t j = 0; j < base.rows; ++j) {
      int distance = 0;
      for (std::int64_t b = 0; b < base.bytes_per_row; ++b)
        distance += static_cast<int>(std::bitset<8>(queries.row(i)[b] ^ base.row(j)[b]).count());
      all.emplace_back(distance, j);
    }
    std::sort(all.begin(), all.end());
    for (std::int64_t r = 0; r < k; ++r) ids(i, r) = all[static_cast<std::size_t>(r)].second;
  }
  return ids;
}

TEST(Quantization, BinaryHammingRanksEqualTheScalarReferenceOnEveryIsa) {
  for (const std::int64_t dim : {7, 64, 200, 1024}) {
    const RowMatrixf base = random_normal<float>(300, dim, 17), queries = random_normal<float>(13, dim, 18);
    Quantizer q(QuantizerOptions{QuantizationType::binary});
    q.fit_dim(dim);
    const QuantizedMatrix base_codes = q.encode(base), query_codes = q.encode(queries);
    const IdMatrix expected = reference_hamming_knn(base_codes, query_codes, 20);
    for (const auto isa : {kernels::Isa::scalar, kernels::Isa::avx2, kernels::Isa::avx512}) {
      if (!kernels::is_supported(isa)) continue;
      const kernels::ScopedIsa scoped(isa);
      const KnnGraph graph = binary_knn(base_codes, query_codes, 20, Parallel{2});
      EXPECT_EQ(graph.ids, expected) << "dim " << dim << " isa " << kernels::to_string(isa);
    }
  }
}

TEST(Quantization, SearchErrors) {
  const RowMatrixf base = random_normal<float>(10, 8, 19);
  Quantizer binary(QuantizerOptions{QuantizationType::binary});
  binary.fit_dim(8);
  const QuantizedMatrix codes = binary.encode(base);
  EXPECT_CONTAINS(message_of<InvalidK>([&] { binary_knn(codes, codes, 11); }), "k=11");
  Quantizer half(QuantizerOptions{QuantizationType::f16});
  half.fit_dim(8);
  const QuantizedMatrix half_codes = half.encode(base);
  EXPECT_THROW(quantized_knn(half, half_codes, base, 11, Metric::ip), InvalidK);
  EXPECT_THROW(quantized_knn(binary, codes, base, 1, Metric::l1), InvalidArgument);
  IdMatrix candidates(10, 2);
  candidates.setConstant(10);
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { rescore(base, base, candidates, 1, Metric::l2); }), "outside base");
}

TEST(Quantization, HalfAndInt8SearchFindTheFloatNeighbours) {
  const RowMatrixf base = random_normal<float>(500, 48, 20), queries = random_normal<float>(20, 48, 21);
  const KnnGraph exact = knn(queries, base, 10, Metric::cosine);
  for (const auto type : {QuantizationType::f16, QuantizationType::bf16, QuantizationType::int8}) {
    Quantizer q(QuantizerOptions{type});
    q.fit(base);
    const KnnGraph found = quantized_knn(q, q.encode(base), queries, 10, Metric::cosine, Parallel{2});
    EXPECT_GE(neighbor_recall(found.ids, exact.ids, 10), type == QuantizationType::int8 ? 0.9 : 0.97)
        << to_string(type);
    // Angular: cosine's lists, the scores transformed.
    const KnnGraph angular = quantized_knn(q, q.encode(base), queries, 10, Metric::angular, Parallel{2});
    EXPECT_EQ(angular.metric, Metric::angular);
    EXPECT_EQ(angular.ids, found.ids) << to_string(type);
    EXPECT_FLOAT_EQ(angular.scores(3, 2), static_cast<float>(angular_from_cosine(found.scores(3, 2))));
  }
}

// ---------------------------------------------------------------- real data

std::string fmnist(const std::string& name) { return std::string(LATENT_FMNIST_ROWS_DIR) + "/" + name; }

// The self-excluded k-NN lists of the base rows from a (k + 1)-NN search of the
// base in itself: each row's own id dropped (wherever ties put it).
IdMatrix drop_self(const KnnGraph& with_self, std::int64_t k) {
  IdMatrix out(with_self.n_queries(), k);
  for (std::int64_t i = 0; i < with_self.n_queries(); ++i) {
    std::int64_t c = 0;
    for (std::int64_t r = 0; r < with_self.k() && c < k; ++r)
      if (with_self.ids(i, r) != i) out(i, c++) = with_self.ids(i, r);
  }
  return out;
}

TEST(QuantizationRealData, FashionMnistInt8AndBinaryRecall) {
  if (!std::filesystem::exists(fmnist("pixels.npy")) || !std::filesystem::exists(fmnist("train.npy")))
    GTEST_SKIP() << "Fashion-MNIST rows absent (fixture fmnist_rows)";
  const RowMatrixf pixels = read_npy_matrix<float>(fmnist("pixels.npy"));
  const std::vector<std::int64_t> labels = read_npy_vector<std::int64_t>(fmnist("pixels_labels.npy"));
  const MappedNpy train(fmnist("train.npy"));
  // Calibration: the first 10000 training images (pixels.npy has a constant pixel,
  // which int8 rightly refuses as a zero-width range).
  const MatrixView<float> all = train.view<float>();
  const MatrixView<float> calibration(all.data, 10000, all.cols);
  const Parallel parallel{2};
  const KnnGraph exact = knn_graph(pixels, 10, Metric::l2);
  const double float_accuracy = loo_knn_accuracy(exact.ids, labels, 10);

  Quantizer int8(QuantizerOptions{QuantizationType::int8});
  int8.fit(calibration);
  const QuantizedMatrix int8_codes = int8.encode(pixels);
  // Self-excluded graph from an 11-NN search with each point's own id dropped.
  const IdMatrix int8_graph = drop_self(quantized_knn(int8, int8_codes, pixels, 11, Metric::l2, parallel), 10);
  const double int8_recall = neighbor_recall(int8_graph, exact.ids, 10);
  const double int8_accuracy = loo_knn_accuracy(int8_graph, labels, 10);

  QuantizerOptions binary_options{QuantizationType::binary};
  binary_options.binary_center = true;  // thresholds at the calibration means
  Quantizer binary(binary_options);
  binary.fit(calibration);
  const QuantizedMatrix binary_codes = binary.encode(pixels);
  const KnnGraph rescored = binary_search_rescored(binary, binary_codes, pixels, pixels, 11, 10, Metric::l2, parallel);
  const IdMatrix binary_graph = drop_self(rescored, 10);
  const double binary_recall = neighbor_recall(binary_graph, exact.ids, 10);
  const double float_bytes = 4.0 * static_cast<double>(pixels.size());
  std::printf(
      "fmnist pixels 2000 x 784, l2, k=10: int8 recall@10 %.4f, LOO kNN accuracy int8 %.4f vs float %.4f, "
      "memory ratio %.1f; binary + 10x exact rescoring recall@10 %.4f, memory ratio %.1f\n",
      int8_recall, int8_accuracy, float_accuracy, float_bytes / static_cast<double>(int8_codes.bytes()), binary_recall,
      float_bytes / static_cast<double>(binary_codes.bytes()));
  RecordProperty("int8_recall_at_10", std::to_string(int8_recall));
  RecordProperty("binary_rescored_recall_at_10", std::to_string(binary_recall));
  EXPECT_GE(int8_recall, 0.95);
  EXPECT_NEAR(int8_accuracy, float_accuracy, 0.01);
  EXPECT_GE(binary_recall, 0.9);
}

TEST(QuantizationRealData, EncoderLatentsInt8Recall) {
  const std::string file = std::string(LATENT_GOLDEN_DIR) + "/inputs/encA.npy";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "golden inputs absent";
  const RowMatrixf x = read_npy_matrix<float>(file);
  const std::vector<std::int64_t> labels =
      read_npy_vector<std::int64_t>(std::string(LATENT_GOLDEN_DIR) + "/inputs/enc_labels.npy");
  const KnnGraph exact = knn_graph(x, 10, Metric::cosine);
  Quantizer int8(QuantizerOptions{QuantizationType::int8});
  int8.fit(x);
  const KnnGraph found = quantized_knn(int8, int8.encode(x), x, 11, Metric::cosine, Parallel{2});
  const IdMatrix graph = drop_self(found, 10);
  const double recall = neighbor_recall(graph, exact.ids, 10);
  const double accuracy = loo_knn_accuracy(graph, labels, 10), float_accuracy = loo_knn_accuracy(exact.ids, labels, 10);
  std::printf("encA 2000 x 64, cosine, k=10: int8 recall@10 %.4f, LOO kNN accuracy int8 %.4f vs float %.4f\n", recall,
              accuracy, float_accuracy);
  EXPECT_GE(recall, 0.95);
  EXPECT_NEAR(accuracy, float_accuracy, 0.01);
}

// int4 codes of the bundled encoder latents: float queries against them (decoded
// into the float path) find the exact cosine neighbours of most rows, fewer than
// int8 does; the search equals the float search of the decoded rows.
TEST(QuantizationRealData, BundledLatentsInt4Recall) {
  const RowMatrixf x = read_npy_matrix<float>(std::string(LATENT_SOURCE_DIR) + "/data/encoders/mlp_seed0.npy");
  const RowMatrixf base = x.topRows(1800), queries = x.bottomRows(200);
  const KnnGraph exact = knn(queries, base, 10, Metric::cosine);
  double recall[2];
  int slot = 0;
  for (const QuantizationType type : {QuantizationType::int4, QuantizationType::int8}) {
    Quantizer q(QuantizerOptions{type});
    q.fit(base);
    const QuantizedMatrix codes = q.encode(base);
    const KnnGraph found = quantized_knn(q, codes, queries, 10, Metric::cosine);
    if (type == QuantizationType::int4) {
      EXPECT_EQ(found.ids, knn(queries, q.decode(codes), 10, Metric::cosine).ids);
    }
    recall[slot++] = neighbor_recall(found.ids, exact.ids, 10);
  }
  std::printf("mlp_seed0 1800 x 64, cosine, k=10: recall@10 int4 %.4f, int8 %.4f\n", recall[0], recall[1]);
  EXPECT_GE(recall[0], 0.6);
  EXPECT_LT(recall[0], recall[1]);
}

// The bundled real data searched in bf16 and int8 (both sides converted once),
// against the exact float search: the recall the documentation promises, and
// --rescore's exact re-ranking of 50 candidates.
TEST(LowPrecisionRealData, RecallOnTheBundledImagesAndEncoderLatents) {
  const std::string root = std::string(LATENT_SOURCE_DIR) + "/data/";
  const RowMatrixf images = read_npy_matrix<float>(root + "fashion-mnist/images.npy");
  const RowMatrixf latents = read_npy_matrix<float>(root + "encoders/mlp_seed0.npy");
  struct Case {
    const char* name;
    const RowMatrixf* x;
    Metric metric;
  };
  for (const Case& c : {Case{"images", &images, Metric::l2}, Case{"images", &images, Metric::ip},
                        Case{"latents", &latents, Metric::cosine}, Case{"latents", &latents, Metric::l2}}) {
    const MatrixView<float> x(*c.x);
    // Queries: the first 200 rows against all rows (their own row included), and
    // the self graph of all rows.
    const MatrixView<float> queries(x.data, 200, x.cols);
    const KnnGraph exact = knn(queries, x, 10, c.metric);
    const KnnGraph exact_graph = knn_graph(x, 10, c.metric);
    for (const ComputePrecision compute : {ComputePrecision::bf16, ComputePrecision::int8}) {
      const double floor = compute == ComputePrecision::bf16 ? 0.99 : 0.97;
      for (const std::int64_t rescore : {std::int64_t{0}, std::int64_t{50}}) {
        const LowPrecisionOptions options{compute, rescore, Parallel{2}};
        const KnnGraph found = low_precision_knn(queries, x, 10, c.metric, options);
        const KnnGraph graph = low_precision_knn_graph(x, 10, c.metric, options);
        const double recall = neighbor_recall(found.ids, exact.ids, 10);
        const double graph_recall = neighbor_recall(graph.ids, exact_graph.ids, 10);
        std::printf("%s %s %s rescore %lld: recall@10 %.4f (queries), %.4f (graph)\n", c.name,
                    to_string(c.metric).data(), to_string(compute), static_cast<long long>(rescore), recall,
                    graph_recall);
        EXPECT_GE(std::min(recall, graph_recall), rescore > 0 ? 0.999 : floor)
            << c.name << " " << to_string(c.metric) << " " << to_string(compute) << " rescore " << rescore;
        EXPECT_TRUE(graph.self_excluded);
        for (std::int64_t i = 0; i < graph.n_queries(); ++i)
          for (std::int64_t r = 0; r < 10; ++r) ASSERT_NE(graph.ids(i, r), i);
        if (rescore > 0) {  // re-scored exactly: the float scores of the ids found
          for (std::int64_t i = 0; i < 200; i += 37)
            for (std::int64_t r = 0; r < 10; r += 3) {
              const float expected = similarity(MatrixView<float>(queries.row(i), 1, x.cols),
                                                MatrixView<float>(x.row(found.ids(i, r)), 1, x.cols), c.metric)(0, 0);
              EXPECT_NEAR(found.scores(i, r), expected, 1e-5 * (1 + std::abs(expected)));
            }
        }
      }
    }
  }
}

// int8: the estimated inner product is off from the float product of the query
// with the decoded row by at most alpha / 2 sum_j |v_j| (the documented bound).
TEST(LowPrecision, Int8EstimateStaysWithinItsStatedError) {
  const RowMatrixf base = read_npy_matrix<float>(std::string(LATENT_SOURCE_DIR) + "/data/encoders/mlp_seed0.npy");
  const RowMatrixf queries = base.bottomRows(20) * 1.7f;
  Quantizer int8(QuantizerOptions{QuantizationType::int8});
  int8.fit(base);
  const QuantizedMatrix codes = int8.encode(base);
  const RowMatrixf decoded = int8.decode(codes);
  const std::int64_t n = base.rows(), d = base.cols();
  const KnnGraph all = quantized_knn(int8, codes, queries, n, Metric::ip);  // every row's estimate
  for (std::int64_t i = 0; i < queries.rows(); ++i) {
    double lo = 1e300, hi = -1e300;
    for (std::int64_t j = 0; j < d; ++j) {
      const double folded =
          double(queries(i, j)) * double((int8.high()[std::size_t(j)] - int8.low()[std::size_t(j)]) / 255.0f);
      lo = std::min(lo, folded);
      hi = std::max(hi, folded);
    }
    const double alpha = (hi - lo) / 255.0;
    for (std::int64_t r = 0; r < n; ++r) {
      const std::int64_t j = all.ids(i, r);
      double exact = 0, code_mass = 0;
      for (std::int64_t p = 0; p < d; ++p) {
        exact += double(queries(i, p)) * double(decoded(j, p));
        code_mass += std::abs(double(static_cast<std::int8_t>(codes.row(j)[p])));
      }
      ASSERT_LE(std::abs(all.scores(i, r) - exact), alpha / 2 * code_mass + 1e-4 * (1 + std::abs(exact)))
          << "query " << i << " row " << j;
    }
  }
}

TEST(LowPrecision, OptionsAndErrors) {
  const RowMatrixf x = random_normal<float>(300, 24, 40);
  EXPECT_EQ(parse_compute_precision("int8"), ComputePrecision::int8);
  EXPECT_STREQ(to_string(ComputePrecision::bf16), "bf16");
  EXPECT_CONTAINS(message_of<InvalidArgument>([] { parse_compute_precision("fp8", "--compute"); }), "--compute");
  // f32 is the exact search, bitwise.
  const KnnGraph exact = knn_graph(x, 5, Metric::l2);
  const KnnGraph f32 = low_precision_knn_graph(x, 5, Metric::l2, {ComputePrecision::f32, 0, {}});
  EXPECT_EQ(f32.ids, exact.ids);
  EXPECT_TRUE((f32.scores.array() == exact.scores.array()).all());
  // Angular: cosine's lists with the scores transformed.
  const KnnGraph cosine = low_precision_knn(x, x, 5, Metric::cosine, {ComputePrecision::int8, 0, {}});
  const KnnGraph angular = low_precision_knn(x, x, 5, Metric::angular, {ComputePrecision::int8, 0, {}});
  EXPECT_EQ(angular.ids, cosine.ids);
  EXPECT_FLOAT_EQ(angular.scores(7, 1), static_cast<float>(angular_from_cosine(cosine.scores(7, 1))));
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] {
                    low_precision_knn(x, x, 5, Metric::l2, {ComputePrecision::bf16, 3, {}});
                  }),
                  "rescore");
  EXPECT_THROW(low_precision_knn(x, x, 5, Metric::l1, {}), InvalidArgument);
  EXPECT_THROW(low_precision_knn_graph(x, 300, Metric::l2, {}), InvalidK);
  // A constant column adds the same to every distance: searched as if absent.
  RowMatrixf constant = x;
  constant.col(3).setConstant(2.5f);
  RowMatrixf without = x;
  without.col(3).setZero();
  const LowPrecisionOptions int8{ComputePrecision::int8, 0, {}};
  EXPECT_EQ(low_precision_knn_graph(constant, 5, Metric::l2, int8).ids,
            low_precision_knn_graph(without, 5, Metric::l2, int8).ids);
  Quantizer strict(QuantizerOptions{QuantizationType::int8});
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { strict.fit(constant); }), "dimension 3");
  QuantizerOptions widened{QuantizationType::int8};
  widened.widen_constant_dimensions = true;
  Quantizer lenient(widened);
  lenient.fit(constant);
  EXPECT_EQ(lenient.decode(lenient.encode(constant)).col(3), constant.col(3));
  RowMatrixf bad = x;
  bad(4, 2) = std::nanf("");
  EXPECT_THROW(low_precision_knn(x, bad, 5, Metric::l2, {}), NonFiniteValue);
  EXPECT_THROW(low_precision_knn(bad, x, 5, Metric::l2, {}), NonFiniteValue);
}

// Float queries against binary documents: the score is <q, s>, s_j = +1 where the
// document's value is above 0, else -1, taken here from the float rows themselves
// (not from the packed codes) and summed in double.
TEST(QuantizationRealData, FloatQueryTimesBinaryDocumentIsTheSignVectorProduct) {
  const std::string file = std::string(LATENT_GOLDEN_DIR) + "/inputs/encA.npy";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "golden inputs absent";
  const RowMatrixf x = read_npy_matrix<float>(file);
  const RowMatrixf queries = x.topRows(40);
  Quantizer binary(QuantizerOptions{QuantizationType::binary});
  binary.fit_dim(x.cols());
  const QuantizedMatrix codes = binary.encode(x);
  const std::int64_t n = x.rows(), d = x.cols(), k = 15;
  for (const Metric metric : {Metric::ip, Metric::cosine}) {
    const KnnGraph found = quantized_knn(binary, codes, queries, k, metric, Parallel{2});
    for (std::int64_t i = 0; i < queries.rows(); ++i) {
      std::vector<std::pair<double, std::int64_t>> all;
      const double query_norm = queries.row(i).cast<double>().norm();
      for (std::int64_t j = 0; j < n; ++j) {
        double dot = 0;
        for (std::int64_t c = 0; c < d; ++c) dot += double(queries(i, c)) * (x(j, c) > 0 ? 1.0 : -1.0);
        all.emplace_back(metric == Metric::ip ? dot : dot / (query_norm * std::sqrt(double(d))), j);
      }
      std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      for (std::size_t r = 0; r < static_cast<std::size_t>(k); ++r) {
        const auto& [score, id] = all[r];
        const auto column = static_cast<std::int64_t>(r);
        EXPECT_NEAR(found.scores(i, column), score, 1e-4 * (1 + std::abs(score))) << to_string(metric) << " " << i;
        // ids agree wherever the reference's scores are apart by more than float rounding
        const bool separated = (r == 0 || all[r - 1].first - score > 1e-3) && all[r + 1].first < score - 1e-3;
        if (separated) {
          EXPECT_EQ(found.ids(i, column), id) << to_string(metric) << " query " << i << " rank " << r;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- multi-vector

TEST(MultiVector, ChamferOnAHandCase) {
  RowMatrixf q(2, 2), d(3, 2);
  q << 1, 0, 0, 1;
  d << 2, 0, 0, 3, -1, -1;
  EXPECT_DOUBLE_EQ(chamfer_similarity(q, d), 5.0);
  EXPECT_THROW(chamfer_similarity(q, MatrixView<float>(d.data(), 0, 2)), EmptyInput);
  EXPECT_THROW(MultiVectorSet(d, {0, 2}), InvalidArgument);
}

// A clustered synthetic corpus: each item is a handful of noisy copies of a few topic vectors.
MultiVectorSet synthetic_sets(std::int64_t items, std::int64_t dim, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> length(3, 8);
  const RowMatrixf topics = random_normal<float>(50, dim, seed + 1);
  std::uniform_int_distribution<int> topic(0, 49);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::vector<std::int64_t> lengths;
  std::vector<float> values;
  for (std::int64_t i = 0; i < items; ++i) {
    lengths.push_back(length(rng));
    for (std::int64_t v = 0; v < lengths.back(); ++v) {
      const int t = topic(rng);
      for (std::int64_t j = 0; j < dim; ++j)
        values.push_back(topics(t, j) / std::sqrt(static_cast<float>(dim)) +
                         noise(rng) / std::sqrt(static_cast<float>(dim)));
    }
  }
  const auto total = static_cast<std::int64_t>(values.size()) / dim;
  return MultiVectorSet::from_lengths(Eigen::Map<RowMatrixf>(values.data(), total, dim), lengths);
}

TEST(Muvera, OnePartitionAndIdentityProjectionIsTheClosedForm) {
  const MultiVectorSet queries = synthetic_sets(5, 12, 30), documents = synthetic_sets(7, 12, 31);
  FdeOptions options;
  options.k_sim = 0;
  options.repetitions = 1;
  const FdeEncoder encoder(12, options);
  ASSERT_EQ(encoder.output_dim(), 12);
  const RowMatrixf fq = encoder.encode_queries(queries), fd = encoder.encode_documents(documents);
  for (std::int64_t i = 0; i < 5; ++i)
    for (std::int64_t j = 0; j < 7; ++j) {
      const MatrixView<float> q = queries.item(i), d = documents.item(j);
      const Eigen::RowVectorXd mean = d.map().cast<double>().colwise().mean();
      const double expected = (q.map().cast<double>() * mean.transpose()).sum();  // sum_q q . mean(D)
      EXPECT_NEAR(fq.row(i).cast<double>().dot(fd.row(j).cast<double>()), expected, 1e-5 * (1 + std::abs(expected)));
    }
  // A final random +-1/sqrt(m) projection keeps inner products (Johnson-Lindenstrauss):
  // error ~ |q| |d| / sqrt(m), here bounded at 7 standard deviations.
  options.final_dim = 2048;
  const FdeEncoder projected(12, options);
  ASSERT_EQ(projected.output_dim(), 2048);
  const RowMatrixf pq = projected.encode_queries(queries), pd = projected.encode_documents(documents);
  for (std::int64_t i = 0; i < 5; ++i)
    for (std::int64_t j = 0; j < 7; ++j)
      EXPECT_NEAR(pq.row(i).dot(pd.row(j)), fq.row(i).dot(fd.row(j)), 0.15 * fq.row(i).norm() * fd.row(j).norm());
}

// The FDE score of one repetition is a noisy, biased estimate of Chamfer: the
// partition means dilute the best match, a bias more repetitions do not remove
// (measured: mean |FDE / R - Chamfer| stays near 1.25 for R = 1..256 here). What
// repetitions do shrink is the noise, so FDE scores order documents more and more
// like Chamfer does: the Spearman correlation per query grows with R.
TEST(Muvera, FdeScoresFollowChamferMoreCloselyAsRepetitionsGrow) {
  const MultiVectorSet queries = synthetic_sets(20, 16, 40), documents = synthetic_sets(30, 16, 41);
  std::vector<double> correlations, errors;
  for (const std::int64_t repetitions : {1, 4, 16, 64}) {
    FdeOptions options;
    options.k_sim = 3;
    options.repetitions = repetitions;
    options.seed = 7;
    const FdeEncoder encoder(16, options);
    const RowMatrixf fq = encoder.encode_queries(queries), fd = encoder.encode_documents(documents);
    double rho = 0, error = 0;
    for (std::int64_t i = 0; i < 20; ++i) {
      std::vector<double> chamfer, estimate;
      for (std::int64_t j = 0; j < 30; ++j) {
        chamfer.push_back(chamfer_similarity(queries.item(i), documents.item(j)));
        estimate.push_back(fq.row(i).cast<double>().dot(fd.row(j).cast<double>()) / static_cast<double>(repetitions));
        error += std::abs(estimate.back() - chamfer.back()) / 600.0;
      }
      rho += spearman(estimate, chamfer) / 20.0;
    }
    correlations.push_back(rho);
    errors.push_back(error);
  }
  std::printf(
      "R = 1, 4, 16, 64: Spearman(FDE, Chamfer) %.3f %.3f %.3f %.3f; mean |FDE/R - Chamfer| %.3f %.3f %.3f %.3f\n",
      correlations[0], correlations[1], correlations[2], correlations[3], errors[0], errors[1], errors[2], errors[3]);
  for (std::size_t r = 1; r < correlations.size(); ++r) EXPECT_GT(correlations[r], correlations[r - 1]) << r;
  EXPECT_GT(correlations.back(), 0.65);
}

TEST(Muvera, SearchThenChamferRerankFindsTheExactChamferNeighbours) {
  const MultiVectorSet documents = synthetic_sets(400, 16, 50), queries = synthetic_sets(20, 16, 51);
  FdeOptions options;
  options.k_sim = 3;
  options.repetitions = 20;
  options.seed = 3;
  const FdeEncoder encoder(16, options);
  const RowMatrixf fdes = encoder.encode_documents(documents, Parallel{2});
  EXPECT_EQ(fdes, encoder.encode_documents(documents, Parallel{1}));  // deterministic
  const KnnGraph exact = chamfer_knn(queries, documents, 10, Parallel{2});
  const KnnGraph found = muvera_search(encoder, queries, fdes, documents, 10, 100, Parallel{2});
  const double recall = neighbor_recall(found.ids, exact.ids, 10);
  std::printf("MUVERA (k_sim 3, R 20, 100 candidates) recall@10 vs exact Chamfer: %.3f\n", recall);
  EXPECT_GE(recall, 0.8);
  // Re-ranked scores are the exact Chamfer scores, best first.
  EXPECT_NEAR(found.scores(0, 0), chamfer_similarity(queries.item(0), documents.item(found.ids(0, 0))), 1e-4);
  EXPECT_THROW(muvera_search(encoder, queries, fdes, documents, 10, 401), InvalidK);
  EXPECT_THROW(FdeEncoder(16, FdeOptions{17}), InvalidArgument);
}

}  // namespace
}  // namespace latent
