// The public kernel API: ISA selection, 16-bit conversions, one-to-many and
// tiles, the batched GEMM path (similarity, knn, gemm) against double references,
// its determinism across threads, block sizes and batch sizes, and its errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernels/peak_probe.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/kernels.hpp"

namespace latent::kernels {
namespace {

const std::vector<Metric> kAllMetrics = {Metric::cosine, Metric::ip,   Metric::l2,     Metric::sqeuclidean,
                                         Metric::l1,     Metric::linf, Metric::angular};

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (const Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
    if (is_supported(isa)) isas.push_back(isa);
  return isas;
}

RowMatrixf random_matrix(std::int64_t rows, std::int64_t cols, std::uint32_t seed, float low = -1.0f,
                         float high = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(low, high);
  RowMatrixf m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = uniform(rng);
  return m;
}

// The metric in long double (a 64-bit significand) from the inputs, and a bound
// on the error of a kernel in T (float or double).
struct Reference {
  double value;
  double tolerance;
};

template <class T>
Reference reference(Metric metric, const T* a, const T* b, std::int64_t dim) {
  long double dot = 0, abs_dot = 0, aa = 0, bb = 0, sq = 0, l1 = 0, linf = 0;
  for (std::int64_t p = 0; p < dim; ++p) {
    const long double x = a[p], y = b[p];
    dot += x * y;
    abs_dot += std::fabs(x * y);
    aa += x * x;
    bb += y * y;
    sq += (x - y) * (x - y);
    l1 += std::fabs(x - y);
    linf = std::max(linf, std::fabs(x - y));
  }
  const bool single = sizeof(T) == 4;
  const double u = static_cast<double>(dim + 4) * (single ? 0x1p-24 : 0x1p-53);
  const double floor = single ? 1e-6 : 1e-14;  // absolute slack where a value can be near 0
  const auto d = [](long double x) { return static_cast<double>(x); };
  switch (metric) {
    case Metric::ip:
      return {d(dot), u * d(abs_dot) + 1e-30};
    case Metric::cosine:
      return {d(dot / std::sqrt(aa * bb)), 8 * u};
    case Metric::sqeuclidean:
      return {d(sq), 4 * u * d(aa + bb)};
    case Metric::l2:
      return {d(std::sqrt(sq)), 4 * u * d(aa + bb) / (d(std::sqrt(sq)) + 1e-3) + floor};
    case Metric::l1:
      return {d(l1), 2 * u * d(l1)};
    case Metric::linf:
      return {d(linf), floor * d(linf)};
    case Metric::angular: {
      // d angle / d cosine = 1 / sqrt(1 - c^2): cosine's bound, magnified near
      // +-1, where |acos x - acos y| <= (pi / 2) sqrt(|x - y|) caps it.
      const double c = std::clamp(d(dot / std::sqrt(aa * bb)), -1.0, 1.0);
      const double slope = 8 * u / (M_PI * std::sqrt(std::max(1.0 - c * c, 1e-300)));
      return {1.0 - std::acos(c) / M_PI, std::min(slope, 0.5 * std::sqrt(8 * u)) + floor / 10};
    }
  }
  return {0, 0};
}

// The batched entry points by element type.
void run_similarity(Metric metric, const MatrixView<float>& q, const MatrixView<float>& b, float* out,
                    std::int64_t ld_out, const BlockOptions& options = {}) {
  similarity_f32(metric, q, b, out, ld_out, options);
}
void run_similarity(Metric metric, const MatrixView<double>& q, const MatrixView<double>& b, double* out,
                    std::int64_t ld_out, const BlockOptions& options = {}) {
  similarity_f64(metric, q, b, out, ld_out, options);
}
void run_knn(Metric metric, const MatrixView<float>& q, const MatrixView<float>& b, std::int64_t k,
             std::int64_t self_offset, std::int64_t* ids, float* scores, const BlockOptions& options = {}) {
  knn_f32(metric, q, b, k, self_offset, ids, scores, options);
}
void run_knn(Metric metric, const MatrixView<double>& q, const MatrixView<double>& b, std::int64_t k,
             std::int64_t self_offset, std::int64_t* ids, double* scores, const BlockOptions& options = {}) {
  knn_f64(metric, q, b, k, self_offset, ids, scores, options);
}

template <class T>
using RowMatrixOf = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The batched path in float and in double: the same tests, each type's bounds.
template <class T>
class BatchedTyped : public ::testing::Test {};
using ElementTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(BatchedTyped, ElementTypes);

// ---------------------------------------------------------------- ISA

TEST(Isa, NamesAndValidation) {
  for (const Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) EXPECT_EQ(parse_isa(to_string(isa)), isa);
  try {
    parse_isa("sse9", "LATENT_ISA");
    FAIL();
  } catch (const UnsupportedIsa& e) {
    EXPECT_NE(std::string(e.what()).find("LATENT_ISA"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("sse9"), std::string::npos);
  }
  EXPECT_TRUE(is_supported(Isa::scalar));
  EXPECT_TRUE(is_supported(best_isa()));
  EXPECT_NE(capabilities().find(std::string(to_string(active_isa()))), std::string::npos);
}

TEST(Isa, DetectionIsConsistent) {
  const CpuFeatures& f = cpu_features();
  if (is_supported(Isa::avx512)) {
    EXPECT_TRUE(f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl && f.os_saves_zmm);
    EXPECT_TRUE(is_supported(Isa::avx2));
  }
  if (is_supported(Isa::avx2)) {
    EXPECT_TRUE(f.avx2 && f.fma && f.f16c && f.os_saves_ymm);
  }
  if (!f.os_saves_zmm) {
    EXPECT_FALSE(is_supported(Isa::avx512));
  }
}

TEST(Isa, PeakProbeCountsItsFlops) {
  for (const Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    const auto l1 = [](std::int64_t n) { return detail::distance_peak_probe(false, n); };
    const auto linf = [](std::int64_t n) { return detail::distance_peak_probe(true, n); };
    for (std::int64_t (*probe)(std::int64_t) : {+detail::fma_peak_probe, +detail::fma_f64_peak_probe, +l1, +linf}) {
      const std::int64_t one = probe(1);
      EXPECT_GT(one, 0);
      EXPECT_EQ(probe(1000), 1000 * one);
      EXPECT_EQ(probe(0), 0);
    }
    // A double vector holds half the lanes of a float one.
    if (isa != Isa::scalar) {
      EXPECT_EQ(2 * detail::fma_f64_peak_probe(1), detail::fma_peak_probe(1));
    }
  }
  EXPECT_THROW(detail::fma_peak_probe(-1), InvalidArgument);
  EXPECT_THROW(detail::fma_f64_peak_probe(-1), InvalidArgument);
  EXPECT_THROW(detail::distance_peak_probe(true, -1), InvalidArgument);
}

TEST(Isa, ScopedIsaSwitchesAndRestores) {
  const Isa before = active_isa();
  {
    ScopedIsa scalar(Isa::scalar);
    EXPECT_EQ(active_isa(), Isa::scalar);
  }
  EXPECT_EQ(active_isa(), before);
}

// ---------------------------------------------------------------- 16-bit floats

TEST(Float16, EveryHalfRoundTrips) {
  for (std::uint32_t bits = 0; bits < 0x10000u; ++bits) {
    const Float16 half{static_cast<std::uint16_t>(bits)};
    const float value = to_float(half);
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(to_float(to_float16(value))));
      continue;
    }
    ASSERT_EQ(to_float16(value).bits, half.bits) << std::hex << bits;
  }
  EXPECT_EQ(to_float(Float16{0x3c00}), 1.0f);
  EXPECT_EQ(to_float(Float16{0x0001}), 0x1p-24f);  // smallest subnormal
  EXPECT_EQ(to_float16(65520.0f).bits, 0x7c00);    // rounds to +Inf
  EXPECT_EQ(to_float16(1e-9f).bits, 0x0000);
}

TEST(Float16, RoundsToNearestEven) {
  // Brute-force reference: the nearest half (ties to the even mantissa).
  std::vector<float> halves;
  for (std::uint32_t bits = 0; bits < 0x7c00u; ++bits)
    halves.push_back(to_float(Float16{static_cast<std::uint16_t>(bits)}));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> exponent(-26.0f, 16.0f);
  for (int trial = 0; trial < 20000; ++trial) {
    const float value = std::exp2(exponent(rng));
    if (value >= 65504.0f) continue;
    const auto above = std::lower_bound(halves.begin(), halves.end(), value);
    const auto index_above = static_cast<std::size_t>(above - halves.begin());
    std::size_t best = index_above;
    if (index_above > 0) {
      const double down = value - halves[index_above - 1], up = halves[index_above] - value;
      if (down < up || (down == up && (index_above - 1) % 2 == 0)) best = index_above - 1;
    }
    ASSERT_EQ(to_float16(value).bits, best) << value;
    ASSERT_EQ(to_float16(-value).bits, best | 0x8000u) << -value;
  }
}

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(to_bfloat16(1.0f).bits, 0x3f80);
  EXPECT_EQ(to_float(BFloat16{0x3f80}), 1.0f);
  float tie;
  const std::uint32_t tie_bits = 0x3f808000u;  // halfway between 0x3f80 and 0x3f81: to even (0x3f80)
  std::memcpy(&tie, &tie_bits, 4);
  EXPECT_EQ(to_bfloat16(tie).bits, 0x3f80);
  const std::uint32_t above_bits = 0x3f808001u;
  float above;
  std::memcpy(&above, &above_bits, 4);
  EXPECT_EQ(to_bfloat16(above).bits, 0x3f81);
  EXPECT_TRUE(std::isnan(to_float(to_bfloat16(std::nanf("")))));
}

