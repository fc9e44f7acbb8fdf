// The bf16 and int8 tiles against their references on every kernel table this
// machine runs (native VDPBF16PS / VPDPBUSD, AVX-VNNI, the widening AVX-512 BW
// and AVX2 tiles, scalar), at block edges; knn_bf16 / knn_int8 against brute
// force on every ISA, their independence of threads and blocks, and their errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernel_tables.hpp"
#include "latent/core/errors.hpp"
#include "latent/kernels.hpp"

namespace latent::kernels {
namespace {

using detail::KernelTable;
using testing::runnable_tables;

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (const Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
    if (is_supported(isa)) isas.push_back(isa);
  return isas;
}

float widen(std::uint16_t bits) { return to_float(BFloat16{bits}); }

std::vector<std::uint16_t> random_bf16(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::uint16_t> out(count);
  for (auto& value : out) value = to_bfloat16(normal(rng)).bits;
  return out;
}

// The documented chain of one bf16 inner product: per pair, odd then even.
float bf16_chain(const std::uint16_t* a, const std::uint16_t* b, std::int64_t dim, float acc = 0.0f) {
  for (std::int64_t p = 0; p < dim; p += 2) {
    if (p + 1 < dim) acc += widen(a[p + 1]) * widen(b[p + 1]);
    acc += widen(a[p]) * widen(b[p]);
  }
  return acc;
}

// Rows [rows x dim] packed as one panel of `lanes` rows in groups of `group`.
template <class Code>
std::vector<Code> pack(const Code* rows, std::int64_t count, std::int64_t dim, std::int64_t lanes, int group) {
  const std::int64_t groups = (dim + group - 1) / group;
  std::vector<Code> out(static_cast<std::size_t>(groups * lanes * group), Code(0));
  for (std::int64_t r = 0; r < count; ++r)
    for (std::int64_t p = 0; p < dim; ++p)
      out[static_cast<std::size_t>(((p / group) * lanes + r) * group + p % group)] = rows[r * dim + p];
  return out;
}

// ---------------------------------------------------------------- tiles

TEST(LowPrecisionTiles, Bf16TileIsTheDocumentedChainOnEveryTable) {
  for (const KernelTable* table : runnable_tables()) {
    const std::int64_t mr = table->lowp_mr, nr = table->lowp_nr;
    for (const std::int64_t dim : {1, 2, 7, 32, 33, 64, 101, 784}) {
      const auto a = random_bf16(static_cast<std::size_t>(mr * dim), 1 + static_cast<std::uint32_t>(dim));
      const auto b = random_bf16(static_cast<std::size_t>(nr * dim), 2 + static_cast<std::uint32_t>(dim));
      const auto a_panel = pack(a.data(), mr, dim, mr, 2), b_panel = pack(b.data(), nr, dim, nr, 2);
      const std::int64_t pairs = (dim + 1) / 2;
      std::vector<float> c(static_cast<std::size_t>(mr * nr), 0.5f);
      table->gemm_tile_bf16(static_cast<std::size_t>(pairs), a_panel.data(), b_panel.data(), c.data(),
                            static_cast<std::size_t>(nr), true);  // continue from C = 0.5
      // Bitwise: VDPBF16PS rounds each addition as the widening FMAs do (it
      // differs only on subnormals, which normal data does not reach).
      for (std::int64_t i = 0; i < mr; ++i)
        for (std::int64_t j = 0; j < nr; ++j)
          ASSERT_EQ(c[static_cast<std::size_t>(i * nr + j)],
                    bf16_chain(a.data() + i * dim, b.data() + j * dim, dim, 0.5f))
              << table->name << " dim " << dim << " (" << i << ", " << j << ")";
    }
  }
}

TEST(LowPrecisionTiles, Bf16NormsAreTheTilesOwnChain) {
  for (const KernelTable* table : runnable_tables()) {
    const std::int64_t mr = table->lowp_mr, nr = table->lowp_nr, dim = 77;
    const auto rows = random_bf16(static_cast<std::size_t>(nr * dim), 5);
    const auto b_panel = pack(rows.data(), nr, dim, nr, 2);
    std::vector<float> norms(static_cast<std::size_t>(nr));
    table->panel_sqnorms_bf16(b_panel.data(), 39, norms.data());
    // The first mr rows as the broadcast side: the diagonal of their tile.
    const auto a_panel = pack(rows.data(), mr, dim, mr, 2);
    std::vector<float> c(static_cast<std::size_t>(mr * nr));
    table->gemm_tile_bf16(39, a_panel.data(), b_panel.data(), c.data(), static_cast<std::size_t>(nr), false);
    for (std::int64_t r = 0; r < mr; ++r)
      EXPECT_EQ(norms[static_cast<std::size_t>(r)], c[static_cast<std::size_t>(r * nr + r)]) << table->name;
  }
}

TEST(LowPrecisionTiles, Int8TileIsExactAtTheExtremes) {
  for (const KernelTable* table : runnable_tables()) {
    const std::int64_t mr = table->lowp_mr, nr = table->lowp_nr;
    for (const std::int64_t dim : {1, 3, 4, 31, 64, 130, 1000}) {
      std::mt19937 rng(static_cast<std::uint32_t>(dim));
      std::uniform_int_distribution<int> unsigned_code(0, 255), signed_code(-128, 127);
      std::vector<std::uint8_t> a(static_cast<std::size_t>(mr * dim));
      std::vector<std::int8_t> b(static_cast<std::size_t>(nr * dim));
      for (auto& x : a) x = static_cast<std::uint8_t>(unsigned_code(rng));
      for (auto& x : b) x = static_cast<std::int8_t>(signed_code(rng));
      // Row 0 at 255 against -128 everywhere: the largest products, same signs
      // (a pair of them is beyond int16: the split must hold).
      std::fill(a.begin(), a.begin() + dim, std::uint8_t{255});
      std::fill(b.begin(), b.begin() + dim, std::int8_t{-128});
      const auto a_panel = pack(a.data(), mr, dim, mr, 4);
      const auto b_panel = pack(b.data(), nr, dim, nr, 4);
      std::vector<std::int32_t> c(static_cast<std::size_t>(mr * nr), 7);
      table->gemm_tile_u8s8(static_cast<std::size_t>((dim + 3) / 4), a_panel.data(), b_panel.data(), c.data(),
                            static_cast<std::size_t>(nr), true);
      for (std::int64_t i = 0; i < mr; ++i)
        for (std::int64_t j = 0; j < nr; ++j) {
          std::int64_t expected = 7;
          for (std::int64_t p = 0; p < dim; ++p)
            expected += static_cast<std::int64_t>(a[static_cast<std::size_t>(i * dim + p)]) *
                        b[static_cast<std::size_t>(j * dim + p)];
          ASSERT_EQ(c[static_cast<std::size_t>(i * nr + j)], expected) << table->name << " dim " << dim;
        }
      EXPECT_EQ(c[0], 7 - 255 * 128 * dim);
    }
  }
}

TEST(LowPrecisionTiles, ProbesCountTheirOperations) {
  for (const KernelTable* table : runnable_tables()) {
    EXPECT_GT(table->bf16_probe_ops_per_iteration, 0);
    EXPECT_GT(table->int8_probe_ops_per_iteration, 0);
    EXPECT_TRUE(std::isfinite(table->bf16_probe(100)));
    // The int8 probe's steps add (1, 1, 1, 1) . (-1, 1, -1, 1) = 0: the chains keep their start values.
    EXPECT_EQ(table->int8_probe(100), 66) << table->name;  // the first lane of the 12 chains: 0 + 1 + ... + 11
  }
}

// ---------------------------------------------------------------- knn

// Brute-force lists from given scores (nearest first, ties to the smaller id).
std::vector<std::int64_t> brute_force(const std::vector<float>& row, std::int64_t k, bool similarity,
                                      std::int64_t self) {
  std::vector<std::int64_t> order;
  for (std::int64_t j = 0; j < static_cast<std::int64_t>(row.size()); ++j)
    if (j != self) order.push_back(j);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    const float x = row[static_cast<std::size_t>(a)], y = row[static_cast<std::size_t>(b)];
    return similarity ? x > y : x < y;
  });
  order.resize(static_cast<std::size_t>(k));
  return order;
}

