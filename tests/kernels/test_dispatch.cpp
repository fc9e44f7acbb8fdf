// Every kernel table this machine can run (scalar, avx2, avx512 with and without
// its extensions) against a double-precision reference, over the dimensions of
// STYLE.md, with unaligned pointers. Private header: the tables are internal.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernel_tables.hpp"
#include "kernels/table.hpp"
#include "latent/kernels.hpp"

namespace latent::kernels {
namespace {

using detail::KernelTable;

const std::vector<std::size_t> kDims = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 768, 1536};

using testing::runnable_tables;

// Two vectors of `dim` values starting one element past an aligned boundary.
template <class T>
struct Pair {
  std::vector<T> storage_a, storage_b;
  const T* a;
  const T* b;
};

template <class T, class Gen>
Pair<T> make_pair(std::size_t dim, Gen gen) {
  Pair<T> pair;
  pair.storage_a.resize(dim + 1);
  pair.storage_b.resize(dim + 1);
  for (std::size_t i = 0; i <= dim; ++i) {
    pair.storage_a[i] = gen();
    pair.storage_b[i] = gen();
  }
  pair.a = pair.storage_a.data() + 1;
  pair.b = pair.storage_b.data() + 1;
  return pair;
}

// Bound for a sum of `dim` rounded terms accumulated in a type with unit
// roundoff `u`: dim * u * sum |terms| (no kernel should need more; a missing or
// doubled term is off by ~ sum / dim, far above it for every tested dim).
double sum_bound(std::size_t dim, double u, double sum_abs) {
  return static_cast<double>(dim + 2) * u * sum_abs + 1e-300;
}

constexpr double kU32 = 0x1p-24, kU64 = 0x1p-53;

TEST(Dispatch, FloatAndDoublePairsMatchTheReference) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (const KernelTable* table : runnable_tables()) {
    SCOPED_TRACE(table->name);
    for (const std::size_t dim : kDims) {
      SCOPED_TRACE("dim " + std::to_string(dim));
      const auto f = make_pair<float>(dim, [&] { return static_cast<float>(uniform(rng)); });
      const auto d = make_pair<double>(dim, [&] { return uniform(rng); });
      double dot = 0, sq = 0, l1 = 0, linf = 0, abs_dot = 0, aa = 0, bb = 0;
      double ddot = 0, dsq = 0, dl1 = 0, dlinf = 0, dabs = 0, daa = 0, dbb = 0;
      for (std::size_t p = 0; p < dim; ++p) {
        const double x = f.a[p], y = f.b[p];
        dot += x * y;
        abs_dot += std::fabs(x * y);
        sq += (x - y) * (x - y);
        l1 += std::fabs(x - y);
        linf = std::max(linf, std::fabs(x - y));
        aa += x * x;
        bb += y * y;
        const long double u = d.a[p], v = d.b[p];
        ddot += static_cast<double>(u * v);
        dabs += static_cast<double>(std::fabs(u * v));
        dsq += static_cast<double>((u - v) * (u - v));
        dl1 += static_cast<double>(std::fabs(u - v));
        dlinf = std::max(dlinf, static_cast<double>(std::fabs(u - v)));
        daa += static_cast<double>(u * u);
        dbb += static_cast<double>(v * v);
      }
      EXPECT_NEAR(table->dot_f32(f.a, f.b, dim), dot, sum_bound(dim, kU32, abs_dot));
      // (x - y) is exact in float only up to one rounding: allow 2 u per term.
      EXPECT_NEAR(table->sqeuclidean_f32(f.a, f.b, dim), sq, sum_bound(dim, 2 * kU32, sq) + 4 * kU32 * sq);
      EXPECT_NEAR(table->l1_f32(f.a, f.b, dim), l1, sum_bound(dim, 2 * kU32, l1));
      EXPECT_NEAR(table->linf_f32(f.a, f.b, dim), linf, 2 * kU32 * linf);
      const double cosine = dot / std::sqrt(aa * bb);
      EXPECT_NEAR(table->cosine_f32(f.a, f.b, dim), cosine,
                  4 * kU32 + sum_bound(dim, 2 * kU32, abs_dot) / std::sqrt(aa * bb));

      EXPECT_NEAR(table->dot_f64(d.a, d.b, dim), ddot, sum_bound(dim, kU64, dabs));
      EXPECT_NEAR(table->sqeuclidean_f64(d.a, d.b, dim), dsq, sum_bound(dim, 2 * kU64, dsq) + 4 * kU64 * dsq);
      EXPECT_NEAR(table->l1_f64(d.a, d.b, dim), dl1, sum_bound(dim, 2 * kU64, dl1));
      EXPECT_NEAR(table->linf_f64(d.a, d.b, dim), dlinf, 2 * kU64 * dlinf);
      EXPECT_NEAR(table->cosine_f64(d.a, d.b, dim), ddot / std::sqrt(daa * dbb),
                  4 * kU64 + sum_bound(dim, 2 * kU64, dabs) / std::sqrt(daa * dbb));
    }
  }
}

