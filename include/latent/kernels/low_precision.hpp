// latent/kernels/low_precision.hpp - exact top-k over bf16 and int8 rows with the
// CPU's low-precision dot-product instructions: VDPBF16PS (AVX512_BF16, two
// bf16 products per f32 lane) and VPDPBUSD (AVX512-VNNI or AVX-VNNI, four
// u8 x s8 products per int32 lane), with exact widening fallbacks on CPUs
// without them (AVX-512 BW, AVX2, scalar).
//
// Numerics:
// - bf16: each inner product is one chain over the dimension pairs in order,
//   per pair acc += a_odd b_odd then acc += a_even b_even in f32 (every bf16
//   product is exact in f32; each addition rounds to nearest). VDPBF16PS also
//   flushes subnormal inputs and results to zero, the widening paths do not, so
//   ISAs can differ for values below 2^-126 only. Squared norms use the same
//   chain, so sqeuclidean(x, x) is exactly 0; the cosine / l2 epilogue is the
//   f32 path's (see batched.hpp).
// - int8: the integer products are exact on every ISA (VPDPBUSD does not
//   saturate; without it the unsigned side is split in two so VPMADDUBSW cannot
//   either), so the lists are identical everywhere.
// Scores are bitwise independent of the threads and block sizes; ties go to
// the smaller id. Threads split the queries, in tasks of 8 micro-tile rows (96
// on AVX-512), and the base as well when there are fewer tasks than threads.
// Memory: a packed copy of the base codes (its size, rounded up to whole
// panels), one block of scores per thread, and with few queries k candidates
// per query and thread.
#pragma once

#include <cstdint>

#include "latent/core/types.hpp"
#include "latent/kernels/batched.hpp"

namespace latent::kernels {

/// The k nearest base rows of every query over bf16 rows (bit patterns, as
/// to_bfloat16 writes them): ids[i * k + r], scores[i * k + r], nearest first.
/// Metrics: cosine, ip, l2, sqeuclidean (a zero row has cosine 0). With
/// self_offset >= 0, query i is base row self_offset + i and is left out.
/// Throws InvalidK, DimensionMismatch, InvalidArgument (another metric, a null
/// pointer, a stride below the columns). Cost: 2 n_q n_b d operations.
void knn_bf16(Metric metric, const MatrixView<std::uint16_t>& queries, const MatrixView<std::uint16_t>& base,
              std::int64_t k, std::int64_t self_offset, std::int64_t* ids, float* scores,
              const BlockOptions& options = {});

/// Query rows for knn_int8: unsigned codes u with, per row i, the affine map
/// of the estimated inner product (below) and |q_i|^2 for cosine and l2.
struct Int8Queries {
  MatrixView<std::uint8_t> codes;
  const float* offset = nullptr;         ///< [rows]
  const float* scale = nullptr;          ///< [rows]
  const float* shift = nullptr;          ///< [rows]
  const float* squared_norms = nullptr;  ///< [rows]; may be null for ip
};

/// Base rows for knn_int8: signed codes v, their sums over the dimensions and
/// |b_j|^2 for cosine and l2.
struct Int8Base {
  MatrixView<std::int8_t> codes;
  const float* code_sums = nullptr;      ///< [rows]: sum_p v[j][p]
  const float* squared_norms = nullptr;  ///< [rows]; may be null for ip
};

/// Top-k under the inner product estimated from 8-bit codes:
///   ip(i, j) = (offset_i + shift_i * code_sums_j) + scale_i * sum_p u[i][p] v[j][p],
/// the integer sum exact, the rest in f32 in that order; then cosine =
/// ip / (|q_i| |b_j|) clamped to [-1, 1], sqeuclidean = max(0, |q_i|^2 + |b_j|^2
/// - 2 ip), l2 its square root, from the squared norms given. Everything else
/// as knn_bf16. Throws as knn_bf16, and InvalidArgument for a missing array.
void knn_int8(Metric metric, const Int8Queries& queries, const Int8Base& base, std::int64_t k, std::int64_t self_offset,
              std::int64_t* ids, float* scores, const BlockOptions& options = {});

}  // namespace latent::kernels