// The f32 epilogue (finish_block_f32's arithmetic) on one inner product.
float finish(Metric metric, float ip, float squared_q, float squared_b) {
  auto inverse = [](float s) { return s > 0 ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(s))) : 0.0f; };
  switch (metric) {
    case Metric::cosine:
      return std::clamp(ip * (inverse(squared_q) * inverse(squared_b)), -1.0f, 1.0f);
    case Metric::sqeuclidean:
      return std::max(0.0f, (squared_q + squared_b) - 2.0f * ip);
    case Metric::l2:
      return std::sqrt(std::max(0.0f, (squared_q + squared_b) - 2.0f * ip));
    default:
      return ip;
  }
}

const std::vector<Metric> kMetrics = {Metric::cosine, Metric::ip, Metric::l2, Metric::sqeuclidean};

TEST(KnnBf16, EqualsBruteForceOnTheDocumentedChainOnEveryIsa) {
  // d not a multiple of 32 or of 2; n not a multiple of any tile; a base of
  // several blocks (one block is 256 KiB of codes: 85 rows at d = 1501) and k
  // above a block's rows.
  for (const auto& [n, m, d, k] : std::vector<std::array<std::int64_t, 4>>{{1037, 29, 37, 10}, {300, 13, 1501, 120}}) {
    const auto base = random_bf16(static_cast<std::size_t>(n * d), 11);
    const auto queries = random_bf16(static_cast<std::size_t>(m * d), 12);
    for (const Isa isa : supported_isas()) {
      ScopedIsa scoped(isa);
      for (const Metric metric : kMetrics) {
        std::vector<std::int64_t> ids(static_cast<std::size_t>(m * k));
        std::vector<float> scores(static_cast<std::size_t>(m * k));
        knn_bf16(metric, MatrixView<std::uint16_t>(queries.data(), m, d), MatrixView<std::uint16_t>(base.data(), n, d),
                 k, kNoSelf, ids.data(), scores.data());
        for (std::int64_t i = 0; i < m; ++i) {
          const std::uint16_t* q = queries.data() + i * d;
          const float squared_q = bf16_chain(q, q, d);
          std::vector<float> row(static_cast<std::size_t>(n));
          for (std::int64_t j = 0; j < n; ++j) {
            const std::uint16_t* b = base.data() + j * d;
            row[static_cast<std::size_t>(j)] = finish(metric, bf16_chain(q, b, d), squared_q, bf16_chain(b, b, d));
          }
          const auto expected = brute_force(row, k, is_similarity(metric), -1);
          for (std::int64_t r = 0; r < k; ++r) {
            const auto at = static_cast<std::size_t>(i * k + r);
            ASSERT_EQ(ids[at], expected[static_cast<std::size_t>(r)]) << to_string(isa) << " " << to_string(metric);
            ASSERT_EQ(scores[at], row[static_cast<std::size_t>(ids[at])]);
          }
        }
      }
    }
  }
}

