// latent/core/half.hpp - the 16-bit floating-point storage types, IEEE-754
// binary16 and bfloat16, and their conversions to and from float.
//
// Narrowing rounds to nearest, ties to even; widening is exact. The types hold
// the bit pattern only (no arithmetic): the kernels widen them to float. All
// functions are pure and thread-safe.
#pragma once

#include <cstdint>

namespace latent {

/// IEEE-754 binary16, stored as its bit pattern.
struct Float16 {
  std::uint16_t bits = 0;
};
/// bfloat16 (the top 16 bits of a binary32), stored as its bit pattern.
struct BFloat16 {
  std::uint16_t bits = 0;
};
static_assert(sizeof(Float16) == 2 && sizeof(BFloat16) == 2, "16-bit storage types");

/// Rounds to nearest, ties to even; overflow gives +-Inf, NaN stays NaN.
Float16 to_float16(float value);
BFloat16 to_bfloat16(float value);
/// Exact widening.
float to_float(Float16 value);
float to_float(BFloat16 value);

}  // namespace latent
