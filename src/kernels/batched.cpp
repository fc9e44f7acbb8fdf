// The batched engine behind similarity_f32 / _f64, knn_f32 / _f64 and
// gemm_nt_f32, one code path templated on the element type.
//
// Blocking (names as in the GEMM literature): queries are packed in panels of mr
// rows (the micro-tile's broadcast side), base rows in panels of nr rows (its
// vector lanes), both as [dim][lanes] so the micro-kernel streams them. The
// micro-kernel is the inner-product tile, or for l1 and linf the distance tile
// of the same shape (then there are no norms and no epilogue). A task is
// task_rows queries x base_rows base rows; inside it the depth is cut into kDepth
// chunks so a base panel chunk stays in L2 while the query panels stream by.
// Two schedules, chosen by the number of query tasks, give identical results:
// - many queries: base blocks are packed once, in parallel, into a shared buffer
//   and every thread takes query tasks against it (heaps per query, each touched
//   by one thread at a time);
// - few queries (one task, or fewer tasks than threads): threads split the base
//   instead, each packing its own panels one L1-sized depth chunk at a time and
//   keeping its own heaps, merged at the end.
// Scores depend on neither (see batched.hpp), and top-k uses a total order, so
// the lists are the same whatever the schedule, the block sizes or the threads.
#include "latent/kernels/batched.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "latent/core/errors.hpp"
#include "pair_kernel.hpp"
#include "table.hpp"
#include "topk_heap.hpp"

