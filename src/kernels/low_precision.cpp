// The low-precision engine behind knn_bf16 and knn_int8.
//
// Layout: a panel is `lanes` rows cut into groups of consecutive dimensions
// (pairs for bf16, quads for int8: what one VDPBF16PS / VPDPBUSD lane takes),
// stored group after group, out[(g * lanes + r) * group + t] = row r, dimension
// g * group + t, zero beyond the rows and the dimension (zeros add nothing).
// The whole base is packed once in panels of the table's lowp_nr rows (the size
// of the codes); each task packs its own lowp_mr-row query panels and walks the
// base in blocks of about 256 KiB, so a block stays in L2 while the task's
// query panels pass over it. A block of raw products gets the metric's
// epilogue and its rows go to the task's own heaps: one thread per query, so
// the lists need no merge. With fewer query tasks than threads, the threads
// split the base blocks as well and merge per-thread heaps at the end; top-k's
// total order keeps the lists independent of the schedule either way.
#include "latent/kernels/low_precision.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "pair_kernel.hpp"
#include "table.hpp"
#include "topk_heap.hpp"

namespace latent::kernels {
namespace {

using detail::code_of;
using detail::KernelTable;
using detail::norms_from_squares;
using detail::TopKHeap;

constexpr std::int64_t kBlockBytes = 256 << 10;  // packed base codes per block
constexpr std::int64_t kTaskPanels = 8;          // query panels per task

// Packs rows [begin, end) of `source` into one panel of `lanes` rows.
template <class Code>
void pack_panel(const MatrixView<Code>& source, std::int64_t begin, std::int64_t end, std::int64_t lanes, int group,
                std::int64_t groups, Code* out) {
  std::fill(out, out + groups * lanes * group, Code(0));
  const std::int64_t cols = source.cols, whole = cols / group * group;
  for (std::int64_t r = 0; r < end - begin; ++r) {
    const Code* row = source.row(begin + r);
    Code* group_out = out + r * group;
    std::int64_t p = 0;
    for (; p < whole; p += group, group_out += lanes * group)
      std::memcpy(group_out, row + p, static_cast<std::size_t>(group) * sizeof(Code));
    for (std::int64_t t = 0; p < cols; ++p, ++t) group_out[t] = row[p];  // a last, partial group
  }
}

template <class A, class B>
void validate(const char* function, Metric metric, const MatrixView<A>& queries, const MatrixView<B>& base,
              std::int64_t k, std::int64_t self_offset, const std::int64_t* ids, const float* scores) {
  if (metric != Metric::cosine && metric != Metric::ip && metric != Metric::l2 && metric != Metric::sqeuclidean)
    raise<InvalidArgument>(function, "metric", "must be cosine, ip, l2 or sqeuclidean", std::string(to_string(metric)));
  require_same_dim(function, "base", base.cols, "queries", queries.cols);
  if (queries.cols < 1) raise<InvalidArgument>(function, "queries", "has no columns");
  if ((queries.rows > 0 && queries.data == nullptr) || (base.rows > 0 && base.data == nullptr))
    raise<InvalidArgument>(function, queries.data == nullptr ? "queries" : "base", "is null");
  if (queries.row_stride < queries.cols || base.row_stride < base.cols)
    raise<InvalidArgument>(function, queries.row_stride < queries.cols ? "queries" : "base",
                           "row stride is smaller than the number of columns");
  if (self_offset >= 0 && self_offset + queries.rows > base.rows)
    raise<InvalidArgument>(function, "self_offset", "places queries past the end of base",
                           "self_offset=" + std::to_string(self_offset) + ", queries=" + std::to_string(queries.rows) +
                               ", base=" + std::to_string(base.rows));
  require_k(function, k, base.rows - (self_offset >= 0 ? 1 : 0), self_offset >= 0 ? "base (self excluded)" : "base");
  if (queries.rows > 0 && (ids == nullptr || scores == nullptr))
    raise<InvalidArgument>(function, ids == nullptr ? "ids" : "scores", "is null");
}

// One format's tile and packing geometry.
template <class A, class B, class Acc>
struct Format {
  int group;  // dimensions per lane step: 2 (bf16) or 4 (int8)
  void (*tile)(std::size_t groups, const A* a_panel, const B* b_panel, Acc* c, std::size_t ldc, bool accumulate);
};

// Runs the tiles over every (query, base) pair and keeps the k nearest.
// finish(c, ldc, query_begin, rows, base_begin, cols, out) turns a block of raw
// products into scores with row stride ldc and returns them (in `out`, or in c
// itself when the products are f32).
template <class A, class B, class Acc, class Finish>
void run_knn(const KernelTable& table, const Format<A, B, Acc>& format, Metric metric, const MatrixView<A>& queries,
             const MatrixView<B>& base, std::int64_t k, std::int64_t self_offset, std::int64_t* ids, float* scores,
             int threads, Finish finish) {
  const std::int64_t mr = table.lowp_mr, nr = table.lowp_nr, m = queries.rows, n = base.rows;
  const std::int64_t groups = (queries.cols + format.group - 1) / format.group;
  const std::int64_t b_panel_size = groups * nr * format.group, a_panel_size = groups * mr * format.group;
  const std::int64_t b_panels = (n + nr - 1) / nr;
  std::vector<B> b_packed(static_cast<std::size_t>(b_panels * b_panel_size));
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t panel = 0; panel < b_panels; ++panel)
    pack_panel(base, panel * nr, std::min(n, (panel + 1) * nr), nr, format.group, groups,
               b_packed.data() + panel * b_panel_size);

