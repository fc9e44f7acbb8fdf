// The `.npy` header parser (it trusts nothing it reads, see npy.hpp) and the
// conversion of big-endian and Fortran-ordered data to little-endian C order.
#include "npy_parse.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "file_io.hpp"
#include "latent/core/errors.hpp"

namespace latent::detail {
namespace {

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
  bool big_endian;
};
// numpy writes '|' for one-byte types; '<', '=' and '>' are accepted for them too
// because other writers use them (one byte has no order). '>' multi-byte codes are
// big endian, converted on read.
constexpr DTypeCode kDTypeCodes[] = {
    {"<f4", DType::float32, false}, {"<f8", DType::float64, false}, {"<i8", DType::int64, false},
    {"<i4", DType::int32, false},   {"<u2", DType::uint16, false},  {"<f2", DType::float16, false},
    {">f4", DType::float32, true},  {">f8", DType::float64, true},  {">i8", DType::int64, true},
    {">i4", DType::int32, true},    {">u2", DType::uint16, true},   {">f2", DType::float16, true},
    {"|u1", DType::uint8, false},   {"<u1", DType::uint8, false},   {"=u1", DType::uint8, false},
    {">u1", DType::uint8, false},   {"|b1", DType::boolean, false}, {"<b1", DType::boolean, false},
    {"=b1", DType::boolean, false}, {">b1", DType::boolean, false}, {"|i1", DType::int8, false},
    {"<i1", DType::int8, false},    {"=i1", DType::int8, false},    {">i1", DType::int8, false},
};

// A strict reader of the Python dict literal numpy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2000, 64), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string_view function, const std::string& path)
      : text_(text), function_(function), path_(path) {}

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
        header.big_endian = code.big_endian;
        known = true;
      }
    }
    if (!known) {
      fail(function_, path_, "unsupported dtype '" + descr + "'",
           "supported: f4 float32, f8 float64, i8 int64, i4 int32, u1 uint8, b1 bool, i1 int8, "
           "u2 uint16, f2 float16, either byte order");
    }
    header.fortran_order = fortran;
    return header;
  }

 private:
  [[noreturn]] void bad(const std::string& problem) {
    fail(function_, path_, "malformed header: " + problem, "at character " + std::to_string(pos_));
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
  std::string_view function_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

// True when a Fortran-ordered array of this shape lays its bytes out as C order
// does: at most one axis is longer than 1.
bool order_is_irrelevant(const std::vector<std::int64_t>& shape) {
  int long_axes = 0;
  for (const auto extent : shape) long_axes += extent > 1 ? 1 : 0;
  return long_axes <= 1;
}

void swap_bytes(unsigned char* bytes, std::size_t count, std::size_t width) {
  for (std::size_t i = 0; i < count; ++i) std::reverse(bytes + i * width, bytes + (i + 1) * width);
}

// Fortran order of shape (s0, ..., sn-1) to C order: the C-order walk (last axis
// fastest) reads element (i0, ..., in-1) at i0 + s0 * (i1 + s1 * (...)).
std::vector<unsigned char> fortran_to_c(const std::vector<unsigned char>& bytes, const std::vector<std::int64_t>& shape,
                                        std::size_t width) {
  const std::size_t dims = shape.size();
  std::vector<std::int64_t> stride(dims, 1);  // Fortran strides, in elements
  for (std::size_t k = 1; k < dims; ++k) stride[k] = stride[k - 1] * shape[k - 1];
  std::vector<unsigned char> out(bytes.size());
  std::vector<std::int64_t> index(dims, 0);
  std::int64_t source = 0;
  const std::size_t count = bytes.size() / width;
  for (std::size_t target = 0; target < count; ++target) {
    std::memcpy(out.data() + target * width, bytes.data() + static_cast<std::size_t>(source) * width, width);
    for (std::size_t k = dims; k-- > 0;) {  // odometer, last axis fastest
      source += stride[k];
      if (++index[k] < shape[k]) break;
      source -= stride[k] * shape[k];
      index[k] = 0;
    }
  }
  return out;
}

}  // namespace

NpyHeader parse_npy_header(std::string_view function, const std::string& name, std::int64_t total,
                           const ReadAt& read_at) {
  constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (total < 10) fail(function, name, "is too short to be a .npy file", std::to_string(total) + " bytes");
  unsigned char preamble[12] = {};
  read_at(preamble, std::min<std::int64_t>(12, total), 0);
  if (std::memcmp(preamble, kMagic, 6) != 0) fail(function, name, "is not a .npy file (bad magic)");
  const int major = preamble[6];
  std::int64_t header_len = 0;
  std::int64_t prefix = 0;
  if (major == 1) {
    header_len = preamble[8] | preamble[9] << 8;
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (total < 12) fail(function, name, "is truncated inside the preamble");
    header_len = read_le_u32(preamble + 8);
    prefix = 12;
  } else {
    fail(function, name, "unsupported .npy format version", "version " + std::to_string(major) + "." + std::to_string(preamble[7]));
  }
  if (header_len > kMaxHeaderBytes) {
    fail(function, name, "header length is absurd", std::to_string(header_len) + " bytes, limit " + std::to_string(kMaxHeaderBytes));
  }
  if (prefix + header_len > total) {
    fail(function, name, "is truncated inside the header",
         "header needs " + std::to_string(prefix + header_len) + " bytes, file has " + std::to_string(total));
  }
  std::string text(static_cast<std::size_t>(header_len), '\0');
  read_at(text.data(), header_len, prefix);
  // The dict is followed by space padding and a newline.
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\0')) text.pop_back();
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
      fail(function, name, "malformed header: non-printable character");
    }
  }
  NpyHeader header = HeaderParser(text, function, name).parse();
  header.data_offset = prefix + header_len;

  // Element count with overflow checks: no shape can claim more than the file.
  std::int64_t count = 1;
  for (const auto extent : header.shape) {
    if (extent != 0 && count > std::numeric_limits<std::int64_t>::max() / 8 / extent) {
      fail(function, name, "shape is absurd (its size overflows)", header.describe());
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
        fail(function, name, "shape is absurd (an empty array claiming more than 2^24 rows or columns)",
             header.describe());
      }
      claimed *= extent;
    }
  }
  const std::int64_t needed = count * static_cast<std::int64_t>(dtype_size(header.dtype));
  const std::int64_t available = total - header.data_offset;
  if (needed > available) {
    fail(function, name, "is truncated: the header promises more data than the file holds",
         header.describe() + " needs " + std::to_string(needed) + " bytes, " + std::to_string(available) + " follow the header");
  }
  if (needed < available) {
    fail(function, name, "has unexpected bytes after the data",
         header.describe() + " needs " + std::to_string(needed) + " bytes, " + std::to_string(available) + " follow the header");
  }
  return header;
}

void to_native_order(NpyHeader& header, std::vector<unsigned char>& bytes) {
  const std::size_t width = dtype_size(header.dtype);
  if (header.big_endian && width > 1) swap_bytes(bytes.data(), bytes.size() / width, width);
  if (header.fortran_order && !order_is_irrelevant(header.shape)) bytes = fortran_to_c(bytes, header.shape, width);
  header.big_endian = false;
  header.fortran_order = false;
}

}  // namespace latent::detail