namespace latent::kernels {
namespace {

using detail::code_of;
using detail::GemmKernels;
using detail::norms_from_squares;
using detail::TopKHeap;

constexpr std::int64_t kDepth = 1024;                // depth chunk of a micro-kernel call (panels stay in L2)
constexpr std::int64_t kPackBudgetBytes = 8 << 20;   // per packed operand
constexpr std::int64_t kScoreBudgetBytes = 4 << 20;  // per thread's score block
constexpr std::int64_t kDefaultBaseRows = 1024;
constexpr std::int64_t kL1ChunkBytes = 16 << 10;   // a base panel chunk under few queries
constexpr std::int64_t kSymmetricBlockRows = 512;  // rows of a block of the symmetric self-join
constexpr std::int64_t kSymmetricStripRows = 128;  // its columns per score strip

std::int64_t round_up(std::int64_t value, std::int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}
std::int64_t round_down_at_least(std::int64_t value, std::int64_t multiple) {
  return std::max(multiple, value / multiple * multiple);
}

struct Geometry {
  std::int64_t mr = 0, nr = 0, dim = 0;
  std::int64_t task_rows = 0;   // queries per task (multiple of mr)
  std::int64_t base_rows = 0;   // base rows per block (multiple of nr)
  std::int64_t super_rows = 0;  // queries packed at once (multiple of task_rows)
};

template <class T>
Geometry plan(const GemmKernels<T>& kernels, std::int64_t dim, const BlockOptions& options) {
  Geometry g;
  g.mr = kernels.mr;
  g.nr = kernels.nr;
  g.dim = dim;
  const auto element = static_cast<std::int64_t>(sizeof(T));
  const std::int64_t row_bytes = element * dim;
  g.base_rows = options.base_block_rows > 0
                    ? round_up(options.base_block_rows, g.nr)
                    : round_down_at_least(std::min(kDefaultBaseRows, kPackBudgetBytes / row_bytes), g.nr);
  g.task_rows = options.query_block_rows > 0 ? round_up(options.query_block_rows, g.mr) : 8 * g.mr;
  // Keep one score block per thread within its budget.
  g.task_rows = std::min(g.task_rows, round_down_at_least(kScoreBudgetBytes / (element * g.base_rows), g.mr));
  g.super_rows = round_down_at_least(std::max(g.task_rows, kPackBudgetBytes / row_bytes), g.task_rows);
  return g;
}

// The few-queries schedule: all queries fit one task, or they make fewer tasks
// than there are threads. Each base panel is then packed right before it is used
// (it stays in cache) and threads split the base.
bool few_queries_schedule(const Geometry& g, std::int64_t m, int threads) {
  const std::int64_t tasks = (m + g.task_rows - 1) / g.task_rows;
  return tasks <= 1 || (m <= g.super_rows && tasks < threads);
}

// Packs rows [begin, end) of `source` in panels of `lanes` rows, panel after panel.
template <class T>
void pack_panels(void (*pack)(const T*, std::size_t, std::size_t, std::size_t, T*), std::int64_t lanes,
                 const MatrixView<T>& source, std::int64_t begin, std::int64_t end, T* out) {
  const auto dim = static_cast<std::size_t>(source.cols);
  for (std::int64_t first = begin, panel = 0; first < end; first += lanes, ++panel) {
    pack(source.row(first), static_cast<std::size_t>(source.row_stride),
         static_cast<std::size_t>(std::min(lanes, end - first)), dim, out + panel * lanes * source.cols);
  }
}

// What one GEMM pass computes: the metric of its epilogue (or none: raw inner
// products), and the metric whose norms the packing step gathers.
struct GemmPass {
  Metric metric;
  bool finish;  // false: raw inner products, no epilogue, no norms
  Metric norm_metric() const { return finish ? metric : Metric::ip; }
  // l1 and linf have tiles of their own (full tiles only); the rest are inner
  // products.
  bool distance_tiles() const { return metric == Metric::l1 || metric == Metric::linf; }
  // Applies the metric's epilogue to a block of raw products, in place.
  template <class T>
  void finish_block(const GemmKernels<T>& kernels, T* c, std::int64_t rows, std::int64_t cols, std::int64_t ldc,
                    const T* query_norms, const T* base_norms) const {
    if (!finish) return;
    kernels.finish_block(code_of(metric), c, static_cast<std::size_t>(rows), static_cast<std::size_t>(cols),
                         static_cast<std::size_t>(ldc), query_norms, base_norms);
  }
};

// c (a_rows x nr, row stride ldc; room for whole A panels) += the packed queries
// times one chunk of a packed base panel: depth steps [depth_begin, +depth) of
// the queries, b_chunk laid out [depth][nr]. The first chunk starts the chains.
template <class T>
void multiply_chunk(const GemmKernels<T>& kernels, const Geometry& g, const GemmPass& pass, const T* a_packed,
                    std::int64_t a_rows, std::int64_t depth_begin, std::int64_t depth, const T* b_chunk, T* c,
                    std::int64_t ldc) {
  const std::int64_t a_panels = (a_rows + g.mr - 1) / g.mr;
  const auto last_rows = static_cast<std::size_t>(a_rows - (a_panels - 1) * g.mr);
  const bool accumulate = depth_begin > 0;
  for (std::int64_t ia = 0; ia < a_panels; ++ia) {
    const T* a = a_packed + ia * g.dim * g.mr + depth_begin * g.mr;
    T* tile = c + ia * g.mr * ldc;
    if (pass.distance_tiles()) {
      (pass.metric == Metric::l1 ? kernels.l1_tile : kernels.linf_tile)(
          static_cast<std::size_t>(depth), a, b_chunk, tile, static_cast<std::size_t>(ldc), accumulate);
    } else if (ia + 1 < a_panels || last_rows == static_cast<std::size_t>(g.mr)) {
      kernels.tile(static_cast<std::size_t>(depth), a, b_chunk, tile, static_cast<std::size_t>(ldc), accumulate);
    } else {
      kernels.tile_rows(static_cast<std::size_t>(depth), last_rows, a, b_chunk, tile, static_cast<std::size_t>(ldc),
                        accumulate);
    }
  }
}

// c (a_rows x b_panels*nr) = packed queries x packed base panels (full depth),
// in depth chunks of kDepth so a base panel chunk stays in cache.
template <class T>
void multiply_panels(const GemmKernels<T>& kernels, const Geometry& g, const GemmPass& pass, const T* a_packed,
                     std::int64_t a_rows, const T* b_packed, std::int64_t b_panels, T* c, std::int64_t ldc) {
  for (std::int64_t depth_begin = 0; depth_begin < g.dim; depth_begin += kDepth) {
    const std::int64_t depth = std::min(kDepth, g.dim - depth_begin);
    for (std::int64_t jb = 0; jb < b_panels; ++jb) {
      multiply_chunk(kernels, g, pass, a_packed, a_rows, depth_begin, depth,
                     b_packed + jb * g.dim * g.nr + depth_begin * g.nr, c + jb * g.nr, ldc);
    }
  }
}

template <class T>
void panel_norms(const GemmKernels<T>& kernels, Metric metric, bool a_side, const T* panel, std::int64_t dim,
                 std::int64_t count, T* out) {
  T squared[64];
  (a_side ? kernels.panel_sqnorms_a : kernels.panel_sqnorms_b)(panel, static_cast<std::size_t>(dim), squared, false);
  norms_from_squares(metric, squared, count, out);
}

bool needs_norms(Metric metric) {
  return metric == Metric::cosine || metric == Metric::l2 || metric == Metric::sqeuclidean;
}

// A block of finished scores handed to a consumer: rows [query_begin, +rows) x
// base rows [base_begin, +cols), row stride ldc.
template <class T>
struct ScoreBlockOf {
  const T* scores;
  std::int64_t ldc;
  std::int64_t query_begin, rows;
  std::int64_t base_begin, cols;
};

// Packs the panels of rows [begin, end) and, when the metric needs them, their
// norms into norms_out[0, end - begin).
template <class T>
void pack_range(const GemmKernels<T>& kernels, const Geometry& g, Metric metric, bool a_side,
                const MatrixView<T>& source, std::int64_t begin, std::int64_t end, T* packed, T* norms_out) {
  const std::int64_t lanes = a_side ? g.mr : g.nr;
  pack_panels(a_side ? kernels.pack_a : kernels.pack_b, lanes, source, begin, end, packed);
  if (!needs_norms(metric) || norms_out == nullptr) return;
  for (std::int64_t first = begin, panel = 0; first < end; first += lanes, ++panel) {
    panel_norms(kernels, metric, a_side, packed + panel * lanes * g.dim, g.dim, std::min(lanes, end - first),
                norms_out + (first - begin));
  }
}

// c (a_rows x cols, row stride ldc) = the packed queries against base rows
// [base_begin, +cols), each base panel packed one L1-sized depth chunk at a time
// right before its use (chunk: scratch of nr x chunk_depth), then the epilogue
// with the queries' norms and the base rows' (computed here into base_norms).
template <class T>
void multiply_streamed_block(const GemmKernels<T>& kernels, const Geometry& g, const GemmPass& pass, const T* a_packed,
                             std::int64_t a_rows, const T* query_norms, const MatrixView<T>& base,
                             std::int64_t base_begin, std::int64_t cols, std::int64_t chunk_depth, T* chunk, T* c,
                             std::int64_t ldc, T* base_norms) {
  const Metric norm_metric = pass.norm_metric();
  const bool norms_needed = needs_norms(norm_metric);
  for (std::int64_t first = 0; first < cols; first += g.nr) {
    const std::int64_t rows = std::min(g.nr, cols - first);
    T squared[64] = {};  // written by the first depth chunk (dim >= 1)
    for (std::int64_t depth_begin = 0; depth_begin < g.dim; depth_begin += chunk_depth) {
      const std::int64_t depth = std::min(chunk_depth, g.dim - depth_begin);
      kernels.pack_b(base.row(base_begin + first) + depth_begin, static_cast<std::size_t>(base.row_stride),
                     static_cast<std::size_t>(rows), static_cast<std::size_t>(depth), chunk);
      if (norms_needed) kernels.panel_sqnorms_b(chunk, static_cast<std::size_t>(depth), squared, depth_begin > 0);
      multiply_chunk(kernels, g, pass, a_packed, a_rows, depth_begin, depth, chunk, c + first, ldc);
    }
    if (norms_needed) norms_from_squares(norm_metric, squared, rows, base_norms + first);
  }
  pass.finish_block(kernels, c, a_rows, cols, ldc, query_norms, base_norms);
}

// Few queries: pack all queries once; threads split the base blocks. Each base
// panel is packed one L1-sized depth chunk at a time, right before its use.
template <class T, class Consume>
void run_gemm_few_queries(const GemmKernels<T>& kernels, const Geometry& g, const GemmPass& pass,
                          const MatrixView<T>& queries, const MatrixView<T>& base, int threads, Consume& consume) {
  const Metric norm_metric = pass.norm_metric();
  const std::int64_t m = queries.rows, n = base.rows;
  const std::int64_t ldc = g.base_rows;
  const std::int64_t base_blocks = (n + g.base_rows - 1) / g.base_rows;
  const std::int64_t a_panels = (m + g.mr - 1) / g.mr;
  std::vector<T> a_packed(static_cast<std::size_t>(a_panels * g.mr * g.dim));
  std::vector<T> query_norms(static_cast<std::size_t>(m));
  pack_range(kernels, g, norm_metric, true, queries, 0, m, a_packed.data(), query_norms.data());
  const std::int64_t chunk_depth =
      std::max<std::int64_t>(16, kL1ChunkBytes / (static_cast<std::int64_t>(sizeof(T)) * g.nr));
  const auto per_thread = static_cast<std::size_t>(threads);
  std::vector<std::vector<T>> b_chunk(per_thread, std::vector<T>(static_cast<std::size_t>(g.nr * chunk_depth)));
  std::vector<std::vector<T>> c_block(per_thread, std::vector<T>(static_cast<std::size_t>(a_panels * g.mr * ldc)));
  std::vector<std::vector<T>> base_norms(per_thread, std::vector<T>(static_cast<std::size_t>(g.base_rows)));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (std::int64_t block = 0; block < base_blocks; ++block) {
    const auto thread = static_cast<std::size_t>(omp_get_thread_num());
    const std::int64_t base_begin = block * g.base_rows;
    const std::int64_t cols = std::min(g.base_rows, n - base_begin);
    T* c = c_block[thread].data();
    multiply_streamed_block(kernels, g, pass, a_packed.data(), m, query_norms.data(), base, base_begin, cols,
                            chunk_depth, b_chunk[thread].data(), c, ldc, base_norms[thread].data());
    consume(static_cast<int>(thread), ScoreBlockOf<T>{c, ldc, 0, m, base_begin, cols});
  }
}

// The kNN graph of x against itself: each pair of row blocks is computed once
// (blocks J >= I of S rows, S a multiple of both panel widths) and the consumer
// sees every block once; a block off the diagonal stands for its transpose as
// well. The inner product and the epilogue are symmetric (fma(a, b, c) =
// fma(b, a, c); the norms of a row are the same chain on either side), so the
// transposed scores are the bits the other order would compute. Query blocks
// are packed once, shared; threads split the base blocks as under few queries.
template <class T, class Consume>
void run_gemm_symmetric(const GemmKernels<T>& kernels, const Geometry& g, const GemmPass& pass, const MatrixView<T>& x,
                        int threads, Consume& consume) {
  const Metric norm_metric = pass.norm_metric();
  const std::int64_t n = x.rows;
  // Square blocks of at most ~512 rows: one block of scores per thread stays
  // near 1 MiB, and the diagonal blocks (computed in full) stay a small share.
  const std::int64_t size = round_up(std::min<std::int64_t>(g.base_rows, kSymmetricBlockRows), std::lcm(g.mr, g.nr));
  const std::int64_t blocks = (n + size - 1) / size;
  // A block's columns in strips of `width` (a multiple of nr): one strip of
  // scores per thread stays small.
  const std::int64_t width = std::min(size, round_up(kSymmetricStripRows, g.nr)), ldc = width;
  const std::int64_t strips = (size + width - 1) / width;
  const std::int64_t chunk_depth =
      std::max<std::int64_t>(16, kL1ChunkBytes / (static_cast<std::int64_t>(sizeof(T)) * g.nr));
  std::vector<T> a_packed(static_cast<std::size_t>(size * g.dim));
  std::vector<T> query_norms(static_cast<std::size_t>(size));
  const auto per_thread = static_cast<std::size_t>(threads);
  std::vector<std::vector<T>> b_chunk(per_thread, std::vector<T>(static_cast<std::size_t>(g.nr * chunk_depth)));
  std::vector<std::vector<T>> c_block(per_thread, std::vector<T>(static_cast<std::size_t>(size * ldc)));
  std::vector<std::vector<T>> base_norms(per_thread, std::vector<T>(static_cast<std::size_t>(width)));
  for (std::int64_t query_block = 0; query_block < blocks; ++query_block) {
    const std::int64_t query_begin = query_block * size, rows = std::min(size, n - query_begin);
    const std::int64_t a_panels = (rows + g.mr - 1) / g.mr;
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(static)
      for (std::int64_t panel = 0; panel < a_panels; ++panel) {
        const std::int64_t first = panel * g.mr;
        pack_range(kernels, g, norm_metric, true, x, query_begin + first, query_begin + std::min(rows, first + g.mr),
                   a_packed.data() + first * g.dim, query_norms.data() + first);
      }
#pragma omp for schedule(dynamic, 1)
      for (std::int64_t item = query_block * strips; item < blocks * strips; ++item) {
        const auto thread = static_cast<std::size_t>(omp_get_thread_num());
        const std::int64_t base_begin = (item / strips) * size + (item % strips) * width;
        if (base_begin >= n) continue;  // a strip past the ragged last block
        const std::int64_t cols = std::min({width, n - base_begin, (item / strips + 1) * size - base_begin});
        T* c = c_block[thread].data();
        multiply_streamed_block(kernels, g, pass, a_packed.data(), rows, query_norms.data(), x, base_begin, cols,
                                chunk_depth, b_chunk[thread].data(), c, ldc, base_norms[thread].data());
        consume(static_cast<int>(thread), ScoreBlockOf<T>{c, ldc, query_begin, rows, base_begin, cols});
      }
    }
  }
}

// Many queries: per super-block of queries, base blocks are packed once into a
// shared buffer and threads take query tasks against it.
template <class T, class Consume>
void run_gemm_many_queries(const GemmKernels<T>& kernels, const Geometry& g, const GemmPass& pass,
                           const MatrixView<T>& queries, const MatrixView<T>& base, int threads, Consume& consume) {
  const Metric norm_metric = pass.norm_metric();
  const std::int64_t m = queries.rows, n = base.rows;
  const std::int64_t ldc = g.base_rows;
  const std::int64_t base_blocks = (n + g.base_rows - 1) / g.base_rows;
  const std::int64_t super_capacity = std::min(round_up(m, g.mr), g.super_rows);
  std::vector<T> a_packed(static_cast<std::size_t>(super_capacity * g.dim));
  std::vector<T> query_norms(static_cast<std::size_t>(super_capacity));
  std::vector<T> b_packed(static_cast<std::size_t>(std::min(round_up(n, g.nr), g.base_rows) * g.dim));
  std::vector<T> base_norms(static_cast<std::size_t>(g.base_rows));
  std::vector<std::vector<T>> c_block(static_cast<std::size_t>(threads),
                                      std::vector<T>(static_cast<std::size_t>(g.task_rows * ldc)));
  for (std::int64_t super_begin = 0; super_begin < m; super_begin += g.super_rows) {
    const std::int64_t super_end = std::min(m, super_begin + g.super_rows);
    const std::int64_t a_panels = (super_end - super_begin + g.mr - 1) / g.mr;
    const std::int64_t tasks = (super_end - super_begin + g.task_rows - 1) / g.task_rows;
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(static)
      for (std::int64_t panel = 0; panel < a_panels; ++panel) {
        const std::int64_t first = panel * g.mr;
        pack_range(kernels, g, norm_metric, true, queries, super_begin + first,
                   std::min(super_end, super_begin + first + g.mr), a_packed.data() + first * g.dim,
                   query_norms.data() + first);
      }
      for (std::int64_t block = 0; block < base_blocks; ++block) {
        const std::int64_t base_begin = block * g.base_rows;
        const std::int64_t cols = std::min(g.base_rows, n - base_begin);
        const std::int64_t b_panels = (cols + g.nr - 1) / g.nr;
#pragma omp for schedule(static)
        for (std::int64_t panel = 0; panel < b_panels; ++panel) {
          const std::int64_t first = panel * g.nr;
          pack_range(kernels, g, norm_metric, false, base, base_begin + first,
                     base_begin + std::min(cols, first + g.nr), b_packed.data() + first * g.dim,
                     base_norms.data() + first);
        }
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t task = 0; task < tasks; ++task) {
          const int thread = omp_get_thread_num();
          T* c = c_block[static_cast<std::size_t>(thread)].data();
          const std::int64_t local_begin = task * g.task_rows;
          const std::int64_t rows = std::min(g.task_rows, super_end - super_begin - local_begin);
          multiply_panels(kernels, g, pass, a_packed.data() + local_begin * g.dim, rows, b_packed.data(), b_panels, c,
                          ldc);
          pass.finish_block(kernels, c, rows, cols, ldc, query_norms.data() + local_begin, base_norms.data());
          consume(thread, ScoreBlockOf<T>{c, ldc, super_begin + local_begin, rows, base_begin, cols});
        }
      }
    }
  }
}

