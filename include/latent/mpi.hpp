// latent/mpi.hpp - the library's operations over rows sharded across MPI ranks
// (the optional component latent::mpi; find_package(latent COMPONENTS mpi)).
//
// Layout: every function takes a communicator and the calling rank's block of
// the rows (a MatrixView, typically memory-mapped from a file every rank sees).
// The blocks are consecutive in rank order: rank r's row i is global row
// (rows of ranks 0..r-1) + i, the split `row_block` computes. Global ids in
// results count that way, so a result equals the one of the single-process
// function on the concatenated rows:
// - kNN: ids identical and scores bitwise equal (same kernels; ties to the smaller id);
// - moments and the fitted models: merged in rank order, equal within ~1e-12 relative;
// - hubness measures and reduced graphs: identical.
// Every rank must call the same functions in the same order (they are collective).
//
// Errors: a rank whose own input is bad (NaN, zero row under cosine, wrong
// shape) throws the library's error for it, with its rows numbered globally;
// every other rank throws PeerFailed naming that rank, so no rank is left
// waiting. An error no rank can foresee inside a transfer (out of memory) calls
// MPI_Abort. Arguments that every rank sees alike (k, metric) are checked against
// the global row count and fail on every rank alike.
//
// Memory per rank: its block, one more block of the largest rank's size in
// flight, and the outputs of its own rows: O(rows_of_rank x (d + k)). No rank
// holds the whole base. Exceptions, stated where they occur: the k-occurrence
// counts of the hubness measures (n integers) and gathered anchors.
//
// Threads: each rank uses its Parallel options as in one process; `threads_per_rank`
// gives the cores of the node divided by the ranks on it.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/types.hpp"
#include "latent/hubness.hpp"
#include "latent/similarity/search.hpp"
#include "latent/whitening.hpp"

namespace latent::mpi {

/// Thrown on every rank whose own work succeeded when another rank's failed; the
/// failing rank throws the error itself.
class PeerFailed : public Error {
 public:
  PeerFailed(int failed_rank, const std::string& what) : Error(what), failed_rank_(failed_rank) {}
  /// The smallest rank that failed.
  int failed_rank() const { return failed_rank_; }

