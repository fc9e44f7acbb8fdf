// latent/index/faiss_codec.hpp - vector codecs trained on data, through FAISS
// (part of `latent::faiss`; no FAISS header here): product quantization (PQ:
// FAISS's ProductQuantizer), optimized PQ (OPQ: FAISS's OPQMatrix rotation, then a
// PQ of the rotated rows) and vector quantization (VQ: the nearest of k-means
// centroids, latent::index::kmeans). Beside the scalar codes of Quantizer
// (embedding/quantization.hpp), these learn codebooks.
//
// - pq:  d split into M sub-vectors of d / M values; each is replaced by the
//        nearest of 2^bits centroids learned by k-means on that sub-space; a row
//        is M codes of `bits` bits (packed as FAISS packs them, ceil(M bits / 8)
//        bytes), decoded to the concatenated centroids.
// - opq: a learned rotation R first (x R, orthonormal), the PQ of the rotated
//        rows, and x_hat = decode R^T: the same code size, a smaller error when
//        the dimensions are correlated.
// - vq:  one codebook of `centroids` rows (k-means); a row is the id of its
//        nearest centroid (ties to the smaller id), stored in ceil(log2(k) / 8)
//        little-endian bytes; decoded to the centroid.
// Training is seeded (the same codebooks for the same rows, seed and thread
// count). fit needs at least 2^bits rows (pq, opq) or `centroids` rows (vq).
// Errors: EmptyInput, NonFiniteValue, DimensionMismatch (rows or codes of
// another width), InvalidArgument (options out of range, too few rows), NotFitted,
// BackendError (FAISS), IoError (save / load).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent::index {

enum class CodecKind { pq, opq, vq };

/// "pq", "opq", "vq"; parse throws InvalidArgument naming `argument`.
std::string_view to_string(CodecKind kind);
CodecKind parse_codec_kind(std::string_view name, std::string_view argument = "kind");

struct CodecOptions {
  CodecKind kind = CodecKind::pq;
  std::int64_t subquantizers = 8;         ///< pq, opq: M, dividing the dimension
  int bits = 8;                           ///< pq, opq: bits per sub-code, 1..16
  std::int64_t centroids = 256;           ///< vq: codebook rows, >= 1
  std::int64_t iterations = 25;           ///< k-means iterations (each sub-space, or the codebook)
  std::int64_t rotation_iterations = 25;  ///< opq: alternations of rotation and PQ updates
  std::uint64_t seed = 1234;
  Parallel parallel;
};

class VectorCodec {
 public:
  explicit VectorCodec(const CodecOptions& options = {});
  ~VectorCodec();
  VectorCodec(VectorCodec&&) noexcept;
  VectorCodec& operator=(VectorCodec&&) noexcept;

  /// Learns the codebooks (and the OPQ rotation) from `training` [n x d].
  VectorCodec& fit(const MatrixView<float>& training);
  bool is_fitted() const;
  const CodecOptions& options() const;
  std::int64_t dim() const;
  /// Bytes per encoded row.
  std::int64_t code_size() const;

  /// Codes of the rows of x: [n x code_size()] bytes.
  RowMatrix<std::uint8_t> encode(const MatrixView<float>& x) const;
  /// Rows decoded from codes [n x code_size()]: [n x d].
  RowMatrixf decode(const MatrixView<std::uint8_t>& codes) const;
  /// vq: the nearest centroid of each row (the id its code stores).
  std::vector<std::int64_t> assign(const MatrixView<float>& x) const;
  /// Mean over the rows of x of ||x - decode(encode(x))||^2.
  double reconstruction_error(const MatrixView<float>& x) const;

  /// Saves the codebooks (model kind "vector_codec"); NotFitted, IoError.
  void save(const std::string& path) const;
  static VectorCodec load(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace latent::index
