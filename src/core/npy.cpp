// .npy reading (whole or memory-mapped) and writing; the header parser trusts
// nothing it reads (see npy.hpp).
#include "latent/core/npy.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <utility>
#include <string>
#include <vector>

#include "file_io.hpp"
#include "npy_parse.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/half.hpp"

namespace latent {
namespace {

using detail::AtomicWriter;
using detail::errno_text;
using detail::fail;
using detail::File;

NpyHeader parse_file_header(const File& file, std::string_view function, const std::string& path) {
  return detail::parse_npy_header(function, path, file.size(), [&](void* buffer, std::int64_t count, std::int64_t offset) {
    file.read_at(function, buffer, count, offset);
  });
}

// Reads the data (header.bytes() bytes) into `out`, in little-endian C order.
void read_data(const File& file, NpyHeader header, void* out) {
  if (header.native_layout()) {
    file.read_at("read_npy", out, header.bytes(), header.data_offset);
    return;
  }
  std::vector<unsigned char> bytes(static_cast<std::size_t>(header.bytes()));
  file.read_at("read_npy", bytes.data(), header.bytes(), header.data_offset);
  detail::to_native_order(header, bytes);
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
}

// Rows and columns of a 1-D (n x 1) or 2-D array; anything else throws.
std::pair<std::int64_t, std::int64_t> matrix_shape(const NpyHeader& header, std::string_view function,
                                                   const std::string& path) {
  if (header.shape.size() == 1) return {header.shape[0], 1};
  if (header.shape.size() == 2) return {header.shape[0], header.shape[1]};
  fail(function, path, "expected a 1-D or 2-D array", "shape " + header.describe());
}

void require_dtype(const NpyHeader& header, DType expected, std::string_view function, const std::string& path) {
  if (header.dtype != expected) {
    fail(function, path, "has dtype " + std::string(to_string(header.dtype)) + ", expected " + std::string(to_string(expected)));
  }
}

std::string_view npy_descr(DType dtype) {
  switch (dtype) {
    case DType::float32: return "<f4";
    case DType::float64: return "<f8";
    case DType::int64: return "<i8";
    case DType::int32: return "<i4";
    case DType::uint8: return "|u1";
    case DType::boolean: return "|b1";
    case DType::int8: return "|i1";
    case DType::uint16: return "<u2";
    case DType::float16: return "<f2";
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------- public API

std::string npy_header_bytes(DType dtype, const std::vector<std::int64_t>& shape) {
  std::string dict = "{'descr': '" + std::string(npy_descr(dtype)) + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) dict += shape.size() == 1 ? "," : ", ";
  }
  dict += "), }";
  // Pad with spaces so the data start on a 64-byte boundary (numpy >= 1.15 does the same).
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string preamble = "\x93NUMPY";
  preamble += '\x01';
  preamble += '\x00';
  const auto length = static_cast<std::uint16_t>(dict.size());
  preamble += static_cast<char>(length & 0xff);
  preamble += static_cast<char>(length >> 8);
  return preamble + dict;
}


std::string_view to_string(DType dtype) {
  switch (dtype) {
    case DType::float32: return "float32";
    case DType::float64: return "float64";
    case DType::int64: return "int64";
    case DType::int32: return "int32";
    case DType::uint8: return "uint8";
    case DType::boolean: return "bool";
    case DType::int8: return "int8";
    case DType::uint16: return "uint16";
    case DType::float16: return "float16";
  }
  return "unknown";
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::float32: return 4;
    case DType::float64: return 8;
    case DType::int64: return 8;
    case DType::int32: return 4;
    case DType::uint8: return 1;
    case DType::boolean: return 1;
    case DType::int8: return 1;
    case DType::uint16: return 2;
    case DType::float16: return 2;
  }
  return 0;
}

std::int64_t NpyHeader::size() const {
  std::int64_t count = 1;
  for (const auto extent : shape) count *= extent;
  return count;
}

bool NpyHeader::native_layout() const {
  if (big_endian && dtype_size(dtype) > 1) return false;
  if (!fortran_order) return true;
  int long_axes = 0;
  for (const auto extent : shape) long_axes += extent > 1 ? 1 : 0;
  return long_axes <= 1;
}

std::string NpyHeader::describe() const {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "] " + std::string(to_string(dtype));
}

NpyHeader read_npy_header(const std::string& path) {
  const File file("read_npy", path);
  return parse_file_header(file, "read_npy", path);
}

NpyArray read_npy(const std::string& path) {
  const File file("read_npy", path);
  NpyArray array;
  array.header = parse_file_header(file, "read_npy", path);
  array.bytes.resize(static_cast<std::size_t>(array.header.bytes()));
  file.read_at("read_npy", array.bytes.data(), array.header.bytes(), array.header.data_offset);
  detail::to_native_order(array.header, array.bytes);
  return array;
}

template <class T>
RowMatrix<T> read_npy_matrix(const std::string& path) {
  const File file("read_npy", path);
  const NpyHeader header = parse_file_header(file, "read_npy", path);
  require_dtype(header, dtype_of<T>(), "read_npy", path);
  const auto [rows, cols] = matrix_shape(header, "read_npy", path);
  RowMatrix<T> out(rows, cols);
  read_data(file, header, out.data());
  if constexpr (std::is_same_v<T, bool>) {
    // A byte other than 0 or 1 would be an invalid bool value in C++.
    const auto* bytes = reinterpret_cast<const unsigned char*>(out.data());
    for (std::int64_t i = 0; i < header.size(); ++i) {
      if (bytes[i] > 1) fail("read_npy", path, "bool array holds a byte other than 0 or 1", "element " + std::to_string(i));
    }
  }
  return out;
}

template <class T>
std::vector<T> read_npy_vector(const std::string& path) {
  static_assert(!std::is_same_v<T, bool>, "read_npy_vector: use read_npy_matrix<bool>");
  const File file("read_npy", path);
  const NpyHeader header = parse_file_header(file, "read_npy", path);
  require_dtype(header, dtype_of<T>(), "read_npy", path);
  const auto [rows, cols] = matrix_shape(header, "read_npy", path);
  if (cols != 1) fail("read_npy", path, "expected a 1-D array", "shape " + header.describe());
  std::vector<T> out(static_cast<std::size_t>(rows));
  read_data(file, header, out.data());
  return out;
}

namespace {
template <class T, class Source>
void convert_into(RowMatrix<T>& out, const unsigned char* bytes) {
  const auto* source = reinterpret_cast<const Source*>(bytes);
  T* target = out.data();
  for (Eigen::Index i = 0; i < out.size(); ++i) target[i] = static_cast<T>(source[i]);
}
}  // namespace

template <class T>
RowMatrix<T> to_matrix(const NpyArray& array, std::string_view source) {
  const std::string name(source);
  const auto [rows, cols] = matrix_shape(array.header, "to_matrix", name);
  RowMatrix<T> out(rows, cols);
  const unsigned char* bytes = array.bytes.data();
  switch (array.header.dtype) {
    case DType::float32: convert_into<T, float>(out, bytes); break;
    case DType::float64: convert_into<T, double>(out, bytes); break;
    case DType::int64: convert_into<T, std::int64_t>(out, bytes); break;
    case DType::int32: convert_into<T, std::int32_t>(out, bytes); break;
    case DType::uint8: convert_into<T, std::uint8_t>(out, bytes); break;
    case DType::boolean: convert_into<T, std::uint8_t>(out, bytes); break;
    case DType::int8: convert_into<T, std::int8_t>(out, bytes); break;
    case DType::uint16: convert_into<T, std::uint16_t>(out, bytes); break;
    case DType::float16: {
      // Exact widening (half.hpp).
      const auto* halves = reinterpret_cast<const std::uint16_t*>(bytes);
      for (Eigen::Index i = 0; i < out.size(); ++i)
        out.data()[i] = static_cast<T>(to_float(Float16{halves[i]}));
      break;
    }
  }
  return out;
}

template <class T>
void write_npy(const std::string& path, const T* data, const std::vector<std::int64_t>& shape) {
  std::int64_t count = 1;
  for (const auto extent : shape) {
    if (extent < 0) raise<InvalidArgument>("write_npy", "shape", "has a negative extent", "extent=" + std::to_string(extent));
    count *= extent;
  }
  if (count > 0 && data == nullptr) raise<InvalidArgument>("write_npy", "data", "is null");
  const std::string preamble = npy_header_bytes(dtype_of<T>(), shape);
  AtomicWriter out("write_npy", path);
  out.write(preamble.data(), preamble.size());
  out.write(data, static_cast<std::size_t>(count) * sizeof(T));
  out.commit();
}

void write_npy_bytes(const std::string& path, DType dtype, const void* data, std::size_t bytes,
                     const std::vector<std::int64_t>& shape) {
  std::int64_t count = 1;
  for (const auto extent : shape) {
    if (extent < 0) raise<InvalidArgument>("write_npy_bytes", "shape", "has a negative extent", "extent=" + std::to_string(extent));
    count *= extent;
  }
  if (bytes != static_cast<std::size_t>(count) * dtype_size(dtype))
    raise<InvalidArgument>("write_npy_bytes", "bytes", "do not match the shape and dtype",
                           std::to_string(bytes) + " bytes for " + std::to_string(count) + " values of " +
                               std::string(to_string(dtype)));
  if (count > 0 && data == nullptr) raise<InvalidArgument>("write_npy_bytes", "data", "is null");
  const std::string preamble = npy_header_bytes(dtype, shape);
  AtomicWriter out("write_npy_bytes", path);
  out.write(preamble.data(), preamble.size());
  out.write(data, bytes);
  out.commit();
}

template <class T>
void write_npy(const std::string& path, const MatrixView<T>& matrix) {
  if (matrix.rows < 0 || matrix.cols < 0 || matrix.row_stride < matrix.cols) {
    raise<InvalidArgument>("write_npy", "matrix", "has an invalid shape or stride",
                           "rows=" + std::to_string(matrix.rows) + ", cols=" + std::to_string(matrix.cols) +
                               ", row_stride=" + std::to_string(matrix.row_stride));
  }
  if (matrix.row_stride == matrix.cols || matrix.rows <= 1) {
    write_npy<T>(path, matrix.data, {matrix.rows, matrix.cols});
    return;
  }
  const std::string preamble = npy_header_bytes(dtype_of<T>(), {matrix.rows, matrix.cols});
  AtomicWriter out("write_npy", path);
  out.write(preamble.data(), preamble.size());
  for (std::int64_t i = 0; i < matrix.rows; ++i) out.write(matrix.row(i), static_cast<std::size_t>(matrix.cols) * sizeof(T));
  out.commit();
}

void write_file_atomic(const std::string& path, std::string_view content) {
  AtomicWriter out("write_file_atomic", path);
  out.write(content.data(), content.size());
  out.commit();
}

// ---------------------------------------------------------------- MappedNpy

MappedNpy::MappedNpy(const std::string& path) : path_(path) {
  const File file("MappedNpy", path);
  header_ = parse_file_header(file, "MappedNpy", path);
  if (!header_.native_layout()) {
    fail("MappedNpy", path, "cannot be mapped: its data are big endian or Fortran ordered",
         header_.describe() + "; read_npy and open_array convert them");
  }
  if (header_.data_offset % static_cast<std::int64_t>(dtype_size(header_.dtype)) != 0) {
    fail("MappedNpy", path, "data offset is not aligned to the element size",
         "offset " + std::to_string(header_.data_offset) + ", element " + std::to_string(dtype_size(header_.dtype)) + " bytes");
  }
  mapped_bytes_ = static_cast<std::size_t>(file.size());
  void* base = ::mmap(nullptr, mapped_bytes_, PROT_READ, MAP_PRIVATE, file.fd(), 0);
  if (base == MAP_FAILED) fail("MappedNpy", path, "cannot be memory-mapped", errno_text());
  base_ = static_cast<const unsigned char*>(base);
}

MappedNpy::~MappedNpy() {
  if (base_ != nullptr) ::munmap(const_cast<unsigned char*>(base_), mapped_bytes_);
}

MappedNpy::MappedNpy(MappedNpy&& other) noexcept
    : path_(std::move(other.path_)),
      header_(std::move(other.header_)),
      base_(std::exchange(other.base_, nullptr)),
      mapped_bytes_(std::exchange(other.mapped_bytes_, 0)) {}

MappedNpy& MappedNpy::operator=(MappedNpy&& other) noexcept {
  if (this != &other) {
    if (base_ != nullptr) ::munmap(const_cast<unsigned char*>(base_), mapped_bytes_);
    path_ = std::move(other.path_);
    header_ = std::move(other.header_);
    base_ = std::exchange(other.base_, nullptr);
    mapped_bytes_ = std::exchange(other.mapped_bytes_, 0);
  }
  return *this;
}

template <class T>
MatrixView<T> MappedNpy::view() const {
  if (base_ == nullptr) fail("MappedNpy::view", path_, "the mapping was moved away");
  require_dtype(header_, dtype_of<T>(), "MappedNpy::view", path_);
  const auto [rows, cols] = matrix_shape(header_, "MappedNpy::view", path_);
  if constexpr (std::is_same_v<T, bool>) {
    // A byte other than 0 or 1 read as bool is undefined behaviour: check once.
    for (std::int64_t i = 0; i < header_.size(); ++i) {
      if (data()[i] > 1) fail("MappedNpy::view", path_, "bool array holds a byte other than 0 or 1", "element " + std::to_string(i));
    }
  }
  return MatrixView<T>(reinterpret_cast<const T*>(data()), rows, cols);
}

#define LATENT_INSTANTIATE_NPY(T)                                                                 \
  template RowMatrix<T> read_npy_matrix<T>(const std::string&);                                   \
  template void write_npy<T>(const std::string&, const T*, const std::vector<std::int64_t>&);     \
  template void write_npy<T>(const std::string&, const MatrixView<T>&);                           \
  template MatrixView<T> MappedNpy::view<T>() const;
LATENT_INSTANTIATE_NPY(float)
LATENT_INSTANTIATE_NPY(double)
LATENT_INSTANTIATE_NPY(std::int64_t)
LATENT_INSTANTIATE_NPY(std::int32_t)
LATENT_INSTANTIATE_NPY(std::uint8_t)
LATENT_INSTANTIATE_NPY(bool)
LATENT_INSTANTIATE_NPY(std::int8_t)
LATENT_INSTANTIATE_NPY(std::uint16_t)
#undef LATENT_INSTANTIATE_NPY

template std::vector<float> read_npy_vector<float>(const std::string&);
template std::vector<double> read_npy_vector<double>(const std::string&);
template std::vector<std::int64_t> read_npy_vector<std::int64_t>(const std::string&);
template std::vector<std::int32_t> read_npy_vector<std::int32_t>(const std::string&);
template std::vector<std::uint8_t> read_npy_vector<std::uint8_t>(const std::string&);
template RowMatrix<float> to_matrix<float>(const NpyArray&, std::string_view);
template RowMatrix<double> to_matrix<double>(const NpyArray&, std::string_view);

}  // namespace latent
