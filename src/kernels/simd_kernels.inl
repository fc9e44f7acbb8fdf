// Kernels written once over a SIMD traits type `S`, included by avx2.cpp and
// avx512.cpp inside an anonymous namespace: every function here gets internal
// linkage in each translation unit and is compiled with that unit's ISA flags
// only, so no AVX-512 instantiation can leak into baseline code. Nothing from
// the standard library is instantiated here for the same reason.
//
// S provides: F32 / F64 vector types with kF32Lanes / kF64Lanes, and static
// zero / load / add / sub / mul / fma / abs / max / min / sqrt / set1 /
// reduce_add / reduce_max / store for both; load_f16 / load_bf16 widening
// kF32Lanes 16-bit values to one F32 vector.
//
// Numerical policy: four vector accumulators, combined as (0 + 1) + (2 + 3)
// then reduced across lanes in a fixed order; the tail (dim not a multiple of
// the lane count) goes through a zero-padded copy, which adds exact zeros. So a
// result depends only on the inputs and the ISA, never on alignment.

// ---------------------------------------------------------------- helpers

inline float fused_multiply_add(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
inline double fused_multiply_add(double a, double b, double c) { return __builtin_fma(a, b, c); }

template <class T>
inline void copy_zero_padded(const T* source, std::size_t count, T* target, std::size_t lanes) {
  for (std::size_t i = 0; i < lanes; ++i) target[i] = i < count ? source[i] : T(0);
}

// Four-accumulator reduction over whole vectors. `step(acc, a_ptr, b_ptr)`
// updates one accumulator with one vector of each input.
template <class V, class Elem, std::size_t Lanes, class Step, class Combine>
inline V accumulate4(const Elem* a, const Elem* b, std::size_t dim, Step step, Combine combine, V zero) {
  V acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero;
  std::size_t p = 0;
  for (; p + 4 * Lanes <= dim; p += 4 * Lanes) {
    acc0 = step(acc0, a + p, b + p);
    acc1 = step(acc1, a + p + Lanes, b + p + Lanes);
    acc2 = step(acc2, a + p + 2 * Lanes, b + p + 2 * Lanes);
    acc3 = step(acc3, a + p + 3 * Lanes, b + p + 3 * Lanes);
  }
  for (; p + Lanes <= dim; p += Lanes) acc0 = step(acc0, a + p, b + p);
  if (p < dim) {
    Elem tail_a[Lanes], tail_b[Lanes];
    copy_zero_padded(a + p, dim - p, tail_a, Lanes);
    copy_zero_padded(b + p, dim - p, tail_b, Lanes);
    acc1 = step(acc1, tail_a, tail_b);
  }
  return combine(combine(acc0, acc1), combine(acc2, acc3));
}

// ---------------------------------------------------------------- f32 / f64 pairs

template <class T>
struct VectorOf;
template <>
struct VectorOf<float> {
  using Type = typename S::F32;
  static constexpr std::size_t kLanes = S::kF32Lanes;
};
template <>
struct VectorOf<double> {
  using Type = typename S::F64;
  static constexpr std::size_t kLanes = S::kF64Lanes;
};

template <class T>
T simd_dot(const T* a, const T* b, std::size_t dim) {
  using V = typename VectorOf<T>::Type;
  constexpr std::size_t L = VectorOf<T>::kLanes;
  const V total = accumulate4<V, T, L>(
      a, b, dim, [](V acc, const T* x, const T* y) { return S::fma(S::load(x), S::load(y), acc); },
      [](V x, V y) { return S::add(x, y); }, S::template zero<T>());
  return S::reduce_add(total);
}

template <class T>
T simd_sqeuclidean(const T* a, const T* b, std::size_t dim) {
  using V = typename VectorOf<T>::Type;
  constexpr std::size_t L = VectorOf<T>::kLanes;
  const V total = accumulate4<V, T, L>(
      a, b, dim,
      [](V acc, const T* x, const T* y) {
        const V diff = S::sub(S::load(x), S::load(y));
        return S::fma(diff, diff, acc);
      },
      [](V x, V y) { return S::add(x, y); }, S::template zero<T>());
  return S::reduce_add(total);
}

template <class T>
T simd_l1(const T* a, const T* b, std::size_t dim) {
  using V = typename VectorOf<T>::Type;
  constexpr std::size_t L = VectorOf<T>::kLanes;
  const V total = accumulate4<V, T, L>(
      a, b, dim, [](V acc, const T* x, const T* y) { return S::add(acc, S::abs(S::sub(S::load(x), S::load(y)))); },
      [](V x, V y) { return S::add(x, y); }, S::template zero<T>());
  return S::reduce_add(total);
}

template <class T>
T simd_linf(const T* a, const T* b, std::size_t dim) {
  using V = typename VectorOf<T>::Type;
  constexpr std::size_t L = VectorOf<T>::kLanes;
  const V total = accumulate4<V, T, L>(
      a, b, dim, [](V acc, const T* x, const T* y) { return S::max(acc, S::abs(S::sub(S::load(x), S::load(y)))); },
      [](V x, V y) { return S::max(x, y); }, S::template zero<T>());
  return S::reduce_max(total);
}

template <class T>
T simd_cosine(const T* a, const T* b, std::size_t dim) {
  using V = typename VectorOf<T>::Type;
  constexpr std::size_t L = VectorOf<T>::kLanes;
  V ab0 = S::template zero<T>(), ab1 = ab0, aa0 = ab0, aa1 = ab0, bb0 = ab0, bb1 = ab0;
  std::size_t p = 0;
  for (; p + 2 * L <= dim; p += 2 * L) {
    const V x0 = S::load(a + p), y0 = S::load(b + p), x1 = S::load(a + p + L), y1 = S::load(b + p + L);
    ab0 = S::fma(x0, y0, ab0);
    aa0 = S::fma(x0, x0, aa0);
    bb0 = S::fma(y0, y0, bb0);
    ab1 = S::fma(x1, y1, ab1);
    aa1 = S::fma(x1, x1, aa1);
    bb1 = S::fma(y1, y1, bb1);
  }
  for (; p + L <= dim; p += L) {
    const V x0 = S::load(a + p), y0 = S::load(b + p);
    ab0 = S::fma(x0, y0, ab0);
    aa0 = S::fma(x0, x0, aa0);
    bb0 = S::fma(y0, y0, bb0);
  }
  if (p < dim) {
    T tail_a[L], tail_b[L];
    copy_zero_padded(a + p, dim - p, tail_a, L);
    copy_zero_padded(b + p, dim - p, tail_b, L);
    const V x1 = S::load(tail_a), y1 = S::load(tail_b);
    ab1 = S::fma(x1, y1, ab1);
    aa1 = S::fma(x1, x1, aa1);
    bb1 = S::fma(y1, y1, bb1);
  }
  const T dot_ab = S::reduce_add(S::add(ab0, ab1));
  const T norm_a = S::reduce_add(S::add(aa0, aa1));
  const T norm_b = S::reduce_add(S::add(bb0, bb1));
  if (norm_a == 0 || norm_b == 0) return 0;
  const T value = dot_ab / S::sqrt_scalar(norm_a * norm_b);
  return value > 1 ? T(1) : (value < -1 ? T(-1) : value);
}

// ---------------------------------------------------------------- f32 pairs summed in f64

// One F64 vector of steps from kF64Lanes floats of each side, widened.
template <class Step>
double simd_wide(const float* a, const float* b, std::size_t dim, Step step) {
  using V = typename S::F64;
  constexpr std::size_t L = S::kF64Lanes;
  const V total = accumulate4<V, float, L>(
      a, b, dim,
      [&](V acc, const float* x, const float* y) { return step(acc, S::load_widened(x), S::load_widened(y)); },
      [](V x, V y) { return S::add(x, y); }, S::template zero<double>());
  return S::reduce_add(total);
}

double dot_f32_wide(const float* a, const float* b, std::size_t dim) {
  return simd_wide(a, b, dim, [](auto acc, auto x, auto y) { return S::fma(x, y, acc); });
}
double sqeuclidean_f32_wide(const float* a, const float* b, std::size_t dim) {
  return simd_wide(a, b, dim, [](auto acc, auto x, auto y) {
    const auto diff = S::sub(x, y);
    return S::fma(diff, diff, acc);
  });
}
double l1_f32_wide(const float* a, const float* b, std::size_t dim) {
  return simd_wide(a, b, dim, [](auto acc, auto x, auto y) { return S::add(acc, S::abs(S::sub(x, y))); });
}

// ---------------------------------------------------------------- f16 / bf16 pairs

template <bool Brain>
typename S::F32 load_16(const std::uint16_t* x) {
  if constexpr (Brain) {
    return S::load_bf16(x);
  } else {
    return S::load_f16(x);
  }
}

template <bool Brain>
float simd_dot_16(const std::uint16_t* a, const std::uint16_t* b, std::size_t dim) {
  using V = typename S::F32;
  const V total = accumulate4<V, std::uint16_t, S::kF32Lanes>(
      a, b, dim,
      [](V acc, const std::uint16_t* x, const std::uint16_t* y) {
        return S::fma(load_16<Brain>(x), load_16<Brain>(y), acc);
      },
      [](V x, V y) { return S::add(x, y); }, S::template zero<float>());
  return S::reduce_add(total);
}

template <bool Brain>
float simd_sqeuclidean_16(const std::uint16_t* a, const std::uint16_t* b, std::size_t dim) {
  using V = typename S::F32;
  const V total = accumulate4<V, std::uint16_t, S::kF32Lanes>(
      a, b, dim,
      [](V acc, const std::uint16_t* x, const std::uint16_t* y) {
        const V diff = S::sub(load_16<Brain>(x), load_16<Brain>(y));
        return S::fma(diff, diff, acc);
      },
      [](V x, V y) { return S::add(x, y); }, S::template zero<float>());
  return S::reduce_add(total);
}

// ---------------------------------------------------------------- GEMM path

// Packs up to `Lanes` rows into [dim][Lanes] (missing rows are zero).
template <int Lanes, class T>
void simd_pack(const T* source, std::size_t stride, std::size_t rows, std::size_t dim, T* out) {
  if (rows < static_cast<std::size_t>(Lanes)) {
    for (std::size_t i = 0; i < dim * Lanes; ++i) out[i] = T(0);
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = source + r * stride;
    T* column = out + r;
    for (std::size_t p = 0; p < dim; ++p) column[p * Lanes] = row[p];
  }
}

// C tile (Rows x NrVectors * kF32Lanes) from packed panels whose A side holds
// Stride rows per depth step (Rows <= Stride: a partial panel computes fewer
// rows); each element is a single FMA chain over p.
template <int Rows, int Stride, int NrVectors, class T = float>
void simd_gemm_tile(std::size_t depth, const T* a_panel, const T* b_panel, T* c, std::size_t ldc, bool accumulate) {
  using V = typename VectorOf<T>::Type;
  constexpr int kLanes = static_cast<int>(VectorOf<T>::kLanes);
  constexpr int kNr = NrVectors * kLanes;
  V acc[Rows][NrVectors];
#pragma GCC unroll 16
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NrVectors; ++v)
      acc[i][v] = accumulate ? S::load(c + static_cast<std::size_t>(i) * ldc + v * kLanes) : S::template zero<T>();
  for (std::size_t p = 0; p < depth; ++p) {
    const T* a = a_panel + p * Stride;
    const T* b = b_panel + p * kNr;
    V bv[NrVectors];
#pragma GCC unroll 4
    for (int v = 0; v < NrVectors; ++v) bv[v] = S::load(b + v * kLanes);
#pragma GCC unroll 16
    for (int i = 0; i < Rows; ++i) {
      const V ai = S::set1(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NrVectors; ++v) acc[i][v] = S::fma(ai, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NrVectors; ++v) S::store(c + static_cast<std::size_t>(i) * ldc + v * kLanes, acc[i][v]);
}

// A partial A panel (rows < Mr): the smallest instantiation that covers it.
template <int Mr, int NrVectors, class T>
void simd_gemm_tile_rows(std::size_t depth, std::size_t rows, const T* a_panel, const T* b_panel, T* c, std::size_t ldc,
                         bool accumulate) {
  if (rows <= 1) {
    simd_gemm_tile<1, Mr, NrVectors, T>(depth, a_panel, b_panel, c, ldc, accumulate);
  } else if (rows <= 2) {
    simd_gemm_tile<2, Mr, NrVectors, T>(depth, a_panel, b_panel, c, ldc, accumulate);
  } else if (rows <= 4) {
    simd_gemm_tile<4, Mr, NrVectors, T>(depth, a_panel, b_panel, c, ldc, accumulate);
  } else if (rows <= 8 && Mr > 8) {
    simd_gemm_tile<(Mr > 8 ? 8 : Mr), Mr, NrVectors, T>(depth, a_panel, b_panel, c, ldc, accumulate);
  } else {
    simd_gemm_tile<Mr, Mr, NrVectors, T>(depth, a_panel, b_panel, c, ldc, accumulate);
  }
}

// The accumulator tile of the distance and low-precision kernels, acc[i][v] for Mr rows and
// NrVectors vectors of L lanes, set from (or written to) C row by row, fully
// unrolled so the accumulators stay in registers (i, v, L, ldc in scope).
#define LATENT_TILE_LOAD(acc, value)                            \
  _Pragma("GCC unroll 16") for (std::size_t i = 0; i < Mr; ++i) \
      _Pragma("GCC unroll 4") for (std::size_t v = 0; v < NrVectors; ++v) acc[i][v] = (value)
#define LATENT_TILE_STORE(statement)                            \
  _Pragma("GCC unroll 16") for (std::size_t i = 0; i < Mr; ++i) \
      _Pragma("GCC unroll 4") for (std::size_t v = 0; v < NrVectors; ++v) statement

// The l1 (Max = false) or linf (Max = true) tile of Mr rows x NrVectors
// vectors: per element a chain over p of |a - b| (exact after the rounded
// subtraction), added or maxed in order.
template <int Mr, int NrVectors, class T, bool Max>
void simd_distance_tile(std::size_t depth, const T* a_panel, const T* b_panel, T* c, std::size_t ldc, bool accumulate) {
  using V = typename VectorOf<T>::Type;
  constexpr std::size_t L = VectorOf<T>::kLanes;
  constexpr std::size_t kNr = NrVectors * L;
  V acc[Mr][NrVectors];
  LATENT_TILE_LOAD(acc, accumulate ? S::load(c + i * ldc + v * L) : S::template zero<T>());
  for (std::size_t p = 0; p < depth; ++p) {
    const T* a = a_panel + p * Mr;
    V b[NrVectors];
#pragma GCC unroll 4
    for (int v = 0; v < NrVectors; ++v) b[v] = S::load(b_panel + p * kNr + static_cast<std::size_t>(v) * L);
#pragma GCC unroll 16
    for (int i = 0; i < Mr; ++i) {
      const V ai = S::set1(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NrVectors; ++v) {
        const V distance = S::abs(S::sub(ai, b[v]));
        acc[i][v] = Max ? S::max(acc[i][v], distance) : S::add(acc[i][v], distance);
      }
    }
  }
  LATENT_TILE_STORE(S::store(c + i * ldc + v * L, acc[i][v]));
}

// The f64 cross-product tile: Mr broadcast columns x NrVectors vectors of one
// [rows][Nr] panel, always continuing the chains held in C.
template <int Mr, int NrVectors>
void simd_crossprod_tile(std::size_t depth, const double* a_panel, const double* b_panel, double* c, std::size_t ldc) {
  constexpr int kNr = NrVectors * static_cast<int>(S::kF64Lanes);
  simd_gemm_tile<Mr, kNr, NrVectors, double>(depth, a_panel, b_panel, c, ldc, true);
}

// 8 x 8 transposes of 256-bit vectors (AVX, present at both SIMD levels): the
// cheapest shuffles on current cores, also for AVX-512 code, whose 512-bit
// shuffles cost more per byte on some (Zen 4).
struct Transpose8x8 {
  using Elem = float;
  using Vector = __m256;
  static constexpr std::size_t kLanes = 8;
  static Vector load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vector v) { _mm256_storeu_ps(p, v); }
  // r[i] holds row i on entry and column i on exit.
  static void transpose(__m256* r) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int g = 0; g < 2; ++g) {
      u[4 * g + 0] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
      u[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xee);
      u[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
      u[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xee);
    }
    for (int c = 0; c < 4; ++c) {
      r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
      r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
  }
};

// The same for doubles: 4 x 4 transposes of 256-bit vectors.
struct Transpose4x4 {
  using Elem = double;
  using Vector = __m256d;
  static constexpr std::size_t kLanes = 4;
  static Vector load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, Vector v) { _mm256_storeu_pd(p, v); }
  // r[i] holds row i on entry and column i on exit.
  static void transpose(__m256d* r) {
    const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
  }
};