// Float pairs summed in double: within the double sum's bound of the exact value
// (long double reference; every product and difference of two floats is exact
// in long double), on every table, the tails included.
TEST(Dispatch, WidenedFloatPairsSumInDouble) {
  std::mt19937 rng(12);
  std::uniform_real_distribution<float> uniform(-3.0f, 3.0f);
  for (const KernelTable* table : runnable_tables()) {
    SCOPED_TRACE(table->name);
    for (const std::size_t dim : {std::size_t{1}, std::size_t{7}, std::size_t{33}, std::size_t{784}}) {
      std::vector<float> a(dim), b(dim);
      for (auto& x : a) x = uniform(rng);
      for (auto& x : b) x = uniform(rng);
      long double dot = 0, abs_dot = 0, squares = 0, l1 = 0;
      for (std::size_t p = 0; p < dim; ++p) {
        const long double x = a[p], y = b[p];
        dot += x * y;
        abs_dot += std::fabs(x * y);
        squares += (x - y) * (x - y);
        l1 += std::fabs(x - y);
      }
      const auto bound = [&](long double magnitude) { return sum_bound(dim, 2 * kU64, static_cast<double>(magnitude)); };
      EXPECT_NEAR(table->dot_f32_wide(a.data(), b.data(), dim), static_cast<double>(dot), bound(abs_dot)) << dim;
      EXPECT_NEAR(table->sqeuclidean_f32_wide(a.data(), b.data(), dim), static_cast<double>(squares), bound(squares));
      EXPECT_NEAR(table->l1_f32_wide(a.data(), b.data(), dim), static_cast<double>(l1), bound(l1));
      EXPECT_EQ(table->sqeuclidean_f32_wide(a.data(), a.data(), dim), 0.0);
    }
  }
}

