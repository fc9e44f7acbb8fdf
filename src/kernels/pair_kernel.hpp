// The single-pair kernel of a metric, from the active table, and the inputs of
// the table's block epilogue (private to the kernel layer's baseline code:
// dispatch.cpp, batched.cpp, low_precision.cpp). l2 and sqeuclidean share the
// squared kernel; callers take the square root for l2.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "latent/core/types.hpp"
#include "table.hpp"

namespace latent::kernels::detail {

template <class T>
auto pair_kernel(const KernelTable& table, Metric metric) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "pair kernels exist for float and double");
  if constexpr (std::is_same_v<T, float>) {
    switch (metric) {
      case Metric::cosine:
      case Metric::angular:
        return table.cosine_f32;  // the caller transforms cosine to angular
      case Metric::ip:
        return table.dot_f32;
      case Metric::l1:
        return table.l1_f32;
      case Metric::linf:
        return table.linf_f32;
      case Metric::l2:
      case Metric::sqeuclidean:
        break;
    }
    return table.sqeuclidean_f32;
  } else {
    switch (metric) {
      case Metric::cosine:
      case Metric::angular:
        return table.cosine_f64;  // the caller transforms cosine to angular
      case Metric::ip:
        return table.dot_f64;
      case Metric::l1:
        return table.l1_f64;
      case Metric::linf:
        return table.linf_f64;
      case Metric::l2:
      case Metric::sqeuclidean:
        break;
    }
    return table.sqeuclidean_f64;
  }
}

/// The table's code of a metric (the same order as latent::Metric).
inline MetricCode code_of(Metric metric) { return static_cast<MetricCode>(static_cast<int>(metric)); }

/// Per-row statistics GemmKernels::finish_block needs, from squared norms
/// computed with the tiles' own chain: cosine wants the inverse norm (0 for a
/// zero row; for f32 rounded once from double), the Euclidean metrics the
/// squared norm itself. `out` may be `squared`.
template <class T>
void norms_from_squares(Metric metric, const T* squared, std::int64_t count, T* out) {
  for (std::int64_t r = 0; r < count; ++r) {
    const T value = squared[r];
    out[r] = metric == Metric::cosine ? (value > 0 ? static_cast<T>(1.0 / std::sqrt(static_cast<double>(value))) : T(0))
                                      : value;
  }
}

}  // namespace latent::kernels::detail