template <class T>
void validate(std::string_view function, const MatrixView<T>& queries, const MatrixView<T>& base) {
  require_same_dim(function, "base", base.cols, "queries", queries.cols);
  if (queries.cols < 1) raise<InvalidArgument>(function, "queries", "has no columns");
  if ((queries.rows > 0 && queries.data == nullptr) || (base.rows > 0 && base.data == nullptr)) {
    raise<InvalidArgument>(function, queries.data == nullptr ? "queries" : "base", "is null");
  }
  if (queries.row_stride < queries.cols || base.row_stride < base.cols) {
    raise<InvalidArgument>(function, queries.row_stride < queries.cols ? "queries" : "base",
                           "row stride is smaller than the number of columns");
  }
}

// The schedule of one call: the GEMM kernels in T, the block geometry and
// whether threads split the base.
template <class T>
struct Schedule {
  const GemmKernels<T>* kernels;
  Geometry geometry;
  int threads;
  bool few_queries;
};

template <class T>
Schedule<T> schedule_for(const MatrixView<T>& queries, const BlockOptions& options) {
  const GemmKernels<T>& kernels = detail::gemm_of<T>(detail::active_table());
  const Geometry g = plan(kernels, queries.cols, options);
  const int threads = resolve_threads(options.parallel);
  return {&kernels, g, threads, few_queries_schedule(g, queries.rows, threads)};
}