TEST(Dispatch, PublicPairSelectionIsTheActiveTablesKernelInTheMetricsUnits) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  const auto f = make_pair<float>(65, [&] { return static_cast<float>(uniform(rng)); });
  const auto d = make_pair<double>(65, [&] { return uniform(rng); });
  const KernelTable& table = detail::active_table();
  EXPECT_EQ(pair_kernel_f32(Metric::cosine), table.cosine_f32);
  EXPECT_EQ(pair_kernel_f32(Metric::ip), table.dot_f32);
  EXPECT_EQ(pair_kernel_f32(Metric::l1), table.l1_f32);
  EXPECT_EQ(pair_kernel_f32(Metric::linf), table.linf_f32);
  EXPECT_EQ(pair_kernel_f32(Metric::l2), table.sqeuclidean_f32);  // the caller takes the root
  EXPECT_EQ(pair_kernel_f32(Metric::sqeuclidean), table.sqeuclidean_f32);
  EXPECT_EQ(pair_kernel_f64(Metric::cosine), table.cosine_f64);
  EXPECT_EQ(pair_kernel_f64(Metric::l2), table.sqeuclidean_f64);
  EXPECT_EQ(pair_kernel_f32(Metric::angular), table.cosine_f32);  // the caller transforms the cosine
  for (const Metric metric :
       {Metric::cosine, Metric::ip, Metric::l2, Metric::sqeuclidean, Metric::l1, Metric::linf, Metric::angular}) {
    SCOPED_TRACE(std::string(to_string(metric)));
    // pair_score is one_to_many's value for one row, bit for bit.
    float one = 0;
    one_to_many(metric, f.a, MatrixView<float>(f.b, 1, 65), &one);
    EXPECT_EQ(pair_score(metric, f.a, f.b, 65), one);
    double one_d = 0;
    one_to_many(metric, d.a, MatrixView<double>(d.b, 1, 65), &one_d);
    EXPECT_EQ(pair_score(metric, d.a, d.b, 65), one_d);
  }
  EXPECT_EQ(pair_score(Metric::l2, f.a, f.b, 65), std::sqrt(table.sqeuclidean_f32(f.a, f.b, 65)));
  EXPECT_EQ(pair_score(Metric::angular, f.a, f.b, 65),
            static_cast<float>(angular_from_cosine(table.cosine_f32(f.a, f.b, 65))));
}

TEST(Dispatch, CosineOfAZeroVectorIsZeroAndClampedToOne) {
  std::vector<float> zero(33, 0.0f), x(33, 0.3f);
  for (const KernelTable* table : runnable_tables()) {
    SCOPED_TRACE(table->name);
    EXPECT_EQ(table->cosine_f32(zero.data(), x.data(), 33), 0.0f);
    EXPECT_LE(table->cosine_f32(x.data(), x.data(), 33), 1.0f);
    EXPECT_NEAR(table->cosine_f32(x.data(), x.data(), 33), 1.0f, 1e-6);
  }
}

TEST(Dispatch, LowPrecisionPairsMatchTheReference) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (const KernelTable* table : runnable_tables()) {
    SCOPED_TRACE(table->name);
    for (const std::size_t dim : kDims) {
      SCOPED_TRACE("dim " + std::to_string(dim));
      const auto h = make_pair<std::uint16_t>(dim, [&] { return to_float16(uniform(rng)).bits; });
      const auto bf = make_pair<std::uint16_t>(dim, [&] { return to_bfloat16(uniform(rng)).bits; });
      double hdot = 0, hsq = 0, habs = 0, bdot = 0, bsq = 0, babs = 0;
      for (std::size_t p = 0; p < dim; ++p) {
        const double x = to_float(Float16{h.a[p]}), y = to_float(Float16{h.b[p]});
        hdot += x * y;
        habs += std::fabs(x * y);
        hsq += (x - y) * (x - y);
        const double u = to_float(BFloat16{bf.a[p]}), v = to_float(BFloat16{bf.b[p]});
        bdot += u * v;
        babs += std::fabs(u * v);
        bsq += (u - v) * (u - v);
      }
      // Products of widened 16-bit values are exact in f32, so the f32 sum bound applies.
      EXPECT_NEAR(table->dot_f16(h.a, h.b, dim), hdot, sum_bound(dim, kU32, habs));
      EXPECT_NEAR(table->sqeuclidean_f16(h.a, h.b, dim), hsq, sum_bound(dim, 2 * kU32, hsq));
      EXPECT_NEAR(table->dot_bf16(bf.a, bf.b, dim), bdot, sum_bound(dim, 2 * kU32, babs));
      EXPECT_NEAR(table->sqeuclidean_bf16(bf.a, bf.b, dim), bsq, sum_bound(dim, 2 * kU32, bsq));

      const auto i8 = make_pair<std::int8_t>(dim, [&] { return static_cast<std::int8_t>(byte(rng)); });
      std::int64_t idot = 0, isq = 0;
      for (std::size_t p = 0; p < dim; ++p) {
        idot += std::int64_t{i8.a[p]} * i8.b[p];
        isq += (std::int64_t{i8.a[p]} - i8.b[p]) * (std::int64_t{i8.a[p]} - i8.b[p]);
      }
      EXPECT_EQ(table->dot_i8(i8.a, i8.b, dim), idot);
      EXPECT_EQ(table->sqeuclidean_i8(i8.a, i8.b, dim), isq);
    }
  }
}

