// latent/index/faiss_binary_index.hpp - FAISS binary indexes over packed bit codes
// (part of the `latent::faiss` component).
//
// FAISS keeps float and binary indexes apart (`Index`, `IndexBinary`); so does the
// adapter: FaissIndex takes float rows, FaissBinaryIndex packed codes, and neither
// has a method that only works for the other. Both share the adapter's
// conventions (see faiss_index.hpp): int64 ids in an id map that survives
// save/load, a missing neighbour is id -1 with score NaN, rows sorted nearest
// first with ties to the smaller id, per-call nprobe / efSearch and threads,
// every FAISS exception as BackendError. FAISS types never appear here (pimpl;
// a forward declaration of faiss::IndexBinary for `native()`).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "latent/index/faiss_index.hpp"

namespace faiss {
struct IndexBinary;
}  // namespace faiss

namespace latent::index {

/// Options fixed when a binary index is created.
struct BinaryIndexOptions {
  /// BHNSW build-time beam width (0: FAISS's default, 40). Ignored by other indexes.
  int ef_construction = 0;
};

/// A FAISS binary index (factory `BFlat`, `BHNSW{M}`, `BIVF{n}`, `BIVF{n}_HNSW{M}`)
/// over packed bit codes: `dim` is the number of bits (a multiple of 8), each row
/// is dim / 8 bytes in numpy.packbits order (`Quantizer` with type binary writes
/// them: `index.add(codes.view())`). The metric is always `l1`: the Hamming
/// distance, which is the l1 distance between the 0/1 bit vectors, so scores are
/// whole numbers of differing bits. Exact re-scoring goes through
/// `search_rescored` with the float rows lent by `attach_vectors` (the index does
/// not keep float rows: it exists to not hold them); hubness re-ranking is not
/// available. `BHNSW` cannot remove ids or range-search (BackendError).
///
/// Ids, thread safety, threads and determinism: as FaissIndex. FAISS 1.7.3's
/// binary indexes read nprobe / efSearch from the index, so a search that sets
/// one holds the index exclusively for its duration (searches that set none run
/// concurrently).
class FaissBinaryIndex {
 public:
  /// An empty index of `bits` bits per code. Throws InvalidArgument (bits < 1 or
  /// not a multiple of 8, a float factory such as `Flat`: those build a
  /// FaissIndex, ef_construction < 0), BackendError (FAISS rejected the factory
  /// string, message kept).
  FaissBinaryIndex(std::int64_t bits, const std::string& factory, const BinaryIndexOptions& options = {});
  ~FaissBinaryIndex();
  FaissBinaryIndex(FaissBinaryIndex&&) noexcept;
  FaissBinaryIndex& operator=(FaissBinaryIndex&&) noexcept;
  FaissBinaryIndex(const FaissBinaryIndex&) = delete;
  FaissBinaryIndex& operator=(const FaissBinaryIndex&) = delete;

  std::int64_t dim() const;  ///< bits per code
  std::int64_t ntotal() const;
  Metric metric() const;  ///< always Metric::l1 (Hamming on bits)
  const std::string& factory() const;
  bool is_trained() const;
  const BinaryIndexOptions& options() const;

  /// Trains on packed codes ([n x dim / 8] bytes); a no-op for BFlat / BHNSW.
  /// Throws EmptyInput, DimensionMismatch (bytes per row != dim / 8),
  /// BackendError (e.g. fewer codes than BIVF lists). Every byte is a valid code.
  void train(const MatrixView<std::uint8_t>& codes, const Parallel& parallel = {});
  /// Adds codes with ids next_id(), next_id() + 1, ... Throws NotFitted when the
  /// index needs training first, and what `train` throws.
  void add(const MatrixView<std::uint8_t>& codes, const Parallel& parallel = {});
  /// Adds codes with the given ids (ids.size() == rows: DimensionMismatch;
  /// distinct, >= 0, not already present: InvalidArgument naming the id).
  void add_with_ids(const MatrixView<std::uint8_t>& codes, const std::vector<std::int64_t>& ids,
                    const Parallel& parallel = {});
  /// One past the largest id ever added (the first id `add` would give).
  std::int64_t next_id() const;
  /// The ids in row order ([ntotal]).
  const std::vector<std::int64_t>& ids() const;
  /// The row of `id`, or -1 when it is not in the index.
  std::int64_t row_of(std::int64_t id) const;