// Runs the GEMM path over every (query, base) pair, calling consume(thread, block)
// for each finished block. Under the few-queries schedule several threads see
// blocks of the same queries, so consumers keep state per thread.
template <class T, class Consume>
void run_gemm(const Schedule<T>& schedule, Metric metric, const MatrixView<T>& queries, const MatrixView<T>& base,
              bool finish, Consume consume) {
  const GemmPass pass{metric, finish};
  if (schedule.few_queries) {
    run_gemm_few_queries(*schedule.kernels, schedule.geometry, pass, queries, base, schedule.threads, consume);
  } else {
    run_gemm_many_queries(*schedule.kernels, schedule.geometry, pass, queries, base, schedule.threads, consume);
  }
}

template <class T>
void dense(Metric metric, const MatrixView<T>& queries, const MatrixView<T>& base, T* out, std::int64_t ld_out,
           const BlockOptions& options, bool finish, std::string_view function) {
  validate(function, queries, base);
  if (ld_out < base.rows) {
    raise<InvalidArgument>(function, "ld_out", "is smaller than the rows of base",
                           "ld_out=" + std::to_string(ld_out) + ", base.rows=" + std::to_string(base.rows));
  }
  if (queries.rows == 0 || base.rows == 0) return;
  if (out == nullptr) raise<InvalidArgument>(function, "out", "is null");
  // Angular is cosine through the kernels, transformed as the block is copied out.
  const bool angular = metric == Metric::angular;
  const Metric computed = angular ? Metric::cosine : metric;
  run_gemm(schedule_for(queries, options), computed, queries, base, finish, [&](int, const ScoreBlockOf<T>& block) {
    for (std::int64_t i = 0; i < block.rows; ++i) {
      const T* from = block.scores + i * block.ldc;
      T* to = out + (block.query_begin + i) * ld_out + block.base_begin;
      if (angular) {
        for (std::int64_t j = 0; j < block.cols; ++j) to[j] = static_cast<T>(angular_from_cosine(from[j]));
      } else {
        std::copy(from, from + block.cols, to);
      }
    }
  });
}