// ---------------------------------------------------------------- pairs, one-to-many, tiles

TEST(Pairwise, PublicEntryPointsValidate) {
  std::vector<std::int8_t> bytes(kMaxInt8Dim + 1, 1);
  EXPECT_THROW(dot_i8(bytes.data(), bytes.data(), kMaxInt8Dim + 1), InvalidArgument);
  EXPECT_EQ(dot_i8(bytes.data(), bytes.data(), 100), 100);
  const std::uint8_t a[2] = {0xff, 0x00}, b[2] = {0x0f, 0x00}, none[2] = {0, 0};
  EXPECT_EQ(hamming_b1(a, b, 2), 4u);
  EXPECT_DOUBLE_EQ(jaccard_b1(a, b, 2), 0.5);
  EXPECT_DOUBLE_EQ(jaccard_b1(none, none, 2), 0.0);

  const RowMatrixf x = random_matrix(4, 5, 1), y = random_matrix(3, 6, 2);
  std::vector<float> out(12);
  EXPECT_THROW(many_to_many(Metric::l1, x, y, out.data(), 3), DimensionMismatch);
  const RowMatrixf z = random_matrix(3, 5, 3);
  EXPECT_THROW(many_to_many(Metric::l1, x, z, out.data(), 2), InvalidArgument);
  EXPECT_THROW(many_to_many(Metric::l1, x, z, nullptr, 3), InvalidArgument);
  EXPECT_THROW(one_to_many(Metric::l1, nullptr, z, out.data()), InvalidArgument);
}