// Packs a full panel of Nr base rows with in-register square transposes (8 x 8
// floats or 4 x 4 doubles), falling back to the plain copy for a partial panel
// and for the depth tail.
template <int Nr, class Transpose>
void simd_pack_b(const typename Transpose::Elem* source, std::size_t stride, std::size_t rows, std::size_t dim,
                 typename Transpose::Elem* out) {
  constexpr std::size_t L = Transpose::kLanes;
  constexpr std::size_t kNr = static_cast<std::size_t>(Nr);
  static_assert(kNr % L == 0, "whole groups of rows");
  if (rows < kNr) {
    simd_pack<Nr>(source, stride, rows, dim, out);
    return;
  }
  // Groups of 8 rows outermost: the reads are 8 sequential streams at a time,
  // which the hardware prefetchers follow (32 interleaved streams they do not).
  const std::size_t whole = dim / L * L;
  for (std::size_t group = 0; group < kNr / L; ++group) {
    for (std::size_t p = 0; p < whole; p += L) {
      typename Transpose::Vector block[L];
      for (std::size_t r = 0; r < L; ++r) block[r] = Transpose::load(source + (group * L + r) * stride + p);
      Transpose::transpose(block);
      for (std::size_t c = 0; c < L; ++c) Transpose::store(out + (p + c) * kNr + group * L, block[c]);
    }
  }
  for (std::size_t p = whole; p < dim; ++p)
    for (std::size_t r = 0; r < kNr; ++r) out[p * kNr + r] = source[r * stride + p];
}