template <class T>
void knn(Metric metric, const MatrixView<T>& queries, const MatrixView<T>& base, std::int64_t k,
         std::int64_t self_offset, std::int64_t* ids, T* scores, const BlockOptions& options,
         std::string_view function) {
  validate(function, queries, base);
  if (self_offset >= 0 && self_offset + queries.rows > base.rows) {
    raise<InvalidArgument>(function, "self_offset", "places queries past the end of base",
                           "self_offset=" + std::to_string(self_offset) + ", queries=" + std::to_string(queries.rows) +
                               ", base=" + std::to_string(base.rows));
  }
  require_k(function, k, base.rows - (self_offset >= 0 ? 1 : 0), self_offset >= 0 ? "base (self excluded)" : "base");
  if (queries.rows == 0) return;
  if (ids == nullptr || scores == nullptr)
    raise<InvalidArgument>(function, ids == nullptr ? "ids" : "scores", "is null");

  // Angular ranks as cosine: the lists are cosine's, the kept scores transformed.
  const bool angular = metric == Metric::angular;
  if (angular) metric = Metric::cosine;
  const Schedule<T> schedule = schedule_for(queries, options);
  const bool similarity = is_similarity(metric);
  const std::int64_t m = queries.rows;
  // The graph of a set against itself on the GEMM path: each pair once.
  const bool symmetric = self_offset == 0 && queries.data == base.data && queries.rows == base.rows &&
                         queries.row_stride == base.row_stride;
  // Candidate lists: thread 0 keeps them in the outputs; when several threads
  // see the same queries (the few-queries and symmetric schedules) every other
  // thread keeps its own copy, merged at the end.
  const bool shared_queries = schedule.few_queries || symmetric;
  detail::ThreadLists<T> lists(scores, ids, m, k, shared_queries ? static_cast<std::size_t>(schedule.threads) - 1 : 0);
  std::vector<std::vector<T>> thread_worst(symmetric ? static_cast<std::size_t>(schedule.threads) : 0);

  auto consume = [&](int thread, const ScoreBlockOf<T>& block) {
    const auto t = static_cast<std::size_t>(thread);
    const auto arrays = lists.of(thread);
    T* keys = arrays.keys;
    std::int64_t* heap_ids = arrays.ids;
    std::int64_t* heap_sizes = arrays.sizes;
    for (std::int64_t i = 0; i < block.rows; ++i) {
      const std::int64_t query = block.query_begin + i;
      const std::int64_t self = self_offset >= 0 ? self_offset + query : -1;
      TopKHeap<T> heap(keys + query * k, heap_ids + query * k, k, heap_sizes[query]);
      detail::offer_row(heap, block.scores + i * block.ldc, block.cols, block.base_begin, self, similarity);
      heap_sizes[query] = heap.size();
    }
    // (A block of the diagonal, whose columns are rows of its own query block,
    // holds both orders of its pairs already.)
    if (!symmetric || block.base_begin < block.query_begin + block.rows) return;
    // Off the diagonal the block also holds its transpose: column j is row
    // base_begin + j against the block's queries. Read in row order, with the
    // columns' current worst keys kept beside it (four columns tested at once).
    std::vector<T>& worst = thread_worst[t];
    worst.resize(static_cast<std::size_t>(block.cols));
    auto worst_of = [&](std::int64_t row) {
      return heap_sizes[row] == k ? keys[row * k] : std::numeric_limits<T>::infinity();
    };
    for (std::int64_t j = 0; j < block.cols; ++j) worst[static_cast<std::size_t>(j)] = worst_of(block.base_begin + j);
    for (std::int64_t i = 0; i < block.rows; ++i) {
      const T* values = block.scores + i * block.ldc;
      auto offer = [&](std::int64_t j) {
        const T key = similarity ? -values[j] : values[j];
        if (key > worst[static_cast<std::size_t>(j)]) return;
        const std::int64_t row = block.base_begin + j;
        TopKHeap<T> heap(keys + row * k, heap_ids + row * k, k, heap_sizes[row]);
        heap.offer(key, block.query_begin + i);
        heap_sizes[row] = heap.size();
        worst[static_cast<std::size_t>(j)] = worst_of(row);
      };
      std::int64_t j = 0;
      for (; j + 4 <= block.cols; j += 4) {
        if (detail::no_candidate_each(values + j, worst.data() + j, similarity)) continue;
        for (std::int64_t lane = j; lane < j + 4; ++lane) offer(lane);
      }
      for (; j < block.cols; ++j) offer(j);
    }
  };
  if (symmetric) {
    const GemmPass pass{metric, true};
    run_gemm_symmetric(*schedule.kernels, schedule.geometry, pass, queries, schedule.threads, consume);
  } else {
    run_gemm(schedule, metric, queries, base, true, consume);
  }

  lists.finish(similarity, [&](T score) { return angular ? static_cast<T>(angular_from_cosine(score)) : score; });
}

}  // namespace