TEST(Pairwise, OneToManyAndTilesMatchThePairKernels) {
  for (const Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    // Rows padded to a stride of 70 values: only the first 67 columns are viewed.
    const RowMatrixf storage_a = random_matrix(5, 70, 4), storage_b = random_matrix(9, 70, 5);
    const MatrixView<float> a(storage_a.data(), 5, 67, 70), b(storage_b.data(), 9, 67, 70);
    for (const Metric metric : kAllMetrics) {
      std::vector<float> tile(5 * 11);
      many_to_many(metric, a, b, tile.data(), 11);
      for (std::int64_t i = 0; i < 5; ++i) {
        std::vector<float> row(9);
        one_to_many(metric, a.row(i), b, row.data());
        for (std::int64_t j = 0; j < 9; ++j) {
          EXPECT_EQ(tile[static_cast<std::size_t>(i * 11 + j)], row[static_cast<std::size_t>(j)]);
          const Reference ref = reference(metric, a.row(i), b.row(j), 67);
          EXPECT_NEAR(row[static_cast<std::size_t>(j)], ref.value, ref.tolerance) << to_string(metric);
        }
      }
    }
    // f64 tiles.
    const RowMatrixd da = random_matrix(3, 20, 6).cast<double>(), db = random_matrix(4, 20, 7).cast<double>();
    std::vector<double> dtile(12);
    many_to_many(Metric::l2, da, db, dtile.data(), 4);
    EXPECT_NEAR(dtile[5], (da.row(1) - db.row(1)).norm(), 1e-12);
  }
}