 private:
  int failed_rank_ = 0;
};

/// Rows [begin, begin + rows) of a set.
struct RowBlock {
  std::int64_t begin = 0;
  std::int64_t rows = 0;
  std::int64_t end() const { return begin + rows; }
};

/// The block of `rank` when `total_rows` rows are split over `ranks` ranks: the
/// first total_rows % ranks ranks get one row more than the others. Throws
/// InvalidArgument unless 0 <= rank < ranks and total_rows >= 0.
RowBlock row_block(std::int64_t total_rows, int rank, int ranks);

/// The calling rank's RowBlock of `total_rows` on `comm`.
RowBlock local_block(MPI_Comm comm, std::int64_t total_rows);

/// The threads a rank should use: the processors of its node divided by the
/// ranks of `comm` on that node, at least 1 (four ranks on two cores: 1 each).
int threads_per_rank(MPI_Comm comm);

/// Runs `work` on every rank and makes the outcome collective: when it throws on
/// some rank, that rank rethrows its own exception (the smallest failing rank's
/// message is the one to report) and every other rank throws PeerFailed. Use it
/// around local work that may fail before collective work begins.
void collectively(MPI_Comm comm, const std::function<void()>& work);

// ---------------------------------------------------------------- exact search

/// The kNN graph of the rows sharded over `comm` (each rank passes its block):
/// for each local row, its k nearest other rows of the whole set (1 <= k <=
/// total rows - 1), as knn_graph on the concatenation: ids global, scores bitwise
/// equal, self excluded. Base blocks travel around a ring of the ranks (the next
/// block is received while the block in hand is searched); each rank keeps its
/// own rows' top-k. Every rank's block must have the same dim and be non-empty.
/// Cost per rank: rows_of_rank x total x d multiply-adds; traffic: every block
/// once through every rank.
KnnGraph distributed_knn_graph(MPI_Comm comm, const MatrixView<float>& local_rows, std::int64_t k, Metric metric,
                               const SearchOptions& options = {});

/// The k nearest rows of the sharded base for each local query (1 <= k <= total
/// base rows), as knn on the concatenated base: ids global, scores bitwise
/// equal. Queries are sharded too (a rank may hold none, but not an empty base).
KnnGraph distributed_knn(MPI_Comm comm, const MatrixView<float>& local_queries, const MatrixView<float>& local_base,
                         std::int64_t k, Metric metric, const SearchOptions& options = {});

/// Approximate kNN graph for sets far beyond exact search: each rank builds a
/// FAISS index of `factory` (e.g. "HNSW32", "IVF1024,Flat") over its block,
/// every local row is searched on every rank's index (query blocks travel the
/// ring), and the per-shard top-k are merged (ties to the smaller id). Self
/// excluded; scores in the metric's units (cosine, ip, l2, sqeuclidean). Throws
/// BackendError when the library was built without FAISS.
KnnGraph distributed_approximate_knn_graph(MPI_Comm comm, const MatrixView<float>& local_rows, std::int64_t k,
                                           Metric metric, const std::string& factory = "HNSW32",
                                           const Parallel& parallel = {});

// ---------------------------------------------------------------- moments and fits

/// `local` (the moments of this rank's rows) merged with every other rank's in
/// rank order; the same accumulator on every rank. All ranks must use the same
/// mode (centering, full or diagonal, fourth order) and, if they hold rows, dim.
MomentAccumulator allreduce_moments(MPI_Comm comm, const MomentAccumulator& local);

/// Fits the model on the rows sharded over `comm` (moments of every rank merged
/// in rank order, then the model's own fit on them): the same fitted model on
/// every rank, equal to fitting on the concatenated rows within ~1e-12 relative.
/// Each rank may hold any number of rows; the total must satisfy the model's fit.
template <class T>
void fit(MPI_Comm comm, Whitening<T>& model, const MatrixView<T>& local_rows);
template <class T>
void fit(MPI_Comm comm, AllButTheTop<T>& model, const MatrixView<T>& local_rows);
template <class T>
void fit(MPI_Comm comm, Centering<T>& model, const MatrixView<T>& local_rows);
template <class T>
void fit(MPI_Comm comm, Standardizer<T>& model, const MatrixView<T>& local_rows);

// ---------------------------------------------------------------- rows by global id

/// The rows `ids` (global, in that order, repeats allowed) of the sharded set,
/// on every rank ([ids x d]): each owner sends its rows once. For anchors and
/// other small selections (memory: ids x d per rank). Every rank passes the same
/// ids; InvalidArgument for an id outside [0, total rows).
template <class T>
RowMatrix<T> gather_rows(MPI_Comm comm, const MatrixView<T>& local_rows, const std::vector<std::int64_t>& ids);

// ---------------------------------------------------------------- hubness

/// reduce_hubness over the rows sharded on `comm`: the exact candidate graph
/// (distributed_knn_graph with a margin, distances recomputed in double), the
/// reduction fitted on the whole set, and the measures before and after. The
/// graphs of the result hold the local rows only (global ids); the measures are
/// those of the whole set, on every rank. All identical to reduce_hubness on the
/// concatenated rows (ids, double distances and measures), for every method
/// but DisSimGlobal, which is refused (InvalidArgument): its dataset mean,
/// summed by blocks, would not be that of one process.
/// Per-point values of candidates owned by other ranks (sigma, mu, sd, r, LA;
/// mutual proximity empiric: their candidate lists) are exchanged by owner
/// (MPI_Alltoallv), not broadcast; DisSimLocal's neighbour vectors are taken
/// from the blocks as they pass on the ring.
/// Candidates must be in [1, n - 2]: the complete graph (0 or >= n - 1, which
/// reduce_hubness accepts) needs O(n^2) memory and is refused with
/// InvalidArgument on every rank. k: 1 <= k <= candidates (InvalidK). Every
/// rank's block must be non-empty.
/// Memory per rank: the local graphs (rows x (C + margin)), the values fetched
/// for the ids they list (rows x C); mutual proximity empiric fetches C-wide
/// lists in about C batches of rows / C rows (O(rows x C) each); DisSimLocal
/// keeps rows x (k_local - 1) x d doubles of neighbour vectors; plus n integers
/// of k-occurrence counts.
HubnessPipelineResult distributed_reduce_hubness(MPI_Comm comm, const MatrixView<float>& local_rows, std::int64_t k,
                                                 Metric metric, const HubnessPipelineOptions& options = {});

}  // namespace latent::mpi
