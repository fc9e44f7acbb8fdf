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
#include "latent/core/errors.hpp"
#include "latent/core/half.hpp"

namespace latent {
namespace {

using detail::AtomicWriter;
using detail::errno_text;
using detail::fail;
using detail::File;
using detail::read_le_u32;

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE-754 binary32/binary64 expected");

// Headers longer than this are refused before they are read: numpy writes a few
// hundred bytes for the dtypes we accept (its own loader stops at 10,000).
constexpr std::int64_t kMaxHeaderBytes = 1 << 16;
constexpr int kMaxDims = 32;
// The product of the non-zero extents of an array with no elements, at most.
constexpr std::int64_t kMaxEmptyExtents = std::int64_t{1} << 24;

// ---------------------------------------------------------------- .npy header

struct DTypeCode {
  std::string_view descr;
  DType dtype;
};
// numpy writes '|' for one-byte types; '<' and '=' (native, little endian here) are
// accepted for them too because other writers use them.
constexpr DTypeCode kDTypeCodes[] = {
    {"<f4", DType::float32}, {"<f8", DType::float64}, {"<i8", DType::int64},
    {"<i4", DType::int32},   {"|u1", DType::uint8},   {"<u1", DType::uint8},
    {"=u1", DType::uint8},   {"|b1", DType::boolean}, {"<b1", DType::boolean},
    {"=b1", DType::boolean},
    {"|i1", DType::int8},    {"<i1", DType::int8},    {"<u2", DType::uint16},
    {"<f2", DType::float16},
};

// A strict reader of the Python dict literal numpy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2000, 64), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  NpyHeader parse() {
    bool have_descr = false, have_order = false, have_shape = false;
    bool fortran = false;
    std::string descr;
    NpyHeader header;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = read_string();
      expect(':');
      if (key == "descr") {
        skip_space();
        if (peek() != '\'' && peek() != '"') bad("descr is not a simple dtype string (structured dtype?)");
        descr = read_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = read_bool();
        have_order = true;
      } else if (key == "shape") {
        header.shape = read_shape();
        have_shape = true;
      } else {
        bad("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      if (peek() != '}') bad("expected ',' or '}'");
    }
    ++pos_;
    skip_space();
    if (pos_ != text_.size()) bad("trailing characters after the dict");
    if (!have_descr || !have_order || !have_shape) bad("missing descr, fortran_order or shape");

    bool known = false;
    for (const auto& code : kDTypeCodes) {
      if (code.descr == descr) {
        header.dtype = code.dtype;
        known = true;
      }
    }
    if (!known) {
      fail("read_npy", path_, "unsupported dtype '" + descr + "'",
           "supported: <f4 float32, <f8 float64, <i8 int64, <i4 int32, |u1 uint8, |b1 bool, |i1 int8, "
           "<u2 uint16, <f2 float16, "
           "little endian");
    }
    if (fortran) {
      // Fortran and C order lay the bytes out alike when at most one axis is longer than 1.
      int long_axes = 0;
      for (const auto extent : header.shape) long_axes += extent > 1 ? 1 : 0;
      if (long_axes > 1) {
        fail("read_npy", path_, "Fortran-ordered arrays are not supported",
             "dtype " + std::string(to_string(header.dtype)) + "; save with numpy.ascontiguousarray");
      }
    }
    return header;
  }

 private:
  [[noreturn]] void bad(const std::string& problem) {
    fail("read_npy", path_, "malformed header: " + problem, "at character " + std::to_string(pos_));
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string read_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') bad("expected a quoted string");
    const std::size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos || end - pos_ > 64) bad("unterminated or overlong string");
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return value;
  }
  bool read_bool() {
    skip_space();
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    bad("fortran_order is not True or False");
  }
  std::int64_t read_extent() {
    skip_space();
    if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("shape holds a non-integer");
    std::int64_t value = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      const int digit = peek() - '0';
      if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) bad("shape extent overflows");
      value = value * 10 + digit;
      ++pos_;
    }
    skip_space();
    if (peek() == 'L') ++pos_;  // Python 2 long suffix
    return value;
  }
  std::vector<std::int64_t> read_shape() {
    expect('(');
    std::vector<std::int64_t> shape;
    skip_space();
    if (peek() == ')') {
      ++pos_;
      return shape;
    }
    while (true) {
      shape.push_back(read_extent());
      if (static_cast<int>(shape.size()) > kMaxDims) bad("more than 32 dimensions");
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
        if (peek() == ')') break;
        continue;
      }
      if (peek() == ')') break;
      bad("expected ',' or ')' in shape");
    }
    ++pos_;
    return shape;
  }

  std::string_view text_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

