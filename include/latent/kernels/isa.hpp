// latent/kernels/isa.hpp - which instruction set the kernels use, chosen at run time.
//
// The library is built for baseline x86-64; the SIMD kernels live in separate
// translation units (scalar, avx2 = AVX2 + FMA + F16C + POPCNT, avx512 = AVX-512
// F/DQ/BW/VL, plus VNNI / BF16 / VPOPCNTDQ kernels where the CPU has them). The
// first kernel call picks the best level the CPU and the OS support (CPUID for the
// features, XGETBV for the register state the OS saves), unless the environment
// variable LATENT_ISA=scalar|avx2|avx512 asks for a level: an unknown or
// unsupported value throws UnsupportedIsa at that first call. Results are
// deterministic for a given level; different levels may differ in the last bits
// (fused multiply-add, summation order).
#pragma once

#include <string>
#include <string_view>

namespace latent::kernels {

/// The kernel levels, from the portable fallback up.
enum class Isa { scalar, avx2, avx512 };

/// "scalar", "avx2", "avx512".
std::string_view to_string(Isa isa);
/// Parses a level name; throws `UnsupportedIsa` naming `argument` for an unknown name.
Isa parse_isa(std::string_view name, std::string_view argument = "isa");

/// What the CPU (CPUID) and the OS (XGETBV) support.
struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, popcnt = false;
  bool avx512f = false, avx512dq = false, avx512bw = false, avx512vl = false;
  bool avx512_vnni = false, avx512_bf16 = false, avx512_fp16 = false, avx512_vpopcntdq = false;
  bool os_saves_ymm = false;  ///< XCR0 bits 1-2: the OS preserves AVX state
  bool os_saves_zmm = false;  ///< XCR0 bits 5-7: the OS preserves AVX-512 state
};

/// The features of this machine (detected once).
const CpuFeatures& cpu_features();
/// Whether this build and this machine can run `isa`.
bool is_supported(Isa isa);
/// The best level this machine supports.
Isa best_isa();
/// The level in use (the first call reads LATENT_ISA and may throw UnsupportedIsa).
Isa active_isa();
/// Switches every kernel to `isa`; throws `UnsupportedIsa` if the machine lacks it.
/// Meant for tests and benchmarks: not to be called while other threads run kernels.
void set_isa(Isa isa);

/// Sets a level for a scope and restores the previous one (tests, benchmarks).
class ScopedIsa {
 public:
  explicit ScopedIsa(Isa isa) : previous_(active_isa()) { set_isa(isa); }
  ~ScopedIsa() { set_isa(previous_); }
  ScopedIsa(const ScopedIsa&) = delete;
  ScopedIsa& operator=(const ScopedIsa&) = delete;

 private:
  Isa previous_;
};

/// One line for humans and `latent info`: the active level, the best supported
/// level, and the CPU features, e.g. "avx512 (best avx512; cpu avx2 fma ... vnni bf16)".
std::string capabilities();

}  // namespace latent::kernels
