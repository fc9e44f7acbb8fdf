// .fvecs / .ivecs / .bvecs reading and writing.
#include "latent/core/vecs.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "file_io.hpp"
#include "latent/core/errors.hpp"

namespace latent {
namespace {

using detail::AtomicWriter;
using detail::fail;
using detail::File;
using detail::read_le_u32;

// Record dimension limit of the *vecs formats (16M values per vector).
constexpr std::int64_t kMaxVecsDim = std::int64_t{1} << 24;

template <class T>
RowMatrix<T> read_vecs(std::string_view function, const std::string& path) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 4, "vecs element size");
  const File file(function, path);
  if (file.size() == 0) return {};
  if (file.size() < 4) fail(function, path, "is truncated inside the first record", std::to_string(file.size()) + " bytes");
  unsigned char head[4];
  file.read_at(function, head, 4, 0);
  const auto dim = static_cast<std::int64_t>(static_cast<std::int32_t>(read_le_u32(head)));
  if (dim < 1 || dim > kMaxVecsDim) {
    fail(function, path, "first record has an invalid dimension", "d=" + std::to_string(dim) + ", allowed 1.." + std::to_string(kMaxVecsDim));
  }
  const std::int64_t record = 4 + dim * static_cast<std::int64_t>(sizeof(T));
  if (file.size() % record != 0) {
    fail(function, path, "is not a whole number of records (truncated?)",
         "d=" + std::to_string(dim) + ", record " + std::to_string(record) + " bytes, file " + std::to_string(file.size()) + " bytes");
  }
  const std::int64_t rows = file.size() / record;
  RowMatrix<T> out(rows, dim);
  // Read in slabs of whole records to keep the staging buffer small.
  const std::int64_t slab_rows = std::max<std::int64_t>(1, (std::int64_t{8} << 20) / record);
  std::vector<unsigned char> buffer(static_cast<std::size_t>(std::min(rows, slab_rows) * record));
  for (std::int64_t first = 0; first < rows; first += slab_rows) {
    const std::int64_t count = std::min(slab_rows, rows - first);
    file.read_at(function, buffer.data(), count * record, first * record);
    for (std::int64_t r = 0; r < count; ++r) {
      const unsigned char* rec = buffer.data() + r * record;
      const auto d = static_cast<std::int64_t>(static_cast<std::int32_t>(read_le_u32(rec)));
      if (d != dim) {
        fail(function, path, "records have different dimensions",
             "record " + std::to_string(first + r) + " has d=" + std::to_string(d) + ", record 0 has d=" + std::to_string(dim));
      }
      std::memcpy(out.row(first + r).data(), rec + 4, static_cast<std::size_t>(dim) * sizeof(T));
    }
  }
  return out;
}

template <class T>
void write_vecs(std::string_view function, const std::string& path, const MatrixView<T>& matrix) {
  if (matrix.cols < 1 || matrix.cols > kMaxVecsDim) {
    raise<InvalidArgument>(function, "matrix", "dimension out of range for the *vecs format",
                           "cols=" + std::to_string(matrix.cols));
  }
  AtomicWriter out(function, path);
  const auto dim = static_cast<std::int32_t>(matrix.cols);
  for (std::int64_t i = 0; i < matrix.rows; ++i) {
    out.write(&dim, 4);
    out.write(matrix.row(i), static_cast<std::size_t>(matrix.cols) * sizeof(T));
  }
  out.commit();
}

}  // namespace

RowMatrixf read_fvecs(const std::string& path) { return read_vecs<float>("read_fvecs", path); }
RowMatrix<std::int32_t> read_ivecs(const std::string& path) { return read_vecs<std::int32_t>("read_ivecs", path); }
RowMatrix<std::uint8_t> read_bvecs(const std::string& path) { return read_vecs<std::uint8_t>("read_bvecs", path); }
void write_fvecs(const std::string& path, const MatrixView<float>& matrix) { write_vecs("write_fvecs", path, matrix); }
void write_ivecs(const std::string& path, const MatrixView<std::int32_t>& matrix) { write_vecs("write_ivecs", path, matrix); }
void write_bvecs(const std::string& path, const MatrixView<std::uint8_t>& matrix) { write_vecs("write_bvecs", path, matrix); }

}  // namespace latent
