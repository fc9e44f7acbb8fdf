// The ISA wall: the function table each instruction-set translation unit fills.
//
// scalar.cpp, avx2.cpp and avx512.cpp are each compiled with their own ISA flags
// only and exchange nothing but raw pointers and sizes through this table, so no
// inline function or template compiled for AVX-512 can be picked by the linker for
// baseline code (their helpers have internal linkage; this header declares only
// plain data). dispatch.cpp selects one table at run time.
//
// Conventions of every entry (sizes in elements unless the name says bytes):
// - pairwise kernels take two vectors of `dim` values and return the metric in its
//   own units (`sqeuclidean` squared, `l1`, `linf` distances, `dot` the inner
//   product, `cosine` the similarity with 0 for a zero vector);
// - f16 and bf16 values are passed as their 16-bit patterns (`std::uint16_t`);
// - the GEMM entries work on packed panels (see GemmKernels::pack_a / pack_b)
//   with the table's micro-tile of mr x nr.
#pragma once

#include <cstddef>
#include <cstdint>

namespace latent::kernels::detail {

/// Metric codes shared with the ISA translation units (same order as latent::Metric).
enum class MetricCode : int { cosine = 0, ip = 1, l2 = 2, sqeuclidean = 3, l1 = 4, linf = 5 };

/// The batched GEMM path in one element type T (float or double), on packed
/// panels with the micro-tile mr x nr.
template <class T>
struct GemmKernels {
  /// Micro-tile: mr query rows (broadcast) x nr base rows (vector lanes).
  int mr;
  int nr;
  /// Packs rows [0, rows) of `a` (row stride `a_stride`, rows <= mr; missing
  /// rows are zero) into `out`, size dim * mr: out[p * mr + r] = a[r][p].
  void (*pack_a)(const T* a, std::size_t a_stride, std::size_t rows, std::size_t dim, T* out);
  /// Same for base rows with nr lanes: out[p * nr + r] = b[r][p].
  void (*pack_b)(const T* b, std::size_t b_stride, std::size_t rows, std::size_t dim, T* out);
  /// C tile (mr x nr, row stride ldc) = (accumulate ? C : 0) + packed A panel x
  /// packed B panel over `depth` values of p. Each C element is one fused
  /// multiply-add chain over p in order (so splitting p into chunks, or the
  /// position of the element in the tile, never changes a result).
  void (*tile)(std::size_t depth, const T* a_panel, const T* b_panel, T* c, std::size_t ldc, bool accumulate);
  /// The same for a partial A panel: only rows < mr rows are needed (C must
  /// still have room for mr rows; the extra ones are left unspecified).
  void (*tile_rows)(std::size_t depth, std::size_t rows, const T* a_panel, const T* b_panel, T* c, std::size_t ldc,
                    bool accumulate);
  /// Squared norms of the mr (resp. nr) rows of a packed A (resp. B) panel of
  /// `depth` steps, out[r] for every lane, each computed with the same
  /// multiply-add chain over p as `tile` uses for the inner product of a row
  /// with itself; with `accumulate` the chains continue from out (depth chunks).
  void (*panel_sqnorms_a)(const T* panel, std::size_t depth, T* out, bool accumulate);
  void (*panel_sqnorms_b)(const T* panel, std::size_t depth, T* out, bool accumulate);
  /// Turns a block of inner products into the metric, in place: rows x cols of c
  /// (row stride ldc); row_norms / col_norms are inverse norms for cosine (result
  /// c * (row * col) clamped to [-1, 1]) and squared norms for l2 / sqeuclidean
  /// (result (|q|^2 + |b|^2) - 2 q.b clamped to >= 0, then sqrt for l2). ip:
  /// nothing to do. Multiplies and adds apart (no FMA): the same bits on every
  /// table.
  void (*finish_block)(MetricCode metric, T* c, std::size_t rows, std::size_t cols, std::size_t ldc, const T* row_norms,
                       const T* col_norms);
  /// The l1 and linf distances on the same panels, a whole mr x nr tile (a
  /// partial A panel's padding rows give values that are not needed): per
  /// element, l1 = (accumulate ? C : 0) + |a - b| summed over p in order (one
  /// chain: exact |a - b| after the rounded subtraction, each addition
  /// rounded), linf = max(accumulate ? C : 0, max over p of |a - b|). The same
  /// bits on every table, and |a - b| = |b - a|: symmetric.
  void (*l1_tile)(std::size_t depth, const T* a_panel, const T* b_panel, T* c, std::size_t ldc, bool accumulate);
  void (*linf_tile)(std::size_t depth, const T* a_panel, const T* b_panel, T* c, std::size_t ldc, bool accumulate);
};

struct KernelTable {
  const char* name;

