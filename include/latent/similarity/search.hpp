// latent/similarity/search.hpp - similarity matrices and exact nearest-neighbour
// search: knn (optionally filtered by id), self-excluded kNN graphs and their
// symmetric, mutual and epsilon variants, semantic search over a sharded corpus
// and paraphrase mining.
//
// Inputs are row-major [rows x dim] views (an Eigen matrix, a map or a
// memory-mapped .npy converts implicitly); float and double are supported. Every
// entry point validates at the boundary: empty inputs (EmptyInput), different
// dims (DimensionMismatch), NaN or Inf (NonFiniteValue, one pass over each input;
// SearchOptions::validate_finite = false skips it for trusted data), k out of
// range (InvalidK) and, under cosine or angular, zero rows (NumericalError naming the row,
// unless ZeroNormPolicy::zero is chosen: a zero row is then at similarity 0
// to everything). Float work goes through the kernel layer's GEMM
// path (see kernels/batched.hpp): results are exact to float rounding, bitwise
// independent of threads, block sizes and batch sizes, and ties go to the
// smaller id. Double inputs take the same path in f64; their KnnGraph scores are
// rounded to float. Memory: outputs plus the bounded scratch of batched.hpp;
// `similarity` materialises [n_queries x n_base], the others never do.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

/// Options shared by the search functions.
struct SearchOptions {
  Parallel parallel;
  ZeroNormPolicy zero_norm = ZeroNormPolicy::raise;
  bool validate_finite = true;        ///< check every value for NaN / Inf first
  std::int64_t query_block_rows = 0;  ///< speed only (0: automatic); never changes a result
  std::int64_t base_block_rows = 0;   ///< speed only (0: automatic); never changes a result
};

/// Dense [n_queries x n_base] matrix of metric(query i, base j), in the metric's
/// units (cosine similarity, ip, l2 distance, squared l2, l1, linf, angular
/// similarity).
RowMatrixf similarity(const MatrixView<float>& queries, const MatrixView<float>& base, Metric metric,
                      const SearchOptions& options = {});
RowMatrixd similarity(const MatrixView<double>& queries, const MatrixView<double>& base, Metric metric,
                      const SearchOptions& options = {});

/// The k nearest base rows of each query (1 <= k <= base rows), nearest first.
KnnGraph knn(const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k, Metric metric,
             const SearchOptions& options = {});
KnnGraph knn(const MatrixView<double>& queries, const MatrixView<double>& base, std::int64_t k, Metric metric,
             const SearchOptions& options = {});

/// Base ids a filtered search keeps (allow) or leaves out (deny), the same for
/// every query, as FAISS's IDSelectorBatch does. Duplicates are ignored.
struct IdFilter {
  enum class Mode { allow, deny };
  Mode mode = Mode::deny;
  std::vector<std::int64_t> ids;

  static IdFilter allow(std::vector<std::int64_t> ids) { return {Mode::allow, std::move(ids)}; }
  static IdFilter deny(std::vector<std::int64_t> ids) { return {Mode::deny, std::move(ids)}; }
};

/// knn over the base rows `filter` lets through: equal, ids and scores bit for
/// bit, to knn over those rows gathered in id order with the ids mapped back.
/// k must not exceed the rows let through (InvalidK); every filter id must be
/// in [0, base rows) (InvalidArgument). Every base row is validated, filtered
/// out or not. A deny list of at most max(k, 256) ids searches k + |deny|
/// neighbours and drops the denied ones; otherwise the rows let through are
/// copied (memory: their rows x dim values) and searched.
KnnGraph knn(const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k, Metric metric,
             const IdFilter& filter, const SearchOptions& options = {});
KnnGraph knn(const MatrixView<double>& queries, const MatrixView<double>& base, std::int64_t k, Metric metric,
             const IdFilter& filter, const SearchOptions& options = {});

/// The kNN graph of `base` itself: each row's k nearest other rows (1 <= k <=
/// rows - 1); `self_excluded` is set. A duplicate of a row is a neighbour like any
/// other row; only the row's own id is left out.
KnnGraph knn_graph(const MatrixView<float>& base, std::int64_t k, Metric metric, const SearchOptions& options = {});
KnnGraph knn_graph(const MatrixView<double>& base, std::int64_t k, Metric metric, const SearchOptions& options = {});

