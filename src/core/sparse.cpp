// CSR matrices: validation, dense conversion, and scipy's .npz layout (read through
// open_array, which maps stored aligned members; written as a stored zip archive
// from PKWARE's APPNOTE: local headers, the central directory, the end record).
#include "latent/core/sparse.hpp"

#include <zlib.h>

#include <cmath>
#include <cstring>

#include "file_io.hpp"
#include "latent/core/array_file.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/npy.hpp"
#include "zip_reader.hpp"

namespace latent {
namespace {

using Index = std::int64_t;

struct OwnedArrays {
  std::vector<std::int64_t> offsets, indices;
  std::vector<float> values;
};

[[noreturn]] void invalid(const char* function, const char* argument, const std::string& problem,
                          const std::string& numbers) {
  raise<InvalidArgument>(function, argument, problem, numbers);
}

}  // namespace

SparseMatrix::SparseMatrix() {
  auto owned = std::make_shared<OwnedArrays>();
  owned->offsets = {0};
  offsets_ = owned->offsets.data();
  owner_ = std::move(owned);
}

SparseMatrix::SparseMatrix(std::int64_t rows, std::int64_t cols, std::vector<std::int64_t> offsets,
                           std::vector<std::int64_t> indices, std::vector<float> values)
    : rows_(rows), cols_(cols) {
  const char* function = "SparseMatrix";
  if (rows < 0 || cols < 0)
    invalid(function, "shape", "must not be negative", std::to_string(rows) + " x " + std::to_string(cols));
  if (static_cast<Index>(offsets.size()) != rows + 1)
    invalid(function, "offsets", "must hold rows + 1 entries",
            "rows=" + std::to_string(rows) + ", offsets=" + std::to_string(offsets.size()));
  if (indices.size() != values.size())
    invalid(function, "indices", "must hold one entry per value",
            "indices=" + std::to_string(indices.size()) + ", values=" + std::to_string(values.size()));
  auto owned = std::make_shared<OwnedArrays>(OwnedArrays{std::move(offsets), std::move(indices), std::move(values)});
  nnz_ = static_cast<Index>(owned->values.size());
  offsets_ = owned->offsets.data();
  indices_ = owned->indices.data();
  values_ = owned->values.data();
  owner_ = std::move(owned);
  validate(function);
}

SparseMatrix::SparseMatrix(std::int64_t rows, std::int64_t cols, std::shared_ptr<const void> owner,
                           const std::int64_t* offsets, const std::int64_t* indices, const float* values, bool mapped)
    : rows_(rows),
      cols_(cols),
      owner_(std::move(owner)),
      offsets_(offsets),
      indices_(indices),
      values_(values),
      mapped_(mapped) {
  nnz_ = rows >= 0 && offsets != nullptr ? offsets[rows] : 0;
  validate("SparseMatrix");
}

void SparseMatrix::validate(const char* function) const {
  if (offsets_[0] != 0) invalid(function, "offsets", "must start at 0", "offsets[0]=" + std::to_string(offsets_[0]));
  for (Index i = 0; i < rows_; ++i) {
    const Index begin = offsets_[i], end = offsets_[i + 1];
    if (end < begin || end > nnz_)
      invalid(function, "offsets", "must not decrease and must end at the number of values",
              "row " + std::to_string(i) + ": " + std::to_string(begin) + " .. " + std::to_string(end) +
                  ", values=" + std::to_string(nnz_));
    for (Index e = begin; e < end; ++e) {
      const Index column = indices_[e];
      if (column < 0 || column >= cols_)
        invalid(function, "indices", "must lie in [0, cols)",
                "row " + std::to_string(i) + ", position " + std::to_string(e) + ": " + std::to_string(column) +
                    ", cols=" + std::to_string(cols_));
      if (e > begin && column <= indices_[e - 1])
        invalid(function, "indices",
                "must be strictly increasing within a row (scipy: sort_indices(), sum_duplicates())",
                "row " + std::to_string(i) + ", position " + std::to_string(e));
      if (!std::isfinite(values_[e]))
        raise<NonFiniteValue>(function, "values", "contains a non-finite value",
                              "row " + std::to_string(i) + ", column " + std::to_string(column));
    }
  }
  if (offsets_[rows_] != nnz_)
    invalid(function, "offsets", "must end at the number of values",
            "offsets[rows]=" + std::to_string(offsets_[rows_]) + ", values=" + std::to_string(nnz_));
}

SparseMatrix SparseMatrix::from_dense(const MatrixView<float>& dense) {
  require_finite("SparseMatrix::from_dense", "dense", dense);
  std::vector<std::int64_t> offsets{0}, indices;
  std::vector<float> values;
  for (Index i = 0; i < dense.rows; ++i) {
    for (Index j = 0; j < dense.cols; ++j) {
      if (dense.row(i)[j] != 0.0f) {
        indices.push_back(j);
        values.push_back(dense.row(i)[j]);
      }
    }
    offsets.push_back(static_cast<Index>(values.size()));
  }
  return SparseMatrix(dense.rows, dense.cols, std::move(offsets), std::move(indices), std::move(values));
}

RowMatrixf SparseMatrix::to_dense() const {
  RowMatrixf dense = RowMatrixf::Zero(rows_, cols_);
  for (Index i = 0; i < rows_; ++i)
    for (Index e = offsets_[i]; e < offsets_[i + 1]; ++e) dense(i, indices_[e]) = values_[e];
  return dense;
}

// ------------------------------------------------------------------ reading ----

namespace {

constexpr const char* kRead = "read_sparse_npz";

// The `format` member: a 0-d numpy bytes or str array (scipy writes b"csr").
void check_format(const std::string& path) {
  const detail::ZipReader zip(kRead, path);
  const detail::ZipMember* member = zip.find("format.npy");
  if (member == nullptr) member = zip.find("format");
  if (member == nullptr) return;  // older writers leave it out; the other members decide
  const std::vector<unsigned char> bytes = zip.read(*member, 4096);  // a header and 3 or 12 bytes
  const std::string text(bytes.begin(), bytes.end());
  const std::size_t descr = text.find("'descr': '");
  const std::size_t header_end = text.find('\n');
  std::string value;
  if (descr != std::string::npos && header_end != std::string::npos && descr < header_end) {
    const std::string code = text.substr(descr + 10, 3);
    const std::string data = text.substr(header_end + 1);
    if (code == "|S3") value = data.substr(0, 3);
    if (code == "<U3" && data.size() >= 12)
      for (int c = 0; c < 3; ++c) value += data[static_cast<std::size_t>(4 * c)];
  }
  if (value != "csr")
    detail::fail(kRead, path, "is not a CSR matrix: its `format` member is not \"csr\"",
                 "scipy.sparse.save_npz of a csr_matrix writes one");
}

// A member as int64 / float32: in place when it already is (mapped or not), else converted.
template <class T>
std::shared_ptr<const std::vector<T>> converted(const ArrayFile& array, const std::string& path) {
  auto out = std::make_shared<std::vector<T>>(static_cast<std::size_t>(array.size()));
  if constexpr (std::is_same_v<T, float>) {
    if (array.dtype() != DType::float32 && array.dtype() != DType::float64)
      detail::fail(kRead, path, "member `data` must be float32 or float64",
                   "dtype " + std::string(to_string(array.dtype())));
    const RowMatrixd values = array.matrix<double>();
    for (std::size_t i = 0; i < out->size(); ++i) (*out)[i] = static_cast<float>(values.data()[i]);
  } else {
    if (array.dtype() != DType::int64 && array.dtype() != DType::int32)
      detail::fail(kRead, path, "member `" + array.name() + "` must be int32 or int64",
                   "dtype " + std::string(to_string(array.dtype())));
    const std::vector<std::int64_t> values = array.vector<std::int64_t>();
    std::copy(values.begin(), values.end(), out->begin());
  }
  return out;
}

ArrayFile member(const std::string& path, const std::string& name, std::int64_t expected) {
  const ArrayFile array = open_array(path + ":" + name);
  if (array.shape().size() != 1 || (expected >= 0 && array.shape()[0] != expected))
    detail::fail(kRead, path, "member `" + name + "` has the wrong shape",
                 array.describe() + (expected >= 0 ? ", expected [" + std::to_string(expected) + "]" : ""));
  return array;
}

}  // namespace

SparseMatrix read_sparse_npz(const std::string& path) {
  check_format(path);
  const std::vector<std::int64_t> shape = member(path, "shape", 2).vector<std::int64_t>();
  constexpr std::int64_t kMaxRows = std::int64_t{1} << 60;  // indptr holds rows + 1 entries
  if (shape[0] < 0 || shape[1] < 0 || shape[0] > kMaxRows)
    detail::fail(kRead, path, "member `shape` is negative or absurd",
                 std::to_string(shape[0]) + " x " + std::to_string(shape[1]));
  const ArrayFile indptr = member(path, "indptr", shape[0] + 1);
  const ArrayFile indices = member(path, "indices", -1);
  const ArrayFile data = member(path, "data", indices.shape()[0]);

  struct Owner {
    ArrayFile indptr, indices, data;
    std::shared_ptr<const std::vector<std::int64_t>> offsets_copy, indices_copy;
    std::shared_ptr<const std::vector<float>> values_copy;
  };
  auto owner = std::make_shared<Owner>(Owner{indptr, indices, data, nullptr, nullptr, nullptr});
  const bool direct_offsets = indptr.dtype() == DType::int64;
  const bool direct_indices = indices.dtype() == DType::int64;
  const bool direct_values = data.dtype() == DType::float32;
  if (!direct_offsets) owner->offsets_copy = converted<std::int64_t>(indptr, path);
  if (!direct_indices) owner->indices_copy = converted<std::int64_t>(indices, path);
  if (!direct_values) owner->values_copy = converted<float>(data, path);
  const auto* offsets =
      direct_offsets ? reinterpret_cast<const std::int64_t*>(indptr.data()) : owner->offsets_copy->data();
  const auto* columns =
      direct_indices ? reinterpret_cast<const std::int64_t*>(indices.data()) : owner->indices_copy->data();
  const auto* values = direct_values ? reinterpret_cast<const float*>(data.data()) : owner->values_copy->data();
  const bool mapped =
      direct_offsets && direct_indices && direct_values && indptr.mapped() && indices.mapped() && data.mapped();
  if (offsets[shape[0]] != indices.shape()[0])
    detail::fail(
        kRead, path, "indptr does not end at the number of stored values",
        "indptr[rows]=" + std::to_string(offsets[shape[0]]) + ", values=" + std::to_string(indices.shape()[0]));
  try {
    return SparseMatrix(shape[0], shape[1], owner, offsets, columns, values, mapped);
  } catch (const Error& e) {
    throw InvalidArgument(path + ": " + e.what());
  }
}

// ------------------------------------------------------------------ writing ----

namespace {

constexpr const char* kWrite = "write_sparse_npz";

void put16(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}

struct Member {
  std::string name;
  std::string header;  // the .npy header
  const void* data;
  std::size_t bytes;
  std::uint32_t crc = 0;
  std::uint64_t offset = 0;  // of the local header
};

std::uint32_t crc_of(const Member& m) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  crc = ::crc32(crc, reinterpret_cast<const Bytef*>(m.header.data()), static_cast<uInt>(m.header.size()));
  const auto* bytes = static_cast<const unsigned char*>(m.data);
  for (std::size_t done = 0; done < m.bytes;) {
    const std::size_t step = std::min<std::size_t>(m.bytes - done, 1u << 30);
    crc = ::crc32(crc, bytes + done, static_cast<uInt>(step));
    done += step;
  }
  return static_cast<std::uint32_t>(crc);
}

// Extra-field bytes that put the member's data (after a 30-byte local header and its
// name) on a 64-byte boundary: one padding field (id 0x6c61, "la") of that length.
std::string alignment_field(std::uint64_t offset, std::size_t name_size) {
  const std::uint64_t unpadded = offset + 30 + name_size;
  std::uint64_t pad = (64 - unpadded % 64) % 64;
  if (pad != 0 && pad < 4) pad += 64;  // a field needs its 4-byte id and size
  std::string field;
  if (pad == 0) return field;
  put16(field, 0x6c61);
  put16(field, static_cast<std::uint32_t>(pad - 4));
  field.append(pad - 4, '\0');
  return field;
}

}  // namespace

