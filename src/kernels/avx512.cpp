// AVX-512 (F, DQ, BW, VL) kernels. Compiled with exactly those flags; optional
// extensions (BF16 dot products, VNNI, VPOPCNTDQ) live in functions with their
// own target attribute and enter the table only when the CPU reports them.
// Numerical policy: see simd_kernels.inl; int8 sums are exact in int32; the
// BF16 extension (VDPBF16PS) rounds differently from widening + FMA and is held
// to the documented low-precision tolerance instead.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "table.hpp"

namespace latent::kernels::detail {
namespace {

struct S {
  using F32 = __m512;
  using F64 = __m512d;
  static constexpr std::size_t kF32Lanes = 16;
  static constexpr std::size_t kF64Lanes = 8;

  template <class T>
  static auto zero() {
    if constexpr (sizeof(T) == 4) {
      return _mm512_setzero_ps();
    } else {
      return _mm512_setzero_pd();
    }
  }
  static F32 load(const float* p) { return _mm512_loadu_ps(p); }
  static F64 load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, F64 v) { _mm512_storeu_pd(p, v); }
  static F64 set1(double x) { return _mm512_set1_pd(x); }
  static void store(float* p, F32 v) { _mm512_storeu_ps(p, v); }
  static F32 set1(float x) { return _mm512_set1_ps(x); }
  static F32 add(F32 a, F32 b) { return _mm512_add_ps(a, b); }
  static F64 add(F64 a, F64 b) { return _mm512_add_pd(a, b); }
  static F32 sub(F32 a, F32 b) { return _mm512_sub_ps(a, b); }
  static F64 sub(F64 a, F64 b) { return _mm512_sub_pd(a, b); }
  static F32 mul(F32 a, F32 b) { return _mm512_mul_ps(a, b); }
  static F64 mul(F64 a, F64 b) { return _mm512_mul_pd(a, b); }
  static F32 fma(F32 a, F32 b, F32 c) { return _mm512_fmadd_ps(a, b, c); }
  static F64 fma(F64 a, F64 b, F64 c) { return _mm512_fmadd_pd(a, b, c); }
  static F32 abs(F32 a) { return _mm512_abs_ps(a); }
  static F64 abs(F64 a) { return _mm512_abs_pd(a); }
  static F32 max(F32 a, F32 b) { return _mm512_max_ps(a, b); }
  static F64 max(F64 a, F64 b) { return _mm512_max_pd(a, b); }
  static F32 min(F32 a, F32 b) { return _mm512_min_ps(a, b); }
  static F64 min(F64 a, F64 b) { return _mm512_min_pd(a, b); }
  static F32 sqrt(F32 a) { return _mm512_sqrt_ps(a); }
  static F64 sqrt(F64 a) { return _mm512_sqrt_pd(a); }
  static float sqrt_scalar(float x) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x))); }
  static double sqrt_scalar(double x) { return _mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(x))); }

  // Fixed-order tree reductions (halves added pairwise).
  static float reduce_add(F32 v) {
    const __m256 sum8 =
        _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(sum8), _mm256_extractf128_ps(sum8, 1));
    const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
    return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_movehdup_ps(sum2)));
  }
  static double reduce_add(F64 v) {
    const __m256d sum4 = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    const __m128d sum2 = _mm_add_pd(_mm256_castpd256_pd128(sum4), _mm256_extractf128_pd(sum4, 1));
    return _mm_cvtsd_f64(_mm_add_sd(sum2, _mm_unpackhi_pd(sum2, sum2)));
  }
  static float reduce_max(F32 v) {
    const __m256 max8 =
        _mm256_max_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    const __m128 max4 = _mm_max_ps(_mm256_castps256_ps128(max8), _mm256_extractf128_ps(max8, 1));
    const __m128 max2 = _mm_max_ps(max4, _mm_movehl_ps(max4, max4));
    return _mm_cvtss_f32(_mm_max_ss(max2, _mm_movehdup_ps(max2)));
  }
  static double reduce_max(F64 v) {
    const __m256d max4 = _mm256_max_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    const __m128d max2 = _mm_max_pd(_mm256_castpd256_pd128(max4), _mm256_extractf128_pd(max4, 1));
    return _mm_cvtsd_f64(_mm_max_sd(max2, _mm_unpackhi_pd(max2, max2)));
  }
  // kF64Lanes floats widened exactly to doubles.
  static F64 load_widened(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
  static F32 load_f16(const std::uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static F32 load_bf16(const std::uint16_t* p) {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }

  // Integer lanes (the low-precision tiles): as many 32-bit lanes as F32.
  using I32 = __m512i;
  static I32 zero_i32() { return _mm512_setzero_si512(); }
  static I32 load_i32(const void* p) { return _mm512_loadu_si512(static_cast<const __m512i*>(p)); }
  static void store_i32(std::int32_t* p, I32 v) { _mm512_storeu_si512(reinterpret_cast<__m512i*>(p), v); }
  static F32 to_f32(I32 v) { return _mm512_cvtepi32_ps(v); }
  static I32 set1_i32(std::int32_t x) { return _mm512_set1_epi32(x); }
  // bf16 pairs in 32-bit lanes: the odd element is the high half, the even one
  // the low half; each becomes the f32 with the same upper 16 bits.
  static F32 bf16_odd(I32 v) { return _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(-65536))); }
  static F32 bf16_even(I32 v) { return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)); }
  // acc + the sum of the four u8 x s8 products of each 32-bit lane, exactly:
  // the unsigned side split as u = 128 high + low (high in {0, 1}, low <= 127),
  // so no int16 pair sum of VPMADDUBSW can saturate.
  static I32 split_low(I32 a) { return _mm512_and_si512(a, _mm512_set1_epi8(0x7f)); }
  static I32 split_high(I32 a) { return _mm512_and_si512(_mm512_srli_epi16(a, 7), _mm512_set1_epi8(1)); }
  static I32 dot_u8s8(I32 acc, I32 low, I32 high, I32 b) {
    const I32 low_sums = _mm512_madd_epi16(_mm512_maddubs_epi16(low, b), _mm512_set1_epi16(1));
    const I32 high_sums = _mm512_madd_epi16(_mm512_maddubs_epi16(high, b), _mm512_set1_epi16(128));
    return _mm512_add_epi32(acc, _mm512_add_epi32(low_sums, high_sums));
  }
};