// Squared norms of the rows of a packed panel ([dim][Lanes]): for each row the
// same FMA chain over p as the GEMM's inner product of the row with itself, so
// that (|x|^2 + |x|^2) - 2 x.x is exactly 0.
template <int Lanes, class T>
void simd_panel_sqnorms(const T* panel, std::size_t dim, T* out, bool accumulate) {
  using V = typename VectorOf<T>::Type;
  constexpr int L = static_cast<int>(VectorOf<T>::kLanes);
  if constexpr (Lanes % L == 0) {
    V acc[Lanes / L];
    for (int v = 0; v < Lanes / L; ++v) acc[v] = accumulate ? S::load(out + v * L) : S::template zero<T>();
    for (std::size_t p = 0; p < dim; ++p)
      for (int v = 0; v < Lanes / L; ++v) {
        const V x = S::load(panel + p * Lanes + v * L);
        acc[v] = S::fma(x, x, acc[v]);
      }
    for (int v = 0; v < Lanes / L; ++v) S::store(out + v * L, acc[v]);
  } else {
    // A panel narrower than a vector (the A side of a small tile): one lane
    // at a time, with the same fused multiply-add.
    T acc[Lanes];
    for (int r = 0; r < Lanes; ++r) acc[r] = accumulate ? out[r] : T(0);
    for (std::size_t p = 0; p < dim; ++p)
      for (int r = 0; r < Lanes; ++r) acc[r] = fused_multiply_add(panel[p * Lanes + r], panel[p * Lanes + r], acc[r]);
    for (int r = 0; r < Lanes; ++r) out[r] = acc[r];
  }
}