// ---------------------------------------------------------------- batched GEMM path

TYPED_TEST(BatchedTyped, SimilarityMatchesTheReferenceForEveryMetricAndIsa) {
  using T = TypeParam;
  for (const Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    for (const auto& [m, n, d] :
         std::vector<std::array<std::int64_t, 3>>{{1, 1, 1}, {3, 70, 17}, {13, 33, 64}, {40, 130, 129}, {7, 1100, 9}}) {
      const RowMatrixOf<T> q = random_matrix(m, d, 10).template cast<T>(),
                           b = random_matrix(n, d, 11).template cast<T>();
      for (const Metric metric : kAllMetrics) {
        RowMatrixOf<T> out(m, n + 2);
        run_similarity(metric, q, b, out.data(), n + 2);
        for (std::int64_t i = 0; i < m; ++i)
          for (std::int64_t j = 0; j < n; ++j) {
            const Reference ref = reference(metric, q.row(i).data(), b.row(j).data(), d);
            ASSERT_NEAR(out(i, j), ref.value, ref.tolerance)
                << to_string(isa) << " " << to_string(metric) << " m=" << m << " n=" << n << " d=" << d;
          }
      }
    }
  }
}

TEST(Batched, SelfDistanceIsExactlyZeroAndSelfCosineOne) {
  for (const Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    const RowMatrixf x = random_matrix(50, 300, 12, 0.0f, 4.0f);
    RowMatrixf sq(50, 50), cos(50, 50);
    similarity_f32(Metric::sqeuclidean, x, x, sq.data(), 50);
    similarity_f32(Metric::cosine, x, x, cos.data(), 50);
    for (int i = 0; i < 50; ++i) {
      EXPECT_EQ(sq(i, i), 0.0f) << to_string(isa);
      EXPECT_NEAR(cos(i, i), 1.0f, 2e-7f);
      EXPECT_LE(cos(i, i), 1.0f);
    }
  }
}

TEST(Batched, GemmIsTheInnerProductWithoutEpilogue) {
  const RowMatrixf a = random_matrix(20, 50, 13), b = random_matrix(30, 50, 14);
  RowMatrixf c(20, 30), ip(20, 30);
  gemm_nt_f32(a, b, c.data(), 30);
  similarity_f32(Metric::ip, a, b, ip.data(), 30);
  EXPECT_TRUE((c.array() == ip.array()).all());
  EXPECT_LT((c.cast<double>() - a.cast<double>() * b.cast<double>().transpose()).cwiseAbs().maxCoeff(), 1e-5);
}

// Brute force in long double with the tie rule: nearer first, then smaller id.
template <class T>
std::vector<std::int64_t> brute_force_ids(Metric metric, const RowMatrixOf<T>& q, const RowMatrixOf<T>& b,
                                          std::int64_t i, std::int64_t k, bool exclude_self) {
  std::vector<std::pair<double, std::int64_t>> all;
  for (std::int64_t j = 0; j < b.rows(); ++j) {
    if (exclude_self && j == i) continue;
    const double value = reference(metric, q.row(i).data(), b.row(j).data(), q.cols()).value;
    all.emplace_back(is_similarity(metric) ? -value : value, j);
  }
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> ids;
  for (std::int64_t r = 0; r < k; ++r) ids.push_back(all[static_cast<std::size_t>(r)].second);
  return ids;
}

