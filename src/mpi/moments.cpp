// Moments merged across ranks in rank order, the models fitted on them, and rows
// gathered by global id.
#include <string>
#include <vector>

#include "comm.hpp"
#include "latent/core/errors.hpp"
#include "latent/mpi.hpp"

namespace latent::mpi {

MomentAccumulator allreduce_moments(MPI_Comm comm, const MomentAccumulator& local) {
  const int rank = detail::rank_of(comm), ranks = detail::size_of(comm);
  // Rank 0 receives every rank's moments, then merges them in rank order (so the
  // result does not depend on arrival order) and sends the merged ones back.
  const std::vector<double> mine = local.to_doubles();
  std::vector<std::vector<double>> all(rank == 0 ? static_cast<std::size_t>(ranks) : 0);
  if (rank == 0) {
    all[0] = mine;
    for (int r = 1; r < ranks; ++r) {
      MPI_Status status;
      detail::check(MPI_Probe(r, 0, comm, &status), "MPI_Probe");
      int count = 0;
      detail::check(MPI_Get_count(&status, MPI_DOUBLE, &count), "MPI_Get_count");
      all[static_cast<std::size_t>(r)].resize(static_cast<std::size_t>(count));
      detail::check(MPI_Recv(all[static_cast<std::size_t>(r)].data(), count, MPI_DOUBLE, r, 0, comm, MPI_STATUS_IGNORE),
                    "MPI_Recv");
    }
  } else {
    detail::check(MPI_Send(mine.data(), static_cast<int>(mine.size()), MPI_DOUBLE, 0, 0, comm), "MPI_Send");
  }
  std::vector<double> merged;
  collectively(comm, [&] {
    if (rank != 0) return;
    MomentAccumulator sum = MomentAccumulator::from_doubles(all[0]);
    for (int r = 1; r < ranks; ++r) {
      try {
        sum.merge(MomentAccumulator::from_doubles(all[static_cast<std::size_t>(r)]));
      } catch (const Error&) {
        detail::rethrow_with_note(" (merging the moments of rank " + std::to_string(r) + ")");
      }
    }
    merged = sum.to_doubles();
  });
  long long size = static_cast<long long>(merged.size());
  detail::check(MPI_Bcast(&size, 1, MPI_LONG_LONG, 0, comm), "MPI_Bcast");
  merged.resize(static_cast<std::size_t>(size));
  detail::check(MPI_Bcast(merged.data(), static_cast<int>(size), MPI_DOUBLE, 0, comm), "MPI_Bcast");
  return MomentAccumulator::from_doubles(merged);
}

namespace {

// The moments of every rank's rows, merged, then the model's own fit on them.
// Local failures (NaN, another dim) end every rank: the failing rank throws.
template <class Model, class T>
void fit_on_shards(MPI_Comm comm, Model& model, const MatrixView<T>& local_rows) {
  MomentAccumulator local = model.new_moments();
  collectively(comm, [&] {
    const detail::Layout layout = detail::layout_of(comm, local_rows.rows, local_rows.cols, "fit", "local_rows");
    try {
      local.add(local_rows);
    } catch (const Error&) {
      detail::rethrow_with_note(detail::local_rows_note(layout));
    }
  });
  const MomentAccumulator merged = allreduce_moments(comm, local);
  collectively(comm, [&] { model.fit(merged); });
}

}  // namespace

template <class T>
void fit(MPI_Comm comm, Whitening<T>& model, const MatrixView<T>& local_rows) {
  fit_on_shards(comm, model, local_rows);
}
template <class T>
void fit(MPI_Comm comm, AllButTheTop<T>& model, const MatrixView<T>& local_rows) {
  fit_on_shards(comm, model, local_rows);
}
template <class T>
void fit(MPI_Comm comm, Centering<T>& model, const MatrixView<T>& local_rows) {
  fit_on_shards(comm, model, local_rows);
}
template <class T>
void fit(MPI_Comm comm, Standardizer<T>& model, const MatrixView<T>& local_rows) {
  fit_on_shards(comm, model, local_rows);
}

template <class T>
RowMatrix<T> gather_rows(MPI_Comm comm, const MatrixView<T>& local_rows, const std::vector<std::int64_t>& ids) {
  detail::Layout layout;
  collectively(comm, [&] {
    layout = detail::layout_of(comm, local_rows.rows, local_rows.cols, "gather_rows", "local_rows");
    for (const std::int64_t id : ids) {
      if (id < 0 || id >= layout.total) {
        raise<InvalidArgument>("gather_rows", "ids", "holds a row outside the set",
                               "id " + std::to_string(id) + ", rows " + std::to_string(layout.total));
      }
    }
  });
  RowMatrix<T> contiguous;
  const T* values = local_rows.data;
  if (local_rows.rows > 0 && local_rows.row_stride != layout.dim) {
    contiguous = local_rows.map();
    values = contiguous.data();
  }
  const std::vector<T> rows = detail::fetch_by_owner(comm, layout, ids, values, std::max<std::int64_t>(layout.dim, 1));
  RowMatrix<T> out(static_cast<Eigen::Index>(ids.size()), layout.dim);
  if (out.size() > 0) std::copy(rows.begin(), rows.end(), out.data());
  return out;
}

#define LATENT_MPI_INSTANTIATE(T)                                      \
  template void fit(MPI_Comm, Whitening<T>&, const MatrixView<T>&);    \
  template void fit(MPI_Comm, AllButTheTop<T>&, const MatrixView<T>&); \
  template void fit(MPI_Comm, Centering<T>&, const MatrixView<T>&);    \
  template void fit(MPI_Comm, Standardizer<T>&, const MatrixView<T>&); \
  template RowMatrix<T> gather_rows(MPI_Comm, const MatrixView<T>&, const std::vector<std::int64_t>&);
LATENT_MPI_INSTANTIATE(float)
LATENT_MPI_INSTANTIATE(double)
#undef LATENT_MPI_INSTANTIATE

}  // namespace latent::mpi
