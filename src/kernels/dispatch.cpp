// ISA detection, the active function table, and the pairwise entry points.
//
// Compiled for the baseline only. Detection asks CPUID for every feature a
// translation unit was compiled with and XGETBV for the register state the OS
// saves (a CPU with AVX-512 under an OS that does not save zmm registers must not
// run AVX-512 code). The table pointer is read with acquire semantics on every
// call, so set_isa takes effect for calls that start after it returns.
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"
#include "latent/kernels/isa.hpp"
#include "latent/kernels/pairwise.hpp"
#include "pair_kernel.hpp"
#include "peak_probe.hpp"
#include "table.hpp"

#if defined(LATENT_KERNELS_X86)
#include <cpuid.h>
#endif

namespace latent::kernels {
namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(LATENT_KERNELS_X86)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(1, 0, eax, ebx, ecx, edx);
  const bool osxsave = (ecx & (1u << 27)) != 0;
  const bool avx = (ecx & (1u << 28)) != 0;
  f.fma = (ecx & (1u << 12)) != 0;
  f.popcnt = (ecx & (1u << 23)) != 0;
  f.f16c = (ecx & (1u << 29)) != 0;
  if (osxsave) {
    unsigned xcr0_low = 0, xcr0_high = 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    f.os_saves_ymm = (xcr0_low & 0x6u) == 0x6u;                      // SSE and AVX state
    f.os_saves_zmm = f.os_saves_ymm && (xcr0_low & 0xe0u) == 0xe0u;  // opmask, zmm0-15 high, zmm16-31
  }
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  f.avx2 = avx && (ebx & (1u << 5)) != 0;
  f.avx512f = (ebx & (1u << 16)) != 0;
  f.avx512dq = (ebx & (1u << 17)) != 0;
  f.avx512bw = (ebx & (1u << 30)) != 0;
  f.avx512vl = (ebx & (1u << 31)) != 0;
  f.avx512_vnni = (ecx & (1u << 11)) != 0;
  f.avx512_vpopcntdq = (ecx & (1u << 14)) != 0;
  f.avx512_fp16 = (edx & (1u << 23)) != 0;
  const unsigned max_subleaf = eax;
  if (max_subleaf >= 1) {
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    f.avx512_bf16 = (eax & (1u << 5)) != 0;
  }
  // The extensions are only usable where AVX-512 itself is.
  const bool zmm = f.os_saves_zmm && f.avx512f;
  f.avx512_vnni = f.avx512_vnni && zmm;
  f.avx512_vpopcntdq = f.avx512_vpopcntdq && zmm;
  f.avx512_fp16 = f.avx512_fp16 && zmm;
  f.avx512_bf16 = f.avx512_bf16 && zmm;
#endif
  return f;
}

const detail::KernelTable* table_for(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return &detail::scalar_table();
#if defined(LATENT_KERNELS_X86)
    case Isa::avx2:
      return &detail::avx2_table();
    case Isa::avx512:
      return &detail::avx512_table();
#else
    default:
      break;
#endif
  }
  return nullptr;
}

std::atomic<const detail::KernelTable*> g_table{nullptr};
std::atomic<Isa> g_isa{Isa::scalar};

// The initial choice: LATENT_ISA when set (validated), otherwise the best level.
// A throwing initialisation is retried at the next call.
const detail::KernelTable& initial_table() {
  static const detail::KernelTable* const chosen = [] {
    Isa isa = best_isa();
    const char* request = std::getenv("LATENT_ISA");
    if (request != nullptr && *request != '\0') {
      isa = parse_isa(request, "LATENT_ISA");
      if (!is_supported(isa)) {
        raise<UnsupportedIsa>("kernels", "LATENT_ISA",
                              "'" + std::string(request) + "' is not supported by this CPU or build",
                              "best supported: " + std::string(to_string(best_isa())));
      }
    }
    g_isa.store(isa, std::memory_order_relaxed);
    return table_for(isa);
  }();
  return *chosen;
}

}  // namespace