  // ---- one pair, f32 and f64 (accumulation in the input type, multi-accumulator)
  float (*dot_f32)(const float* a, const float* b, std::size_t dim);
  float (*sqeuclidean_f32)(const float* a, const float* b, std::size_t dim);
  float (*l1_f32)(const float* a, const float* b, std::size_t dim);
  float (*linf_f32)(const float* a, const float* b, std::size_t dim);
  float (*cosine_f32)(const float* a, const float* b, std::size_t dim);
  double (*dot_f64)(const double* a, const double* b, std::size_t dim);
  double (*sqeuclidean_f64)(const double* a, const double* b, std::size_t dim);
  double (*l1_f64)(const double* a, const double* b, std::size_t dim);
  double (*linf_f64)(const double* a, const double* b, std::size_t dim);
  double (*cosine_f64)(const double* a, const double* b, std::size_t dim);
  /// Float vectors summed in double: each value widened exactly, products and
  /// differences in double (a float product is exact there), several
  /// accumulators; dot, squared distance (fused multiply-add of the difference)
  /// and l1.
  double (*dot_f32_wide)(const float* a, const float* b, std::size_t dim);
  double (*sqeuclidean_f32_wide)(const float* a, const float* b, std::size_t dim);
  double (*l1_f32_wide)(const float* a, const float* b, std::size_t dim);

  // ---- one pair, low precision (accumulation in f32, or exactly in i32 for int8)
  float (*dot_f16)(const std::uint16_t* a, const std::uint16_t* b, std::size_t dim);
  float (*sqeuclidean_f16)(const std::uint16_t* a, const std::uint16_t* b, std::size_t dim);
  float (*dot_bf16)(const std::uint16_t* a, const std::uint16_t* b, std::size_t dim);
  float (*sqeuclidean_bf16)(const std::uint16_t* a, const std::uint16_t* b, std::size_t dim);
  std::int32_t (*dot_i8)(const std::int8_t* a, const std::int8_t* b, std::size_t dim);
  std::int32_t (*sqeuclidean_i8)(const std::int8_t* a, const std::int8_t* b, std::size_t dim);
  /// Bits that differ between two packed bit vectors of `bytes` bytes.
  std::uint64_t (*hamming_b1)(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes);
  /// Popcounts of (a & b) and (a | b), for the Jaccard index.
  void (*intersection_union_b1)(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes,
                                std::uint64_t* intersection, std::uint64_t* union_count);

  // ---- batched GEMM path, f32 and f64: C[i][j] = sum_p A[i][p] * B[j][p]
  GemmKernels<float> gemm_f32;
  GemmKernels<double> gemm_f64;

  /// Register-only multiply-add loops (the peak probes), f32 and f64; return a
  /// checksum.
  float (*fma_probe)(std::size_t iterations);
  double (*fma_probe_f64)(std::size_t iterations);
  /// Floating-point operations of one iteration of each.
  int fma_probe_flops_per_iteration;
  int fma_probe_f64_flops_per_iteration;
  /// Register-only loops of the l1 and linf tiles' step (subtract, absolute
  /// value, add or max) in f32, the peak of those instructions; the operations
  /// of one iteration, counted as 2 per lane and step (the subtraction and the
  /// addition or max, as the benchmarks count a distance).
  float (*l1_probe)(std::size_t iterations);
  float (*linf_probe)(std::size_t iterations);
  int distance_probe_ops_per_iteration;

  // ---- f64 cross-products (covariances): C += Y^T Y over chunks of rows of Y
  /// Rows are packed in column panels of crossprod_nr values ([rows][crossprod_nr],
  /// zero beyond the last column); a tile is crossprod_mr columns of one panel
  /// (broadcast side, crossprod_mr divides crossprod_nr) x all columns of a panel.
  int crossprod_mr;
  int crossprod_nr;
  /// C tile (crossprod_mr x crossprod_nr, row stride ldc) += sum over the `depth`
  /// rows r of a_panel[r * crossprod_nr + i] * b_panel[r * crossprod_nr + j]: one
  /// fused multiply-add chain per element over r in order, continued from C.
  void (*crossprod_tile_f64)(std::size_t depth, const double* a_panel, const double* b_panel, double* c,
                             std::size_t ldc);

