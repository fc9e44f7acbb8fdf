// latent/index/faiss_index.hpp - the FAISS adapter component (`latent::faiss`).
//
// One index API over FAISS that removes its sharp edges: the metric is owned by
// the adapter (cosine = rows normalised on add and on search + inner product,
// scores clamped to [-1, 1]; `l2` is the Euclidean distance, `sqeuclidean` what
// FAISS computes), ids are int64 and kept in an id map that survives
// save/load, a missing neighbour is id -1 with score NaN, rows are sorted nearest
// first with ties to the smaller id, FAISS's search parameters (nprobe,
// efSearch) are set per call without touching the index, threads are per call,
// and every FAISS exception becomes `BackendError` with FAISS's message kept.
// On top of any index: exact float re-scoring of the top-C candidates and
// hubness-aware re-ranking (CSLS, mutual proximity, local scaling, NICDM) with
// per-item statistics computed once (`fit_hubness`). This header holds the float
// index; packed binary codes (Hamming) are FaissBinaryIndex, in
// latent/index/faiss_binary_index.hpp, with the same ids, threads and options.
//
// FAISS types never appear in this header (the adapter is a pimpl; only a
// forward declaration of faiss::Index for `native()`), so code that includes it
// does not need FAISS's headers. Link `latent::faiss` (found with
// `find_package(latent COMPONENTS faiss)`).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"
#include "latent/hubness.hpp"
#include "latent/similarity/search.hpp"

namespace faiss {
struct Index;
}  // namespace faiss

namespace latent::index {

class FaissBinaryIndex;  // latent/index/faiss_binary_index.hpp

/// The version of the FAISS library the adapter was built against ("1.7.3").
std::string faiss_version();

/// Options fixed when an index is created.
struct IndexOptions {
  /// What cosine and angular do with a zero row (in add and in search): raise NumericalError
  /// naming the row (default), or keep it as the zero vector (similarity 0).
  ZeroNormPolicy zero_norm = ZeroNormPolicy::raise;
  /// Keep an owned float copy of every added row (4 * dim bytes per row) for
  /// exact re-scoring, hubness fitting and `reconstruct` of any index. Saved in
  /// the index file. Instead, `attach_vectors` can lend a (memory-mapped) matrix.
  bool keep_vectors = false;
  /// HNSW build-time beam width (0: FAISS's default, 40). Ignored by other indexes.
  int ef_construction = 0;
};

/// What a search does after FAISS has produced its candidates.
enum class Rerank {
  none,    ///< FAISS's scores and order (made canonical: sorted, ties to the smaller id)
  exact,   ///< the top `candidates` re-scored exactly from the float vectors, top k kept
  hubness  ///< re-ranked by the reduction fitted with `fit_hubness` (exact scores first when vectors are available)
};

/// Per-call search options. Zero means "the index's own setting".
struct IndexSearchOptions {
  int nprobe = 0;     ///< IVF lists visited (FAISS default 1)
  int ef_search = 0;  ///< HNSW beam width (FAISS default 16; raised to k when smaller)
  Rerank rerank = Rerank::none;
  std::int64_t candidates = 0;  ///< candidates re-ranked (0: max(100, 4 k)); capped at ntotal
  Parallel parallel;            ///< threads of this call (FAISS's OpenMP team and OpenBLAS)
  bool validate_finite = true;  ///< check the queries for NaN / Inf
};

/// Range search result in CSR layout: query i's hits are [offsets[i], offsets[i+1]).
/// Each query's hits are sorted nearest first (ties to the smaller id).
struct RangeResult {
  std::vector<std::int64_t> offsets;  ///< n_queries + 1 entries
  std::vector<std::int64_t> ids;
  std::vector<float> scores;  ///< the metric's units (see FaissIndex)
};

/// A FAISS float index behind a stable, typed API (binary codes: FaissBinaryIndex).
///
/// Factory strings are FAISS's (`Flat`, `IVF{n},Flat`, `IVF{n},PQ{m}`,
/// `IVF{n},SQ8`, `HNSW{M}`, `HNSW{M},SQ8`, `PQ{m}`, `OPQ{m},IVF{n},PQ{m}`, ...);
/// a bad string raises BackendError with FAISS's message. Metrics: `cosine`
/// (rows normalised to unit length on add and on search, inner product; scores are
/// cosines clamped to [-1, 1]), `ip` (raw inner product), `l2` (Euclidean
/// distance: the square root of FAISS's squared distance), `sqeuclidean`
/// (FAISS's squared distance, clamped at 0) and `angular` (searched as cosine,
/// scores 1 - arccos(cosine) / pi). `l1`, `linf` raise InvalidArgument.
///
/// Ids: `add` numbers rows from one past the largest id seen so far (0, 1, ...);
/// `add_with_ids` takes any distinct non-negative int64 ids. Internally the rows
/// are kept in insertion order ("rows", compacted by `remove_ids`); IVF indexes
/// store the ids natively, the others map FAISS's row numbers to them.
///
/// Thread safety: const methods (search, range_search, reconstruct) may run
/// concurrently; train/add/remove/fit_hubness/attach_vectors may not run
/// concurrently with anything else. Threads: each call runs FAISS with
/// `Parallel::threads` OpenMP threads by setting the calling thread's OpenMP
/// thread count for the call and restoring it on return (OpenMP's setting is per
/// thread, so other threads of the caller are unaffected). OpenBLAS (pthread
/// build), used by FAISS's brute-force kernels outside its OpenMP regions, is
/// set to the same count for the duration of the call and restored when the
/// last concurrent call returns, so OpenMP x BLAS never multiply.
/// Determinism: FAISS's results for a given index and query do not depend on
/// the thread count; training is seeded by FAISS (fixed seed 1234).
class FaissIndex {
 public:
  /// An empty index of `dim` columns. Throws InvalidArgument (dim < 1, l1/linf, a
  /// binary factory such as `BFlat`: those build a FaissBinaryIndex), BackendError
  /// (FAISS rejected the factory string, message kept).
  FaissIndex(std::int64_t dim, const std::string& factory, Metric metric, const IndexOptions& options = {});
  ~FaissIndex();
  FaissIndex(FaissIndex&&) noexcept;
  FaissIndex& operator=(FaissIndex&&) noexcept;
  FaissIndex(const FaissIndex&) = delete;
  FaissIndex& operator=(const FaissIndex&) = delete;