  /// The k nearest codes of each query code ([n_queries x dim / 8]) by Hamming
  /// distance: a KnnGraph with metric l1, external ids, scores in bits.
  /// 1 <= k <= ntotal (InvalidK). Approximate indexes may find fewer than k:
  /// id -1, score NaN, at the end of the row. options.rerank must be none
  /// (InvalidArgument: re-scoring needs the float queries, see search_rescored).
  KnnGraph search(const MatrixView<std::uint8_t>& codes, std::int64_t k, const IndexSearchOptions& options = {}) const;
  /// Exact re-scoring: the top `options.candidates` rows by Hamming distance of
  /// `codes` (0: max(100, 4 k)), re-scored exactly between the float `queries`
  /// ([n_queries x dim], the rows the codes were made from) and the attached
  /// float rows in `metric` (cosine, ip, l2, sqeuclidean) through the kernel
  /// layer's pair kernels, best k kept. Throws InvalidArgument (no attached rows,
  /// metric l1 / linf, options.rerank hubness), DimensionMismatch (codes and
  /// queries differ in rows or width), NonFiniteValue (queries).
  KnnGraph search_rescored(const MatrixView<std::uint8_t>& codes, const MatrixView<float>& queries, std::int64_t k,
                           Metric metric, const IndexSearchOptions& options = {}) const;

  /// All codes within Hamming distance `radius` (bits, inclusive) of each query
  /// code. BFlat and BIVF only (BHNSW raises BackendError). InvalidArgument for a
  /// negative or non-finite radius.
  RangeResult range_search(const MatrixView<std::uint8_t>& codes, float radius,
                           const IndexSearchOptions& options = {}) const;

  /// Removes the given ids (unknown ids are ignored) and returns how many were
  /// removed. Rows are compacted in order. BHNSW raises BackendError.
  std::int64_t remove_ids(const std::vector<std::int64_t>& ids);

  /// The stored code of `id` as dim 0 / 1 floats in numpy.packbits bit order
  /// (the attached float row instead, when there is one). Throws
  /// InvalidArgument (unknown id), BackendError (the index cannot reconstruct).
  std::vector<float> reconstruct(std::int64_t id) const;

  /// Lends the float rows the codes were made from ([ntotal x dim], row order,
  /// contiguous) for search_rescored. The memory must outlive the index's use of
  /// it and stay unchanged; it is not saved. Adding or removing rows forgets it.
  /// Throws DimensionMismatch, InvalidArgument (not contiguous).
  void attach_vectors(const MatrixView<float>& vectors);
  /// True when attached float rows cover every indexed row.
  bool has_vectors() const;

  /// Small string annotations saved with the index: as FaissIndex's.
  void set_metadata(const std::string& key, const std::string& value);
  std::string metadata(const std::string& key) const;

  /// Saves the index atomically (a latent model file of kind "faiss-index", as
  /// FaissIndex's, with FAISS's binary serialisation). Throws IoError, BackendError.
  void save(const std::string& path) const;
  /// Loads an index saved by `save`. IoError for a missing, truncated or corrupt
  /// file and for a file holding a float index (FaissIndex::load, or
  /// load_any_faiss_index); BackendError when FAISS rejects its payload.
  static FaissBinaryIndex load(const std::string& path);

  /// FAISS's binary index, for power users (the adapter keeps ownership).
  faiss::IndexBinary* native();
  const faiss::IndexBinary* native() const;

  struct Impl;

 private:
  friend std::variant<FaissIndex, FaissBinaryIndex> load_any_faiss_index(const std::string& path);
  explicit FaissBinaryIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// True for FAISS's binary factory strings (BFlat, BHNSW{M}, BIVF{n}, ...: they
/// start with 'B'), which build a FaissBinaryIndex; the others build a FaissIndex.
bool is_binary_factory(const std::string& factory);

/// Loads an index file of either kind (the file is read once): a FaissIndex or a
/// FaissBinaryIndex, whichever `save` wrote. Throws as the two `load`s.
std::variant<FaissIndex, FaissBinaryIndex> load_any_faiss_index(const std::string& path);

}  // namespace latent::index
