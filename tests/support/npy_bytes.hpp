// Hand-made `.npy` bytes for the files write_npy never produces (other dtypes,
// Fortran order, lying or absurd shapes). No test framework: the fuzz seed
// generator uses it too.
#pragma once

#include <string>

namespace latent::testing {

/// A version 1.0 `.npy` header holding `dict`, padded as numpy pads it (to a
/// multiple of 64 bytes): for hand-made files write_npy never produces.
inline std::string npy_v1_header(const std::string& dict) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header;
}

}  // namespace latent::testing