TEST(Dispatch, Int8ExtremesAreExact) {
  // -128 * -128 and (127 - -128)^2 at the largest accepted dimension.
  std::vector<std::int8_t> low(kMaxInt8Dim, -128), high(kMaxInt8Dim, 127);
  for (const KernelTable* table : runnable_tables()) {
    SCOPED_TRACE(table->name);
    EXPECT_EQ(table->dot_i8(low.data(), low.data(), kMaxInt8Dim), 16384LL * kMaxInt8Dim);
    EXPECT_EQ(table->sqeuclidean_i8(low.data(), high.data(), kMaxInt8Dim), 65025LL * kMaxInt8Dim);
  }
}

TEST(Dispatch, BitKernelsCountExactly) {
  std::mt19937_64 rng(3);
  for (const KernelTable* table : runnable_tables()) {
    SCOPED_TRACE(table->name);
    for (const std::size_t bytes : {1, 3, 8, 9, 16, 63, 64, 65, 127, 128, 129, 200}) {
      const auto bits = make_pair<std::uint8_t>(bytes, [&] { return static_cast<std::uint8_t>(rng()); });
      std::uint64_t differ = 0, both = 0, either = 0;
      for (std::size_t i = 0; i < bytes; ++i) {
        differ += static_cast<std::uint64_t>(__builtin_popcount(bits.a[i] ^ bits.b[i]));
        both += static_cast<std::uint64_t>(__builtin_popcount(bits.a[i] & bits.b[i]));
        either += static_cast<std::uint64_t>(__builtin_popcount(bits.a[i] | bits.b[i]));
      }
      EXPECT_EQ(table->hamming_b1(bits.a, bits.b, bytes), differ) << bytes;
      std::uint64_t got_both = 0, got_either = 0;
      table->intersection_union_b1(bits.a, bits.b, bytes, &got_both, &got_either);
      EXPECT_EQ(got_both, both);
      EXPECT_EQ(got_either, either);
    }
  }
}

// The GEMM entries, f32 and f64: packing, full and partial tiles, panel norms,
// the epilogue.
template <class T>
class GemmKernelsTest : public ::testing::Test {};
using ElementTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(GemmKernelsTest, ElementTypes);

