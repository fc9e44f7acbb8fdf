// latent/similarity/sparse_search.hpp - inner products and exact top-k search
// over sparse rows (SparseMatrix, CSR): sparse autoencoder codes, learned sparse
// retrieval vectors.
//
// Products accumulate in float in the order of each row's stored entries (float
// products, as the dense GEMM path); every function is deterministic and
// independent of the thread count. Errors: DimensionMismatch (column counts),
// InvalidK.
#pragma once

#include <cstdint>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/sparse.hpp"
#include "latent/core/types.hpp"

namespace latent {

/// [a.rows x b.rows] inner products <a_i, b_j> of sparse rows a_i and dense rows
/// b_j (b has a.cols columns). Cost O(nnz(a) b.rows).
RowMatrixf sparse_dense_products(const SparseMatrix& a, const MatrixView<float>& b, const Parallel& parallel = {});

/// [a.rows x b.rows] inner products of two sets of sparse rows (the same
/// columns), through an inverted index of b. Cost O(sum over a's entries of the
/// rows of b holding that column).
RowMatrixf sparse_products(const SparseMatrix& a, const SparseMatrix& b, const Parallel& parallel = {});

/// An inverted index over sparse base rows: for every column, the rows holding it
/// and their values. Exact top-k by inner product.
class SparseIndex {
 public:
  explicit SparseIndex(SparseMatrix base);

  std::int64_t rows() const { return base_.rows(); }
  std::int64_t cols() const { return base_.cols(); }

  /// The k base rows of largest inner product with each query row (1 <= k <=
  /// rows), largest first, equal scores to the smaller id; rows sharing no column
  /// with the query score 0 and take their place among the zeros in id order.
  /// Scores are the inner products (Metric::ip). Cost per query: the postings of
  /// its columns, plus O(rows) only when fewer than k rows score above 0.
  KnnGraph search(const SparseMatrix& queries, std::int64_t k, const Parallel& parallel = {}) const;

 private:
  SparseMatrix base_;
  std::vector<std::int64_t> posting_offsets_;  // cols + 1
  std::vector<std::int64_t> posting_rows_;
  std::vector<float> posting_values_;
};

}  // namespace latent