#include "simd_kernels.inl"

// ---- int8: 32 values sign-extended to int16, pairs multiplied and added into int32.

__m512i load_i8_as_i16(const std::int8_t* p) {
  return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

std::int32_t reduce_add_i32(__m512i v) {
  const __m256i sum8 = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  const __m128i sum4 = _mm_add_epi32(_mm256_castsi256_si128(sum8), _mm256_extracti128_si256(sum8, 1));
  const __m128i sum2 = _mm_add_epi32(sum4, _mm_shuffle_epi32(sum4, 0x4e));
  return _mm_cvtsi128_si32(_mm_add_epi32(sum2, _mm_shuffle_epi32(sum2, 0xb1)));
}

template <bool Squared, class MultiplyAdd>
std::int32_t int8_kernel(const std::int8_t* a, const std::int8_t* b, std::size_t dim, MultiplyAdd multiply_add) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  auto step = [&](__m512i acc, const std::int8_t* x, const std::int8_t* y) {
    __m512i u = load_i8_as_i16(x), v = load_i8_as_i16(y);
    if constexpr (Squared) {
      u = _mm512_sub_epi16(u, v);
      v = u;
    }
    return multiply_add(acc, u, v);
  };
  std::size_t p = 0;
  for (; p + 64 <= dim; p += 64) {
    acc0 = step(acc0, a + p, b + p);
    acc1 = step(acc1, a + p + 32, b + p + 32);
  }
  for (; p + 32 <= dim; p += 32) acc0 = step(acc0, a + p, b + p);
  if (p < dim) {
    std::int8_t tail_a[32], tail_b[32];
    copy_zero_padded(a + p, dim - p, tail_a, 32);
    copy_zero_padded(b + p, dim - p, tail_b, 32);
    acc1 = step(acc1, tail_a, tail_b);
  }
  return reduce_add_i32(_mm512_add_epi32(acc0, acc1));
}

struct MaddBw {
  __m512i operator()(__m512i acc, __m512i u, __m512i v) const { return _mm512_add_epi32(acc, _mm512_madd_epi16(u, v)); }
};

std::int32_t dot_i8(const std::int8_t* a, const std::int8_t* b, std::size_t dim) {
  return int8_kernel<false>(a, b, dim, MaddBw{});
}
std::int32_t sqeuclidean_i8(const std::int8_t* a, const std::int8_t* b, std::size_t dim) {
  return int8_kernel<true>(a, b, dim, MaddBw{});
}