  std::int64_t dim() const;
  std::int64_t ntotal() const;
  Metric metric() const;
  const std::string& factory() const;
  bool is_trained() const;
  const IndexOptions& options() const;

  /// Trains on `x` ([n x dim]); a no-op for indexes that need no training.
  /// Throws EmptyInput, DimensionMismatch, NonFiniteValue, NumericalError (zero
  /// row under cosine), BackendError (e.g. fewer rows than IVF lists).
  void train(const MatrixView<float>& x, const Parallel& parallel = {});
  /// Adds rows with ids next_id(), next_id() + 1, ... Throws NotFitted when the
  /// index needs training first, and what `train` throws.
  void add(const MatrixView<float>& x, const Parallel& parallel = {});
  /// Adds rows with the given ids (ids.size() == rows, distinct, >= 0, not
  /// already present: InvalidArgument naming the first offending id).
  void add_with_ids(const MatrixView<float>& x, const std::vector<std::int64_t>& ids, const Parallel& parallel = {});
  /// One past the largest id ever added (the first id `add` would give).
  std::int64_t next_id() const;
  /// The ids in row order ([ntotal]).
  const std::vector<std::int64_t>& ids() const;
  /// The row of `id`, or -1 when it is not in the index.
  std::int64_t row_of(std::int64_t id) const;

  /// The k nearest indexed rows of each query ([n_queries x dim]) as a KnnGraph
  /// with the index's metric, external ids and scores in the metric's units
  /// (see the class comment). 1 <= k <= ntotal (InvalidK). An approximate index
  /// may find fewer than k (small nprobe): those slots are id -1, score NaN,
  /// at the end of the row. With `rerank`, see `Rerank`: exact needs vectors
  /// (keep_vectors or attach_vectors; InvalidArgument otherwise), hubness needs
  /// `fit_hubness` (NotFitted); after hubness re-ranking the rows are in the
  /// reduction's order and the scores are the primary scores of those ids (so
  /// they are not monotone). Exact scores come from the kernel layer's float
  /// pair kernels (as `rescore` in embedding/quantization.hpp). Cost: FAISS's
  /// search of n_queries, plus n_queries * candidates * dim for exact re-scoring.
  KnnGraph search(const MatrixView<float>& queries, std::int64_t k, const IndexSearchOptions& options = {}) const;

