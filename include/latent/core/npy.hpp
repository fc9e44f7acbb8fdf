// latent/core/npy.hpp - reading and writing `.npy` arrays, whole or memory-mapped.
//
// Versions 1-3, dtypes float32, float64, int64, int32, uint8 and bool, plus int8,
// uint16 and float16 (the codes of quantized embeddings), in either byte order
// and in C or Fortran order. Readers return little-endian C order: big-endian
// data (`>f4`, `>f8`, `>i8`, ...) are byte-swapped and Fortran-ordered arrays
// transposed on read (MappedNpy, which cannot convert in place, refuses them;
// open_array in array_file.hpp falls back to reading). Anything else (other or
// structured dtypes, pickled objects) is refused with `IoError` naming the file
// and the dtype. Parsing trusts nothing: the header length, the dict, the shape
// and the file size are checked before any allocation, so a truncated file, a
// lying header or an absurd shape raises `IoError` instead of crashing or
// allocating more than the file holds. An array with no elements (a zero
// extent) may claim at most 2^24 along its other extents: (10^18, 0) is refused,
// so no caller loops or allocates per row for rows a 128-byte file cannot hold. Writing is atomic: the data go to a
// temporary file in the same folder, which is renamed over the target only once
// complete, so a failed write leaves no partial file. All functions are
// thread-safe (they share no state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "latent/core/types.hpp"

namespace latent {

/// The element types `.npy` files may hold.
enum class DType { float32, float64, int64, int32, uint8, boolean, int8, uint16, float16 };

/// "float32", "float64", "int64", "int32", "uint8", "bool", "int8", "uint16", "float16".
std::string_view to_string(DType dtype);
/// Bytes per element.
std::size_t dtype_size(DType dtype);

/// The `DType` of a C++ element type (float, double, std::int64_t, std::int32_t,
/// std::uint8_t, bool).
template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() { return DType::float32; }
template <>
constexpr DType dtype_of<double>() { return DType::float64; }
template <>
constexpr DType dtype_of<std::int64_t>() { return DType::int64; }
template <>
constexpr DType dtype_of<std::int32_t>() { return DType::int32; }
template <>
constexpr DType dtype_of<std::uint8_t>() { return DType::uint8; }
template <>
constexpr DType dtype_of<bool>() { return DType::boolean; }
template <>
constexpr DType dtype_of<std::int8_t>() { return DType::int8; }
template <>
constexpr DType dtype_of<std::uint16_t>() { return DType::uint16; }

/// What a `.npy` header says, after validation against the file size.
struct NpyHeader {
  DType dtype = DType::float32;
  std::vector<std::int64_t> shape;  ///< empty for a 0-d (scalar) array
  std::int64_t data_offset = 0;     ///< bytes from the start of the file to the data
  bool big_endian = false;          ///< as stored ('>' codes); readers byte-swap, their headers say false
  bool fortran_order = false;       ///< as stored; readers transpose to C order, their headers say false