TYPED_TEST(GemmKernelsTest, TilesAreFmaChainsMatchingTheReference) {
  using T = TypeParam;
  const double unit = sizeof(T) == 4 ? kU32 : kU64;
  std::mt19937 rng(5);
  std::uniform_real_distribution<T> uniform(T(-1), T(1));
  for (const KernelTable* table : runnable_tables()) {
    SCOPED_TRACE(table->name);
    const detail::GemmKernels<T>& gemm = detail::gemm_of<T>(*table);
    const auto mr = static_cast<std::size_t>(gemm.mr), nr = static_cast<std::size_t>(gemm.nr);
    for (const std::size_t dim : {std::size_t{1}, std::size_t{17}, std::size_t{300}}) {
      for (const std::size_t a_rows : {std::size_t{1}, mr / 2 + 1, mr}) {
        for (const std::size_t b_rows : {std::size_t{3}, nr}) {
          // Rows with a stride, starting unaligned.
          const std::size_t stride = dim + 3;
          std::vector<T> a(a_rows * stride + 1), b(b_rows * stride + 1);
          for (auto& x : a) x = uniform(rng);
          for (auto& x : b) x = uniform(rng);
          std::vector<T> a_panel(dim * mr), b_panel(dim * nr);
          gemm.pack_a(a.data() + 1, stride, a_rows, dim, a_panel.data());
          gemm.pack_b(b.data() + 1, stride, b_rows, dim, b_panel.data());
          for (std::size_t r = b_rows; r < nr; ++r) ASSERT_EQ(b_panel[(dim - 1) * nr + r], T(0)) << "padding";

          // Two depth chunks must give the same bits as one.
          std::vector<T> whole(mr * nr), split(mr * nr);
          const std::size_t half = dim / 2;
          if (a_rows == mr) {
            gemm.tile(dim, a_panel.data(), b_panel.data(), whole.data(), nr, false);
            gemm.tile(half, a_panel.data(), b_panel.data(), split.data(), nr, false);
            gemm.tile(dim - half, a_panel.data() + half * mr, b_panel.data() + half * nr, split.data(), nr, half > 0);
          } else {
            gemm.tile_rows(dim, a_rows, a_panel.data(), b_panel.data(), whole.data(), nr, false);
            gemm.tile_rows(half, a_rows, a_panel.data(), b_panel.data(), split.data(), nr, false);
            gemm.tile_rows(dim - half, a_rows, a_panel.data() + half * mr, b_panel.data() + half * nr, split.data(), nr,
                           half > 0);
          }
          for (std::size_t i = 0; i < a_rows; ++i) {
            for (std::size_t j = 0; j < b_rows; ++j) {
              // The reference in long double (64-bit significand): its own
              // error is far below the f64 bound.
              long double dot = 0, abs_dot = 0;
              for (std::size_t p = 0; p < dim; ++p) {
                const long double x = a[1 + i * stride + p], y = b[1 + j * stride + p];
                dot += x * y;
                abs_dot += std::fabs(x * y);
              }
              EXPECT_NEAR(static_cast<double>(whole[i * nr + j]), static_cast<double>(dot),
                          sum_bound(dim, unit, static_cast<double>(abs_dot)))
                  << i << "," << j;
              EXPECT_EQ(whole[i * nr + j], split[i * nr + j]) << "depth split changed a result";
            }
          }
          // A row's panel norm equals its inner product with itself through the tile.
          std::vector<T> norms_b(nr), self(mr * nr);
          gemm.panel_sqnorms_b(b_panel.data(), dim, norms_b.data(), false);
          // Continued over two depth chunks, the chain gives the same bits.
          std::vector<T> norms_split(nr);
          gemm.panel_sqnorms_b(b_panel.data(), half, norms_split.data(), false);
          gemm.panel_sqnorms_b(b_panel.data() + half * nr, dim - half, norms_split.data(), half > 0);
          EXPECT_EQ(norms_split, norms_b);
          std::vector<T> b_as_a(dim * mr), norms_a(mr);
          gemm.pack_a(b.data() + 1, stride, std::min(b_rows, mr), dim, b_as_a.data());
          gemm.tile(dim, b_as_a.data(), b_panel.data(), self.data(), nr, false);
          gemm.panel_sqnorms_a(b_as_a.data(), dim, norms_a.data(), false);
          for (std::size_t j = 0; j < std::min(b_rows, mr); ++j) {
            EXPECT_EQ(norms_b[j], self[j * nr + j]);
            EXPECT_EQ(norms_a[j], norms_b[j]) << "the two sides' norms differ";
          }
        }
      }
    }
  }
}