// Same arithmetic as the scalar reference (no FMA), so the epilogue is exact
// whatever the ISA: cosine = c * (q * b) clamped to [-1, 1] (symmetric in q, b);
// sqeuclidean = (q + b) - 2c clamped to >= 0; l2 = sqrt of that.
template <class T>
void simd_finish_block(MetricCode metric, T* c, std::size_t rows, std::size_t cols, std::size_t ldc, const T* row_norms,
                       const T* col_norms) {
  using V = typename VectorOf<T>::Type;
  constexpr std::size_t L = VectorOf<T>::kLanes;
  if (metric != MetricCode::cosine && metric != MetricCode::l2 && metric != MetricCode::sqeuclidean) return;
  const V one = S::set1(T(1)), minus_one = S::set1(T(-1)), two = S::set1(T(2)), zero = S::template zero<T>();
  for (std::size_t i = 0; i < rows; ++i) {
    T* row = c + i * ldc;
    const V q = S::set1(row_norms[i]);
    std::size_t j = 0;
    auto finish = [&](V value, V norms) {
      if (metric == MetricCode::cosine) return S::min(S::max(S::mul(value, S::mul(q, norms)), minus_one), one);
      const V squared = S::max(S::sub(S::add(q, norms), S::mul(two, value)), zero);
      return metric == MetricCode::l2 ? S::sqrt(squared) : squared;
    };
    for (; j + L <= cols; j += L) S::store(row + j, finish(S::load(row + j), S::load(col_norms + j)));
    if (j < cols) {
      T value[L], norms[L], out[L];
      copy_zero_padded(row + j, cols - j, value, L);
      copy_zero_padded(col_norms + j, cols - j, norms, L);
      S::store(out, finish(S::load(value), S::load(norms)));
      for (std::size_t t = 0; t < cols - j; ++t) row[j + t] = out[t];
    }
  }
}

