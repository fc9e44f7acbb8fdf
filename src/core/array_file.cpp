// open_array / list_arrays: the spec rule, the format by extension, .npy and
// *vecs files, and the typed accessors of ArrayFile.
#include "latent/core/array_file.hpp"

#include <sys/mman.h>
#include <sys/stat.h>

#include <cstring>
#include <utility>

#include "array_readers.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/half.hpp"
#include "latent/core/vecs.hpp"
#include "npy_parse.hpp"

namespace latent {
namespace {

using detail::fail;

enum class Format { npy, npz, hdf5, fvecs, ivecs, bvecs };

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Format format_of(const std::string& path) {
  if (ends_with(path, ".npz")) return Format::npz;
  if (ends_with(path, ".hdf5") || ends_with(path, ".h5")) return Format::hdf5;
  if (ends_with(path, ".fvecs")) return Format::fvecs;
  if (ends_with(path, ".ivecs")) return Format::ivecs;
  if (ends_with(path, ".bvecs")) return Format::bvecs;
  return Format::npy;
}

ArrayFile open_npy_array(const std::string& path) {
  const detail::File file("open_array", path);
  NpyHeader header = detail::parse_npy_header("open_array", path, file.size(), [&](void* b, std::int64_t c, std::int64_t o) {
    file.read_at("open_array", b, c, o);
  });
  const auto width = static_cast<std::int64_t>(dtype_size(header.dtype));
  if (header.native_layout() && header.data_offset % width == 0 && header.bytes() > 0) {
    auto base = detail::map_file(file, "open_array", path);
    const unsigned char* data = base.get() + header.data_offset;
    return ArrayFile(path, "", header.dtype, header.shape, std::move(base), data, true);
  }
  auto bytes = std::make_shared<std::vector<unsigned char>>(static_cast<std::size_t>(header.bytes()));
  file.read_at("open_array", bytes->data(), header.bytes(), header.data_offset);
  detail::to_native_order(header, *bytes);
  const unsigned char* data = bytes->data();
  return ArrayFile(path, "", header.dtype, header.shape, std::move(bytes), data, false);
}

template <class T>
ArrayFile own_matrix(const std::string& path, DType dtype, RowMatrix<T> matrix) {
  auto owned = std::make_shared<RowMatrix<T>>(std::move(matrix));
  const auto* data = reinterpret_cast<const unsigned char*>(owned->data());
  std::vector<std::int64_t> shape{owned->rows(), owned->cols()};
  return ArrayFile(path, "", dtype, std::move(shape), std::move(owned), data, false);
}

void refuse_name(const std::string& path, const std::string& name) {
  fail("open_array", path, "holds a single array, so ':" + name + "' names nothing",
       "a member name applies to .npz and HDF5 files");
}

// Converts `count` values of `dtype` at `bytes` to T (the dtypes matrix<T> takes).
template <class T>
void convert(DType dtype, const unsigned char* bytes, std::int64_t count, T* out, const std::string& source) {
  auto copy = [&](auto tag) {
    using Source = decltype(tag);
    for (std::int64_t i = 0; i < count; ++i) {
      Source value;
      std::memcpy(&value, bytes + i * static_cast<std::int64_t>(sizeof(Source)), sizeof(Source));
      out[i] = static_cast<T>(value);
    }
  };
  constexpr bool floating = std::is_floating_point_v<T>;
  switch (dtype) {
    case DType::int64: return copy(std::int64_t{});
    case DType::int32: return copy(std::int32_t{});
    case DType::uint8: return copy(std::uint8_t{});
    case DType::boolean: return copy(std::uint8_t{});
    case DType::int8: return copy(std::int8_t{});
    case DType::uint16: return copy(std::uint16_t{});
    case DType::float32:
      if constexpr (floating) return copy(float{});
      break;
    case DType::float64:
      if constexpr (floating) return copy(double{});
      break;
    case DType::float16:
      if constexpr (floating) {
        for (std::int64_t i = 0; i < count; ++i) {
          std::uint16_t bits;
          std::memcpy(&bits, bytes + 2 * i, 2);
          out[i] = static_cast<T>(to_float(Float16{bits}));
        }
        return;
      }
      break;
  }
  fail("open_array", source, "has dtype " + std::string(to_string(dtype)) + ", expected an integer dtype");
}

}  // namespace

ArraySpec parse_array_spec(const std::string& spec) {
  struct stat info {};
  const std::size_t colon = spec.rfind(':');
  if (colon == std::string::npos || ::stat(spec.c_str(), &info) == 0) return {spec, ""};
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

std::string ArrayInfo::describe() const {
  std::string text = name.empty() ? "[" : name + " [";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return text + "] " + std::string(to_string(dtype));
}

bool hdf5_supported() {
#ifdef LATENT_HAVE_HDF5
  return true;
#else
  return false;
#endif
}

std::vector<ArrayInfo> list_arrays(const std::string& path) {
  switch (format_of(path)) {
    case Format::npz: return detail::list_npz(path);
    case Format::hdf5: return detail::list_hdf5(path);
    default: {
      const ArrayFile array = open_array(path);
      return {ArrayInfo{"", array.dtype(), array.shape()}};
    }
  }
}

ArrayFile open_array(const std::string& spec) {
  const ArraySpec parts = parse_array_spec(spec);
  const Format format = format_of(parts.path);
  if (format == Format::npz) return detail::open_npz_array(parts.path, parts.name);
  if (format == Format::hdf5) {
    if (parts.name.empty()) {
      fail("open_array", parts.path, "an HDF5 file holds several datasets: name one",
           "e.g. " + parts.path + ":train");
    }
    return detail::open_hdf5_array(parts.path, parts.name);
  }
  if (!parts.name.empty()) refuse_name(parts.path, parts.name);
  if (format == Format::fvecs) return own_matrix(parts.path, DType::float32, read_fvecs(parts.path));
  if (format == Format::ivecs) return own_matrix(parts.path, DType::int32, read_ivecs(parts.path));
  if (format == Format::bvecs) return own_matrix(parts.path, DType::uint8, read_bvecs(parts.path));
  return open_npy_array(parts.path);
}

// ---------------------------------------------------------------- ArrayFile

ArrayFile::ArrayFile(std::string path, std::string name, DType dtype, std::vector<std::int64_t> shape,
                     std::shared_ptr<const void> owner, const unsigned char* bytes, bool mapped)
    : path_(std::move(path)),
      name_(std::move(name)),
      dtype_(dtype),
      shape_(std::move(shape)),
      owner_(std::move(owner)),
      data_(bytes),
      mapped_(mapped) {
  for (const auto extent : shape_) {
    if (extent < 0) fail("ArrayFile", source(), "has a negative extent", describe());
  }
  if (data_ == nullptr && size() > 0) fail("ArrayFile", source(), "has no data", describe());
}

std::int64_t ArrayFile::size() const {
  std::int64_t count = 1;
  for (const auto extent : shape_) count *= extent;
  return count;
}

std::size_t ArrayFile::bytes() const { return static_cast<std::size_t>(size()) * dtype_size(dtype_); }

std::string ArrayFile::describe() const { return ArrayInfo{"", dtype_, shape_}.describe(); }

template <class T>
MatrixView<T> ArrayFile::view() const {
  if (dtype_ != dtype_of<T>()) {
    fail("open_array", source(), "has dtype " + std::string(to_string(dtype_)) + ", expected " +
                                     std::string(to_string(dtype_of<T>())));
  }
  if (shape_.size() != 1 && shape_.size() != 2) fail("open_array", source(), "expected a 1-D or 2-D array", "shape " + describe());
  if constexpr (std::is_same_v<T, bool>) {
    for (std::int64_t i = 0; i < size(); ++i) {
      if (data_[i] > 1) fail("open_array", source(), "bool array holds a byte other than 0 or 1", "element " + std::to_string(i));
    }
  }
  const std::int64_t cols = shape_.size() == 2 ? shape_[1] : 1;
  return MatrixView<T>(reinterpret_cast<const T*>(data_), shape_[0], cols);
}

template <class T>
RowMatrix<T> ArrayFile::matrix() const {
  if (shape_.size() != 1 && shape_.size() != 2) fail("open_array", source(), "expected a 1-D or 2-D array", "shape " + describe());
  RowMatrix<T> out(shape_[0], shape_.size() == 2 ? shape_[1] : 1);
  convert<T>(dtype_, data_, size(), out.data(), source());
  return out;
}

template <class T>
std::vector<T> ArrayFile::vector() const {
  if (!(shape_.size() == 1 || (shape_.size() == 2 && shape_[1] == 1))) {
    fail("open_array", source(), "expected a 1-D array", "shape " + describe());
  }
  std::vector<T> out(static_cast<std::size_t>(size()));
  convert<T>(dtype_, data_, size(), out.data(), source());
  return out;
}

template MatrixView<float> ArrayFile::view<float>() const;
template MatrixView<double> ArrayFile::view<double>() const;
template MatrixView<std::int64_t> ArrayFile::view<std::int64_t>() const;
template MatrixView<std::int32_t> ArrayFile::view<std::int32_t>() const;
template MatrixView<std::uint8_t> ArrayFile::view<std::uint8_t>() const;
template MatrixView<bool> ArrayFile::view<bool>() const;
template MatrixView<std::int8_t> ArrayFile::view<std::int8_t>() const;
template MatrixView<std::uint16_t> ArrayFile::view<std::uint16_t>() const;
template RowMatrix<float> ArrayFile::matrix<float>() const;
template RowMatrix<double> ArrayFile::matrix<double>() const;
template RowMatrix<std::int64_t> ArrayFile::matrix<std::int64_t>() const;
template std::vector<float> ArrayFile::vector<float>() const;
template std::vector<double> ArrayFile::vector<double>() const;
template std::vector<std::int64_t> ArrayFile::vector<std::int64_t>() const;

namespace detail {

std::shared_ptr<const unsigned char> map_file(const File& file, std::string_view function, const std::string& path) {
  const auto length = static_cast<std::size_t>(file.size());
  void* base = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, file.fd(), 0);
  if (base == MAP_FAILED) fail(function, path, "cannot be memory-mapped", errno_text());
  return std::shared_ptr<const unsigned char>(static_cast<const unsigned char*>(base), [length](const unsigned char* p) {
    ::munmap(const_cast<unsigned char*>(p), length);
  });
}

}  // namespace detail
}  // namespace latent