namespace detail {
const KernelTable& active_table() {
  const KernelTable* table = g_table.load(std::memory_order_acquire);
  if (table != nullptr) return *table;
  const KernelTable& initial = initial_table();
  const KernelTable* expected = nullptr;
  g_table.compare_exchange_strong(expected, &initial, std::memory_order_acq_rel);
  return *g_table.load(std::memory_order_acquire);
}
}  // namespace detail

namespace {
constexpr NamedValue<Isa> kIsaNames[] = {{"scalar", Isa::scalar}, {"avx2", Isa::avx2}, {"avx512", Isa::avx512}};
}  // namespace

std::string_view to_string(Isa isa) { return name_of(kIsaNames, isa); }

Isa parse_isa(std::string_view name, std::string_view argument) {
  return parse_name<UnsupportedIsa>(kIsaNames, name, "parse_isa", argument, "instruction set");
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

bool is_supported(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::scalar:
      return true;
#if defined(LATENT_KERNELS_X86)
    case Isa::avx2:
      return f.os_saves_ymm && f.avx2 && f.fma && f.f16c && f.popcnt;
    case Isa::avx512:
      return is_supported(Isa::avx2) && f.os_saves_zmm && f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl;
#endif
    default:
      (void)f;
      return false;
  }
}

Isa best_isa() {
  if (is_supported(Isa::avx512)) return Isa::avx512;
  if (is_supported(Isa::avx2)) return Isa::avx2;
  return Isa::scalar;
}

Isa active_isa() {
  detail::active_table();
  return g_isa.load(std::memory_order_acquire);
}

void set_isa(Isa isa) {
  if (!is_supported(isa)) {
    raise<UnsupportedIsa>("set_isa", "isa",
                          "'" + std::string(to_string(isa)) + "' is not supported by this CPU or build",
                          "best supported: " + std::string(to_string(best_isa())));
  }
  g_isa.store(isa, std::memory_order_release);
  g_table.store(table_for(isa), std::memory_order_release);
}

std::string capabilities() {
  const CpuFeatures& f = cpu_features();
  std::string features;
  auto add = [&](bool present, const char* name) {
    if (present) features += std::string(features.empty() ? "" : " ") + name;
  };
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.f16c, "f16c");
  add(f.popcnt, "popcnt");
  add(f.avx512f, "avx512f");
  add(f.avx512dq, "avx512dq");
  add(f.avx512bw, "avx512bw");
  add(f.avx512vl, "avx512vl");
  add(f.avx512_vnni, "avx512_vnni");
  add(f.avx512_bf16, "avx512_bf16");
  add(f.avx512_fp16, "avx512_fp16");
  add(f.avx512_vpopcntdq, "avx512_vpopcntdq");
  if (features.empty()) features = "baseline only";
  return std::string(to_string(active_isa())) + " (best " + std::string(to_string(best_isa())) + "; cpu " + features +
         ")";
}

namespace detail {

namespace {

// Runs one of the active table's register-only probes (checksum kept from the
// optimiser) and returns the operations it did.
template <class Probe>
std::int64_t run_probe(const char* function, std::int64_t iterations, Probe probe, int ops_per_iteration) {
  if (iterations < 0) {
    raise<InvalidArgument>(function, "iterations", "must be >= 0", "iterations=" + std::to_string(iterations));
  }
  volatile auto sink = probe(static_cast<std::size_t>(iterations));
  (void)sink;
  return iterations * ops_per_iteration;
}

}  // namespace

std::int64_t fma_peak_probe(std::int64_t iterations) {
  const KernelTable& table = active_table();
  return run_probe("fma_peak_probe", iterations, table.fma_probe, table.fma_probe_flops_per_iteration);
}

std::int64_t fma_f64_peak_probe(std::int64_t iterations) {
  const KernelTable& table = active_table();
  return run_probe("fma_f64_peak_probe", iterations, table.fma_probe_f64, table.fma_probe_f64_flops_per_iteration);
}

std::int64_t distance_peak_probe(bool maximum, std::int64_t iterations) {
  const KernelTable& table = active_table();
  return run_probe("distance_peak_probe", iterations, maximum ? table.linf_probe : table.l1_probe,
                   table.distance_probe_ops_per_iteration);
}

std::int64_t low_precision_peak_probe(LowPrecisionProbe kind, std::int64_t iterations) {
  const KernelTable& table = active_table();
  if (kind == LowPrecisionProbe::bf16) {
    return run_probe("low_precision_peak_probe", iterations, table.bf16_probe, table.bf16_probe_ops_per_iteration);
  }
  return run_probe("low_precision_peak_probe", iterations, table.int8_probe, table.int8_probe_ops_per_iteration);
}

}  // namespace detail