// ---------------------------------------------------------------- low precision

inline std::int32_t load_group(const void* p) {
  std::int32_t x;
  __builtin_memcpy(&x, p, 4);
  return x;
}

// bf16 tile by widening: each pair's odd then even product, one FMA each (a bf16
// product is exact in f32, so an FMA rounds exactly as VDPBF16PS's addition).
template <int Mr, int NrVectors>
void simd_gemm_tile_bf16(std::size_t pairs, const std::uint16_t* a_panel, const std::uint16_t* b_panel, float* c,
                         std::size_t ldc, bool accumulate) {
  using V = typename S::F32;
  constexpr std::size_t L = S::kF32Lanes;
  constexpr std::size_t kNr = NrVectors * L;
  V acc[Mr][NrVectors];
  LATENT_TILE_LOAD(acc, accumulate ? S::load(c + i * ldc + v * L) : S::template zero<float>());
  for (std::size_t t = 0; t < pairs; ++t) {
    const std::uint16_t* a = a_panel + t * Mr * 2;
    const std::uint16_t* b = b_panel + t * kNr * 2;
    V b_odd[NrVectors], b_even[NrVectors];
#pragma GCC unroll 4
    for (int v = 0; v < NrVectors; ++v) {
      const typename S::I32 bits = S::load_i32(b + static_cast<std::size_t>(v) * L * 2);
      b_odd[v] = S::bf16_odd(bits);
      b_even[v] = S::bf16_even(bits);
    }
#pragma GCC unroll 16
    for (int i = 0; i < Mr; ++i) {
      const typename S::I32 bits = S::set1_i32(load_group(a + static_cast<std::size_t>(i) * 2));
      const V odd = S::bf16_odd(bits), even = S::bf16_even(bits);
#pragma GCC unroll 4
      for (int v = 0; v < NrVectors; ++v) acc[i][v] = S::fma(even, b_even[v], S::fma(odd, b_odd[v], acc[i][v]));
    }
  }
  LATENT_TILE_STORE(S::store(c + i * ldc + v * L, acc[i][v]));
}