TEST(KnnBf16, SelfGraphAndDeterminism) {
  const std::int64_t n = 700, d = 96, k = 8;
  const auto x = random_bf16(static_cast<std::size_t>(n * d), 21);
  const MatrixView<std::uint16_t> view(x.data(), n, d);
  for (const Metric metric : kMetrics) {
    std::vector<std::int64_t> ref_ids(static_cast<std::size_t>(n * k));
    std::vector<float> ref_scores(static_cast<std::size_t>(n * k));
    knn_bf16(metric, view, view, k, 0, ref_ids.data(), ref_scores.data(), BlockOptions{Parallel{1}, 0, 0});
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t r = 0; r < k; ++r) ASSERT_NE(ref_ids[static_cast<std::size_t>(i * k + r)], i);
    for (const int threads : {2, 4}) {
      std::vector<std::int64_t> ids(static_cast<std::size_t>(n * k));
      std::vector<float> scores(static_cast<std::size_t>(n * k));
      knn_bf16(metric, view, view, k, 0, ids.data(), scores.data(), BlockOptions{Parallel{threads}, 0, 0});
      EXPECT_EQ(ids, ref_ids);
      EXPECT_EQ(std::memcmp(scores.data(), ref_scores.data(), scores.size() * 4), 0);
    }
    // Without self exclusion a row is its own nearest: exactly 0 or cosine 1.
    if (metric != Metric::ip) {
      std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
      std::vector<float> scores(static_cast<std::size_t>(n));
      knn_bf16(metric, view, view, 1, kNoSelf, ids.data(), scores.data());
      for (std::int64_t i = 0; i < n; ++i) {
        EXPECT_EQ(ids[static_cast<std::size_t>(i)], i);
        if (metric != Metric::cosine) {
          EXPECT_EQ(scores[static_cast<std::size_t>(i)], 0.0f);
        }
      }
    }
  }
}

struct Int8Problem {
  std::int64_t m, n, d;
  std::vector<std::uint8_t> u;
  std::vector<std::int8_t> v;
  std::vector<float> offset, scale, shift, q2, sums, b2;
};

Int8Problem random_int8(std::int64_t m, std::int64_t n, std::int64_t d, std::uint32_t seed) {
  Int8Problem p{m, n, d, {}, {}, {}, {}, {}, {}, {}, {}};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> unsigned_code(0, 255), signed_code(-128, 127);
  std::uniform_real_distribution<float> uniform(0.5f, 2.0f);
  p.u.resize(static_cast<std::size_t>(m * d));
  p.v.resize(static_cast<std::size_t>(n * d));
  for (auto& x : p.u) x = static_cast<std::uint8_t>(unsigned_code(rng));
  for (auto& x : p.v) x = static_cast<std::int8_t>(signed_code(rng));
  for (std::int64_t i = 0; i < m; ++i) {
    p.offset.push_back(uniform(rng) - 1.0f);
    p.scale.push_back(uniform(rng) * 1e-3f);
    p.shift.push_back(uniform(rng) * -1e-2f);
    p.q2.push_back(uniform(rng) * 100);
  }
  for (std::int64_t j = 0; j < n; ++j) {
    std::int64_t sum = 0;
    for (std::int64_t t = 0; t < d; ++t) sum += p.v[static_cast<std::size_t>(j * d + t)];
    p.sums.push_back(static_cast<float>(sum));
    p.b2.push_back(uniform(rng) * 100);
  }
  return p;
}

