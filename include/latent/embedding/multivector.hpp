// latent/embedding/multivector.hpp - multi-vector embeddings (ColBERT-style: one
// variable-length set of vectors per item), Chamfer / MaxSim similarity, and
// MUVERA fixed dimensional encodings (Dhulipala et al. 2024), whose inner
// products approximate Chamfer so that one single-vector search finds the
// candidates to re-rank with Chamfer.
//
// FDE of a set (per repetition r = 0..R-1, all random draws from `seed`):
// - SimHash: k_sim Gaussian directions g_1..g_k; a vector's partition is the
//   integer whose bit i is [g_i . x > 0] (2^k_sim partitions, 1 when k_sim = 0);
// - inner projection: x -> S x with S a [d_proj x d] random +-1/sqrt(d_proj)
//   matrix (d_proj = 0: identity, d_proj = d);
// - query blocks: the sum of the projected vectors of each partition; document
//   blocks: their mean, and with `fill_empty_partitions` an empty partition takes
//   the projected document vector whose SimHash bits are nearest (Hamming) to it;
// - the R blocks are concatenated (R 2^k_sim d_proj values), then optionally
//   multiplied by a random +-1/sqrt(final_dim) matrix (final projection).
// So with one partition and identity projection <fde_q, fde_D> = sum_q q . mean(D).
// SimHash and projection products of a set's vectors are one call of the kernel
// layer's GEMM path per set (float); partition sums accumulate in double.
// Encodings are deterministic for a seed, whatever the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

/// One variable-length set of d-dimensional vectors per item: item i is rows
/// offsets[i] .. offsets[i + 1] - 1 of `rows`.
class MultiVectorSet {
 public:
  MultiVectorSet() = default;
  /// Throws InvalidArgument when offsets are not non-decreasing from 0 to rows.rows().
  MultiVectorSet(RowMatrixf rows, std::vector<std::int64_t> offsets);
  /// Builds from item lengths (sum = rows.rows()).
  static MultiVectorSet from_lengths(RowMatrixf rows, const std::vector<std::int64_t>& lengths);

  std::int64_t items() const { return static_cast<std::int64_t>(offsets_.size()) - 1; }
  std::int64_t dim() const { return rows_.cols(); }
  std::int64_t total_vectors() const { return rows_.rows(); }
  std::int64_t length(std::int64_t i) const { return offset(i + 1) - offset(i); }
  /// Item i's vectors ([length(i) x d], a view into the set).
  MatrixView<float> item(std::int64_t i) const {
    return {rows_.data() + offset(i) * rows_.cols(), length(i), rows_.cols()};
  }
  const RowMatrixf& rows() const { return rows_; }
  const std::vector<std::int64_t>& offsets() const { return offsets_; }

 private:
  std::int64_t offset(std::int64_t i) const { return offsets_[static_cast<std::size_t>(i)]; }

  RowMatrixf rows_;
  std::vector<std::int64_t> offsets_{0};
};

/// Chamfer / MaxSim similarity: sum over q in query of max over x in document of q . x
/// (ColBERT's late interaction score; not symmetric). Sums in double. Throws
/// EmptyInput (an empty set), DimensionMismatch.
double chamfer_similarity(const MatrixView<float>& query, const MatrixView<float>& document);

struct FdeOptions {
  std::int64_t k_sim = 4;        ///< SimHash bits (2^k_sim partitions), 0..16
  std::int64_t repetitions = 10;  ///< R >= 1
  std::int64_t projection_dim = 0;  ///< inner projection d_proj (0: identity)
  bool fill_empty_partitions = true;  ///< documents only
  std::int64_t final_dim = 0;  ///< final random projection (0: none)
  std::uint64_t seed = 1;
};

/// MUVERA encoder for sets of d-dimensional vectors.
class FdeEncoder {
 public:
  /// Draws the random matrices. Throws InvalidArgument (dim < 1, k_sim outside
  /// [0, 16], repetitions < 1, negative dims).
  FdeEncoder(std::int64_t dim, const FdeOptions& options = {});
  /// Length of an encoding: final_dim, or R 2^k_sim d_proj.
  std::int64_t output_dim() const;
  /// [items x output_dim] query (sum) / document (mean, filled) encodings.
  /// Throws DimensionMismatch, EmptyInput (an empty item), NonFiniteValue.
  RowMatrixf encode_queries(const MultiVectorSet& queries, const Parallel& parallel = {}) const;
  RowMatrixf encode_documents(const MultiVectorSet& documents, const Parallel& parallel = {}) const;
  const FdeOptions& options() const { return options_; }

 private:
  RowMatrixf encode(const MultiVectorSet& sets, bool document, const Parallel& parallel) const;
  std::int64_t dim_;
  FdeOptions options_;
  std::int64_t projection_dim_;
  RowMatrixf simhash_;     // repetition r: rows r k_sim .. (r + 1) k_sim - 1, [R k_sim x d]
  RowMatrixf projection_;  // repetition r: rows r d_proj .., [R d_proj x d] (empty: identity)
  RowMatrixf final_;                    // [final_dim x R 2^k d_proj] (empty: none)
};

/// The MUVERA pipeline: inner-product k-NN of the query FDEs among the document
/// FDEs for `candidates` candidates (>= k), then Chamfer re-ranking of those.
/// Returns ids and Chamfer scores (metric ip), best first, ties to the smaller id.
/// Throws InvalidK (k < 1, k > candidates or candidates > documents), DimensionMismatch.
KnnGraph muvera_search(const FdeEncoder& encoder, const MultiVectorSet& queries, const RowMatrixf& document_fdes,
                       const MultiVectorSet& documents, std::int64_t k, std::int64_t candidates,
                       const Parallel& parallel = {});

/// Exact Chamfer k-NN (brute force over all documents): the reference MUVERA is judged by.
KnnGraph chamfer_knn(const MultiVectorSet& queries, const MultiVectorSet& documents, std::int64_t k,
                     const Parallel& parallel = {});

}  // namespace latent