template <int Lanes>
void simd_panel_sqnorms_bf16(const std::uint16_t* panel, std::size_t pairs, float* out) {
  using V = typename S::F32;
  constexpr std::size_t L = S::kF32Lanes;
  static_assert(Lanes % L == 0, "whole vectors of lanes");
  V acc[Lanes / L];
  for (std::size_t v = 0; v < Lanes / L; ++v) acc[v] = S::template zero<float>();
  for (std::size_t t = 0; t < pairs; ++t)
    for (std::size_t v = 0; v < Lanes / L; ++v) {
      const typename S::I32 bits = S::load_i32(panel + (t * Lanes + v * L) * 2);
      const V odd = S::bf16_odd(bits), even = S::bf16_even(bits);
      acc[v] = S::fma(even, even, S::fma(odd, odd, acc[v]));
    }
  for (std::size_t v = 0; v < Lanes / L; ++v) S::store(out + v * L, acc[v]);
}

// int8 tile without VNNI: u8 x s8 pairs summed in int16 (the u8 side split in
// two to stay exact), then quads in int32.
template <int Mr, int NrVectors>
void simd_gemm_tile_u8s8(std::size_t quads, const std::uint8_t* a_panel, const std::int8_t* b_panel, std::int32_t* c,
                         std::size_t ldc, bool accumulate) {
  using I = typename S::I32;
  constexpr std::size_t L = S::kF32Lanes;
  constexpr std::size_t kNr = NrVectors * L;
  I acc[Mr][NrVectors];
  LATENT_TILE_LOAD(acc, accumulate ? S::load_i32(c + i * ldc + v * L) : S::zero_i32());
  for (std::size_t q = 0; q < quads; ++q) {
    I b[NrVectors];
#pragma GCC unroll 4
    for (int v = 0; v < NrVectors; ++v) b[v] = S::load_i32(b_panel + (q * kNr + static_cast<std::size_t>(v) * L) * 4);
#pragma GCC unroll 16
    for (int i = 0; i < Mr; ++i) {
      const I a = S::set1_i32(load_group(a_panel + (q * Mr + static_cast<std::size_t>(i)) * 4));
      const I low = S::split_low(a), high = S::split_high(a);
#pragma GCC unroll 4
      for (int v = 0; v < NrVectors; ++v) acc[i][v] = S::dot_u8s8(acc[i][v], low, high, b[v]);
    }
  }
  LATENT_TILE_STORE(S::store_i32(c + i * ldc + v * L, acc[i][v]));
}

// The int8 estimate of a row: out[j] = (offset + shift * sums[j]) + scale * c[j],
// multiplies and adds apart (no FMA), so every ISA gives the scalar bits.
void simd_affine_s32(const std::int32_t* c, const float* sums, std::size_t cols, float offset, float scale, float shift,
                     float* out) {
  using V = typename S::F32;
  constexpr std::size_t L = S::kF32Lanes;
  const V o = S::set1(offset), s = S::set1(scale), h = S::set1(shift);
  auto affine = [&](const std::int32_t* cv, const float* sv) {
    return S::add(S::add(o, S::mul(h, S::load(sv))), S::mul(s, S::to_f32(S::load_i32(cv))));
  };
  std::size_t j = 0;
  for (; j + L <= cols; j += L) S::store(out + j, affine(c + j, sums + j));
  if (j < cols) {
    std::int32_t c_tail[L];
    float s_tail[L], o_tail[L];
    copy_zero_padded(c + j, cols - j, c_tail, L);
    copy_zero_padded(sums + j, cols - j, s_tail, L);
    S::store(o_tail, affine(c_tail, s_tail));
    for (std::size_t t = 0; t < cols - j; ++t) out[j + t] = o_tail[t];
  }
}

// Peak probes of the low-precision steps (register-only, as simd_fma_probe).
constexpr int kProbeChainsLowp = 12;

// The widening bf16 probe: two FMAs per pair, as the tile does.
float simd_bf16_probe(std::size_t iterations) {
  using V = typename S::F32;
  V acc[kProbeChainsLowp];
  for (int i = 0; i < kProbeChainsLowp; ++i) acc[i] = S::set1(static_cast<float>(i) * 1e-3f);
  const typename S::I32 bits = S::set1_i32(0x3f803f80);  // the pair (1.0, 1.0)
  V odd = S::bf16_odd(bits), even = S::bf16_even(bits);
  __asm__("" : "+v"(odd), "+v"(even));
  for (std::size_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kProbeChainsLowp; ++i) acc[i] = S::fma(even, even, S::fma(odd, odd, acc[i]));
  V total = acc[0];
  for (int i = 1; i < kProbeChainsLowp; ++i) total = S::add(total, acc[i]);
  return S::reduce_add(total);
}

