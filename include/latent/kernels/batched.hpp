// latent/kernels/batched.hpp - batched similarity in float and double: dense
// blocks, exact top-k and C = A B^T, through one GEMM path that reaches the active
// ISA's peak by itself (packed panels and a register-tiled micro-kernel per ISA
// and element type), whatever the system BLAS is.
//
// Numerics: for cosine, ip, l2 and sqeuclidean every inner product q.b is one
// fused multiply-add chain over the dimensions in order, so a score never depends
// on the batch size, the block sizes, the thread count or where the pair falls in
// a tile: results are bitwise identical for any BlockOptions and any number of
// queries in a call (for a given ISA). Squared norms use the same chain as the
// inner products, so sqeuclidean(x, x) is exactly 0. cosine = q.b * (1/|q| * 1/|b|)
// clamped to [-1, 1], symmetric in q and b (a zero row has similarity 0 here);
// sqeuclidean = (|q|^2 + |b|^2) - 2 q.b clamped to >= 0; l2 its square root.
// Double inputs take the same path with f64 panels and tiles (one f64 FMA chain
// per inner product). l1 and linf run on the same panels with tiles of their
// own: per pair one chain over the dimensions in order of |q_p - b_p| (exact
// after the rounded subtraction), added (l1) or maxed (linf), so they too are
// independent of blocks and threads, and the same on every ISA.
//
// Memory: besides the outputs, scratch is bounded independently of the number of
// rows: packed query rows <= 8 MiB, packed base rows <= 8 MiB (16 KiB per thread
// for small query batches), one block of scores per thread (<= 4 MiB) and the
// norms of the rows of those blocks; small query batches and the graph of a set
// against itself also keep k candidates per query row for every thread but the
// first.
#pragma once

#include <cstdint>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent::kernels {

/// Block sizes (0: chosen from the dimension and the cache sizes) and threads.
/// Block sizes change the speed only, never a result.
struct BlockOptions {
  Parallel parallel;
  std::int64_t query_block_rows = 0;  ///< query rows per task
  std::int64_t base_block_rows = 0;   ///< base rows per block
};

/// out[i * ld_out + j] = metric(queries.row(i), base.row(j)), in the metric's
/// units. Throws DimensionMismatch (cols differ) or InvalidArgument (ld_out <
/// base.rows, null out). No NaN check: the caller validates (see similarity.hpp).
/// Cost: 2 n_q n_b d flops; thread-safe; deterministic.
void similarity_f32(Metric metric, const MatrixView<float>& queries, const MatrixView<float>& base, float* out,
                    std::int64_t ld_out, const BlockOptions& options = {});

/// No base row is excluded (see knn_f32).
constexpr std::int64_t kNoSelf = -1;

/// The k nearest base rows of every query: ids[i * k + r] and scores[i * k + r]
/// for rank r (nearest first, equal scores by smaller id). With self_offset >= 0,
/// query i is base row self_offset + i and is left out of its own list. The
/// graph of a set against itself (queries and base the same view, self_offset
/// 0; every metric) computes each pair once and feeds
/// both rows' lists (bitwise the lists of the general path; 1.6-1.8x faster;
/// scratch: k candidates per row for every thread but the first).
/// Throws InvalidK (k < 1 or more than the candidates), DimensionMismatch,
/// InvalidArgument. Memory beyond the outputs: see the file comment.
void knn_f32(Metric metric, const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k,
             std::int64_t self_offset, std::int64_t* ids, float* scores, const BlockOptions& options = {});

/// The same in double: the same path with f64 panels and tiles (including the
/// symmetric self-graph). Cost: 2 n_q n_b d flops at half the f32 rate.
void similarity_f64(Metric metric, const MatrixView<double>& queries, const MatrixView<double>& base, double* out,
                    std::int64_t ld_out, const BlockOptions& options = {});
void knn_f64(Metric metric, const MatrixView<double>& queries, const MatrixView<double>& base, std::int64_t k,
             std::int64_t self_offset, std::int64_t* ids, double* scores, const BlockOptions& options = {});

/// C = A B^T: c[i * ldc + j] = sum_p a[i][p] b[j][p] (the GEMM path, with the
/// same per-element chains as the inner products above).
void gemm_nt_f32(const MatrixView<float>& a, const MatrixView<float>& b, float* c, std::int64_t ldc,
                 const BlockOptions& options = {});

/// The cross-product of shifted rows, accumulated in double: for a = [n x d]
/// (float or double, row-major) and shift = [d] (or null for 0),
/// c[i * ldc + j] = sum over rows r of (a[r][i] - shift[i]) (a[r][j] - shift[j]),
/// written for all d x d entries (exactly symmetric). Every float product is
/// exact in double; each entry is one fused multiply-add chain over the rows in
/// order, so the result does not depend on the threads (bitwise). n = 0 gives
/// zeros. This is the covariance kernel of whitening.hpp (c / n with the mean as
/// shift). With `column_sums` ([d], may be null) it also returns the sums over the
/// rows of a[r][j] - shift[j], so one pass gives the mean as well (shift + sum / n).
/// Throws InvalidArgument (no columns, null c, ldc < d).
/// Cost: n d (d + 1) flops (the upper triangle); scratch: d'^2 + 256 d' doubles,
/// d' = d rounded up to the panel width (<= 24). Thread-safe.
void crossprod_f64(const MatrixView<float>& a, const double* shift, double* c, std::int64_t ldc,
                   const BlockOptions& options = {}, double* column_sums = nullptr);
void crossprod_f64(const MatrixView<double>& a, const double* shift, double* c, std::int64_t ldc,
                   const BlockOptions& options = {}, double* column_sums = nullptr);

/// Exact Hamming top-k over packed bit codes (8 bits per byte, `bytes` bytes per
/// code, rows contiguous): for every query i, ids[i * k + r] and
/// distances[i * k + r] are its r-th nearest base code (smallest Hamming
/// distance first, ties to the smaller id). Counts are exact integers, so the
/// lists are identical on every ISA and for any threads or block sizes.
/// queries: n_queries * bytes bytes, base: n_base * bytes bytes. Throws InvalidK
/// (k < 1 or k > n_base), InvalidArgument (bytes = 0 or > 2^21, a null pointer).
/// Cost: n_queries n_base bytes / 8 popcounts, base read in L2-sized blocks once
/// per group of queries; scratch: one block of counts per thread.
void hamming_knn_b1(const std::uint8_t* queries, std::int64_t n_queries, const std::uint8_t* base, std::int64_t n_base,
                    std::int64_t bytes, std::int64_t k, std::int64_t* ids, float* distances,
                    const BlockOptions& options = {});

/// Selects the k best of n scores (larger is better when `larger_is_better`):
/// ids[r] are positions in `scores`, out[r] their scores, nearest first, ties to
/// the smaller position; NaN scores are never selected (missing -> id -1).
/// Throws InvalidK when k < 1 or k > n.
void select_topk(const float* scores, std::int64_t n, std::int64_t k, bool larger_is_better, std::int64_t* ids,
                 float* out);

}  // namespace latent::kernels