// VNNI: VPDPWSSD fuses the int16 pair multiply-add and the accumulation (exact).
// Written without lambdas: a lambda would not inherit the target attribute.
template <bool Squared>
__attribute__((target("avx512vnni"))) std::int32_t int8_vnni(const std::int8_t* a, const std::int8_t* b,
                                                             std::size_t dim) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  std::int8_t tail_a[32], tail_b[32];
  for (std::size_t p = 0; p < dim; p += 32) {
    const std::int8_t* x = a + p;
    const std::int8_t* y = b + p;
    if (p + 32 > dim) {
      copy_zero_padded(a + p, dim - p, tail_a, 32);
      copy_zero_padded(b + p, dim - p, tail_b, 32);
      x = tail_a;
      y = tail_b;
    }
    __m512i u = load_i8_as_i16(x), v = load_i8_as_i16(y);
    if constexpr (Squared) {
      u = _mm512_sub_epi16(u, v);
      v = u;
    }
    if ((p / 32) % 2 == 0) {
      acc0 = _mm512_dpwssd_epi32(acc0, u, v);
    } else {
      acc1 = _mm512_dpwssd_epi32(acc1, u, v);
    }
  }
  return reduce_add_i32(_mm512_add_epi32(acc0, acc1));
}

std::int32_t dot_i8_vnni(const std::int8_t* a, const std::int8_t* b, std::size_t dim) {
  return int8_vnni<false>(a, b, dim);
}
std::int32_t sqeuclidean_i8_vnni(const std::int8_t* a, const std::int8_t* b, std::size_t dim) {
  return int8_vnni<true>(a, b, dim);
}

// ---- bf16 with AVX512_BF16: VDPBF16PS multiplies pairs and accumulates in f32.
__m512bh load_bh(const std::uint16_t* p) { return (__m512bh)_mm512_loadu_si512(p); }

__attribute__((target("avx512bf16"))) float dot_bf16_native(const std::uint16_t* a, const std::uint16_t* b,
                                                            std::size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  std::size_t p = 0;
  for (; p + 64 <= dim; p += 64) {
    acc0 = _mm512_dpbf16_ps(acc0, load_bh(a + p), load_bh(b + p));
    acc1 = _mm512_dpbf16_ps(acc1, load_bh(a + p + 32), load_bh(b + p + 32));
  }
  for (; p + 32 <= dim; p += 32) acc0 = _mm512_dpbf16_ps(acc0, load_bh(a + p), load_bh(b + p));
  if (p < dim) {
    std::uint16_t tail_a[32], tail_b[32];
    copy_zero_padded(a + p, dim - p, tail_a, 32);
    copy_zero_padded(b + p, dim - p, tail_b, 32);
    acc1 = _mm512_dpbf16_ps(acc1, load_bh(tail_a), load_bh(tail_b));
  }
  return S::reduce_add(_mm512_add_ps(acc0, acc1));
}

// The batched tiles on the native instructions: one VDPBF16PS (a pair) or one
// VPDPBUSD (a quad) per row and vector of lanes, in the panel layout and
// accumulation order of the widening tiles in simd_kernels.inl.
template <int Mr, int NrVectors>
__attribute__((target("avx512bf16"))) void gemm_tile_bf16_native(std::size_t pairs, const std::uint16_t* a_panel,
                                                                 const std::uint16_t* b_panel, float* c,
                                                                 std::size_t ldc, bool accumulate) {
  constexpr std::size_t L = S::kF32Lanes, kNr = NrVectors * L;
  __m512 acc[Mr][NrVectors];
  LATENT_TILE_LOAD(acc, accumulate ? S::load(c + i * ldc + v * L) : _mm512_setzero_ps());
  for (std::size_t t = 0; t < pairs; ++t) {
    __m512bh b[NrVectors];
#pragma GCC unroll 4
    for (int v = 0; v < NrVectors; ++v) b[v] = load_bh(b_panel + (t * kNr + static_cast<std::size_t>(v) * L) * 2);
#pragma GCC unroll 16
    for (int i = 0; i < Mr; ++i) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(load_group(a_panel + (t * Mr + static_cast<std::size_t>(i)) * 2));
#pragma GCC unroll 4
      for (int v = 0; v < NrVectors; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], a, b[v]);
    }
  }
  LATENT_TILE_STORE(S::store(c + i * ldc + v * L, acc[i][v]));
}

