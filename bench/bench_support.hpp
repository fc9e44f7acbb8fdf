// Shared by the benchmark executables: the FP32 and FP64 FMA peaks of each ISA, measured in
// the same run by the kernel layer's register-only probe (so a fraction of peak
// comes from one run on one machine), and the ISAs worth benchmarking here.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "latent/core/types.hpp"
#include "latent/kernels.hpp"
// Private to the library (not installed): the peak probe is a benchmark aid.
#include "../src/kernels/peak_probe.hpp"

namespace latent_bench {

using latent::kernels::Isa;

/// The executable's own "--name=value" options, taken out of argv before the rest
/// goes to Google Benchmark (which refuses flags it does not know).
class Options {
 public:
  /// Removes the options in `names` from argv (argc shrinks accordingly).
  Options(int& argc, char** argv, const std::vector<std::string>& names) {
    int kept = 0;
    for (int i = 0; i < argc; ++i) {
      const std::string arg = argv[i];
      bool taken = false;
      for (const std::string& name : names) {
        const std::string prefix = "--" + name + "=";
        if (arg.compare(0, prefix.size(), prefix) == 0) {
          values_[name] = arg.substr(prefix.size());
          taken = true;
        }
      }
      if (!taken) argv[kept++] = argv[i];
    }
    argc = kept;
  }
  std::string text(const std::string& name, const std::string& fallback = "") const {
    const auto found = values_.find(name);
    return found == values_.end() ? fallback : found->second;
  }
  std::int64_t integer(const std::string& name, std::int64_t fallback, std::int64_t minimum) const {
    const auto found = values_.find(name);
    return found == values_.end() ? fallback : std::max<std::int64_t>(minimum, std::atoll(found->second.c_str()));
  }

 private:
  std::map<std::string, std::string> values_;
};

/// A [rows x cols] matrix of standard normal values from std::mt19937(seed).
inline latent::RowMatrixf random_normal(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  latent::RowMatrixf m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

/// The instruction mix of a peak: FP32 or FP64 multiply-add, the f32 step of
/// the l1 / linf tiles (subtract, absolute value, add or max), or the dot
/// product of the bf16 / int8 tiles (VDPBF16PS, VPDPBUSD, or the widening steps
/// without them). Rates are operations per second, 2 per lane and step.
enum class Peak { fma_f32, fma_f64, l1_f32, linf_f32, bf16, int8 };

inline const char* peak_name(Peak peak) {
  switch (peak) {
    case Peak::fma_f32:
      return "fma";
    case Peak::fma_f64:
      return "fma_f64";
    case Peak::l1_f32:
      return "l1";
    case Peak::linf_f32:
      return "linf";
    case Peak::bf16:
      return "bf16";
    case Peak::int8:
      return "int8";
  }
  return "?";
}

/// GFLOP/s of one core per ISA and instruction mix, filled in by the peak benchmarks.
inline std::map<std::pair<Isa, Peak>, double>& peak_gflops() {
  static std::map<std::pair<Isa, Peak>, double> peaks;
  return peaks;
}

/// The peak of `isa` for `peak`, or 0 when it was not measured in this run.
inline double peak_of(Isa isa, Peak peak = Peak::fma_f32) {
  const auto found = peak_gflops().find({isa, peak});
  return found == peak_gflops().end() ? 0.0 : found->second;
}

inline std::int64_t run_probe(Peak peak, std::int64_t iterations) {
  namespace probes = latent::kernels::detail;
  switch (peak) {
    case Peak::fma_f32:
      return probes::fma_peak_probe(iterations);
    case Peak::fma_f64:
      return probes::fma_f64_peak_probe(iterations);
    case Peak::l1_f32:
      return probes::distance_peak_probe(false, iterations);
    case Peak::linf_f32:
      return probes::distance_peak_probe(true, iterations);
    case Peak::bf16:
      return probes::low_precision_peak_probe(probes::LowPrecisionProbe::bf16, iterations);
    case Peak::int8:
      return probes::low_precision_peak_probe(probes::LowPrecisionProbe::int8, iterations);
  }
  return 0;
}

inline void BM_peak(benchmark::State& state, Isa isa, Peak peak) {
  latent::kernels::ScopedIsa scoped(isa);
  std::int64_t flops = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) flops += run_probe(peak, 1 << 22);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  peak_gflops()[{isa, peak}] = static_cast<double>(flops) * 1e-9 / seconds;
  state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(flops) * 1e-9, benchmark::Counter::kIsRate);
}

/// The SIMD levels this CPU supports (scalar alone when it has none).
inline std::vector<Isa> simd_isas() {
  std::vector<Isa> isas;
  for (const Isa isa : {Isa::avx2, Isa::avx512})
    if (latent::kernels::is_supported(isa)) isas.push_back(isa);
  if (isas.empty()) isas.push_back(Isa::scalar);
  return isas;
}

/// Registers "peak/<mix>/isa:<name>" for each ISA and instruction mix (FP32 and
/// FP64 FMA by default); run them before anything that reports a fraction of
/// the peak (Google Benchmark runs in registration order).
inline void register_peaks(const std::vector<Isa>& isas,
                           const std::vector<Peak>& peaks = {Peak::fma_f32, Peak::fma_f64}) {
  for (const Isa isa : isas)
    for (const Peak peak : peaks) {
      const std::string name =
          "peak/" + std::string(peak_name(peak)) + "/isa:" + std::string(latent::kernels::to_string(isa));
      benchmark::RegisterBenchmark(name.c_str(), BM_peak, isa, peak)->MinTime(0.2);
    }
}

/// Sets counter `name` to achieved / (peak of `isa` for `peak` x threads).
/// Nothing without a peak.
inline void peak_fraction(benchmark::State& state, const char* name, double achieved_gflops, Isa isa, int threads,
                          Peak peak = Peak::fma_f32) {
  const double found = peak_of(isa, peak);
  if (found <= 0) return;
  state.counters[name] = achieved_gflops / (found * threads);
}

}  // namespace latent_bench