// ---------------------------------------------------------------- pairs

namespace {
const detail::KernelTable& table() { return detail::active_table(); }

const std::uint16_t* bits_of(const Float16* p) { return reinterpret_cast<const std::uint16_t*>(p); }
const std::uint16_t* bits_of(const BFloat16* p) { return reinterpret_cast<const std::uint16_t*>(p); }

void require_int8_dim(std::string_view function, std::size_t dim) {
  if (dim > kMaxInt8Dim) {
    raise<InvalidArgument>(function, "dim", "too large for exact int32 sums",
                           "dim=" + std::to_string(dim) + ", limit " + std::to_string(kMaxInt8Dim));
  }
}
}  // namespace

float dot_f32(const float* a, const float* b, std::size_t dim) { return table().dot_f32(a, b, dim); }
float sqeuclidean_f32(const float* a, const float* b, std::size_t dim) { return table().sqeuclidean_f32(a, b, dim); }
float l1_f32(const float* a, const float* b, std::size_t dim) { return table().l1_f32(a, b, dim); }
float linf_f32(const float* a, const float* b, std::size_t dim) { return table().linf_f32(a, b, dim); }
float cosine_f32(const float* a, const float* b, std::size_t dim) { return table().cosine_f32(a, b, dim); }
double dot_f64(const double* a, const double* b, std::size_t dim) { return table().dot_f64(a, b, dim); }
double dot_f32_wide(const float* a, const float* b, std::size_t dim) { return table().dot_f32_wide(a, b, dim); }
double sqeuclidean_f32_wide(const float* a, const float* b, std::size_t dim) {
  return table().sqeuclidean_f32_wide(a, b, dim);
}
double l1_f32_wide(const float* a, const float* b, std::size_t dim) { return table().l1_f32_wide(a, b, dim); }
double sqeuclidean_f64(const double* a, const double* b, std::size_t dim) { return table().sqeuclidean_f64(a, b, dim); }
double l1_f64(const double* a, const double* b, std::size_t dim) { return table().l1_f64(a, b, dim); }
double linf_f64(const double* a, const double* b, std::size_t dim) { return table().linf_f64(a, b, dim); }
double cosine_f64(const double* a, const double* b, std::size_t dim) { return table().cosine_f64(a, b, dim); }

float dot_f16(const Float16* a, const Float16* b, std::size_t dim) {
  return table().dot_f16(bits_of(a), bits_of(b), dim);
}
float sqeuclidean_f16(const Float16* a, const Float16* b, std::size_t dim) {
  return table().sqeuclidean_f16(bits_of(a), bits_of(b), dim);
}
float dot_bf16(const BFloat16* a, const BFloat16* b, std::size_t dim) {
  return table().dot_bf16(bits_of(a), bits_of(b), dim);
}
float sqeuclidean_bf16(const BFloat16* a, const BFloat16* b, std::size_t dim) {
  return table().sqeuclidean_bf16(bits_of(a), bits_of(b), dim);
}