template <int Lanes>
__attribute__((target("avx512bf16"))) void panel_sqnorms_bf16_native(const std::uint16_t* panel, std::size_t pairs,
                                                                     float* out) {
  constexpr std::size_t L = S::kF32Lanes;
  __m512 acc[Lanes / L];
  for (std::size_t v = 0; v < Lanes / L; ++v) acc[v] = _mm512_setzero_ps();
  for (std::size_t t = 0; t < pairs; ++t)
    for (std::size_t v = 0; v < Lanes / L; ++v) {
      const __m512bh x = load_bh(panel + (t * Lanes + v * L) * 2);
      acc[v] = _mm512_dpbf16_ps(acc[v], x, x);
    }
  for (std::size_t v = 0; v < Lanes / L; ++v) _mm512_storeu_ps(out + v * L, acc[v]);
}

template <int Mr, int NrVectors>
__attribute__((target("avx512vnni"))) void gemm_tile_u8s8_vnni(std::size_t quads, const std::uint8_t* a_panel,
                                                               const std::int8_t* b_panel, std::int32_t* c,
                                                               std::size_t ldc, bool accumulate) {
  constexpr std::size_t L = S::kF32Lanes, kNr = NrVectors * L;
  __m512i acc[Mr][NrVectors];
  LATENT_TILE_LOAD(acc, accumulate ? S::load_i32(c + i * ldc + v * L) : _mm512_setzero_si512());
  for (std::size_t q = 0; q < quads; ++q) {
    __m512i b[NrVectors];
#pragma GCC unroll 4
    for (int v = 0; v < NrVectors; ++v) b[v] = S::load_i32(b_panel + (q * kNr + static_cast<std::size_t>(v) * L) * 4);
#pragma GCC unroll 16
    for (int i = 0; i < Mr; ++i) {
      const __m512i a = _mm512_set1_epi32(load_group(a_panel + (q * Mr + static_cast<std::size_t>(i)) * 4));
#pragma GCC unroll 4
      for (int v = 0; v < NrVectors; ++v) acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], a, b[v]);
    }
  }
  LATENT_TILE_STORE(S::store_i32(c + i * ldc + v * L, acc[i][v]));
}

__attribute__((target("avx512bf16"))) float bf16_probe_native(std::size_t iterations) {
  constexpr int kChains = 12;
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f803f80);
  for (std::size_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], x, x);
  __m512 total = acc[0];
  for (int i = 1; i < kChains; ++i) total = _mm512_add_ps(total, acc[i]);
  return S::reduce_add(total);
}

__attribute__((target("avx512vnni"))) std::int32_t int8_probe_vnni(std::size_t iterations) {
  constexpr int kChains = 12;
  __m512i acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_epi32(i);
  __m512i a = _mm512_set1_epi32(0x01010101), b = _mm512_set1_epi32(0x01ff01ff);
  __asm__("" : "+v"(a), "+v"(b));
  for (std::size_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  std::int32_t total = 0;
  for (int i = 0; i < kChains; ++i) total += _mm_cvtsi128_si32(_mm512_castsi512_si128(acc[i]));
  return total;
}

// ---- binary: 64-bit POPCNT (VPOPCNTDQ below when present).
std::uint64_t load_u64(const std::uint8_t* p) {
  std::uint64_t x;
  __builtin_memcpy(&x, p, 8);
  return x;
}

template <class Combine>
std::uint64_t popcount_words(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes, Combine combine) {
  std::uint64_t c0 = 0, c1 = 0;
  std::size_t i = 0;
  for (; i + 16 <= bytes; i += 16) {
    c0 += static_cast<std::uint64_t>(_mm_popcnt_u64(combine(load_u64(a + i), load_u64(b + i))));
    c1 += static_cast<std::uint64_t>(_mm_popcnt_u64(combine(load_u64(a + i + 8), load_u64(b + i + 8))));
  }
  for (; i + 8 <= bytes; i += 8)
    c0 += static_cast<std::uint64_t>(_mm_popcnt_u64(combine(load_u64(a + i), load_u64(b + i))));
  for (; i < bytes; ++i) {
    c1 += static_cast<std::uint64_t>(_mm_popcnt_u64(combine(std::uint64_t{a[i]}, std::uint64_t{b[i]})));
  }
  return c0 + c1;
}

std::uint64_t hamming_b1(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  return popcount_words(a, b, bytes, [](std::uint64_t x, std::uint64_t y) { return x ^ y; });
}

void intersection_union_b1(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes, std::uint64_t* intersection,
                           std::uint64_t* union_count) {
  *intersection = popcount_words(a, b, bytes, [](std::uint64_t x, std::uint64_t y) { return x & y; });
  *union_count = popcount_words(a, b, bytes, [](std::uint64_t x, std::uint64_t y) { return x | y; });
}

__attribute__((target("avx512vpopcntdq"))) std::uint64_t hamming_b1_vpopcnt(const std::uint8_t* a,
                                                                            const std::uint8_t* b, std::size_t bytes) {
  __m512i acc = _mm512_setzero_si512();
  std::size_t i = 0;
  for (; i + 64 <= bytes; i += 64) {
    const __m512i x = _mm512_loadu_si512(a + i), y = _mm512_loadu_si512(b + i);
    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(x, y)));
  }
  std::uint64_t count = static_cast<std::uint64_t>(_mm512_reduce_add_epi64(acc));
  return count + hamming_b1(a + i, b + i, bytes - i);
}