TYPED_TEST(BatchedTyped, KnnEqualsBruteForceWithTiesToTheSmallerId) {
  using T = TypeParam;
  for (const Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    for (const Metric metric : kAllMetrics) {
      // Small integers make every ip / Euclidean / l1 / linf score exact in float, so
      // exact ties are common and must go to the smaller id. Cosine divides by
      // norms: its only exact ties in float are between identical rows, so it (and
      // angular, cosine's transform) gets continuous data (whose gaps are far above
      // float rounding) and duplicates.
      const bool integers = !is_directional(metric);
      RowMatrixOf<T> b = random_matrix(600, 24, 20, 0.0f, 3.0f).template cast<T>();
      RowMatrixOf<T> q = random_matrix(37, 24, 21, 0.0f, 3.0f).template cast<T>();
      if (integers) {
        b = b.array().floor();
        q = q.array().floor();
      }
      b.row(17) = b.row(3);  // duplicated rows: equal scores to every query
      b.row(500) = b.row(3);
      q.row(5) = b.row(3);  // a query whose nearest rows are the three duplicates
      const std::int64_t k = 12;
      std::vector<std::int64_t> ids(37 * k);
      std::vector<T> scores(37 * k);
      run_knn(metric, q, b, k, kNoSelf, ids.data(), scores.data());
      for (std::int64_t i = 0; i < 37; ++i) {
        const auto expected = brute_force_ids<T>(metric, q, b, i, k, false);
        for (std::int64_t r = 0; r < k; ++r) {
          ASSERT_EQ(ids[static_cast<std::size_t>(i * k + r)], expected[static_cast<std::size_t>(r)])
              << to_string(isa) << " " << to_string(metric) << " query " << i << " rank " << r;
          if (r > 0) {  // sorted nearest first
            const T prev = scores[static_cast<std::size_t>(i * k + r - 1)],
                    cur = scores[static_cast<std::size_t>(i * k + r)];
            EXPECT_TRUE(is_similarity(metric) ? prev >= cur : prev <= cur);
          }
        }
      }
      if (metric != Metric::ip) {  // the three copies of row 3 come first for query 5, by id
        EXPECT_EQ(ids[5 * k + 0], 3);
        EXPECT_EQ(ids[5 * k + 1], 17);
        EXPECT_EQ(ids[5 * k + 2], 500);
      }
    }
  }
}

TEST(Batched, KnnGraphExcludesSelfAndTopKIsAPrefix) {
  const RowMatrixf x = random_matrix(300, 40, 22);
  for (const Metric metric : {Metric::cosine, Metric::l2, Metric::l1}) {
    std::vector<std::int64_t> ids5(300 * 5), ids6(300 * 6);
    std::vector<float> s5(300 * 5), s6(300 * 6);
    knn_f32(metric, x, x, 5, 0, ids5.data(), s5.data());
    knn_f32(metric, x, x, 6, 0, ids6.data(), s6.data());
    for (std::int64_t i = 0; i < 300; ++i) {
      for (std::int64_t r = 0; r < 5; ++r) {
        EXPECT_NE(ids5[static_cast<std::size_t>(i * 5 + r)], i);
        EXPECT_EQ(ids5[static_cast<std::size_t>(i * 5 + r)], ids6[static_cast<std::size_t>(i * 6 + r)]);
        EXPECT_EQ(s5[static_cast<std::size_t>(i * 5 + r)], s6[static_cast<std::size_t>(i * 6 + r)]);
      }
      const auto expected = brute_force_ids<float>(metric, x, x, i, 5, true);
      for (std::int64_t r = 0; r < 5; ++r)
        EXPECT_EQ(ids5[static_cast<std::size_t>(i * 5 + r)], expected[static_cast<std::size_t>(r)]);
    }
  }
}

