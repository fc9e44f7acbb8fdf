// Exact kNN over sharded rows: the base blocks travel a ring of the ranks and
// each rank merges the top-k of its own queries against every block. The search
// of one block is latent::knn itself, whose scores do not depend on how the base
// is blocked, and merge_knn keeps the same total order (score, then id), so the
// result is the single-process one bit for bit.
#include <limits>
#include <string>

#include "comm.hpp"
#include "latent/core/errors.hpp"
#include "latent/mpi.hpp"

namespace latent::mpi {
namespace {

// k columns, every entry missing: what merge_knn fills.
KnnGraph empty_lists(std::int64_t rows, std::int64_t k, Metric metric, bool self_excluded) {
  KnnGraph graph;
  graph.ids = IdMatrix::Constant(rows, k, -1);
  graph.scores = RowMatrixf::Constant(rows, k, std::numeric_limits<float>::quiet_NaN());
  graph.metric = metric;
  graph.self_excluded = self_excluded;
  return graph;
}

// Searches `queries` against every other rank's block as it passes (the own
// block was searched, and so validated, before the ring) and merges.
void search_other_blocks(MPI_Comm comm, const detail::Layout& layout, const MatrixView<float>& queries,
                         const MatrixView<float>& local_base, std::int64_t k, Metric metric,
                         const SearchOptions& options, KnnGraph& result) {
  SearchOptions trusted = options;
  trusted.validate_finite = false;  // every block was checked by its owner
  detail::ring_pass(comm, layout, local_base, [&](const MatrixView<float>& block, int owner) {
    if (owner == layout.rank || block.rows == 0 || queries.rows == 0) return;
    KnnGraph part = knn(queries, block, std::min(k, block.rows), metric, trusted);
    part.ids.array() += layout.blocks[static_cast<std::size_t>(owner)].begin;
    merge_knn(result, part);
  });
}

}  // namespace

KnnGraph distributed_knn_graph(MPI_Comm comm, const MatrixView<float>& local_rows, std::int64_t k, Metric metric,
                               const SearchOptions& options) {
  constexpr const char* kFunction = "distributed_knn_graph";
  detail::Layout layout;
  KnnGraph result;
  collectively(comm, [&] {
    layout = detail::checked_layout(comm, local_rows.rows, local_rows.cols, k, true, kFunction, "local_rows");
    result = empty_lists(local_rows.rows, k, metric, true);
    try {
      if (local_rows.rows >= 2) {
        KnnGraph own = knn_graph(local_rows, std::min(k, local_rows.rows - 1), metric, options);
        own.ids.array() += layout.local().begin;
        merge_knn(result, own);
      } else {  // a single row has no other row here; knn still checks it
        knn(local_rows, local_rows, 1, metric, options);
      }
    } catch (const Error&) {
      detail::rethrow_with_note(detail::local_rows_note(layout));
    }
  });
  search_other_blocks(comm, layout, local_rows, local_rows, k, metric, options, result);
  return result;
}

KnnGraph distributed_knn(MPI_Comm comm, const MatrixView<float>& local_queries, const MatrixView<float>& local_base,
                         std::int64_t k, Metric metric, const SearchOptions& options) {
  constexpr const char* kFunction = "distributed_knn";
  detail::Layout layout;
  KnnGraph result;
  collectively(comm, [&] {
    layout = detail::checked_layout(comm, local_base.rows, local_base.cols, k, false, kFunction, "local_base");
    result = empty_lists(local_queries.rows, k, metric, false);
    try {
      if (local_queries.rows > 0) {
        require_same_dim(kFunction, "local_base", local_base.cols, "local_queries", local_queries.cols);
        KnnGraph own = knn(local_queries, local_base, std::min(k, local_base.rows), metric, options);
        own.ids.array() += layout.local().begin;
        merge_knn(result, own);
      } else {  // no queries here: the own block is still checked, by one search of its first row
        knn(MatrixView<float>(local_base.data, 1, local_base.cols), local_base, 1, metric, options);
      }
    } catch (const Error&) {
      detail::rethrow_with_note(detail::local_rows_note(layout));
    }
  });
  search_other_blocks(comm, layout, local_queries, local_base, k, metric, options, result);
  return result;
}

}  // namespace latent::mpi