// One query against many rows with the pair kernel Pair (POPCNT or VPOPCNTDQ).
template <std::uint64_t (*Pair)(const std::uint8_t*, const std::uint8_t*, std::size_t)>
void hamming_many_b1(const std::uint8_t* query, const std::uint8_t* base, std::size_t stride_bytes, std::size_t rows,
                     std::size_t bytes, std::uint32_t* out) {
  for (std::size_t r = 0; r < rows; ++r)
    out[r] = static_cast<std::uint32_t>(Pair(query, base + r * stride_bytes, bytes));
}

// 12 x 32 micro-tile: 24 accumulators + 2 B vectors + 1 broadcast of the 32 zmm registers.
constexpr int kMr = 12;
constexpr int kNrVectors = 2;
// f64 cross-products: 8 x 24, 24 accumulators + 3 panel vectors + 1 broadcast.
constexpr int kCrossprodMr = 8;
constexpr int kCrossprodNrVectors = 3;
// bf16 / int8: the same 12 x 32 shape (24 accumulators; the widening tiles use
// 4 more registers for the split halves, the native ones none).
constexpr int kLowpMr = 12;
constexpr int kLowpNrVectors = 2;

KernelTable make_table(bool extensions) {
  KernelTable table = simd_table<kMr, kNrVectors, kLowpMr, kLowpNrVectors>(extensions ? "avx512" : "avx512-base");
  table.dot_i8 = dot_i8;
  table.sqeuclidean_i8 = sqeuclidean_i8;
  table.hamming_b1 = hamming_b1;
  table.intersection_union_b1 = intersection_union_b1;
  table.hamming_many_b1 = hamming_many_b1<hamming_b1>;
  table.crossprod_mr = kCrossprodMr;
  table.crossprod_nr = kCrossprodNrVectors * static_cast<int>(S::kF64Lanes);
  table.crossprod_tile_f64 = simd_crossprod_tile<kCrossprodMr, kCrossprodNrVectors>;
  if (extensions) {
    if (__builtin_cpu_supports("avx512vnni")) {
      table.dot_i8 = dot_i8_vnni;
      table.sqeuclidean_i8 = sqeuclidean_i8_vnni;
      table.gemm_tile_u8s8 = gemm_tile_u8s8_vnni<kLowpMr, kLowpNrVectors>;
      table.int8_probe = int8_probe_vnni;
      table.int8_probe_ops_per_iteration = 12 * static_cast<int>(S::kF32Lanes) * 8;
    }
    if (__builtin_cpu_supports("avx512bf16")) {
      table.dot_bf16 = dot_bf16_native;
      table.gemm_tile_bf16 = gemm_tile_bf16_native<kLowpMr, kLowpNrVectors>;
      table.panel_sqnorms_bf16 = panel_sqnorms_bf16_native<kLowpNrVectors* static_cast<int>(S::kF32Lanes)>;
      table.bf16_probe = bf16_probe_native;
      table.bf16_probe_ops_per_iteration = 12 * static_cast<int>(S::kF32Lanes) * 4;
    }
    if (__builtin_cpu_supports("avx512vpopcntdq")) {
      table.hamming_b1 = hamming_b1_vpopcnt;
      table.hamming_many_b1 = hamming_many_b1<hamming_b1_vpopcnt>;
    }
  }
  return table;
}

}  // namespace

const KernelTable& avx512_table() {
  static const KernelTable table = make_table(true);
  return table;
}

const KernelTable& avx512_base_table() {
  static const KernelTable table = make_table(false);
  return table;
}

}  // namespace latent::kernels::detail
