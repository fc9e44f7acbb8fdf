// AVX2 + FMA (+ F16C, POPCNT) kernels. Compiled with exactly those flags; the
// dispatcher uses this table only when CPUID and XGETBV report all of them.
// Numerical policy: see simd_kernels.inl (FMA chains, four accumulators, zero-
// padded tails); int8 sums are exact in int32.
#include <cpuid.h>
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "table.hpp"

namespace latent::kernels::detail {
namespace {

struct S {
  using F32 = __m256;
  using F64 = __m256d;
  static constexpr std::size_t kF32Lanes = 8;
  static constexpr std::size_t kF64Lanes = 4;

  template <class T>
  static auto zero() {
    if constexpr (sizeof(T) == 4) {
      return _mm256_setzero_ps();
    } else {
      return _mm256_setzero_pd();
    }
  }
  static F32 load(const float* p) { return _mm256_loadu_ps(p); }
  static F64 load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, F64 v) { _mm256_storeu_pd(p, v); }
  static F64 set1(double x) { return _mm256_set1_pd(x); }
  static void store(float* p, F32 v) { _mm256_storeu_ps(p, v); }
  static F32 set1(float x) { return _mm256_set1_ps(x); }
  static F32 add(F32 a, F32 b) { return _mm256_add_ps(a, b); }
  static F64 add(F64 a, F64 b) { return _mm256_add_pd(a, b); }
  static F32 sub(F32 a, F32 b) { return _mm256_sub_ps(a, b); }
  static F64 sub(F64 a, F64 b) { return _mm256_sub_pd(a, b); }
  static F32 mul(F32 a, F32 b) { return _mm256_mul_ps(a, b); }
  static F64 mul(F64 a, F64 b) { return _mm256_mul_pd(a, b); }
  static F32 fma(F32 a, F32 b, F32 c) { return _mm256_fmadd_ps(a, b, c); }
  static F64 fma(F64 a, F64 b, F64 c) { return _mm256_fmadd_pd(a, b, c); }
  static F32 abs(F32 a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static F64 abs(F64 a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  static F32 max(F32 a, F32 b) { return _mm256_max_ps(a, b); }
  static F64 max(F64 a, F64 b) { return _mm256_max_pd(a, b); }
  static F32 min(F32 a, F32 b) { return _mm256_min_ps(a, b); }
  static F64 min(F64 a, F64 b) { return _mm256_min_pd(a, b); }
  static F32 sqrt(F32 a) { return _mm256_sqrt_ps(a); }
  static F64 sqrt(F64 a) { return _mm256_sqrt_pd(a); }
  static float sqrt_scalar(float x) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x))); }
  static double sqrt_scalar(double x) { return _mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(x))); }

  static float reduce_add(F32 v) {
    const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
    return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_movehdup_ps(sum2)));
  }
  static double reduce_add(F64 v) {
    const __m128d sum2 = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(sum2, _mm_unpackhi_pd(sum2, sum2)));
  }
  static float reduce_max(F32 v) {
    const __m128 max4 = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 max2 = _mm_max_ps(max4, _mm_movehl_ps(max4, max4));
    return _mm_cvtss_f32(_mm_max_ss(max2, _mm_movehdup_ps(max2)));
  }
  static double reduce_max(F64 v) {
    const __m128d max2 = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_max_sd(max2, _mm_unpackhi_pd(max2, max2)));
  }
  // kF64Lanes floats widened exactly to doubles.
  static F64 load_widened(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
  static F32 load_f16(const std::uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static F32 load_bf16(const std::uint16_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }

  // Integer lanes (the low-precision tiles): as many 32-bit lanes as F32.
  using I32 = __m256i;
  static I32 zero_i32() { return _mm256_setzero_si256(); }
  static I32 load_i32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static void store_i32(std::int32_t* p, I32 v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static F32 to_f32(I32 v) { return _mm256_cvtepi32_ps(v); }
  static I32 set1_i32(std::int32_t x) { return _mm256_set1_epi32(x); }
  // bf16 pairs in 32-bit lanes: the odd element is the high half, the even one
  // the low half; each becomes the f32 with the same upper 16 bits.
  static F32 bf16_odd(I32 v) { return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(-65536))); }
  static F32 bf16_even(I32 v) { return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)); }
  // acc + the sum of the four u8 x s8 products of each 32-bit lane, exactly:
  // the unsigned side split as u = 128 high + low (high in {0, 1}, low <= 127),
  // so no int16 pair sum of VPMADDUBSW can saturate.
  static I32 split_low(I32 a) { return _mm256_and_si256(a, _mm256_set1_epi8(0x7f)); }
  static I32 split_high(I32 a) { return _mm256_and_si256(_mm256_srli_epi16(a, 7), _mm256_set1_epi8(1)); }
  static I32 dot_u8s8(I32 acc, I32 low, I32 high, I32 b) {
    const I32 low_sums = _mm256_madd_epi16(_mm256_maddubs_epi16(low, b), _mm256_set1_epi16(1));
    const I32 high_sums = _mm256_madd_epi16(_mm256_maddubs_epi16(high, b), _mm256_set1_epi16(128));
    return _mm256_add_epi32(acc, _mm256_add_epi32(low_sums, high_sums));
  }
};