// The graph of a set against itself computes each pair once and feeds both rows'
// lists (every metric: l1 and linf tiles are symmetric too); it must equal the general path (the same rows from another
// buffer) bit for bit, for any threads and block sizes, on random and real data.
TYPED_TEST(BatchedTyped, SymmetricSelfGraphEqualsTheGeneralPathBitwise) {
  using T = TypeParam;
  const RowMatrixOf<T> images =
      read_npy_matrix<float>(std::string(LATENT_SOURCE_DIR) + "/data/fashion-mnist/images.npy")
          .topRows(500)
          .template cast<T>();
  const RowMatrixOf<T> random =
      random_matrix(1500, 64, 40).template cast<T>();  // two blocks and a ragged one by default
  for (const Isa isa : supported_isas())
    for (const RowMatrixOf<T>* x : {&random, &images}) {
      ScopedIsa scoped(isa);
      const RowMatrixOf<T> copy = *x;  // another buffer: the general path
      const std::int64_t n = x->rows(), k = 9;
      for (const Metric metric : kAllMetrics) {
        std::vector<std::int64_t> ref_ids(static_cast<std::size_t>(n * k));
        std::vector<T> ref_scores(static_cast<std::size_t>(n * k));
        run_knn(metric, *x, copy, k, 0, ref_ids.data(), ref_scores.data(), BlockOptions{Parallel{1}, 0, 0});
        for (const BlockOptions options : {BlockOptions{Parallel{1}, 0, 0}, BlockOptions{Parallel{2}, 0, 0},
                                           BlockOptions{Parallel{4}, 0, 300}, BlockOptions{Parallel{2}, 0, 1}}) {
          std::vector<std::int64_t> ids(static_cast<std::size_t>(n * k));
          std::vector<T> scores(static_cast<std::size_t>(n * k));
          run_knn(metric, *x, *x, k, 0, ids.data(), scores.data(), options);
          EXPECT_EQ(ids, ref_ids) << to_string(isa) << " " << to_string(metric) << " threads "
                                  << options.parallel.threads << " blocks " << options.base_block_rows << " n " << n;
          EXPECT_EQ(std::memcmp(scores.data(), ref_scores.data(), scores.size() * sizeof(T)), 0) << to_string(metric);
        }
      }
    }
}

// Bitwise equality of every result across threads, block sizes and batch sizes.
TYPED_TEST(BatchedTyped, ResultsDoNotDependOnThreadsBlocksOrBatchSize) {
  using T = TypeParam;
  const RowMatrixOf<T> q = random_matrix(230, 100, 30).template cast<T>(),
                       b = random_matrix(2500, 100, 31).template cast<T>();
  for (const Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    for (const Metric metric : kAllMetrics) {
      const std::int64_t k = 7;
      std::vector<std::int64_t> ref_ids(230 * k);
      std::vector<T> ref_scores(230 * k);
      run_knn(metric, q, b, k, kNoSelf, ref_ids.data(), ref_scores.data(), BlockOptions{Parallel{1}, 0, 0});
      RowMatrixOf<T> ref_dense(230, 2500);
      run_similarity(metric, q, b, ref_dense.data(), 2500, BlockOptions{Parallel{1}, 0, 0});
      for (const BlockOptions options : {BlockOptions{Parallel{2}, 0, 0}, BlockOptions{Parallel{4}, 1, 1},
                                         BlockOptions{Parallel{3}, 50, 300}, BlockOptions{Parallel{2}, 1000, 5000}}) {
        std::vector<std::int64_t> ids(230 * k);
        std::vector<T> scores(230 * k);
        run_knn(metric, q, b, k, kNoSelf, ids.data(), scores.data(), options);
        EXPECT_EQ(ids, ref_ids) << to_string(isa) << " " << to_string(metric) << " threads "
                                << options.parallel.threads;
        EXPECT_EQ(std::memcmp(scores.data(), ref_scores.data(), scores.size() * sizeof(T)), 0) << to_string(metric);
        RowMatrixOf<T> dense(230, 2500);
        run_similarity(metric, q, b, dense.data(), 2500, options);
        EXPECT_EQ(std::memcmp(dense.data(), ref_dense.data(), static_cast<std::size_t>(dense.size()) * sizeof(T)), 0);
      }
      // One query at a time, and a batch of three, give the same bits as all at once.
      for (const std::int64_t i : {0, 115, 229}) {
        std::vector<std::int64_t> ids(k);
        std::vector<T> scores(k);
        run_knn(metric, q.row(i), b, k, kNoSelf, ids.data(), scores.data());
        for (std::int64_t r = 0; r < k; ++r) {
          ASSERT_EQ(ids[static_cast<std::size_t>(r)], ref_ids[static_cast<std::size_t>(i * k + r)]);
          ASSERT_EQ(scores[static_cast<std::size_t>(r)], ref_scores[static_cast<std::size_t>(i * k + r)]);
        }
      }
      RowMatrixOf<T> three(3, 2500);
      run_similarity(metric, q.block(100, 0, 3, 100), b, three.data(), 2500);
      EXPECT_TRUE((three.array() == ref_dense.block(100, 0, 3, 2500).array()).all());
    }
  }
}

