// The single-pair kernel of a metric, from the active table (private to the
// kernel layer's baseline code: dispatch.cpp and batched.cpp). l2 and
// sqeuclidean share the squared kernel; callers take the square root for l2.
#pragma once

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

}  // namespace latent::kernels::detail
