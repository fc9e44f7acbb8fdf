// The `.npy` header parser and the byte-order / Fortran-order conversion, shared
// by the `.npy` reader and the `.npz` members (not installed).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "latent/core/npy.hpp"

namespace latent::detail {

/// Reads exactly `count` bytes at `offset` of the stream being parsed (the caller
/// guarantees offset + count <= the stream's size); throws IoError otherwise.
using ReadAt = std::function<void(void* buffer, std::int64_t count, std::int64_t offset)>;

/// Parses and validates a `.npy` stream of `total` bytes (a file, or a member of
/// an archive): preamble, header dict, and that exactly header.bytes() bytes of
/// data follow. `function` and `name` (the file, or "archive:member") go into
/// every IoError. The returned header says how the data are stored
/// (big_endian, fortran_order).
NpyHeader parse_npy_header(std::string_view function, const std::string& name, std::int64_t total,
                           const ReadAt& read_at);

/// Rewrites `bytes` (header.bytes() bytes as stored) in place to little-endian C
/// order and clears header.big_endian and header.fortran_order.
void to_native_order(NpyHeader& header, std::vector<unsigned char>& bytes);

}  // namespace latent::detail