TEST(Batched, ErrorsNameTheArgument) {
  const RowMatrixf q = random_matrix(4, 8, 40), b = random_matrix(10, 8, 41), wide = random_matrix(10, 9, 42);
  std::vector<std::int64_t> ids(4 * 10);
  std::vector<float> scores(4 * 10);
  auto knn = [&](const RowMatrixf& base, std::int64_t k, std::int64_t self) {
    knn_f32(Metric::l2, q, base, k, self, ids.data(), scores.data());
  };
  EXPECT_THROW(knn(wide, 3, kNoSelf), DimensionMismatch);
  EXPECT_THROW(knn(b, 0, kNoSelf), InvalidK);
  EXPECT_THROW(knn(b, 11, kNoSelf), InvalidK);
  EXPECT_NO_THROW(knn(b, 10, kNoSelf));
  EXPECT_THROW(knn(b, 10, 0), InvalidK);        // self excluded: 9 candidates
  EXPECT_THROW(knn(b, 3, 7), InvalidArgument);  // queries 7..10 are past the 10 rows
  try {
    knn(b, 11, kNoSelf);
  } catch (const InvalidK& e) {
    EXPECT_NE(std::string(e.what()).find("k=11"), std::string::npos) << e.what();
  }
  EXPECT_THROW(knn_f32(Metric::l2, q, b, 3, kNoSelf, nullptr, scores.data()), InvalidArgument);
  RowMatrixf out(4, 10);
  EXPECT_THROW(similarity_f32(Metric::ip, q, b, out.data(), 9), InvalidArgument);
  EXPECT_THROW(similarity_f32(Metric::ip, q, wide, out.data(), 10), DimensionMismatch);
  EXPECT_THROW(resolve_threads(Parallel{-2}), InvalidArgument);
}

TEST(SelectTopK, OrdersTiesByPositionAndSkipsNaN) {
  const std::vector<float> scores = {0.5f, 0.9f, std::nanf(""), 0.9f, 0.1f, 0.5f};
  std::vector<std::int64_t> ids(4);
  std::vector<float> out(4);
  select_topk(scores.data(), 6, 4, true, ids.data(), out.data());
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 3, 0, 5}));
  EXPECT_EQ(out[0], 0.9f);
  select_topk(scores.data(), 6, 3, false, ids.data(), out.data());
  EXPECT_EQ(std::vector<std::int64_t>(ids.begin(), ids.begin() + 3), (std::vector<std::int64_t>{4, 0, 5}));
  // Only 5 numbers: the sixth place is missing.
  std::vector<std::int64_t> all(6);
  std::vector<float> all_out(6);
  select_topk(scores.data(), 6, 6, true, all.data(), all_out.data());
  EXPECT_EQ(all[5], -1);
  EXPECT_TRUE(std::isnan(all_out[5]));
  EXPECT_THROW(select_topk(scores.data(), 6, 7, true, ids.data(), out.data()), InvalidK);
  EXPECT_THROW(select_topk(scores.data(), 6, 0, true, ids.data(), out.data()), InvalidK);
}

// ---------------------------------------------------------------- crossprod_f64

