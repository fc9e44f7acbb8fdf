// The approximate kNN graph over sharded rows: one FAISS index per rank over its
// block; the query blocks travel the ring with their running top-k, each rank
// searches the block in hand on its own index and merges, and after a full turn
// the lists go home.
#include <string>
#include <vector>

#include "comm.hpp"
#include "latent/core/errors.hpp"
#include "latent/mpi.hpp"

#ifdef LATENT_MPI_HAVE_FAISS
#include <limits>
#include <optional>

#include "latent/index/faiss_index.hpp"
#endif

namespace latent::mpi {

#ifdef LATENT_MPI_HAVE_FAISS
namespace {

// The search of `queries` (global rows from `first_id`) on this rank's index,
// self excluded when the queries are this rank's own rows.
KnnGraph search_shard(const index::FaissIndex& shard, const MatrixView<float>& queries, std::int64_t first_id, bool own,
                      std::int64_t k, const Parallel& parallel) {
  index::IndexSearchOptions options;
  options.parallel = parallel;
  options.validate_finite = false;  // every block was checked by its owner
  const std::int64_t wanted = std::min(shard.ntotal(), own ? k + 1 : k);
  KnnGraph found = shard.search(queries, wanted, options);
  KnnGraph out;
  out.metric = found.metric;
  out.self_excluded = true;
  out.ids = IdMatrix::Constant(queries.rows, std::min(k, wanted), -1);
  out.scores = RowMatrixf::Constant(queries.rows, out.ids.cols(), std::numeric_limits<float>::quiet_NaN());
  for (std::int64_t i = 0; i < queries.rows; ++i) {
    std::int64_t kept = 0;
    for (std::int64_t p = 0; p < wanted && kept < out.ids.cols(); ++p) {
      const std::int64_t id = found.ids(i, p);
      if (id < 0 || id == first_id + i) continue;
      out.ids(i, kept) = id;
      out.scores(i, kept++) = found.scores(i, p);
    }
  }
  return out;
}

// Sends what this rank holds to rank + 1 and receives from rank - 1, in place.
template <class T>
void shift_right(MPI_Comm comm, const detail::Layout& layout, std::vector<T>& values, std::int64_t width,
                 std::int64_t incoming_rows, int tag) {
  const int right = (layout.rank + 1) % layout.ranks, left = (layout.rank + layout.ranks - 1) % layout.ranks;
  const detail::RowType<T> row(width);
  const auto outgoing_rows = static_cast<int>(values.size() / static_cast<std::size_t>(width));
  std::vector<T> received(static_cast<std::size_t>(incoming_rows * width));
  detail::check(MPI_Sendrecv(values.data(), outgoing_rows, row.get(), right, tag, received.data(),
                             static_cast<int>(incoming_rows), row.get(), left, tag, comm, MPI_STATUS_IGNORE),
                "MPI_Sendrecv");
  values.swap(received);
}

}  // namespace
#endif

KnnGraph distributed_approximate_knn_graph(MPI_Comm comm, const MatrixView<float>& local_rows, std::int64_t k,
                                           Metric metric, const std::string& factory, const Parallel& parallel) {
  constexpr const char* kFunction = "distributed_approximate_knn_graph";
#ifndef LATENT_MPI_HAVE_FAISS
  (void)comm, (void)local_rows, (void)k, (void)metric, (void)factory, (void)parallel;
  raise<BackendError>(kFunction, "factory", "needs FAISS: this latent was built without it (LATENT_WITH_FAISS)");
#else
  detail::Layout layout;
  std::optional<index::FaissIndex> shard_index;
  collectively(comm, [&] {
    layout = detail::checked_layout(comm, local_rows.rows, local_rows.cols, k, true, kFunction, "local_rows");
    try {
      shard_index.emplace(local_rows.cols, factory, metric);
      shard_index->train(local_rows, parallel);
      std::vector<std::int64_t> ids(static_cast<std::size_t>(local_rows.rows));
      for (std::int64_t i = 0; i < local_rows.rows; ++i) ids[static_cast<std::size_t>(i)] = layout.local().begin + i;
      shard_index->add_with_ids(local_rows, ids, parallel);
    } catch (const Error&) {
      detail::rethrow_with_note(detail::local_rows_note(layout));
    }
  });
  const std::int64_t dim = layout.dim;
  // The travelling block: rows, and the running lists of those rows.
  std::vector<float> rows(static_cast<std::size_t>(local_rows.rows * dim));
  for (std::int64_t i = 0; i < local_rows.rows; ++i)
    std::copy(local_rows.row(i), local_rows.row(i) + dim, rows.data() + i * dim);
  KnnGraph lists;
  lists.metric = metric;
  lists.self_excluded = true;
  lists.ids = IdMatrix::Constant(local_rows.rows, k, -1);
  lists.scores = RowMatrixf::Constant(local_rows.rows, k, std::numeric_limits<float>::quiet_NaN());
  for (int step = 0; step < layout.ranks; ++step) {
    const int owner = (layout.rank + layout.ranks - step) % layout.ranks;
    const RowBlock& block = layout.blocks[static_cast<std::size_t>(owner)];
    const MatrixView<float> queries(rows.data(), block.rows, dim);
    merge_knn(lists, search_shard(*shard_index, queries, block.begin, owner == layout.rank, k, parallel));
    // Pass the block on (after the last search only the lists travel, home).
    const int next_owner = (owner + layout.ranks - 1) % layout.ranks;
    const std::int64_t next_rows = layout.blocks[static_cast<std::size_t>(next_owner)].rows;
    if (layout.ranks == 1) break;
    if (step + 1 < layout.ranks) shift_right(comm, layout, rows, dim, next_rows, 3 * step);
    std::vector<std::int64_t> ids(lists.ids.data(), lists.ids.data() + lists.ids.size());
    std::vector<float> scores(lists.scores.data(), lists.scores.data() + lists.scores.size());
    shift_right(comm, layout, ids, k, next_rows, 3 * step + 1);
    shift_right(comm, layout, scores, k, next_rows, 3 * step + 2);
    lists.ids = Eigen::Map<const IdMatrix>(ids.data(), next_rows, k);
    lists.scores = Eigen::Map<const RowMatrixf>(scores.data(), next_rows, k);
  }
  return lists;
#endif
}

}  // namespace latent::mpi