  /// Number of elements (1 for a 0-d array).
  std::int64_t size() const;
  /// Bytes of data: size() * dtype_size(dtype).
  std::int64_t bytes() const { return size() * static_cast<std::int64_t>(dtype_size(dtype)); }
  /// "[2000, 64] float32".
  std::string describe() const;
  /// True when the stored bytes already are little-endian C order (so they can be
  /// viewed in place): little endian or one-byte elements, and C order or a shape
  /// with at most one axis longer than 1.
  bool native_layout() const;
};

/// Reads and validates the header of a `.npy` file (the data are not read, but
/// the file must hold exactly the bytes the header announces), as stored: its
/// big_endian and fortran_order say whether readers convert. Throws `IoError`.
NpyHeader read_npy_header(const std::string& path);

/// A whole `.npy` array in memory, any supported dtype.
struct NpyArray {
  NpyHeader header;
  std::vector<unsigned char> bytes;  ///< header.bytes() bytes, little-endian C order
};

/// Reads a whole `.npy` file, converted to little-endian C order. Memory: the
/// file's data size (twice that, briefly, to transpose a Fortran-ordered array).
/// Throws `IoError`.
NpyArray read_npy(const std::string& path);

/// Reads a 1-D ([n] -> n x 1) or 2-D `.npy` whose dtype is exactly `T`'s.
/// Throws `IoError` on another dtype or dimensionality, naming the file.
template <class T>
RowMatrix<T> read_npy_matrix(const std::string& path);

/// Reads a 1-D `.npy` (or 2-D with one column) whose dtype is exactly `T`'s.
template <class T>
std::vector<T> read_npy_vector(const std::string& path);

/// Converts a 1-D or 2-D array of any supported dtype to a `RowMatrix<T>`
/// (T = float or double; values are converted as by static_cast, bool -> 0/1).
/// `source` names the array in the error message.
template <class T>
RowMatrix<T> to_matrix(const NpyArray& array, std::string_view source);

/// Writes `data` (C order, `shape` product elements) atomically as a `.npy` v1.0
/// file. Throws `IoError` naming the path when it cannot be written; the target is
/// then left untouched.
template <class T>
void write_npy(const std::string& path, const T* data, const std::vector<std::int64_t>& shape);

/// Writes a 2-D array (rows copied in order when the view is strided).
template <class T>
void write_npy(const std::string& path, const MatrixView<T>& matrix);

/// Writes a row-major Eigen matrix, map or block as a 2-D array, without a copy
/// (the view form above; its scalar is one of the dtypes that form takes).
template <class Derived, class = std::enable_if_t<std::is_base_of_v<Eigen::EigenBase<Derived>, Derived>>>
void write_npy(const std::string& path, const Derived& matrix) {
  write_npy(path, MatrixView<typename Derived::Scalar>(matrix));
}

/// The header a v1.0 `.npy` file of `dtype` and `shape` starts with, as write_npy
/// writes it (C order, little endian, padded so the data start at a multiple of
/// 64 bytes): for writers that place the data themselves, e.g. several processes
/// each writing their rows of one file.
std::string npy_header_bytes(DType dtype, const std::vector<std::int64_t>& shape);

/// Writes `content` (a text or binary blob, e.g. an HTML report) atomically:
/// the target appears complete or not at all. Throws IoError naming the path.
void write_file_atomic(const std::string& path, std::string_view content);
/// Writes `bytes` raw little-endian values of `dtype` as a `.npy` (C order,
/// `shape` product elements, bytes = that product times dtype_size): for element
/// types without a C++ counterpart, e.g. float16 bit patterns. Atomic; IoError.
void write_npy_bytes(const std::string& path, DType dtype, const void* data, std::size_t bytes,
                     const std::vector<std::int64_t>& shape);

/// Writes a 1-D array.
template <class T>
void write_npy(const std::string& path, const std::vector<T>& values) {
  static_assert(!std::is_same_v<T, bool>, "write_npy: std::vector<bool> has no contiguous data");
  write_npy<T>(path, values.data(), {static_cast<std::int64_t>(values.size())});
}

/// A read-only memory map of a `.npy` file: the data are paged in on use, so a
/// file larger than RAM can be scanned in blocks. Move-only; the mapping lives as
/// long as the object. Throws `IoError` on a malformed file, when the data
/// offset is not a multiple of the element size (the view would be misaligned),
/// or when the data are big endian or Fortran ordered (`!native_layout()`: read
/// them with read_npy or open_array, which convert).
class MappedNpy {
 public:
  explicit MappedNpy(const std::string& path);
  ~MappedNpy();
  MappedNpy(MappedNpy&& other) noexcept;
  MappedNpy& operator=(MappedNpy&& other) noexcept;
  MappedNpy(const MappedNpy&) = delete;
  MappedNpy& operator=(const MappedNpy&) = delete;

  const NpyHeader& header() const { return header_; }
  const std::string& path() const { return path_; }
  /// A view of the data as a matrix (1-D arrays as n x 1). Throws `IoError` when
  /// the dtype is not `T`'s or the array is not 1-D or 2-D.
  template <class T>
  MatrixView<T> view() const;

 private:
  const unsigned char* data() const { return base_ + header_.data_offset; }

  std::string path_;
  NpyHeader header_;
  const unsigned char* base_ = nullptr;
  std::size_t mapped_bytes_ = 0;
};

}  // namespace latent
