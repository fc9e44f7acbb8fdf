// The peak probes of the active kernel level (FP32 and FP64 FMA, the l1 / linf step, bf16 and int8 dot products): a
// benchmark aid, not part
// of the installed API. bench/ and the kernel tests reach it through this private header.
#pragma once

#include <cstdint>

namespace latent::kernels::detail {

/// Runs the active level's register-only multiply-add loop for `iterations` steps
/// and returns the floating-point operations it did: a benchmark times it to get
/// the FP32 peak of this core at this level. Throws InvalidArgument if
/// iterations < 0.
std::int64_t fma_peak_probe(std::int64_t iterations);

/// The same in double: the FP64 peak.
std::int64_t fma_f64_peak_probe(std::int64_t iterations);

/// The same for the step of the l1 (or, with `maximum`, linf) tiles in f32:
/// subtract, absolute value, add (max); 2 operations counted per lane and step,
/// as a distance's GFLOP/s counts them.
std::int64_t distance_peak_probe(bool maximum, std::int64_t iterations);

enum class LowPrecisionProbe { bf16, int8 };

/// The same for the instruction the active level's bf16 or int8 tiles use
/// (VDPBF16PS, VPDPBUSD, or the widening steps without them); returns the
/// operations done, a multiply and an add per product.
std::int64_t low_precision_peak_probe(LowPrecisionProbe kind, std::int64_t iterations);

}  // namespace latent::kernels::detail