TEST(KnnInt8, EqualsTheDocumentedEstimateOnEveryIsaAndThreadCount) {
  for (const auto& [n, m, d, k] : std::vector<std::array<std::int64_t, 4>>{{1037, 29, 37, 10}, {500, 13, 3001, 300}}) {
    const Int8Problem p = random_int8(m, n, d, 31);
    const Int8Queries queries{MatrixView<std::uint8_t>(p.u.data(), m, d), p.offset.data(), p.scale.data(),
                              p.shift.data(), p.q2.data()};
    const Int8Base base{MatrixView<std::int8_t>(p.v.data(), n, d), p.sums.data(), p.b2.data()};
    for (const Metric metric : kMetrics) {
      std::vector<std::vector<float>> rows(static_cast<std::size_t>(m));
      for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
          std::int64_t dot = 0;
          for (std::int64_t t = 0; t < d; ++t)
            dot += static_cast<std::int64_t>(p.u[static_cast<std::size_t>(i * d + t)]) *
                   p.v[static_cast<std::size_t>(j * d + t)];
          const auto at = static_cast<std::size_t>(i);
          const float ip = (p.offset[at] + p.shift[at] * p.sums[static_cast<std::size_t>(j)]) +
                           p.scale[at] * static_cast<float>(dot);
          rows[static_cast<std::size_t>(i)].push_back(
              finish(metric, ip, p.q2[static_cast<std::size_t>(i)], p.b2[static_cast<std::size_t>(j)]));
        }
      for (const Isa isa : supported_isas()) {
        ScopedIsa scoped(isa);
        for (const int threads : {1, 2, 4}) {
          std::vector<std::int64_t> ids(static_cast<std::size_t>(m * k));
          std::vector<float> scores(static_cast<std::size_t>(m * k));
          knn_int8(metric, queries, base, k, kNoSelf, ids.data(), scores.data(), BlockOptions{Parallel{threads}, 0, 0});
          for (std::int64_t i = 0; i < m; ++i) {
            const auto& row = rows[static_cast<std::size_t>(i)];
            const auto expected = brute_force(row, k, is_similarity(metric), -1);
            for (std::int64_t r = 0; r < k; ++r) {
              const auto at = static_cast<std::size_t>(i * k + r);
              ASSERT_EQ(ids[at], expected[static_cast<std::size_t>(r)]) << to_string(isa) << " " << to_string(metric);
              ASSERT_EQ(scores[at], row[static_cast<std::size_t>(ids[at])]);
            }
          }
        }
      }
    }
  }
}

TEST(LowPrecisionKnn, ErrorsNameTheArgument) {
  const auto x = random_bf16(40, 3);
  const MatrixView<std::uint16_t> view(x.data(), 10, 4);
  std::vector<std::int64_t> ids(100);
  std::vector<float> scores(100);
  EXPECT_THROW(knn_bf16(Metric::l1, view, view, 2, kNoSelf, ids.data(), scores.data()), InvalidArgument);
  EXPECT_THROW(knn_bf16(Metric::ip, view, view, 11, kNoSelf, ids.data(), scores.data()), InvalidK);
  EXPECT_THROW(knn_bf16(Metric::ip, view, view, 10, 0, ids.data(), scores.data()), InvalidK);
  EXPECT_THROW(
      knn_bf16(Metric::ip, view, MatrixView<std::uint16_t>(x.data(), 8, 5), 2, kNoSelf, ids.data(), scores.data()),
      DimensionMismatch);
  EXPECT_THROW(knn_bf16(Metric::ip, view, view, 2, kNoSelf, nullptr, scores.data()), InvalidArgument);

  Int8Problem p = random_int8(3, 10, 4, 4);
  Int8Queries queries{MatrixView<std::uint8_t>(p.u.data(), 3, 4), p.offset.data(), p.scale.data(), p.shift.data(),
                      nullptr};
  const Int8Base base{MatrixView<std::int8_t>(p.v.data(), 10, 4), p.sums.data(), nullptr};
  EXPECT_NO_THROW(knn_int8(Metric::ip, queries, base, 2, kNoSelf, ids.data(), scores.data()));
  try {
    knn_int8(Metric::cosine, queries, base, 2, kNoSelf, ids.data(), scores.data());
    ADD_FAILURE() << "no norms accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("squared_norms"), std::string::npos) << e.what();
  }
  queries.scale = nullptr;
  EXPECT_THROW(knn_int8(Metric::ip, queries, base, 2, kNoSelf, ids.data(), scores.data()), InvalidArgument);
}

}  // namespace
}  // namespace latent::kernels