void write_sparse_npz(const std::string& path, const SparseMatrix& matrix) {
  const std::vector<std::int64_t> shape = {matrix.rows(), matrix.cols()};
  const std::uint8_t format[3] = {'c', 's', 'r'};
  // numpy's 0-d bytes array b"csr": the uint8 header with the descr '|u1' read as '|S3' (same length).
  std::string format_header = npy_header_bytes(DType::uint8, {});
  format_header.replace(format_header.find("|u1"), 3, "|S3");
  const auto nnz = static_cast<std::size_t>(matrix.nnz());
  std::vector<Member> members = {
      {"indices.npy", npy_header_bytes(DType::int64, {matrix.nnz()}), matrix.indices(), nnz * 8},
      {"indptr.npy", npy_header_bytes(DType::int64, {matrix.rows() + 1}), matrix.offsets(),
       static_cast<std::size_t>(matrix.rows() + 1) * 8},
      {"format.npy", format_header, format, 3},
      {"shape.npy", npy_header_bytes(DType::int64, {2}), shape.data(), 16},
      {"data.npy", npy_header_bytes(DType::float32, {matrix.nnz()}), matrix.values(), nnz * 4},
  };
  detail::AtomicWriter out(kWrite, path);
  std::uint64_t offset = 0;
  constexpr std::uint64_t kLimit = 0xffffffffULL;
  for (Member& m : members) {
    m.crc = crc_of(m);
    m.offset = offset;
    const std::uint64_t size = m.header.size() + m.bytes;
    const std::string extra = alignment_field(offset, m.name.size());
    if (size >= kLimit || offset + 30 + m.name.size() + extra.size() + size >= kLimit)
      detail::fail(kWrite, path, "would pass 4 GiB (ZIP64 is not written)", "member " + m.name);
    std::string local;
    put32(local, 0x04034b50);
    put16(local, 20);      // version needed
    put16(local, 0);       // flags
    put16(local, 0);       // stored
    put16(local, 0);       // time
    put16(local, 0x0021);  // date: 1980-01-01
    put32(local, m.crc);
    put32(local, static_cast<std::uint32_t>(size));
    put32(local, static_cast<std::uint32_t>(size));
    put16(local, static_cast<std::uint32_t>(m.name.size()));
    put16(local, static_cast<std::uint32_t>(extra.size()));
    local += m.name + extra + m.header;
    out.write(local.data(), local.size());
    out.write(m.data, m.bytes);
    offset += local.size() + m.bytes;
  }
  std::string directory;
  for (const Member& m : members) {
    const std::uint64_t size = m.header.size() + m.bytes;
    put32(directory, 0x02014b50);
    put16(directory, 20);  // made by
    put16(directory, 20);  // needed
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0x0021);
    put32(directory, m.crc);
    put32(directory, static_cast<std::uint32_t>(size));
    put32(directory, static_cast<std::uint32_t>(size));
    put16(directory, static_cast<std::uint32_t>(m.name.size()));
    put16(directory, 0);  // extra
    put16(directory, 0);  // comment
    put16(directory, 0);  // disk
    put16(directory, 0);  // internal attributes
    put32(directory, 0);  // external attributes
    put32(directory, static_cast<std::uint32_t>(m.offset));
    directory += m.name;
  }
  if (offset + directory.size() >= kLimit) detail::fail(kWrite, path, "would pass 4 GiB (ZIP64 is not written)", "");
  std::string end;
  put32(end, 0x06054b50);
  put16(end, 0);
  put16(end, 0);
  put16(end, static_cast<std::uint32_t>(members.size()));
  put16(end, static_cast<std::uint32_t>(members.size()));
  put32(end, static_cast<std::uint32_t>(directory.size()));
  put32(end, static_cast<std::uint32_t>(offset));
  put16(end, 0);
  out.write(directory.data(), directory.size());
  out.write(end.data(), end.size());
  out.commit();
}

}  // namespace latent
