// Batched Hamming top-k over packed bit codes (binary quantization's search).
//
// Queries are split into fixed groups (the split depends only on n_queries and
// the block options, never on the thread count); each group scans the base in
// blocks of rows that fit in L2 and offers every count to one bounded heap per
// query. The counts come from the active ISA's hamming_many_b1 and are exact, and
// the heap's order is total (distance, then id), so results are the same on every
// ISA and for any schedule.
#include <algorithm>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/kernels/batched.hpp"
#include "table.hpp"
#include "topk_heap.hpp"

namespace latent::kernels {

void hamming_knn_b1(const std::uint8_t* queries, std::int64_t n_queries, const std::uint8_t* base, std::int64_t n_base,
                    std::int64_t bytes, std::int64_t k, std::int64_t* ids, float* distances,
                    const BlockOptions& options) {
  constexpr const char* kFunction = "hamming_knn_b1";
  // Distances are kept as float keys: exact below 2^24 bits.
  constexpr std::int64_t kMaxBytes = std::int64_t{1} << 21;
  if (bytes < 1 || bytes > kMaxBytes) {
    raise<InvalidArgument>(kFunction, "bytes", "must be in [1, 2^21]", "bytes=" + std::to_string(bytes));
  }
  require_k(kFunction, k, n_base, "base");
  if (n_queries < 0) raise<InvalidArgument>(kFunction, "n_queries", "is negative", std::to_string(n_queries));
  if (n_queries == 0) return;
  if (queries == nullptr || base == nullptr || ids == nullptr || distances == nullptr) {
    raise<InvalidArgument>(kFunction,
                           queries == nullptr ? "queries"
                           : base == nullptr  ? "base"
                                              : "ids/distances",
                           "is null");
  }
  const detail::KernelTable& table = detail::active_table();
  const std::int64_t base_rows =
      options.base_block_rows > 0 ? options.base_block_rows : std::max<std::int64_t>(64, (256 << 10) / bytes);
  const std::int64_t group = options.query_block_rows > 0 ? options.query_block_rows : 64;
  parallel_for(n_queries, group, options.parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::uint32_t> counts(static_cast<std::size_t>(std::min(base_rows, n_base)));
    std::vector<detail::TopKHeap<float>> heaps;
    heaps.reserve(static_cast<std::size_t>(end - begin));
    for (std::int64_t i = begin; i < end; ++i) heaps.emplace_back(distances + i * k, ids + i * k, k);
    for (std::int64_t start = 0; start < n_base; start += base_rows) {
      const std::int64_t rows = std::min(base_rows, n_base - start);
      const std::uint8_t* block = base + start * bytes;
      for (std::int64_t i = begin; i < end; ++i) {
        table.hamming_many_b1(queries + i * bytes, block, static_cast<std::size_t>(bytes),
                              static_cast<std::size_t>(rows), static_cast<std::size_t>(bytes), counts.data());
        detail::TopKHeap<float>& heap = heaps[static_cast<std::size_t>(i - begin)];
        for (std::int64_t r = 0; r < rows; ++r) {
          const auto key = static_cast<float>(counts[static_cast<std::size_t>(r)]);
          // Cheap reject before the heap: a full heap only takes a strictly smaller
          // count (equal counts come with larger ids, since ids only grow here).
          if (heap.full() && !(key < heap.worst_key())) continue;
          heap.offer(key, start + r);
        }
      }
    }
    for (auto& heap : heaps) heap.sort_and_pad();
  });
}

}  // namespace latent::kernels