#include "simd_kernels.inl"

// int8: sign-extend 16 values to int16 and multiply-add pairs into int32 (exact).
__m256i load_i8_as_i16(const std::int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

template <bool Squared>
std::int32_t int8_kernel(const std::int8_t* a, const std::int8_t* b, std::size_t dim) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  std::size_t p = 0;
  auto step = [](__m256i acc, const std::int8_t* x, const std::int8_t* y) {
    __m256i u = load_i8_as_i16(x), v = load_i8_as_i16(y);
    if constexpr (Squared) {
      u = _mm256_sub_epi16(u, v);
      v = u;
    }
    return _mm256_add_epi32(acc, _mm256_madd_epi16(u, v));
  };
  for (; p + 32 <= dim; p += 32) {
    acc0 = step(acc0, a + p, b + p);
    acc1 = step(acc1, a + p + 16, b + p + 16);
  }
  for (; p + 16 <= dim; p += 16) acc0 = step(acc0, a + p, b + p);
  if (p < dim) {
    std::int8_t tail_a[16], tail_b[16];
    copy_zero_padded(a + p, dim - p, tail_a, 16);
    copy_zero_padded(b + p, dim - p, tail_b, 16);
    acc1 = step(acc1, tail_a, tail_b);
  }
  const __m256i sum8 = _mm256_add_epi32(acc0, acc1);
  const __m128i sum4 = _mm_add_epi32(_mm256_castsi256_si128(sum8), _mm256_extracti128_si256(sum8, 1));
  const __m128i sum2 = _mm_add_epi32(sum4, _mm_shuffle_epi32(sum4, 0x4e));
  return _mm_cvtsi128_si32(_mm_add_epi32(sum2, _mm_shuffle_epi32(sum2, 0xb1)));
}

std::int32_t dot_i8(const std::int8_t* a, const std::int8_t* b, std::size_t dim) {
  return int8_kernel<false>(a, b, dim);
}
std::int32_t sqeuclidean_i8(const std::int8_t* a, const std::int8_t* b, std::size_t dim) {
  return int8_kernel<true>(a, b, dim);
}

std::uint64_t load_u64(const std::uint8_t* p) {
  std::uint64_t x;
  __builtin_memcpy(&x, p, 8);
  return x;
}

// POPCNT on 64-bit words, four independent counters.
std::uint64_t hamming_b1(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  std::uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  std::size_t i = 0;
  for (; i + 32 <= bytes; i += 32) {
    c0 += static_cast<std::uint64_t>(_mm_popcnt_u64(load_u64(a + i) ^ load_u64(b + i)));
    c1 += static_cast<std::uint64_t>(_mm_popcnt_u64(load_u64(a + i + 8) ^ load_u64(b + i + 8)));
    c2 += static_cast<std::uint64_t>(_mm_popcnt_u64(load_u64(a + i + 16) ^ load_u64(b + i + 16)));
    c3 += static_cast<std::uint64_t>(_mm_popcnt_u64(load_u64(a + i + 24) ^ load_u64(b + i + 24)));
  }
  for (; i + 8 <= bytes; i += 8) c0 += static_cast<std::uint64_t>(_mm_popcnt_u64(load_u64(a + i) ^ load_u64(b + i)));
  for (; i < bytes; ++i) c1 += static_cast<std::uint64_t>(_mm_popcnt_u32(static_cast<unsigned>(a[i] ^ b[i])));
  return (c0 + c1) + (c2 + c3);
}

// One query against many rows: the pair kernel above, inlined in the row loop.
void hamming_many_b1(const std::uint8_t* query, const std::uint8_t* base, std::size_t stride_bytes, std::size_t rows,
                     std::size_t bytes, std::uint32_t* out) {
  for (std::size_t r = 0; r < rows; ++r)
    out[r] = static_cast<std::uint32_t>(hamming_b1(query, base + r * stride_bytes, bytes));
}

