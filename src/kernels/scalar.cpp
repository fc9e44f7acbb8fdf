// Scalar kernels: the reference every SIMD level is tested against, and the
// fallback on CPUs without AVX2 (LATENT_ISA=scalar forces it).
//
// Numerical policy: f32 and f64 sums use 8 independent accumulators combined
// pairwise at the end (the same association as the SIMD lanes would give is not
// promised; each ISA is deterministic on its own). Low-precision inputs are
// widened exactly to f32 (f16, bf16) or accumulated exactly in int32 (int8).
// No fused multiply-add: baseline x86-64 has none, and the build never contracts.
// Everything here has internal linkage except the table accessor.
#include <cmath>
#include <cstring>

#include "table.hpp"

namespace latent::kernels::detail {
namespace {

constexpr int kLanes = 8;

template <class T>
T dot(const T* a, const T* b, std::size_t dim) {
  T acc[kLanes] = {};
  std::size_t p = 0;
  for (; p + kLanes <= dim; p += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += a[p + l] * b[p + l];
  for (int l = 0; p < dim; ++p, ++l) acc[l] += a[p] * b[p];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <class T>
T sqeuclidean(const T* a, const T* b, std::size_t dim) {
  T acc[kLanes] = {};
  std::size_t p = 0;
  for (; p + kLanes <= dim; p += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const T diff = a[p + l] - b[p + l];
      acc[l] += diff * diff;
    }
  for (int l = 0; p < dim; ++p, ++l) {
    const T diff = a[p] - b[p];
    acc[l] += diff * diff;
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <class T>
T l1(const T* a, const T* b, std::size_t dim) {
  T acc[kLanes] = {};
  std::size_t p = 0;
  for (; p + kLanes <= dim; p += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += std::fabs(a[p + l] - b[p + l]);
  for (int l = 0; p < dim; ++p, ++l) acc[l] += std::fabs(a[p] - b[p]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <class T>
T linf(const T* a, const T* b, std::size_t dim) {
  T best = 0;
  for (std::size_t p = 0; p < dim; ++p) {
    const T diff = std::fabs(a[p] - b[p]);
    best = diff > best ? diff : best;
  }
  return best;
}

template <class T>
T cosine(const T* a, const T* b, std::size_t dim) {
  T ab[kLanes] = {}, aa[kLanes] = {}, bb[kLanes] = {};
  std::size_t p = 0;
  for (; p + kLanes <= dim; p += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      ab[l] += a[p + l] * b[p + l];
      aa[l] += a[p + l] * a[p + l];
      bb[l] += b[p + l] * b[p + l];
    }
  for (int l = 0; p < dim; ++p, ++l) {
    ab[l] += a[p] * b[p];
    aa[l] += a[p] * a[p];
    bb[l] += b[p] * b[p];
  }
  auto total = [](const T* acc) {
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  };
  const T dot_ab = total(ab), norm_a = total(aa), norm_b = total(bb);
  if (norm_a == 0 || norm_b == 0) return 0;
  const T value = dot_ab / std::sqrt(norm_a * norm_b);
  // Rounding can push |cos| a little past 1.
  return value > 1 ? T(1) : (value < -1 ? T(-1) : value);
}

float dot_f32(const float* a, const float* b, std::size_t dim) { return dot(a, b, dim); }
float sqeuclidean_f32(const float* a, const float* b, std::size_t dim) { return sqeuclidean(a, b, dim); }
float l1_f32(const float* a, const float* b, std::size_t dim) { return l1(a, b, dim); }
float linf_f32(const float* a, const float* b, std::size_t dim) { return linf(a, b, dim); }
float cosine_f32(const float* a, const float* b, std::size_t dim) { return cosine(a, b, dim); }
double dot_f64(const double* a, const double* b, std::size_t dim) { return dot(a, b, dim); }
double sqeuclidean_f64(const double* a, const double* b, std::size_t dim) { return sqeuclidean(a, b, dim); }
double l1_f64(const double* a, const double* b, std::size_t dim) { return l1(a, b, dim); }
double linf_f64(const double* a, const double* b, std::size_t dim) { return linf(a, b, dim); }
double cosine_f64(const double* a, const double* b, std::size_t dim) { return cosine(a, b, dim); }

// ---- f32 pairs summed in double: 4 accumulators, each step rounded apart
// (a float product is exact in double, so only the squared difference differs
// from the SIMD units' fused multiply-add)

template <class Step>
double wide(const float* a, const float* b, std::size_t dim, Step step) {
  double acc[4] = {0, 0, 0, 0};
  std::size_t p = 0;
  for (; p + 4 <= dim; p += 4)
    for (int l = 0; l < 4; ++l) acc[l] = step(acc[l], static_cast<double>(a[p + l]), static_cast<double>(b[p + l]));
  for (; p < dim; ++p) acc[0] = step(acc[0], static_cast<double>(a[p]), static_cast<double>(b[p]));
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

double dot_f32_wide(const float* a, const float* b, std::size_t dim) {
  return wide(a, b, dim, [](double acc, double x, double y) { return acc + x * y; });
}
double sqeuclidean_f32_wide(const float* a, const float* b, std::size_t dim) {
  return wide(a, b, dim, [](double acc, double x, double y) { return acc + (x - y) * (x - y); });
}
double l1_f32_wide(const float* a, const float* b, std::size_t dim) {
  return wide(a, b, dim, [](double acc, double x, double y) { return acc + std::fabs(x - y); });
}

// ---- low precision

// IEEE binary16 -> binary32, exact (every half is a float).
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits = 0;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // Inf or NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa != 0) {  // subnormal: normalise
    exponent = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  } else {
    bits = sign;
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

float bf16_to_float(std::uint16_t h) {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

template <float (*Widen)(std::uint16_t)>
float dot_16(const std::uint16_t* a, const std::uint16_t* b, std::size_t dim) {
  float acc[kLanes] = {};
  std::size_t p = 0;
  for (; p + kLanes <= dim; p += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += Widen(a[p + l]) * Widen(b[p + l]);
  for (int l = 0; p < dim; ++p, ++l) acc[l] += Widen(a[p]) * Widen(b[p]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <float (*Widen)(std::uint16_t)>
float sqeuclidean_16(const std::uint16_t* a, const std::uint16_t* b, std::size_t dim) {
  float acc[kLanes] = {};
  std::size_t p = 0;
  for (; p + kLanes <= dim; p += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const float diff = Widen(a[p + l]) - Widen(b[p + l]);
      acc[l] += diff * diff;
    }
  for (int l = 0; p < dim; ++p, ++l) {
    const float diff = Widen(a[p]) - Widen(b[p]);
    acc[l] += diff * diff;
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

std::int32_t dot_i8(const std::int8_t* a, const std::int8_t* b, std::size_t dim) {
  std::int32_t acc = 0;
  for (std::size_t p = 0; p < dim; ++p) acc += static_cast<std::int32_t>(a[p]) * static_cast<std::int32_t>(b[p]);
  return acc;
}

std::int32_t sqeuclidean_i8(const std::int8_t* a, const std::int8_t* b, std::size_t dim) {
  std::int32_t acc = 0;
  for (std::size_t p = 0; p < dim; ++p) {
    const std::int32_t diff = static_cast<std::int32_t>(a[p]) - static_cast<std::int32_t>(b[p]);
    acc += diff * diff;
  }
  return acc;
}

std::uint64_t popcount64(std::uint64_t x) { return static_cast<std::uint64_t>(__builtin_popcountll(x)); }

std::uint64_t load_u64(const std::uint8_t* p) {
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}

std::uint64_t hamming_b1(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  std::uint64_t count = 0;
  std::size_t i = 0;
  for (; i + 8 <= bytes; i += 8) count += popcount64(load_u64(a + i) ^ load_u64(b + i));
  for (; i < bytes; ++i) count += popcount64(static_cast<std::uint64_t>(a[i] ^ b[i]));
  return count;
}

void intersection_union_b1(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes, std::uint64_t* intersection,
                           std::uint64_t* union_count) {
  std::uint64_t both = 0, either = 0;
  std::size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    const std::uint64_t x = load_u64(a + i), y = load_u64(b + i);
    both += popcount64(x & y);
    either += popcount64(x | y);
  }
  for (; i < bytes; ++i) {
    both += popcount64(static_cast<std::uint64_t>(a[i] & b[i]));
    either += popcount64(static_cast<std::uint64_t>(a[i] | b[i]));
  }
  *intersection = both;
  *union_count = either;
}

void hamming_many_b1(const std::uint8_t* query, const std::uint8_t* base, std::size_t stride_bytes, std::size_t rows,
                     std::size_t bytes, std::uint32_t* out) {
  for (std::size_t r = 0; r < rows; ++r)
    out[r] = static_cast<std::uint32_t>(hamming_b1(query, base + r * stride_bytes, bytes));
}

// ---- GEMM path (f32 and f64): products and sums rounded apart, no FMA

constexpr int kMr = 4;
constexpr int kNr = 8;

template <int Lanes, class T>
void pack(const T* src, std::size_t stride, std::size_t rows, std::size_t dim, T* out) {
  for (std::size_t p = 0; p < dim; ++p)
    for (std::size_t r = 0; r < static_cast<std::size_t>(Lanes); ++r)
      out[p * Lanes + r] = r < rows ? src[r * stride + p] : T(0);
}

template <class T>
void gemm_tile(std::size_t depth, const T* a_panel, const T* b_panel, T* c, std::size_t ldc, bool accumulate) {
  T acc[kMr][kNr];
  for (int i = 0; i < kMr; ++i)
    for (int j = 0; j < kNr; ++j) acc[i][j] = accumulate ? c[static_cast<std::size_t>(i) * ldc + j] : T(0);
  for (std::size_t p = 0; p < depth; ++p) {
    const T* a = a_panel + p * kMr;
    const T* b = b_panel + p * kNr;
    for (int i = 0; i < kMr; ++i)
      for (int j = 0; j < kNr; ++j) acc[i][j] += a[i] * b[j];
  }
  for (int i = 0; i < kMr; ++i)
    for (int j = 0; j < kNr; ++j) c[static_cast<std::size_t>(i) * ldc + j] = acc[i][j];
}

// Partial panels compute all kMr rows: the extra rows are zeros and unused.
template <class T>
void gemm_tile_rows(std::size_t depth, std::size_t, const T* a_panel, const T* b_panel, T* c, std::size_t ldc,
                    bool accumulate) {
  gemm_tile(depth, a_panel, b_panel, c, ldc, accumulate);
}

// Row norms from a packed panel with the GEMM's own chain (acc += x * x).
template <int Lanes, class T>
void panel_sqnorms(const T* panel, std::size_t dim, T* out, bool accumulate) {
  T acc[Lanes];
  for (int r = 0; r < Lanes; ++r) acc[r] = accumulate ? out[r] : T(0);
  for (std::size_t p = 0; p < dim; ++p)
    for (int r = 0; r < Lanes; ++r) acc[r] += panel[p * Lanes + r] * panel[p * Lanes + r];
  for (int r = 0; r < Lanes; ++r) out[r] = acc[r];
}

template <class T>
void finish_block(MetricCode metric, T* c, std::size_t rows, std::size_t cols, std::size_t ldc, const T* row_norms,
                  const T* col_norms) {
  for (std::size_t i = 0; i < rows; ++i) {
    T* row = c + i * ldc;
    const T q = row_norms[i];
    switch (metric) {
      case MetricCode::cosine:
        for (std::size_t j = 0; j < cols; ++j) {
          const T value = row[j] * (q * col_norms[j]);  // symmetric in q and b
          row[j] = value > T(1) ? T(1) : (value < T(-1) ? T(-1) : value);
        }
        break;
      case MetricCode::l2:
      case MetricCode::sqeuclidean:
        for (std::size_t j = 0; j < cols; ++j) {
          const T value = (q + col_norms[j]) - T(2) * row[j];
          const T clamped = value < T(0) ? T(0) : value;
          row[j] = metric == MetricCode::l2 ? std::sqrt(clamped) : clamped;
        }
        break;
      default:
        break;
    }
  }
}

// l1 (Max = false) or linf (Max = true): a chain of |a - b| over p per element.
template <class T, bool Max>
void distance_tile(std::size_t depth, const T* a_panel, const T* b_panel, T* c, std::size_t ldc, bool accumulate) {
  for (int i = 0; i < kMr; ++i)
    for (int j = 0; j < kNr; ++j) {
      T acc = accumulate ? c[static_cast<std::size_t>(i) * ldc + j] : T(0);
      for (std::size_t p = 0; p < depth; ++p) {
        const T distance = std::fabs(a_panel[p * kMr + i] - b_panel[p * kNr + j]);
        acc = Max ? (distance > acc ? distance : acc) : acc + distance;
      }
      c[static_cast<std::size_t>(i) * ldc + j] = acc;
    }
}

template <class T>
GemmKernels<T> gemm_kernels() {
  return {kMr,
          kNr,
          pack<kMr, T>,
          pack<kNr, T>,
          gemm_tile<T>,
          gemm_tile_rows<T>,
          panel_sqnorms<kMr, T>,
          panel_sqnorms<kNr, T>,
          finish_block<T>,
          distance_tile<T, false>,
          distance_tile<T, true>};
}

// ---- f64 cross-products

constexpr int kCrossprodMr = 4;
constexpr int kCrossprodNr = 8;

void crossprod_tile(std::size_t depth, const double* a_panel, const double* b_panel, double* c, std::size_t ldc) {
  double acc[kCrossprodMr][kCrossprodNr];
  for (int i = 0; i < kCrossprodMr; ++i)
    for (int j = 0; j < kCrossprodNr; ++j) acc[i][j] = c[static_cast<std::size_t>(i) * ldc + j];
  for (std::size_t r = 0; r < depth; ++r) {
    const double* a = a_panel + r * kCrossprodNr;
    const double* b = b_panel + r * kCrossprodNr;
    for (int i = 0; i < kCrossprodMr; ++i)
      for (int j = 0; j < kCrossprodNr; ++j) acc[i][j] += a[i] * b[j];
  }
  for (int i = 0; i < kCrossprodMr; ++i)
    for (int j = 0; j < kCrossprodNr; ++j) c[static_cast<std::size_t>(i) * ldc + j] = acc[i][j];
}

// ---- batched low precision: the references of the SIMD tiles

constexpr int kLowpMr = 4;
constexpr int kLowpNr = 8;

// bf16 pair step in VDPBF16PS's order: odd product, then even. Each product is
// exact in f32, so a * b + acc rounds once, as the SIMD FMAs do. The pair is
// read as one 32-bit word and split as the SIMD tiles split their lanes: GCC 12
// at -O3 miscompiles the loops below when they widen 16-bit loads one by one
// (a product counted twice from the third pair on).
float bits_to_float(std::uint32_t bits) {
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

float bf16_pair_step(float acc, const std::uint16_t* a, const std::uint16_t* b) {
  std::uint32_t x, y;
  std::memcpy(&x, a, 4);
  std::memcpy(&y, b, 4);
  acc += bits_to_float(x & 0xffff0000u) * bits_to_float(y & 0xffff0000u);
  return acc + bits_to_float(x << 16) * bits_to_float(y << 16);
}

void gemm_tile_bf16(std::size_t pairs, const std::uint16_t* a_panel, const std::uint16_t* b_panel, float* c,
                    std::size_t ldc, bool accumulate) {
  float acc[kLowpMr][kLowpNr];
  for (int i = 0; i < kLowpMr; ++i)
    for (int j = 0; j < kLowpNr; ++j) acc[i][j] = accumulate ? c[static_cast<std::size_t>(i) * ldc + j] : 0.0f;
  for (std::size_t t = 0; t < pairs; ++t) {
    const std::uint16_t* a = a_panel + t * kLowpMr * 2;
    const std::uint16_t* b = b_panel + t * kLowpNr * 2;
    for (int i = 0; i < kLowpMr; ++i)
      for (int j = 0; j < kLowpNr; ++j) acc[i][j] = bf16_pair_step(acc[i][j], a + i * 2, b + j * 2);
  }
  for (int i = 0; i < kLowpMr; ++i)
    for (int j = 0; j < kLowpNr; ++j) c[static_cast<std::size_t>(i) * ldc + j] = acc[i][j];
}

void panel_sqnorms_bf16(const std::uint16_t* panel, std::size_t pairs, float* out) {
  float acc[kLowpNr] = {};
  for (std::size_t t = 0; t < pairs; ++t)
    for (int r = 0; r < kLowpNr; ++r)
      acc[r] = bf16_pair_step(acc[r], panel + (t * kLowpNr + r) * 2, panel + (t * kLowpNr + r) * 2);
  for (int r = 0; r < kLowpNr; ++r) out[r] = acc[r];
}

void gemm_tile_u8s8(std::size_t quads, const std::uint8_t* a_panel, const std::int8_t* b_panel, std::int32_t* c,
                    std::size_t ldc, bool accumulate) {
  for (int i = 0; i < kLowpMr; ++i)
    for (int j = 0; j < kLowpNr; ++j) {
      std::int32_t acc = accumulate ? c[static_cast<std::size_t>(i) * ldc + j] : 0;
      for (std::size_t q = 0; q < quads; ++q)
        for (int t = 0; t < 4; ++t)
          acc += static_cast<std::int32_t>(a_panel[(q * kLowpMr + i) * 4 + t]) *
                 static_cast<std::int32_t>(b_panel[(q * kLowpNr + j) * 4 + t]);
      c[static_cast<std::size_t>(i) * ldc + j] = acc;
    }
}

void affine_s32(const std::int32_t* c, const float* sums, std::size_t cols, float offset, float scale, float shift,
                float* out) {
  for (std::size_t j = 0; j < cols; ++j) out[j] = (offset + shift * sums[j]) + scale * static_cast<float>(c[j]);
}

float bf16_probe(std::size_t iterations) {
  const std::uint16_t one[2] = {0x3f80, 0x3f80};
  float acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = static_cast<float>(i) * 1e-3f;
  for (std::size_t it = 0; it < iterations; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = bf16_pair_step(acc[i], one, one);
  float total = 0;
  for (int i = 0; i < 12; ++i) total += acc[i];
  return total;
}

std::int32_t int8_probe(std::size_t iterations) {
  const std::uint8_t a[4] = {1, 1, 1, 1};
  const std::int8_t b[4] = {-1, 1, -1, 1};
  std::int32_t acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = i;
  for (std::size_t it = 0; it < iterations; ++it)
    for (int i = 0; i < 12; ++i)
      for (int t = 0; t < 4; ++t) acc[i] += a[t] * b[t];
  std::int32_t total = 0;
  for (int i = 0; i < 12; ++i) total += acc[i];
  return total;
}

// The l1 / linf step on 6 chains, each with its own subtrahend (2 operations
// counted per step).
template <bool Max>
float distance_probe(std::size_t iterations) {
  float acc[6] = {};
  volatile float x = 0.5f;
  for (std::size_t it = 0; it < iterations; ++it) {
    const float value = x;
    for (int i = 0; i < 6; ++i) {
      const float distance = std::fabs(value - 0.125f * static_cast<float>(i + 1));
      acc[i] = Max ? (distance > acc[i] ? distance : acc[i]) : acc[i] + distance;
    }
  }
  float total = 0;
  for (int i = 0; i < 6; ++i) total += acc[i];
  return total;
}

// The peak probes: 12 independent multiply-add chains (2 flops each per step).
template <class T>
T fma_probe(std::size_t iterations) {
  T acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = static_cast<T>(i) * T(1e-3);
  for (std::size_t it = 0; it < iterations; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = acc[i] * T(0.999999) + T(1e-7);
  T total = 0;
  for (int i = 0; i < 12; ++i) total += acc[i];
  return total;
}

KernelTable make_table() {
  KernelTable table{};
  table.name = "scalar";
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
  table.dot_f16 = dot_16<half_to_float>;
  table.sqeuclidean_f16 = sqeuclidean_16<half_to_float>;
  table.dot_bf16 = dot_16<bf16_to_float>;
  table.sqeuclidean_bf16 = sqeuclidean_16<bf16_to_float>;
  table.dot_i8 = dot_i8;
  table.sqeuclidean_i8 = sqeuclidean_i8;
  table.hamming_b1 = hamming_b1;
  table.intersection_union_b1 = intersection_union_b1;
  table.gemm_f32 = gemm_kernels<float>();
  table.gemm_f64 = gemm_kernels<double>();
  table.fma_probe = fma_probe<float>;
  table.fma_probe_f64 = fma_probe<double>;
  table.fma_probe_flops_per_iteration = 24;
  table.fma_probe_f64_flops_per_iteration = 24;
  table.l1_probe = distance_probe<false>;
  table.linf_probe = distance_probe<true>;
  table.distance_probe_ops_per_iteration = 12;
  table.crossprod_mr = kCrossprodMr;
  table.crossprod_nr = kCrossprodNr;
  table.crossprod_tile_f64 = crossprod_tile;
  table.hamming_many_b1 = hamming_many_b1;
  table.lowp_mr = kLowpMr;
  table.lowp_nr = kLowpNr;
  table.gemm_tile_bf16 = gemm_tile_bf16;
  table.panel_sqnorms_bf16 = panel_sqnorms_bf16;
  table.gemm_tile_u8s8 = gemm_tile_u8s8;
  table.affine_s32 = affine_s32;
  table.bf16_probe = bf16_probe;
  table.bf16_probe_ops_per_iteration = 48;
  table.int8_probe = int8_probe;
  table.int8_probe_ops_per_iteration = 96;
  return table;
}

}  // namespace

const KernelTable& scalar_table() {
  static const KernelTable table = make_table();
  return table;
}

}  // namespace latent::kernels::detail