std::int32_t simd_int8_probe(std::size_t iterations) {
  using I = typename S::I32;
  I acc[kProbeChainsLowp];
  for (int i = 0; i < kProbeChainsLowp; ++i) acc[i] = S::set1_i32(i);
  I a = S::set1_i32(0x01010101), b = S::set1_i32(0x01ff01ff);  // (1, -1, 1, -1): sums stay bounded
  __asm__("" : "+v"(a), "+v"(b));  // opaque to the compiler: no constant folding of the loop
  const I low = S::split_low(a), high = S::split_high(a);
  for (std::size_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kProbeChainsLowp; ++i) acc[i] = S::dot_u8s8(acc[i], low, high, b);
  std::int32_t lanes[S::kF32Lanes], total = 0;
  for (int i = 0; i < kProbeChainsLowp; ++i) {
    S::store_i32(lanes, acc[i]);
    total += lanes[0];
  }
  return total;
}

// ---------------------------------------------------------------- peak probe

// The FP32 multiply-add peak: 12 independent vector FMA chains in registers (more
// than latency x throughput on current cores), no memory traffic.
constexpr int kProbeChains = 12;
float simd_fma_probe(std::size_t iterations) {
  using V = typename S::F32;
  V acc[kProbeChains];
  for (int i = 0; i < kProbeChains; ++i) acc[i] = S::set1(static_cast<float>(i) * 1e-3f);
  const V mul = S::set1(0.999999f), add = S::set1(1e-7f);
  for (std::size_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kProbeChains; ++i) acc[i] = S::fma(acc[i], mul, add);
  }
  V total = acc[0];
  for (int i = 1; i < kProbeChains; ++i) total = S::add(total, acc[i]);
  return S::reduce_add(total);
}

// The FP64 multiply-add peak, the same loop in double.
double simd_fma_probe_f64(std::size_t iterations) {
  using V = typename S::F64;
  V acc[kProbeChains];
  for (int i = 0; i < kProbeChains; ++i) acc[i] = S::set1(static_cast<double>(i) * 1e-3);
  const V mul = S::set1(0.999999), add = S::set1(1e-7);
  for (std::size_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kProbeChains; ++i) acc[i] = S::fma(acc[i], mul, add);
  }
  V total = acc[0];
  for (int i = 1; i < kProbeChains; ++i) total = S::add(total, acc[i]);
  return S::reduce_add(total);
}

// The l1 / linf step's peak: subtract, absolute value, add (or max) on 6
// register chains, each subtracting its own value from an operand kept opaque,
// so no step is shared or hoisted (6 chains and their 6 subtrahends fit the 16
// registers of AVX2; 6 exceed an addition's latency x throughput).
constexpr int kProbeChainsDistance = 6;
template <bool Max>
float simd_distance_probe(std::size_t iterations) {
  using V = typename S::F32;
  V acc[kProbeChainsDistance], y[kProbeChainsDistance];
  for (int i = 0; i < kProbeChainsDistance; ++i) {
    acc[i] = S::template zero<float>();
    y[i] = S::set1(0.125f * static_cast<float>(i + 1));
  }
  V x = S::set1(0.5f);
  for (std::size_t it = 0; it < iterations; ++it) {
    __asm__("" : "+v"(x));
#pragma GCC unroll 6
    for (int i = 0; i < kProbeChainsDistance; ++i) {
      const V distance = S::abs(S::sub(x, y[i]));
      acc[i] = Max ? S::max(acc[i], distance) : S::add(acc[i], distance);
    }
  }
  V total = acc[0];
  for (int i = 1; i < kProbeChainsDistance; ++i) total = S::add(total, acc[i]);
  return S::reduce_add(total);
}

// ---------------------------------------------------------------- the table

float dot_f32(const float* a, const float* b, std::size_t dim) { return simd_dot(a, b, dim); }
float sqeuclidean_f32(const float* a, const float* b, std::size_t dim) { return simd_sqeuclidean(a, b, dim); }
float l1_f32(const float* a, const float* b, std::size_t dim) { return simd_l1(a, b, dim); }
float linf_f32(const float* a, const float* b, std::size_t dim) { return simd_linf(a, b, dim); }
float cosine_f32(const float* a, const float* b, std::size_t dim) { return simd_cosine(a, b, dim); }
double dot_f64(const double* a, const double* b, std::size_t dim) { return simd_dot(a, b, dim); }
double sqeuclidean_f64(const double* a, const double* b, std::size_t dim) { return simd_sqeuclidean(a, b, dim); }
double l1_f64(const double* a, const double* b, std::size_t dim) { return simd_l1(a, b, dim); }
double linf_f64(const double* a, const double* b, std::size_t dim) { return simd_linf(a, b, dim); }
double cosine_f64(const double* a, const double* b, std::size_t dim) { return simd_cosine(a, b, dim); }

