// Shared by the benchmark executables: the FP32 FMA peak of each ISA, measured in
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

/// FP32 GFLOP/s of one core per ISA, filled in by the peak benchmarks.
inline std::map<Isa, double>& peak_gflops() {
  static std::map<Isa, double> peaks;
  return peaks;
}

inline void BM_peak(benchmark::State& state, Isa isa) {
  latent::kernels::ScopedIsa scoped(isa);
  std::int64_t flops = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) flops += latent::kernels::detail::fma_peak_probe(1 << 22);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  peak_gflops()[isa] = static_cast<double>(flops) * 1e-9 / seconds;
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

/// Registers "peak/fma/isa:<name>" for each ISA; run them before anything that
/// reports a fraction of the peak (Google Benchmark runs in registration order).
inline void register_peaks(const std::vector<Isa>& isas) {
  for (const Isa isa : isas)
    benchmark::RegisterBenchmark(("peak/fma/isa:" + std::string(latent::kernels::to_string(isa))).c_str(), BM_peak,
                                 isa)
        ->MinTime(0.2);
}

/// Sets counter `name` to achieved / (peak of `isa` x threads x lanes_factor);
/// lanes_factor 0.5 for double (half the lanes per vector). Nothing without a peak.
inline void peak_fraction(benchmark::State& state, const char* name, double achieved_gflops, Isa isa, int threads,
                          double lanes_factor = 1.0) {
  const auto found = peak_gflops().find(isa);
  if (found == peak_gflops().end() || found->second <= 0) return;
  state.counters[name] = achieved_gflops / (found->second * lanes_factor * threads);
}

}  // namespace latent_bench
