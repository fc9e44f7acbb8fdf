// latent/core/sparse.hpp - sparse row matrices in CSR form (the codes of sparse
// autoencoders, learned sparse retrieval) and their .npz files in scipy's layout.
//
// Row i holds the values values()[offsets()[i] .. offsets()[i + 1]) at the
// columns indices()[...] of the same range, strictly increasing within the row
// (scipy's canonical form: sorted, no duplicates). Offsets and indices are int64,
// values float32. A SparseMatrix is immutable and cheap to copy (the arrays are
// shared); it either owns its arrays or views a memory-mapped file.
//
// Files: scipy.sparse.save_npz's CSR layout, an .npz archive of `data` (values),
// `indices`, `indptr` (offsets), `shape` ([rows, cols]) and `format` (b"csr").
// read_sparse_npz takes what scipy writes (int32 or int64 indices and indptr,
// float32 or float64 data, stored or deflated); members already int64 / float32,
// stored and aligned (as write_sparse_npz writes them) are memory-mapped, the rest
// is converted into memory. write_sparse_npz writes stored members with int64
// indices and float32 data, atomically; scipy.sparse.load_npz reads it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "latent/core/types.hpp"

namespace latent {

class SparseMatrix {
 public:
  /// An empty 0 x 0 matrix.
  SparseMatrix();

  /// Takes the arrays. InvalidArgument (naming the array, the row and the
  /// position) unless offsets has rows + 1 entries, starts at 0, never decreases
  /// and ends at indices.size() == values.size(), every row's indices are
  /// strictly increasing in [0, cols), and every value is finite.
  SparseMatrix(std::int64_t rows, std::int64_t cols, std::vector<std::int64_t> offsets,
               std::vector<std::int64_t> indices, std::vector<float> values);

  /// The non-zero entries of a dense matrix (explicit zeros dropped).
  static SparseMatrix from_dense(const MatrixView<float>& dense);

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  /// Stored entries.
  std::int64_t nnz() const { return nnz_; }
  const std::int64_t* offsets() const { return offsets_; }
  const std::int64_t* indices() const { return indices_; }
  const float* values() const { return values_; }
  /// Entries of row i.
  std::int64_t row_nnz(std::int64_t i) const { return offsets_[i + 1] - offsets_[i]; }
  /// True when the arrays are a memory map of a file.
  bool mapped() const { return mapped_; }

  /// The dense [rows x cols] matrix.
  RowMatrixf to_dense() const;

  /// For readers: arrays kept alive by `owner` (validated as the constructor does).
  SparseMatrix(std::int64_t rows, std::int64_t cols, std::shared_ptr<const void> owner, const std::int64_t* offsets,
               const std::int64_t* indices, const float* values, bool mapped);

 private:
  void validate(const char* function) const;

  std::int64_t rows_ = 0, cols_ = 0, nnz_ = 0;
  std::shared_ptr<const void> owner_;
  const std::int64_t* offsets_ = nullptr;
  const std::int64_t* indices_ = nullptr;
  const float* values_ = nullptr;
  bool mapped_ = false;
};

/// Reads a CSR .npz in scipy's layout (see above). IoError naming the file (and
/// the member) for a missing or corrupt archive, a missing member, a format other
/// than csr, a dtype or shape it cannot hold; InvalidArgument for arrays that do
/// not form a canonical CSR matrix (unsorted or duplicate indices: scipy's
/// sort_indices() and sum_duplicates() repair them).
SparseMatrix read_sparse_npz(const std::string& path);

/// Writes `matrix` as a CSR .npz (stored members, 64-byte aligned data, int64
/// indices and indptr, float32 data), atomically. IoError when it cannot be
/// written or a member would pass 4 GiB (ZIP64 is not written).
void write_sparse_npz(const std::string& path, const SparseMatrix& matrix);

}  // namespace latent