  const std::int64_t block_panels =
      std::max<std::int64_t>(1, kBlockBytes / (b_panel_size * static_cast<std::int64_t>(sizeof(B))));
  const std::int64_t ldc = block_panels * nr, task_rows = kTaskPanels * mr;
  const std::int64_t tasks = (m + task_rows - 1) / task_rows;
  const std::int64_t base_blocks = (b_panels + block_panels - 1) / block_panels;
  const bool similarity = is_similarity(metric);
  // Fewer query tasks than threads: the threads split the base blocks too, each
  // keeping heaps of its own, merged below (top-k's total order makes the merge
  // independent of the split).
  const bool split_base = tasks < threads;
  const std::int64_t items = split_base ? tasks * base_blocks : tasks;
  const auto per_thread = static_cast<std::size_t>(threads);
  detail::ThreadLists<float> lists(scores, ids, m, k, split_base ? per_thread - 1 : 0);
  std::vector<std::vector<A>> a_packed(per_thread,
                                       std::vector<A>(static_cast<std::size_t>(kTaskPanels * a_panel_size)));
  std::vector<std::vector<Acc>> products(per_thread, std::vector<Acc>(static_cast<std::size_t>(task_rows * ldc)));
  std::vector<std::vector<float>> block_scores(per_thread,
                                               std::vector<float>(static_cast<std::size_t>(task_rows * ldc)));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (std::int64_t item = 0; item < items; ++item) {
    const auto thread = static_cast<std::size_t>(omp_get_thread_num());
    const auto arrays = lists.of(static_cast<int>(thread));
    float* keys = arrays.keys;
    std::int64_t* kept_ids = arrays.ids;
    std::int64_t* kept = arrays.sizes;
    A* a = a_packed[thread].data();
    Acc* c = products[thread].data();
    float* out = block_scores[thread].data();
    const std::int64_t task = split_base ? item / base_blocks : item;
    const std::int64_t first_block = split_base ? item % base_blocks : 0;
    const std::int64_t last_block = split_base ? first_block + 1 : base_blocks;
    const std::int64_t query_begin = task * task_rows, rows = std::min(task_rows, m - query_begin);
    const std::int64_t a_panels = (rows + mr - 1) / mr;
    for (std::int64_t ia = 0; ia < a_panels; ++ia)
      pack_panel(queries, query_begin + ia * mr, query_begin + std::min(rows, (ia + 1) * mr), mr, format.group, groups,
                 a + ia * a_panel_size);
    for (std::int64_t base_block = first_block; base_block < last_block; ++base_block) {
      const std::int64_t first_panel = base_block * block_panels;
      const std::int64_t panels = std::min(block_panels, b_panels - first_panel);
      const std::int64_t base_begin = first_panel * nr, cols = std::min(panels * nr, n - base_begin);
      for (std::int64_t jb = 0; jb < panels; ++jb)
        for (std::int64_t ia = 0; ia < a_panels; ++ia)
          format.tile(static_cast<std::size_t>(groups), a + ia * a_panel_size,
                      b_packed.data() + (first_panel + jb) * b_panel_size, c + ia * mr * ldc + jb * nr,
                      static_cast<std::size_t>(ldc), false);
      const float* block = finish(c, ldc, query_begin, rows, base_begin, cols, out);
      for (std::int64_t i = 0; i < rows; ++i) {
        const std::int64_t query = query_begin + i;
        TopKHeap<float> heap(keys + query * k, kept_ids + query * k, k, kept[query]);
        detail::offer_row(heap, block + i * ldc, cols, base_begin, self_offset >= 0 ? self_offset + query : -1,
                          similarity);
        kept[query] = heap.size();
      }
    }
  }
  lists.finish(similarity, [](float score) { return score; });
}

// Squared norms of bf16 rows with the tile's own chain: the rows packed as a
// base panel, then the table's panel norms.
std::vector<float> bf16_squared_norms(const KernelTable& table, const MatrixView<std::uint16_t>& rows, int threads) {
  const std::int64_t nr = table.lowp_nr, groups = (rows.cols + 1) / 2;
  const std::int64_t panels = (rows.rows + nr - 1) / nr;
  std::vector<float> norms(static_cast<std::size_t>(panels * nr));
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::uint16_t> panel(static_cast<std::size_t>(groups * nr * 2));
#pragma omp for schedule(static)
    for (std::int64_t p = 0; p < panels; ++p) {
      pack_panel(rows, p * nr, std::min(rows.rows, (p + 1) * nr), nr, 2, groups, panel.data());
      table.panel_sqnorms_bf16(panel.data(), static_cast<std::size_t>(groups), norms.data() + p * nr);
    }
  }
  norms.resize(static_cast<std::size_t>(rows.rows));
  return norms;
}

}  // namespace

