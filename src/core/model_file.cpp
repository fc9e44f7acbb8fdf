// The versioned model file: ModelWriter and ModelReader.
#include "latent/core/model_file.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "file_io.hpp"
#include "latent/core/errors.hpp"

namespace latent {
namespace {

using detail::AtomicWriter;
using detail::fail;
using detail::File;

constexpr char kModelMagic[8] = {'L', 'A', 'T', 'E', 'N', 'T', 'M', 'F'};
constexpr std::uint32_t kModelFormatVersion = 1;
constexpr unsigned char kTypeInt = 1, kTypeDouble = 2, kTypeString = 3;
constexpr std::size_t kMaxNameBytes = 1 << 10;

std::uint64_t fnv1a(const std::string& bytes, std::size_t count) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < count; ++i) {
    hash ^= static_cast<unsigned char>(bytes[i]);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

template <class U>
void append_le(std::string& out, U value) {
  for (std::size_t b = 0; b < sizeof(U); ++b) out.push_back(static_cast<char>((value >> (8 * b)) & 0xff));
}

void append_text(std::string& out, const std::string& text) {
  append_le(out, static_cast<std::uint32_t>(text.size()));
  out += text;
}

// Sequential reads that check every length against what is left.
class ModelCursor {
 public:
  ModelCursor(const std::string& bytes, std::size_t end, const std::string& path)
      : bytes_(bytes), end_(end), path_(path) {}
  template <class U>
  U read() {
    need(sizeof(U));
    U value = 0;
    for (std::size_t b = 0; b < sizeof(U); ++b)
      value = static_cast<U>(value | (static_cast<U>(static_cast<unsigned char>(bytes_[at_ + b])) << (8 * b)));
    at_ += sizeof(U);
    return value;
  }
  std::string text(std::size_t limit) {
    const auto length = read<std::uint32_t>();
    if (length > limit) fail("ModelReader", path_, "is corrupt (a name is too long)");
    need(length);
    std::string out = bytes_.substr(at_, length);
    at_ += length;
    return out;
  }
  std::size_t skip(std::uint64_t count) {
    if (count > end_ - at_) fail("ModelReader", path_, "is truncated or corrupt (a field runs past the end)");
    const std::size_t start = at_;
    at_ += static_cast<std::size_t>(count);
    return start;
  }
  std::size_t position() const { return at_; }

 private:
  void need(std::size_t count) const {
    if (count > end_ - at_) fail("ModelReader", path_, "is truncated or corrupt");
  }
  const std::string& bytes_;
  std::size_t end_;
  const std::string& path_;
  std::size_t at_ = 0;
};

std::string_view type_name(unsigned char type) {
  return type == kTypeInt ? "int64" : type == kTypeDouble ? "float64" : "string";
}

}  // namespace

ModelWriter::ModelWriter(std::string kind, std::uint32_t kind_version)
    : kind_(std::move(kind)), kind_version_(kind_version) {}

void ModelWriter::field(const std::string& name, unsigned char type, const std::vector<std::uint64_t>& extents,
                        const void* data, std::size_t bytes) {
  append_text(body_, name);
  body_.push_back(static_cast<char>(type));
  body_.push_back(static_cast<char>(extents.size()));
  for (const std::uint64_t extent : extents) append_le(body_, extent);
  body_.append(static_cast<const char*>(data), bytes);
  ++count_;
}

void ModelWriter::put(const std::string& name, std::int64_t value) {
  field(name, kTypeInt, {}, &value, sizeof value);
}
void ModelWriter::put(const std::string& name, double value) { field(name, kTypeDouble, {}, &value, sizeof value); }
void ModelWriter::put(const std::string& name, const std::string& value) {
  field(name, kTypeString, {value.size()}, value.data(), value.size());
}
void ModelWriter::put(const std::string& name, const std::vector<std::int64_t>& values) {
  field(name, kTypeInt, {values.size()}, values.data(), values.size() * sizeof(std::int64_t));
}
void ModelWriter::put(const std::string& name, const std::vector<double>& values) {
  field(name, kTypeDouble, {values.size()}, values.data(), values.size() * sizeof(double));
}
void ModelWriter::put(const std::string& name, const MatrixView<double>& values) {
  std::vector<double> dense(static_cast<std::size_t>(values.rows * values.cols));
  for (std::int64_t i = 0; i < values.rows; ++i)
    std::copy(values.row(i), values.row(i) + values.cols, dense.begin() + i * values.cols);
  field(name, kTypeDouble, {static_cast<std::uint64_t>(values.rows), static_cast<std::uint64_t>(values.cols)},
        dense.data(), dense.size() * sizeof(double));
}

void ModelWriter::save(const std::string& path) const {
  std::string bytes(kModelMagic, sizeof kModelMagic);
  append_le(bytes, kModelFormatVersion);
  append_text(bytes, kind_);
  append_le(bytes, kind_version_);
  append_le(bytes, count_);
  bytes += body_;
  append_le(bytes, fnv1a(bytes, bytes.size()));
  AtomicWriter writer("ModelWriter::save", path);
  writer.write(bytes.data(), bytes.size());
  writer.commit();
}

ModelReader::ModelReader(const std::string& path, std::string_view kind, std::uint32_t max_kind_version)
    : path_(path) {
  const File file("ModelReader", path);
  constexpr std::int64_t kMinimum = sizeof kModelMagic + 4 + 4 + 4 + 8 + 8;
  if (file.size() < kMinimum) fail("ModelReader", path, "is not a latent model file (too short)");
  bytes_.resize(static_cast<std::size_t>(file.size()));
  file.read_at("ModelReader", bytes_.data(), file.size(), 0);
  if (bytes_.compare(0, sizeof kModelMagic, kModelMagic, sizeof kModelMagic) != 0)
    fail("ModelReader", path, "is not a latent model file (bad magic)");
  const std::size_t body_end = bytes_.size() - 8;
  ModelCursor trailer(bytes_, bytes_.size(), path_);
  trailer.skip(body_end);
  if (trailer.read<std::uint64_t>() != fnv1a(bytes_, body_end))
    fail("ModelReader", path, "is corrupt (checksum mismatch)");

  ModelCursor cursor(bytes_, body_end, path_);
  cursor.skip(sizeof kModelMagic);
  const auto format = cursor.read<std::uint32_t>();
  if (format != kModelFormatVersion)
    fail("ModelReader", path, "has an unsupported format version", "version " + std::to_string(format));
  const std::string stored_kind = cursor.text(kMaxNameBytes);
  kind_ = stored_kind;
  if (kind != "*" && stored_kind != kind)
    fail("ModelReader", path, "holds another kind of model",
         "'" + stored_kind + "', expected '" + std::string(kind) + "'");
  kind_version_ = cursor.read<std::uint32_t>();
  if (kind_version_ > max_kind_version)
    fail("ModelReader", path, "was written by a newer version of latent",
         std::string(kind) + " version " + std::to_string(kind_version_) + " > " + std::to_string(max_kind_version));
  const auto count = cursor.read<std::uint64_t>();
  if (count > body_end) fail("ModelReader", path, "is corrupt (field count)");
  for (std::uint64_t f = 0; f < count; ++f) {
    std::string name = cursor.text(kMaxNameBytes);
    Field field;
    field.type = cursor.read<unsigned char>();
    const auto rank = cursor.read<unsigned char>();
    if (field.type < kTypeInt || field.type > kTypeString || rank > 2)
      fail("ModelReader", path, "is corrupt (field type)", "field '" + name + "'");
    std::uint64_t elements = 1;
    for (unsigned char r = 0; r < rank; ++r) {
      const auto extent = cursor.read<std::uint64_t>();
      if (extent != 0 && elements > body_end / extent)
        fail("ModelReader", path, "is corrupt (field shape)", "field '" + name + "'");
      elements *= extent;
      field.extents.push_back(extent);
    }
    const std::uint64_t width = field.type == kTypeString ? 1 : 8;
    if (elements > body_end / width) fail("ModelReader", path, "is corrupt (field shape)", "field '" + name + "'");
    field.bytes = static_cast<std::size_t>(elements * width);
    field.offset = cursor.skip(field.bytes);
    for (const auto& existing : fields_)
      if (existing.first == name) fail("ModelReader", path, "is corrupt (repeated field)", "field '" + name + "'");
    fields_.emplace_back(std::move(name), std::move(field));
  }
  if (cursor.position() != body_end) fail("ModelReader", path, "is corrupt (trailing bytes)");
}

bool ModelReader::has(const std::string& name) const {
  for (const auto& field : fields_)
    if (field.first == name) return true;
  return false;
}

const ModelReader::Field& ModelReader::find(const std::string& name, unsigned char type, std::size_t rank) const {
  for (const auto& field : fields_) {
    if (field.first != name) continue;
    if (field.second.type != type || field.second.extents.size() != rank)
      fail("ModelReader", path_, "has a field of the wrong type",
           "field '" + name + "' is " + std::string(type_name(field.second.type)) + " of rank " +
               std::to_string(field.second.extents.size()) + ", expected " + std::string(type_name(type)) +
               " of rank " + std::to_string(rank));
    return field.second;
  }
  fail("ModelReader", path_, "lacks a field", "'" + name + "'");
}

namespace {
template <class T>
std::vector<T> copy_values(const std::string& bytes, std::size_t offset, std::size_t count) {
  std::vector<T> out(count);
  if (count > 0) std::memcpy(out.data(), bytes.data() + offset, count * sizeof(T));
  return out;
}
}  // namespace

std::int64_t ModelReader::get_int(const std::string& name) const {
  const Field& field = find(name, kTypeInt, 0);
  return copy_values<std::int64_t>(bytes_, field.offset, 1)[0];
}
double ModelReader::get_double(const std::string& name) const {
  const Field& field = find(name, kTypeDouble, 0);
  return copy_values<double>(bytes_, field.offset, 1)[0];
}
std::string ModelReader::get_string(const std::string& name) const {
  const Field& field = find(name, kTypeString, 1);
  return bytes_.substr(field.offset, field.bytes);
}
std::vector<std::int64_t> ModelReader::get_ints(const std::string& name) const {
  const Field& field = find(name, kTypeInt, 1);
  return copy_values<std::int64_t>(bytes_, field.offset, field.bytes / 8);
}
std::vector<double> ModelReader::get_doubles(const std::string& name) const {
  const Field& field = find(name, kTypeDouble, 1);
  return copy_values<double>(bytes_, field.offset, field.bytes / 8);
}
RowMatrix<double> ModelReader::get_matrix(const std::string& name) const {
  const Field& field = find(name, kTypeDouble, 2);
  RowMatrix<double> out(static_cast<Eigen::Index>(field.extents[0]), static_cast<Eigen::Index>(field.extents[1]));
  if (field.bytes > 0) std::memcpy(out.data(), bytes_.data() + field.offset, field.bytes);
  return out;
}

}  // namespace latent