// Parses and validates the header of an open file, including its size.
NpyHeader parse_npy_header(const File& file, const std::string& path) {
  constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (file.size() < 10) fail("read_npy", path, "is too short to be a .npy file", std::to_string(file.size()) + " bytes");
  unsigned char preamble[12] = {};
  file.read_at("read_npy", preamble, std::min<std::int64_t>(12, file.size()), 0);
  if (std::memcmp(preamble, kMagic, 6) != 0) fail("read_npy", path, "is not a .npy file (bad magic)");
  const int major = preamble[6];
  std::int64_t header_len = 0;
  std::int64_t prefix = 0;
  if (major == 1) {
    header_len = preamble[8] | preamble[9] << 8;
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (file.size() < 12) fail("read_npy", path, "is truncated inside the preamble");
    header_len = read_le_u32(preamble + 8);
    prefix = 12;
  } else {
    fail("read_npy", path, "unsupported .npy format version", "version " + std::to_string(major) + "." + std::to_string(preamble[7]));
  }
  if (header_len > kMaxHeaderBytes) {
    fail("read_npy", path, "header length is absurd", std::to_string(header_len) + " bytes, limit " + std::to_string(kMaxHeaderBytes));
  }
  if (prefix + header_len > file.size()) {
    fail("read_npy", path, "is truncated inside the header",
         "header needs " + std::to_string(prefix + header_len) + " bytes, file has " + std::to_string(file.size()));
  }
  std::string text(static_cast<std::size_t>(header_len), '\0');
  file.read_at("read_npy", text.data(), header_len, prefix);
  // The dict is followed by space padding and a newline.
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\0')) text.pop_back();
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
      fail("read_npy", path, "malformed header: non-printable character");
    }
  }
  NpyHeader header = HeaderParser(text, path).parse();
  header.data_offset = prefix + header_len;

  // Element count with overflow checks: no shape can claim more than the file.
  std::int64_t count = 1;
  for (const auto extent : header.shape) {
    if (extent != 0 && count > std::numeric_limits<std::int64_t>::max() / 8 / extent) {
      fail("read_npy", path, "shape is absurd (its size overflows)", header.describe());
    }
    count *= extent;
  }
  // An empty array holds no data to bound its shape, so (10^18, 0) would pass the
  // size check; readers and callers that loop or allocate per row would then hang
  // or run out of memory on a 128-byte file. Its other extents are capped.
  if (count == 0) {
    std::int64_t claimed = 1;
    for (const auto extent : header.shape) {
      if (extent == 0) continue;
      if (claimed > kMaxEmptyExtents / extent) {
        fail("read_npy", path, "shape is absurd (an empty array claiming more than 2^24 rows or columns)",
             header.describe());
      }
      claimed *= extent;
    }
  }
  const std::int64_t needed = count * static_cast<std::int64_t>(dtype_size(header.dtype));
  const std::int64_t available = file.size() - header.data_offset;
  if (needed > available) {
    fail("read_npy", path, "is truncated: the header promises more data than the file holds",
         header.describe() + " needs " + std::to_string(needed) + " bytes, " + std::to_string(available) + " follow the header");
  }
  if (needed < available) {
    fail("read_npy", path, "has unexpected bytes after the data",
         header.describe() + " needs " + std::to_string(needed) + " bytes, " + std::to_string(available) + " follow the header");
  }
  return header;
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

std::string npy_preamble(DType dtype, const std::vector<std::int64_t>& shape) {
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

}  // namespace

// ---------------------------------------------------------------- public API

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
  return parse_npy_header(file, path);
}

NpyArray read_npy(const std::string& path) {
  const File file("read_npy", path);
  NpyArray array;
  array.header = parse_npy_header(file, path);
  array.bytes.resize(static_cast<std::size_t>(array.header.bytes()));
  file.read_at("read_npy", array.bytes.data(), array.header.bytes(), array.header.data_offset);
  return array;
}

template <class T>
RowMatrix<T> read_npy_matrix(const std::string& path) {
  const File file("read_npy", path);
  const NpyHeader header = parse_npy_header(file, path);
  require_dtype(header, dtype_of<T>(), "read_npy", path);
  const auto [rows, cols] = matrix_shape(header, "read_npy", path);
  RowMatrix<T> out(rows, cols);
  file.read_at("read_npy", out.data(), header.bytes(), header.data_offset);
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
  const NpyHeader header = parse_npy_header(file, path);
  require_dtype(header, dtype_of<T>(), "read_npy", path);
  const auto [rows, cols] = matrix_shape(header, "read_npy", path);
  if (cols != 1) fail("read_npy", path, "expected a 1-D array", "shape " + header.describe());
  std::vector<T> out(static_cast<std::size_t>(rows));
  file.read_at("read_npy", out.data(), header.bytes(), header.data_offset);
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
  const std::string preamble = npy_preamble(dtype_of<T>(), shape);
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
  const std::string preamble = npy_preamble(dtype, shape);
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
  const std::string preamble = npy_preamble(dtype_of<T>(), {matrix.rows, matrix.cols});
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
  header_ = parse_npy_header(file, path);
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