void similarity_f32(Metric metric, const MatrixView<float>& queries, const MatrixView<float>& base, float* out,
                    std::int64_t ld_out, const BlockOptions& options) {
  dense(metric, queries, base, out, ld_out, options, true, "similarity_f32");
}

void similarity_f64(Metric metric, const MatrixView<double>& queries, const MatrixView<double>& base, double* out,
                    std::int64_t ld_out, const BlockOptions& options) {
  dense(metric, queries, base, out, ld_out, options, true, "similarity_f64");
}

void gemm_nt_f32(const MatrixView<float>& a, const MatrixView<float>& b, float* c, std::int64_t ldc,
                 const BlockOptions& options) {
  dense(Metric::ip, a, b, c, ldc, options, false, "gemm_nt_f32");
}

void knn_f32(Metric metric, const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k,
             std::int64_t self_offset, std::int64_t* ids, float* scores, const BlockOptions& options) {
  knn(metric, queries, base, k, self_offset, ids, scores, options, "knn_f32");
}

void knn_f64(Metric metric, const MatrixView<double>& queries, const MatrixView<double>& base, std::int64_t k,
             std::int64_t self_offset, std::int64_t* ids, double* scores, const BlockOptions& options) {
  knn(metric, queries, base, k, self_offset, ids, scores, options, "knn_f64");
}

void select_topk(const float* scores, std::int64_t n, std::int64_t k, bool larger_is_better, std::int64_t* ids,
                 float* out) {
  require_k("select_topk", k, n, "scores");
  if (scores == nullptr || ids == nullptr || out == nullptr) raise<InvalidArgument>("select_topk", "scores", "is null");
  TopKHeap<float> heap(out, ids, k);
  for (std::int64_t i = 0; i < n; ++i) heap.offer(larger_is_better ? -scores[i] : scores[i], i);
  heap.sort_and_pad();
  for (std::int64_t r = 0; r < k; ++r) {
    if (ids[r] < 0) {
      out[r] = std::nanf("");
    } else if (larger_is_better) {
      out[r] = -out[r];
    }
  }
}

}  // namespace latent::kernels
