// The FP32 peak probe of the active kernel level: a benchmark aid, not part of the
// installed API. bench/ and the kernel tests reach it through this private header.
#pragma once

#include <cstdint>

namespace latent::kernels::detail {

/// Runs the active level's register-only multiply-add loop for `iterations` steps
/// and returns the floating-point operations it did: a benchmark times it to get
/// the FP32 peak of this core at this level. Throws InvalidArgument if
/// iterations < 0.
std::int64_t fma_peak_probe(std::int64_t iterations);

}  // namespace latent::kernels::detail
