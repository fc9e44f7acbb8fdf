// The batched Hamming kernels: every runnable table's hamming_many_b1 against
// byte-wise popcounts (unaligned rows, odd lengths), and hamming_knn_b1 on every
// ISA, for any block sizes and threads, against a brute-force sort.
#include <gtest/gtest.h>

#include <algorithm>
#include <bitset>
#include <random>
#include <vector>

#include "kernel_tables.hpp"
#include "kernels/table.hpp"
#include "latent/core/errors.hpp"
#include "latent/kernels.hpp"

namespace latent::kernels {
namespace {

using detail::KernelTable;

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

int popcount_bytes(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  int count = 0;
  for (std::size_t i = 0; i < bytes; ++i) count += static_cast<int>(std::bitset<8>(a[i] ^ b[i]).count());
  return count;
}

TEST(HammingBatched, EveryTableCountsExactly) {
  for (const std::size_t bytes : {1, 3, 8, 9, 31, 64, 65, 100, 128, 129, 192}) {
    const std::size_t rows = 37, stride = bytes + 3;  // padded, unaligned rows
    const auto base = random_bytes(rows * stride + 1, 1), query = random_bytes(bytes + 1, 2);
    for (const KernelTable* table : testing::runnable_tables()) {
      std::vector<std::uint32_t> out(rows);
      table->hamming_many_b1(query.data() + 1, base.data() + 1, stride, rows, bytes, out.data());
      for (std::size_t r = 0; r < rows; ++r)
        ASSERT_EQ(out[r],
                  static_cast<std::uint32_t>(popcount_bytes(query.data() + 1, base.data() + 1 + r * stride, bytes)))
            << table->name << " bytes " << bytes << " row " << r;
    }
  }
}

TEST(HammingBatched, TopKEqualsTheBruteForceSortOnEveryIsaAndBlocking) {
  const std::int64_t n_base = 1000, n_queries = 70, bytes = 24, k = 15;
  const auto base = random_bytes(static_cast<std::size_t>(n_base * bytes), 3);
  auto queries = random_bytes(static_cast<std::size_t>(n_queries * bytes), 4);
  std::copy(base.begin(), base.begin() + bytes, queries.begin());  // distance 0 to base row 0
  std::vector<std::int64_t> expected(static_cast<std::size_t>(n_queries * k));
  for (std::int64_t i = 0; i < n_queries; ++i) {
    std::vector<std::pair<int, std::int64_t>> all;
    for (std::int64_t j = 0; j < n_base; ++j)
      all.emplace_back(popcount_bytes(queries.data() + i * bytes, base.data() + j * bytes, bytes), j);
    std::sort(all.begin(), all.end());
    for (std::int64_t r = 0; r < k; ++r)
      expected[static_cast<std::size_t>(i * k + r)] = all[static_cast<std::size_t>(r)].second;
  }
  for (const Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    if (!is_supported(isa)) continue;
    const ScopedIsa scoped(isa);
    for (const std::int64_t block : {0, 7, 128}) {
      BlockOptions options;
      options.base_block_rows = block;
      options.query_block_rows = block;
      options.parallel.threads = 2;
      std::vector<std::int64_t> ids(static_cast<std::size_t>(n_queries * k));
      std::vector<float> distances(ids.size());
      hamming_knn_b1(queries.data(), n_queries, base.data(), n_base, bytes, k, ids.data(), distances.data(), options);
      EXPECT_EQ(ids, expected) << to_string(isa) << " block " << block;
      EXPECT_EQ(distances[0], 0.0f);
    }
  }
  std::vector<std::int64_t> ids(10);
  std::vector<float> distances(10);
  EXPECT_THROW(hamming_knn_b1(queries.data(), 1, base.data(), 5, bytes, 6, ids.data(), distances.data()), InvalidK);
  EXPECT_THROW(hamming_knn_b1(queries.data(), 1, base.data(), 5, 0, 1, ids.data(), distances.data()), InvalidArgument);
}

}  // namespace
}  // namespace latent::kernels
