// latent/kernels/pairwise.hpp - distances and similarities of single pairs, of one
// vector against many rows, and of tiles of many against many.
//
// Every function runs the kernel of the active ISA (see isa.hpp). Units: `dot` is
// the inner product, `sqeuclidean` the squared Euclidean distance, `l1` and `linf`
// distances, `cosine` the cosine similarity (0 when either vector is zero: the
// kernel's policy; the similarity module raises instead by default). f32 and f64
// accumulate in their own type with several accumulators; f16 and bf16 are widened
// exactly to f32 (the avx512 level uses VDPBF16PS for bf16 dot products where the
// CPU has it, which rounds differently: relative error <= 2^-8 per product);
// int8 sums are exact in int32. Raw-pointer kernels read `dim` values from each
// pointer (no alignment needed) and are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "latent/core/half.hpp"
#include "latent/core/types.hpp"

namespace latent::kernels {

// The 16-bit storage types and their conversions live in core/half.hpp; the
// kernels name them too.
using latent::BFloat16;
using latent::Float16;
using latent::to_bfloat16;
using latent::to_float;
using latent::to_float16;

// ---- single pairs
float dot_f32(const float* a, const float* b, std::size_t dim);
float sqeuclidean_f32(const float* a, const float* b, std::size_t dim);
float l1_f32(const float* a, const float* b, std::size_t dim);
float linf_f32(const float* a, const float* b, std::size_t dim);
float cosine_f32(const float* a, const float* b, std::size_t dim);
double dot_f64(const double* a, const double* b, std::size_t dim);
double sqeuclidean_f64(const double* a, const double* b, std::size_t dim);
double l1_f64(const double* a, const double* b, std::size_t dim);
double linf_f64(const double* a, const double* b, std::size_t dim);
double cosine_f64(const double* a, const double* b, std::size_t dim);
/// Float vectors with the sums in double (each value widened exactly, a product
/// of two floats is exact in double): for re-ranking float candidates by their
/// exact distances. Several accumulators, as the f64 kernels.
double dot_f32_wide(const float* a, const float* b, std::size_t dim);
double sqeuclidean_f32_wide(const float* a, const float* b, std::size_t dim);
double l1_f32_wide(const float* a, const float* b, std::size_t dim);

float dot_f16(const Float16* a, const Float16* b, std::size_t dim);
float sqeuclidean_f16(const Float16* a, const Float16* b, std::size_t dim);
float dot_bf16(const BFloat16* a, const BFloat16* b, std::size_t dim);
float sqeuclidean_bf16(const BFloat16* a, const BFloat16* b, std::size_t dim);

/// Largest `dim` the int8 kernels accept: their int32 sums cannot overflow below it.
constexpr std::size_t kMaxInt8Dim = 32768;
/// Exact int8 inner product / squared distance; throws `InvalidArgument` when
/// dim > kMaxInt8Dim.
std::int32_t dot_i8(const std::int8_t* a, const std::int8_t* b, std::size_t dim);
std::int32_t sqeuclidean_i8(const std::int8_t* a, const std::int8_t* b, std::size_t dim);

/// Packed bits (8 per byte): the number of differing bits.
std::uint64_t hamming_b1(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes);
/// Packed bits: the Jaccard distance 1 - |a and b| / |a or b| (0 when both are empty).
double jaccard_b1(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes);

// ---- the metric -> pair-kernel selection (what one_to_many, many_to_many and the
// batched pair path use; exact re-scoring elsewhere goes through it too)

/// A single-pair kernel: reads `dim` values from each pointer; thread-safe.
using PairKernelF32 = float (*)(const float* a, const float* b, std::size_t dim);
using PairKernelF64 = double (*)(const double* a, const double* b, std::size_t dim);
/// The active ISA's single-pair kernel of `metric`: cosine and angular -> cosine,
/// ip -> dot, l1, linf, and sqeuclidean for both sqeuclidean and l2 (so an l2
/// caller takes the square root and an angular caller applies
/// angular_from_cosine, as `pair_score` does). The pointer stays valid; a later
/// set_isa does not change it. The first call may throw UnsupportedIsa (LATENT_ISA).
PairKernelF32 pair_kernel_f32(Metric metric);
PairKernelF64 pair_kernel_f64(Metric metric);
/// metric(a, b) in the metric's own units (cosine similarity, ip, l2 distance,
/// sqeuclidean, l1, linf, angular similarity) through `pair_kernel_*`; `dim`
/// values from each pointer.
float pair_score(Metric metric, const float* a, const float* b, std::size_t dim);
double pair_score(Metric metric, const double* a, const double* b, std::size_t dim);

// ---- one against many, many against many (any Metric, in its own units:
// cosine similarity, ip, l2 distance = sqrt of sqeuclidean, sqeuclidean, l1, linf,
// angular similarity)

/// out[i] = metric(query, rows.row(i)) for every row; `query` holds rows.cols
/// values, `out` rows.rows values. Throws `InvalidArgument` on a null pointer.
/// Cost: rows x cols; memory-bound for large inputs. Single-threaded.
void one_to_many(Metric metric, const float* query, const MatrixView<float>& rows, float* out);
void one_to_many(Metric metric, const double* query, const MatrixView<double>& rows, double* out);

/// out[i * ld_out + j] = metric(a.row(i), b.row(j)). Throws `DimensionMismatch`
/// when a.cols != b.cols, `InvalidArgument` when ld_out < b.rows or out is null.
/// Pairs go through the single-pair kernels (for cosine, ip and the Euclidean
/// metrics on larger inputs, the GEMM path of batched.hpp is faster).
void many_to_many(Metric metric, const MatrixView<float>& a, const MatrixView<float>& b, float* out,
                  std::int64_t ld_out);
void many_to_many(Metric metric, const MatrixView<double>& a, const MatrixView<double>& b, double* out,
                  std::int64_t ld_out);

}  // namespace latent::kernels