// The l1 and linf tiles: per element exactly the chain over p of |a - b| in T
// (added, or maxed, in order), so every table gives the same bits; chunks of
// the depth continue the chain; a row against itself gives 0.
TYPED_TEST(GemmKernelsTest, DistanceTilesAreOneChainPerElementOnEveryTable) {
  using T = TypeParam;
  std::mt19937 rng(6);
  std::uniform_real_distribution<T> uniform(T(-2), T(2));
  for (const KernelTable* table : runnable_tables()) {
    SCOPED_TRACE(table->name);
    const detail::GemmKernels<T>& gemm = detail::gemm_of<T>(*table);
    const auto mr = static_cast<std::size_t>(gemm.mr), nr = static_cast<std::size_t>(gemm.nr);
    for (const std::size_t dim : {std::size_t{1}, std::size_t{19}, std::size_t{300}}) {
      std::vector<T> a(mr * dim), b(nr * dim);
      for (auto& x : a) x = uniform(rng);
      for (auto& x : b) x = uniform(rng);
      for (std::size_t p = 0; p < dim; ++p) b[p] = a[p];  // base row 0 = query row 0
      std::vector<T> a_panel(dim * mr), b_panel(dim * nr);
      gemm.pack_a(a.data(), dim, mr, dim, a_panel.data());
      gemm.pack_b(b.data(), dim, nr, dim, b_panel.data());
      for (const bool maximum : {false, true}) {
        const auto tile = maximum ? gemm.linf_tile : gemm.l1_tile;
        std::vector<T> whole(mr * nr), split(mr * nr);
        const std::size_t half = dim / 2;
        tile(dim, a_panel.data(), b_panel.data(), whole.data(), nr, false);
        tile(half, a_panel.data(), b_panel.data(), split.data(), nr, false);
        tile(dim - half, a_panel.data() + half * mr, b_panel.data() + half * nr, split.data(), nr, half > 0);
        for (std::size_t i = 0; i < mr; ++i)
          for (std::size_t j = 0; j < nr; ++j) {
            T chain = 0;
            for (std::size_t p = 0; p < dim; ++p) {
              const T distance = std::fabs(a[i * dim + p] - b[j * dim + p]);
              chain = maximum ? std::max(chain, distance) : chain + distance;
            }
            ASSERT_EQ(whole[i * nr + j], chain) << (maximum ? "linf " : "l1 ") << i << "," << j << " d=" << dim;
            ASSERT_EQ(split[i * nr + j], chain) << "depth split changed a result";
          }
        EXPECT_EQ(whole[0], T(0)) << "a row's distance to itself";
      }
    }
  }
}

TYPED_TEST(GemmKernelsTest, FinishBlockIsTheSameArithmeticOnEveryIsa) {
  using T = TypeParam;
  std::mt19937 rng(9);
  std::uniform_real_distribution<T> uniform(T(-3), T(3));
  const std::size_t rows = 3, cols = 37, ldc = 40;
  std::vector<T> block(rows * ldc), row_norms(rows), col_norms(cols);
  for (auto& x : block) x = uniform(rng);
  for (auto& x : row_norms) x = std::fabs(uniform(rng)) + T(0.5);
  for (auto& x : col_norms) x = std::fabs(uniform(rng)) + T(0.5);
  for (const auto metric :
       {detail::MetricCode::cosine, detail::MetricCode::l2, detail::MetricCode::sqeuclidean, detail::MetricCode::ip}) {
    std::vector<T> reference = block;
    detail::gemm_of<T>(detail::scalar_table())
        .finish_block(metric, reference.data(), rows, cols, ldc, row_norms.data(), col_norms.data());
    for (const KernelTable* table : runnable_tables()) {
      std::vector<T> out = block;
      detail::gemm_of<T>(*table).finish_block(metric, out.data(), rows, cols, ldc, row_norms.data(), col_norms.data());
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j) ASSERT_EQ(out[i * ldc + j], reference[i * ldc + j]) << table->name;
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = cols; j < ldc; ++j) ASSERT_EQ(out[i * ldc + j], block[i * ldc + j]) << "wrote padding";
    }
  }
}

}  // namespace
}  // namespace latent::kernels