/// Merges the lists of `extra` into `graph` row by row, keeping graph.k(): the
/// nearest of both, as one list searched over both bases would hold them (total
/// order: score, then the smaller id; id -1, a missing entry, comes last). For
/// results of shards searched apart whose ids are already global. Both must list
/// the same queries (DimensionMismatch) under the same metric (InvalidArgument),
/// each row nearest first; `extra` may hold any number of columns.
void merge_knn(KnnGraph& graph, const KnnGraph& extra);

/// Semantic search (sentence-transformers' util.semantic_search) over a corpus
/// given as consecutive shards, e.g. memory-mapped .npy files larger than RAM
/// together: ids run across the shards (shard s starts after the rows of shards
/// 0..s-1). Equal to knn over the concatenation, without materialising it.
/// Default metric: cosine. k may not exceed the total rows.
KnnGraph semantic_search(const MatrixView<float>& queries, const std::vector<MatrixView<float>>& corpus_shards,
                         std::int64_t k, Metric metric = Metric::cosine, const SearchOptions& options = {});

/// One pair found by paraphrase_mining: i < j, score in the metric's units.
struct ScoredPair {
  float score = 0;
  std::int64_t i = 0;
  std::int64_t j = 0;
};

/// Options of paraphrase_mining (the defaults of sentence-transformers).
struct ParaphraseOptions {
  std::int64_t top_k = 100;         ///< neighbours considered per row (capped at rows - 1)
  std::int64_t max_pairs = 500000;  ///< pairs returned at most
  Metric metric = Metric::cosine;
  SearchOptions search;
};

/// The most similar pairs within one set: every pair (i, j), i < j, where one row
/// is among the other's top_k neighbours, each pair once, nearest first (ties by
/// i, then j), at most max_pairs. Memory: O(rows * top_k).
std::vector<ScoredPair> paraphrase_mining(const MatrixView<float>& x, const ParaphraseOptions& options = {});

// ------------------------------------------------------------ sparse neighbour graphs

/// A graph over n points in CSR layout: row i's neighbours are ids[offsets[i] ..
/// offsets[i + 1]) with their scores in the metric's units, nearest first (ties
/// to the smaller id); never i itself. The layout of scipy.sparse.csr_matrix
/// (indptr, indices, data).
struct SparseGraph {
  std::vector<std::int64_t> offsets;  ///< n + 1 entries
  std::vector<std::int64_t> ids;
  std::vector<float> scores;
  Metric metric = Metric::l2;

  std::int64_t n() const { return static_cast<std::int64_t>(offsets.size()) - 1; }
  std::int64_t edges() const { return static_cast<std::int64_t>(ids.size()); }
};

/// Which directed kNN edges a symmetric graph keeps.
enum class Symmetry {
  either,  ///< {i, j} when j is among i's neighbours or i among j's (the union)
  mutual,  ///< {i, j} when both hold (mutual k-nearest neighbours)
};

/// The symmetric or mutual graph of a self-excluded kNN graph of n points ([n x
/// k], ids in [0, n), -1 for missing entries, never a row's own id or an id
/// twice; else InvalidArgument). Both directions of every kept pair are stored. An edge
/// listed by both rows keeps each row's own score; one added to row i only
/// because i is among j's neighbours takes the score j's row lists for i. Cost
/// O(n k log k); memory O(n k).
SparseGraph symmetric_knn_graph(const KnnGraph& graph, Symmetry symmetry);

/// The epsilon graph of the rows of x: every pair i != j whose score is within
/// `epsilon`, i.e. distance <= epsilon (l2, sqeuclidean, l1, linf) or similarity
/// >= epsilon (cosine, ip, angular), each pair in both rows. Computed by blocks
/// of rows against all of x (scratch: about 16 million scores of the input's
/// type); the output
/// holds every edge, up to n (n - 1) of them. Validation as knn_graph; epsilon
/// must be finite (InvalidArgument).
SparseGraph epsilon_graph(const MatrixView<float>& x, double epsilon, Metric metric, const SearchOptions& options = {});
SparseGraph epsilon_graph(const MatrixView<double>& x, double epsilon, Metric metric,
                          const SearchOptions& options = {});

}  // namespace latent