TEST(Crossprod, MatchesTheDoubleReferenceForEveryIsaAndShape) {
  for (const Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    for (const std::int64_t d : {1, 3, 7, 8, 12, 23, 24, 25, 49, 64, 100}) {
      for (const std::int64_t n : {1, 2, 255, 256, 257, 600}) {
        const RowMatrixf a = random_matrix(n, d, static_cast<std::uint32_t>(n * 1000 + d), -2.0f, 3.0f);
        std::vector<double> shift(static_cast<std::size_t>(d));
        for (std::int64_t j = 0; j < d; ++j) shift[static_cast<std::size_t>(j)] = 0.25 + 0.01 * static_cast<double>(j);
        const std::int64_t ldc = d + 3;
        std::vector<double> c(static_cast<std::size_t>(d * ldc), -7.0), sums(static_cast<std::size_t>(d), 9.0);
        crossprod_f64(a, shift.data(), c.data(), ldc, {}, sums.data());
        for (std::int64_t j = 0; j < d; ++j) {
          long double expected = 0;
          for (std::int64_t r = 0; r < n; ++r)
            expected += static_cast<long double>(a(r, j)) - shift[static_cast<std::size_t>(j)];
          ASSERT_NEAR(sums[static_cast<std::size_t>(j)], static_cast<double>(expected), 1e-12 * static_cast<double>(n));
        }
        for (std::int64_t i = 0; i < d; ++i) {
          for (std::int64_t j = 0; j < d; ++j) {
            long double expected = 0, magnitude = 0;
            for (std::int64_t r = 0; r < n; ++r) {
              const long double x = static_cast<long double>(a(r, i)) - shift[static_cast<std::size_t>(i)];
              const long double y = static_cast<long double>(a(r, j)) - shift[static_cast<std::size_t>(j)];
              expected += x * y;
              magnitude += std::fabs(x * y);
            }
            const double got = c[static_cast<std::size_t>(i * ldc + j)];
            ASSERT_NEAR(got, static_cast<double>(expected),
                        1e-15 * static_cast<double>(n + 2) * static_cast<double>(magnitude) + 1e-300)
                << to_string(isa) << " d=" << d << " n=" << n << " (" << i << ", " << j << ")";
            ASSERT_EQ(got, c[static_cast<std::size_t>(j * ldc + i)]) << "not symmetric";
          }
          for (std::int64_t j = d; j < ldc && i + 1 < d; ++j) ASSERT_EQ(c[static_cast<std::size_t>(i * ldc + j)], -7.0);
        }
      }
    }
  }
}

TEST(Crossprod, DoesNotDependOnThreadsAndAcceptsDoubleInput) {
  for (const Isa isa : supported_isas()) {
    ScopedIsa scoped(isa);
    const RowMatrixf a = random_matrix(1000, 70, 5);
    const RowMatrixd a64 = a.cast<double>();
    std::vector<double> one(70 * 70), two(70 * 70), four(70 * 70), from_double(70 * 70);
    crossprod_f64(a, nullptr, one.data(), 70, BlockOptions{Parallel{1}});
    crossprod_f64(a, nullptr, two.data(), 70, BlockOptions{Parallel{2}});
    crossprod_f64(a, nullptr, four.data(), 70, BlockOptions{Parallel{4}});
    crossprod_f64(a64, nullptr, from_double.data(), 70);
    EXPECT_EQ(one, two);
    EXPECT_EQ(one, four);
    EXPECT_EQ(one, from_double);  // float products are exact in double
  }
}

TEST(Crossprod, NoRowsGiveZerosAndBadArgumentsThrow) {
  const RowMatrixf empty(0, 5);
  std::vector<double> c(25, 1.0);
  crossprod_f64(empty, nullptr, c.data(), 5);
  EXPECT_EQ(c, std::vector<double>(25, 0.0));
  const RowMatrixf a = random_matrix(4, 5, 1);
  EXPECT_THROW(crossprod_f64(a, nullptr, nullptr, 5), InvalidArgument);
  EXPECT_THROW(crossprod_f64(a, nullptr, c.data(), 4), InvalidArgument);
  const RowMatrixf no_columns(3, 0);
  EXPECT_THROW(crossprod_f64(no_columns, nullptr, c.data(), 5), InvalidArgument);
}

}  // namespace
}  // namespace latent::kernels