  // ---- binary codes, one against many (batched Hamming search)
  /// out[r] = hamming_b1(query, base + r * stride_bytes, bytes) for r < rows: the
  /// same count as the single-pair entry, with the row loop inside the ISA unit.
  void (*hamming_many_b1)(const std::uint8_t* query, const std::uint8_t* base, std::size_t stride_bytes,
                          std::size_t rows, std::size_t bytes, std::uint32_t* out);

  // ---- batched low precision (searching bf16 and int8 codes)
  /// Micro-tile: lowp_mr query rows (broadcast) x lowp_nr base rows (lanes).
  /// Panels hold groups of consecutive dimensions: pairs for bf16, quads for
  /// int8, out[(g * lanes + r) * group + t] = row r, dimension g * group + t
  /// (zero beyond the rows or the dimension); see low_precision.cpp.
  int lowp_mr;
  int lowp_nr;
  /// C tile (lowp_mr x lowp_nr f32, row stride ldc) = (accumulate ? C : 0) + the
  /// bf16 panels over `pairs` pairs. Per element and pair, in order: acc +=
  /// a_odd b_odd, then acc += a_even b_even (each bf16 product is exact in f32;
  /// each addition rounds to nearest), the order of VDPBF16PS; that instruction
  /// also treats subnormal inputs and results as zero, the widening paths do not.
  void (*gemm_tile_bf16)(std::size_t pairs, const std::uint16_t* a_panel, const std::uint16_t* b_panel, float* c,
                         std::size_t ldc, bool accumulate);
  /// Squared norms of the lowp_nr rows of a bf16 B panel, out[r], with the
  /// tile's own chain (the inner product of a row with itself).
  void (*panel_sqnorms_bf16)(const std::uint16_t* b_panel, std::size_t pairs, float* out);
  /// C tile (lowp_mr x lowp_nr int32) = (accumulate ? C : 0) + sum of a * b over
  /// `quads` quads: A unsigned, B signed. Exact on every path (VPDPBUSD's
  /// intermediates do not saturate; the VPMADDUBSW paths split A in two).
  void (*gemm_tile_u8s8)(std::size_t quads, const std::uint8_t* a_panel, const std::int8_t* b_panel, std::int32_t* c,
                         std::size_t ldc, bool accumulate);
  /// out[j] = (offset + shift * sums[j]) + scale * c[j] for j < cols, rounded
  /// in that order without FMA (the same bits on every table): the int8
  /// search's estimate of a row of inner products from its integer products.
  void (*affine_s32)(const std::int32_t* c, const float* sums, std::size_t cols, float offset, float scale, float shift,
                     float* out);
  /// Register-only loops of the bf16 and int8 dot-product instructions the
  /// tiles use (peak probes, as fma_probe); the operations (multiplies and adds)
  /// of one iteration.
  float (*bf16_probe)(std::size_t iterations);
  int bf16_probe_ops_per_iteration;
  std::int32_t (*int8_probe)(std::size_t iterations);
  int int8_probe_ops_per_iteration;
};

/// The table of the active ISA (dispatch.cpp): chosen at the first call from
/// LATENT_ISA or the best supported level; may throw UnsupportedIsa then.
const KernelTable& active_table();

/// The GEMM kernels of a table in element type T.
template <class T>
const GemmKernels<T>& gemm_of(const KernelTable& table) {
  if constexpr (sizeof(T) == 4) {
    return table.gemm_f32;
  } else {
    return table.gemm_f64;
  }
}

// One table per translation unit; only those compiled into this build exist.
const KernelTable& scalar_table();
#if defined(LATENT_KERNELS_X86)
/// AVX2 with AVX-VNNI where the CPU has it.
const KernelTable& avx2_table();
/// AVX2 without AVX-VNNI, so tests can check the path of CPUs without it.
const KernelTable& avx2_base_table();
/// AVX-512 with the optional extensions (VNNI, BF16, VPOPCNTDQ) the CPU has.
const KernelTable& avx512_table();
/// AVX-512 F/DQ/BW/VL only, so tests can check the paths used on CPUs without
/// the extensions.
const KernelTable& avx512_base_table();
#endif

}  // namespace latent::kernels::detail