  /// All indexed rows within `radius` of each query: score >= radius for cosine,
  /// ip and angular, distance <= radius for l2 / sqeuclidean (radius in the
  /// metric's units; angular's is handed to FAISS as the cosine cos(pi (1 - radius))).
  /// Indexes without range search (HNSW, PQ in FAISS 1.7.3) raise BackendError.
  RangeResult range_search(const MatrixView<float>& queries, float radius,
                           const IndexSearchOptions& options = {}) const;

  /// Removes the given ids (unknown ids are ignored) and returns how many were
  /// removed. Rows are compacted in order. Supported by Flat, PQ, SQ and IVF
  /// indexes; HNSW raises BackendError (FAISS cannot remove from a graph).
  std::int64_t remove_ids(const std::vector<std::int64_t>& ids);

  /// The stored vector of `id` ([dim]): the kept or attached float row when there
  /// is one, otherwise FAISS's reconstruction (decoded, so approximate for PQ /
  /// SQ; unit-normalised under cosine). Throws InvalidArgument (unknown id),
  /// BackendError (the index cannot reconstruct).
  std::vector<float> reconstruct(std::int64_t id) const;

  /// Lends the float rows of the index ([ntotal x dim], in row order; e.g. a
  /// memory-mapped .npy) for exact re-scoring and hubness fitting. The memory must
  /// outlive the index's use of it and stay unchanged; it is not saved. Rows
  /// added later are not covered (search with rerank then throws InvalidArgument).
  void attach_vectors(const MatrixView<float>& vectors);
  /// True when exact float rows are available (kept or attached and complete).
  bool has_vectors() const;

  /// Fits a hubness reduction on the index's own self-excluded neighbour
  /// lists: each row searched with `candidates` + 1 neighbours through this index
  /// (so it scales like the index, not like n^2), its own id dropped, exact
  /// scores when vectors are available, then `HubnessReducer::fit`. Metrics:
  /// cosine, angular, l2, sqeuclidean (InvalidArgument for ip). candidates = 0:
  /// max(k_local, 10). The statistics (the fitted lists) are saved with the index.
  /// Cost: one search of all ntotal rows. Requires ntotal > candidates (InvalidK).
  void fit_hubness(const ReductionOptions& reduction, std::int64_t candidates = 0,
                   const IndexSearchOptions& options = {});
  bool hubness_fitted() const;

  /// Small string annotations saved with the index (the CLI records the file
  /// the rows came from). Keys: letters, digits, '_', '.', '-'; values: no
  /// newline (InvalidArgument otherwise). `metadata` returns "" for a missing key.
  void set_metadata(const std::string& key, const std::string& value);
  std::string metadata(const std::string& key) const;

  /// Saves the index atomically: a latent model file (kind "faiss-index") holding
  /// the factory, metric, options, the id map, FAISS's own serialisation, the kept
  /// vectors and the hubness statistics, under one checksum. Throws IoError,
  /// BackendError.
  void save(const std::string& path) const;
  /// Loads an index saved by `save`. A missing, truncated or corrupt file raises
  /// IoError (the checksum is checked before FAISS reads anything), and so does a
  /// file holding a binary index (load it with FaissBinaryIndex::load, or either
  /// kind with load_any_faiss_index); a file whose FAISS payload FAISS rejects
  /// raises BackendError with FAISS's message.
  static FaissIndex load(const std::string& path);

  /// FAISS's index, for power users (the adapter keeps ownership). Changing it
  /// behind the adapter's back (adding rows, ...) breaks the id map.
  faiss::Index* native();
  const faiss::Index* native() const;

  struct Impl;

 private:
  friend std::variant<FaissIndex, FaissBinaryIndex> load_any_faiss_index(const std::string& path);
  explicit FaissIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Approximate kNN graph of `base` ([n x dim]) for the hubness module when n is
/// too large for exact search: an index built from `factory` (trained on `base`),
/// each row searched with k + 1 and its own id dropped (when the index misses the
/// row itself, the last neighbour is dropped instead). Returns a self-excluded
/// KnnGraph [n x k] in `metric`'s units; 1 <= k <= n - 1 (InvalidK). Missing
/// neighbours (small nprobe) are -1 / NaN.
KnnGraph approximate_knn_graph(const MatrixView<float>& base, std::int64_t k, const std::string& factory, Metric metric,
                               const IndexSearchOptions& options = {}, const IndexOptions& index_options = {});

}  // namespace latent::index