void intersection_union_b1(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes, std::uint64_t* intersection,
                           std::uint64_t* union_count) {
  std::uint64_t both = 0, either = 0;
  std::size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    const std::uint64_t x = load_u64(a + i), y = load_u64(b + i);
    both += static_cast<std::uint64_t>(_mm_popcnt_u64(x & y));
    either += static_cast<std::uint64_t>(_mm_popcnt_u64(x | y));
  }
  for (; i < bytes; ++i) {
    both += static_cast<std::uint64_t>(_mm_popcnt_u32(static_cast<unsigned>(a[i] & b[i])));
    either += static_cast<std::uint64_t>(_mm_popcnt_u32(static_cast<unsigned>(a[i] | b[i])));
  }
  *intersection = both;
  *union_count = either;
}

// 6 x 16 micro-tile: 12 accumulators + 2 B vectors + 1 broadcast of the 16 ymm registers.
constexpr int kMr = 6;
constexpr int kNrVectors = 2;
// f64 cross-products: 4 x 12, 12 accumulators + 3 panel vectors + 1 broadcast.
constexpr int kCrossprodMr = 4;
constexpr int kCrossprodNrVectors = 3;
// bf16 / int8: 4 x 16 (8 accumulators; the widening bf16 tile holds 4 split B
// halves, 2 split broadcasts and a mask besides).
constexpr int kLowpMr = 4;
constexpr int kLowpNrVectors = 2;

// AVX-VNNI (the VEX form of VPDPBUSD, on CPUs that have it without AVX-512).
template <int Mr, int NrVectors>
__attribute__((target("avxvnni"))) void gemm_tile_u8s8_avxvnni(std::size_t quads, const std::uint8_t* a_panel,
                                                               const std::int8_t* b_panel, std::int32_t* c,
                                                               std::size_t ldc, bool accumulate) {
  constexpr std::size_t L = S::kF32Lanes, kNr = NrVectors * L;
  __m256i acc[Mr][NrVectors];
  LATENT_TILE_LOAD(acc, accumulate ? S::load_i32(c + i * ldc + v * L) : _mm256_setzero_si256());
  for (std::size_t q = 0; q < quads; ++q) {
    __m256i b[NrVectors];
#pragma GCC unroll 4
    for (int v = 0; v < NrVectors; ++v) b[v] = S::load_i32(b_panel + (q * kNr + static_cast<std::size_t>(v) * L) * 4);
#pragma GCC unroll 16
    for (int i = 0; i < Mr; ++i) {
      const __m256i a = _mm256_set1_epi32(load_group(a_panel + (q * Mr + static_cast<std::size_t>(i)) * 4));
#pragma GCC unroll 4
      for (int v = 0; v < NrVectors; ++v) acc[i][v] = _mm256_dpbusd_avx_epi32(acc[i][v], a, b[v]);
    }
  }
  LATENT_TILE_STORE(S::store_i32(c + i * ldc + v * L, acc[i][v]));
}

// CPUID leaf 7, sub-leaf 1, EAX bit 4 (not every compiler's __builtin_cpu_supports
// knows the name). The OS saves ymm state wherever this table is used.
bool has_avx_vnni() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  if (eax < 1) return false;
  __cpuid_count(7, 1, eax, ebx, ecx, edx);
  return (eax & (1u << 4)) != 0;
}

KernelTable make_table(bool extensions) {
  KernelTable t = simd_table<kMr, kNrVectors, kLowpMr, kLowpNrVectors>(extensions ? "avx2" : "avx2-base");
  t.dot_i8 = dot_i8;
  t.sqeuclidean_i8 = sqeuclidean_i8;
  t.hamming_b1 = hamming_b1;
  t.intersection_union_b1 = intersection_union_b1;
  t.hamming_many_b1 = hamming_many_b1;
  t.crossprod_mr = kCrossprodMr;
  t.crossprod_nr = kCrossprodNrVectors * static_cast<int>(S::kF64Lanes);
  t.crossprod_tile_f64 = simd_crossprod_tile<kCrossprodMr, kCrossprodNrVectors>;
  if (extensions && has_avx_vnni()) t.gemm_tile_u8s8 = gemm_tile_u8s8_avxvnni<kLowpMr, kLowpNrVectors>;
  return t;
}

}  // namespace

const KernelTable& avx2_table() {
  static const KernelTable table = make_table(true);
  return table;
}

const KernelTable& avx2_base_table() {
  static const KernelTable table = make_table(false);
  return table;
}

}  // namespace latent::kernels::detail
