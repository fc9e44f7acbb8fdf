// The project's seeded random stream (private): SplitMix64 (Steele, Lea & Flood
// 2014). One generator for every seeded choice (anchor sampling, minibatch
// shuffles, random projections), so that a seed means the same stream everywhere and results do not
// depend on the standard library's distributions, which differ between vendors.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace latent::detail {

struct SplitMix64 {
  std::uint64_t state;
  double spare = 0;
  bool has_spare = false;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform in [0, n) (n >= 1), by rejection (no modulo bias).
  std::int64_t below(std::int64_t n) {
    const auto range = static_cast<std::uint64_t>(n);
    const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % range);
    std::uint64_t value = next();
    while (value >= limit) value = next();
    return static_cast<std::int64_t>(value % range);
  }
  /// Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal() {
    if (has_spare) {
      has_spare = false;
      return spare;
    }
    const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));  // 1 - u in (0, 1]
    const double angle = 2.0 * 3.14159265358979323846 * uniform();
    spare = radius * std::sin(angle);
    has_spare = true;
    return radius * std::cos(angle);
  }
  /// The first `count` entries of a uniform random permutation of 0..n-1
  /// (partial Fisher-Yates), in drawn order.
  std::vector<std::int64_t> sample(std::int64_t n, std::int64_t count) {
    std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
    std::iota(ids.begin(), ids.end(), std::int64_t{0});
    for (std::int64_t i = 0; i < count; ++i)
      std::swap(ids[static_cast<std::size_t>(i)], ids[static_cast<std::size_t>(i + below(n - i))]);
    ids.resize(static_cast<std::size_t>(count));
    return ids;
  }
};

}  // namespace latent::detail