std::int32_t dot_i8(const std::int8_t* a, const std::int8_t* b, std::size_t dim) {
  require_int8_dim("dot_i8", dim);
  return table().dot_i8(a, b, dim);
}
std::int32_t sqeuclidean_i8(const std::int8_t* a, const std::int8_t* b, std::size_t dim) {
  require_int8_dim("sqeuclidean_i8", dim);
  return table().sqeuclidean_i8(a, b, dim);
}

std::uint64_t hamming_b1(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  return table().hamming_b1(a, b, bytes);
}

double jaccard_b1(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  std::uint64_t both = 0, either = 0;
  table().intersection_union_b1(a, b, bytes, &both, &either);
  return either == 0 ? 0.0 : 1.0 - static_cast<double>(both) / static_cast<double>(either);
}

// ---------------------------------------------------------------- pair selection

PairKernelF32 pair_kernel_f32(Metric metric) { return detail::pair_kernel<float>(table(), metric); }
PairKernelF64 pair_kernel_f64(Metric metric) { return detail::pair_kernel<double>(table(), metric); }

namespace {
// A pair kernel's value in the metric's units (see pair_kernel_f32).
template <class T>
T in_metric_units(Metric metric, T value) {
  if (metric == Metric::l2) return std::sqrt(value);
  if (metric == Metric::angular) return static_cast<T>(angular_from_cosine(value));
  return value;
}
}  // namespace

float pair_score(Metric metric, const float* a, const float* b, std::size_t dim) {
  return in_metric_units(metric, pair_kernel_f32(metric)(a, b, dim));
}
double pair_score(Metric metric, const double* a, const double* b, std::size_t dim) {
  return in_metric_units(metric, pair_kernel_f64(metric)(a, b, dim));
}

// ---------------------------------------------------------------- one / many

namespace {

template <class T>
void one_to_many_impl(Metric metric, const T* query, const MatrixView<T>& rows, T* out) {
  if (rows.rows > 0 && (query == nullptr || out == nullptr || rows.data == nullptr)) {
    raise<InvalidArgument>("one_to_many", query == nullptr ? "query" : (out == nullptr ? "out" : "rows"), "is null");
  }
  const auto kernel = detail::pair_kernel<T>(table(), metric);
  const auto dim = static_cast<std::size_t>(rows.cols);
  for (std::int64_t i = 0; i < rows.rows; ++i) {
    out[i] = in_metric_units(metric, kernel(query, rows.row(i), dim));
  }
}

template <class T>
void many_to_many_impl(Metric metric, const MatrixView<T>& a, const MatrixView<T>& b, T* out, std::int64_t ld_out) {
  require_same_dim("many_to_many", "a", a.cols, "b", b.cols);
  if (ld_out < b.rows) {
    raise<InvalidArgument>("many_to_many", "ld_out", "is smaller than the rows of b",
                           "ld_out=" + std::to_string(ld_out) + ", b.rows=" + std::to_string(b.rows));
  }
  if (a.rows > 0 && b.rows > 0 && out == nullptr) raise<InvalidArgument>("many_to_many", "out", "is null");
  for (std::int64_t i = 0; i < a.rows; ++i) one_to_many_impl(metric, a.row(i), b, out + i * ld_out);
}

}  // namespace

void one_to_many(Metric metric, const float* query, const MatrixView<float>& rows, float* out) {
  one_to_many_impl(metric, query, rows, out);
}
void one_to_many(Metric metric, const double* query, const MatrixView<double>& rows, double* out) {
  one_to_many_impl(metric, query, rows, out);
}
void many_to_many(Metric metric, const MatrixView<float>& a, const MatrixView<float>& b, float* out,
                  std::int64_t ld_out) {
  many_to_many_impl(metric, a, b, out, ld_out);
}
void many_to_many(Metric metric, const MatrixView<double>& a, const MatrixView<double>& b, double* out,
                  std::int64_t ld_out) {
  many_to_many_impl(metric, a, b, out, ld_out);
}

}  // namespace latent::kernels