// The table of this translation unit's kernels written above; the unit adds its
// own int8 and bit kernels. Micro-tiles: Mr x (NrVectors * kF32Lanes) for f32,
// LowpMr x (LowpNrVectors * kF32Lanes) for bf16 and int8.
// The GEMM kernels in element type T: Mr x NrVectors vectors of T.
template <class T, int Mr, int NrVectors>
GemmKernels<T> simd_gemm_kernels() {
  constexpr int kNr = NrVectors * static_cast<int>(VectorOf<T>::kLanes);
  GemmKernels<T> kernels{};
  kernels.mr = Mr;
  kernels.nr = kNr;
  kernels.pack_a = simd_pack<Mr, T>;
  if constexpr (sizeof(T) == 4) {
    kernels.pack_b = simd_pack_b<kNr, Transpose8x8>;
  } else {
    kernels.pack_b = simd_pack_b<kNr, Transpose4x4>;
  }
  kernels.tile = simd_gemm_tile<Mr, Mr, NrVectors, T>;
  kernels.tile_rows = simd_gemm_tile_rows<Mr, NrVectors, T>;
  kernels.panel_sqnorms_a = simd_panel_sqnorms<Mr, T>;
  kernels.panel_sqnorms_b = simd_panel_sqnorms<kNr, T>;
  kernels.finish_block = simd_finish_block<T>;
  kernels.l1_tile = simd_distance_tile<Mr, NrVectors, T, false>;
  kernels.linf_tile = simd_distance_tile<Mr, NrVectors, T, true>;
  return kernels;
}

template <int Mr, int NrVectors, int LowpMr, int LowpNrVectors>
KernelTable simd_table(const char* name) {
  KernelTable table{};
  table.name = name;
  table.dot_f32 = dot_f32;
  table.sqeuclidean_f32 = sqeuclidean_f32;
  table.l1_f32 = l1_f32;
  table.linf_f32 = linf_f32;
  table.cosine_f32 = cosine_f32;
  table.dot_f64 = dot_f64;
  table.sqeuclidean_f64 = sqeuclidean_f64;
  table.l1_f64 = l1_f64;
  table.linf_f64 = linf_f64;
  table.cosine_f64 = cosine_f64;
  table.dot_f32_wide = dot_f32_wide;
  table.sqeuclidean_f32_wide = sqeuclidean_f32_wide;
  table.l1_f32_wide = l1_f32_wide;
  table.dot_f16 = simd_dot_16<false>;
  table.sqeuclidean_f16 = simd_sqeuclidean_16<false>;
  table.dot_bf16 = simd_dot_16<true>;
  table.sqeuclidean_bf16 = simd_sqeuclidean_16<true>;
  table.gemm_f32 = simd_gemm_kernels<float, Mr, NrVectors>();
  table.gemm_f64 = simd_gemm_kernels<double, Mr, NrVectors>();
  table.fma_probe = simd_fma_probe;
  table.fma_probe_flops_per_iteration = kProbeChains * static_cast<int>(S::kF32Lanes) * 2;
  table.fma_probe_f64 = simd_fma_probe_f64;
  table.fma_probe_f64_flops_per_iteration = kProbeChains * static_cast<int>(S::kF64Lanes) * 2;
  table.l1_probe = simd_distance_probe<false>;
  table.linf_probe = simd_distance_probe<true>;
  table.distance_probe_ops_per_iteration = kProbeChainsDistance * static_cast<int>(S::kF32Lanes) * 2;
  table.lowp_mr = LowpMr;
  table.lowp_nr = LowpNrVectors * static_cast<int>(S::kF32Lanes);
  table.gemm_tile_bf16 = simd_gemm_tile_bf16<LowpMr, LowpNrVectors>;
  table.panel_sqnorms_bf16 = simd_panel_sqnorms_bf16<LowpNrVectors* static_cast<int>(S::kF32Lanes)>;
  table.gemm_tile_u8s8 = simd_gemm_tile_u8s8<LowpMr, LowpNrVectors>;
  table.affine_s32 = simd_affine_s32;
  table.bf16_probe = simd_bf16_probe;
  table.bf16_probe_ops_per_iteration = kProbeChainsLowp * static_cast<int>(S::kF32Lanes) * 4;
  table.int8_probe = simd_int8_probe;
  table.int8_probe_ops_per_iteration = kProbeChainsLowp * static_cast<int>(S::kF32Lanes) * 8;
  return table;
}
