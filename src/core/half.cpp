// binary16 and bfloat16 conversions, bit by bit (no F16C or AVX512-BF16 needed),
// so every ISA level and the file readers convert alike.
#include "latent/core/half.hpp"

#include <cstdint>

namespace latent {

Float16 to_float16(float value) {
  std::uint32_t bits = 0;
  __builtin_memcpy(&bits, &value, 4);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t exponent = (bits >> 23) & 0xffu;
  std::uint32_t mantissa = bits & 0x7fffffu;
  if (exponent == 0xff) {  // Inf or NaN (keep NaN quiet and non-zero)
    return {static_cast<std::uint16_t>(sign | 0x7c00u | (mantissa != 0 ? 0x200u | (mantissa >> 13) : 0u))};
  }
  const int unbiased = static_cast<int>(exponent) - 127;
  if (unbiased > 15) return {static_cast<std::uint16_t>(sign | 0x7c00u)};  // overflow
  if (unbiased >= -14) {                                                   // normal half
    std::uint32_t half = (static_cast<std::uint32_t>(unbiased + 15) << 10) | (mantissa >> 13);
    const std::uint32_t rest = mantissa & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u) != 0)) ++half;  // may carry into Inf: correct
    return {static_cast<std::uint16_t>(sign | half)};
  }
  if (unbiased < -25) return {sign};  // below half the smallest subnormal: zero
  // Subnormal half: value = m * 2^-24 with the implicit bit restored.
  mantissa |= 0x800000u;
  const int shift = -unbiased - 14 + 13;  // 14..24
  std::uint32_t half = mantissa >> shift;
  const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
  const std::uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (half & 1u) != 0)) ++half;
  return {static_cast<std::uint16_t>(sign | half)};
}

float to_float(Float16 value) {
  const std::uint32_t sign = static_cast<std::uint32_t>(value.bits & 0x8000u) << 16;
  const std::uint32_t exponent = (value.bits >> 10) & 0x1fu;
  const std::uint32_t mantissa = value.bits & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: m * 2^-24, exact in float
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign != 0 ? -magnitude : magnitude;
  }
  const std::uint32_t bits =
      exponent == 0x1f ? (sign | 0x7f800000u | (mantissa << 13)) : (sign | ((exponent + 112) << 23) | (mantissa << 13));
  float out;
  __builtin_memcpy(&out, &bits, 4);
  return out;
}

BFloat16 to_bfloat16(float value) {
  std::uint32_t bits = 0;
  __builtin_memcpy(&bits, &value, 4);
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x7fffffu) != 0) {
    return {static_cast<std::uint16_t>((bits >> 16) | 0x40u)};  // quiet NaN
  }
  const std::uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return {static_cast<std::uint16_t>((bits + rounding) >> 16)};
}

float to_float(BFloat16 value) {
  const std::uint32_t bits = static_cast<std::uint32_t>(value.bits) << 16;
  float out;
  __builtin_memcpy(&out, &bits, 4);
  return out;
}

}  // namespace latent