void knn_bf16(Metric metric, const MatrixView<std::uint16_t>& queries, const MatrixView<std::uint16_t>& base,
              std::int64_t k, std::int64_t self_offset, std::int64_t* ids, float* scores, const BlockOptions& options) {
  validate("knn_bf16", metric, queries, base, k, self_offset, ids, scores);
  if (queries.rows == 0) return;
  const KernelTable& table = detail::active_table();
  const int threads = resolve_threads(options.parallel);
  std::vector<float> query_norms, base_norms;
  if (metric != Metric::ip) {
    query_norms = bf16_squared_norms(table, queries, threads);
    base_norms = bf16_squared_norms(table, base, threads);
    norms_from_squares(metric, query_norms.data(), queries.rows, query_norms.data());
    norms_from_squares(metric, base_norms.data(), base.rows, base_norms.data());
  }
  const Format<std::uint16_t, std::uint16_t, float> format{2, table.gemm_tile_bf16};
  run_knn(table, format, metric, queries, base, k, self_offset, ids, scores, threads,
          [&](float* c, std::int64_t ldc, std::int64_t query_begin, std::int64_t rows, std::int64_t base_begin,
              std::int64_t cols, float*) -> const float* {
            if (metric != Metric::ip)
              table.gemm_f32.finish_block(code_of(metric), c, static_cast<std::size_t>(rows),
                                          static_cast<std::size_t>(cols), static_cast<std::size_t>(ldc),
                                          query_norms.data() + query_begin, base_norms.data() + base_begin);
            return c;
          });
}

void knn_int8(Metric metric, const Int8Queries& queries, const Int8Base& base, std::int64_t k, std::int64_t self_offset,
              std::int64_t* ids, float* scores, const BlockOptions& options) {
  const char* function = "knn_int8";
  validate(function, metric, queries.codes, base.codes, k, self_offset, ids, scores);
  if (queries.codes.rows == 0) return;
  const std::int64_t m = queries.codes.rows, n = base.codes.rows;
  if (queries.offset == nullptr || queries.scale == nullptr || queries.shift == nullptr)
    raise<InvalidArgument>(function, "queries", "need offset, scale and shift");
  if (base.code_sums == nullptr) raise<InvalidArgument>(function, "base.code_sums", "is null");
  if (metric != Metric::ip && (queries.squared_norms == nullptr || base.squared_norms == nullptr))
    raise<InvalidArgument>(function, queries.squared_norms == nullptr ? "queries.squared_norms" : "base.squared_norms",
                           "is null (needed by " + std::string(to_string(metric)) + ")");
  const KernelTable& table = detail::active_table();
  const int threads = resolve_threads(options.parallel);
  std::vector<float> query_norms, base_norms;
  if (metric != Metric::ip) {
    query_norms.resize(static_cast<std::size_t>(m));
    base_norms.resize(static_cast<std::size_t>(n));
    norms_from_squares(metric, queries.squared_norms, m, query_norms.data());
    norms_from_squares(metric, base.squared_norms, n, base_norms.data());
  }
  const Format<std::uint8_t, std::int8_t, std::int32_t> format{4, table.gemm_tile_u8s8};
  run_knn(table, format, metric, queries.codes, base.codes, k, self_offset, ids, scores, threads,
          [&](const std::int32_t* c, std::int64_t ldc, std::int64_t query_begin, std::int64_t rows,
              std::int64_t base_begin, std::int64_t cols, float* out) -> const float* {
            // Row by row, so the epilogue finds the estimates still in L1.
            for (std::int64_t i = 0; i < rows; ++i) {
              table.affine_s32(c + i * ldc, base.code_sums + base_begin, static_cast<std::size_t>(cols),
                               queries.offset[query_begin + i], queries.scale[query_begin + i],
                               queries.shift[query_begin + i], out + i * ldc);
              if (metric != Metric::ip)
                table.gemm_f32.finish_block(code_of(metric), out + i * ldc, 1, static_cast<std::size_t>(cols),
                                            static_cast<std::size_t>(ldc), query_norms.data() + query_begin + i,
                                            base_norms.data() + base_begin);
            }
            return out;
          });
}

}  // namespace latent::kernels
