// The MPI plumbing of comm.hpp, the row split and the collective error outcome.
#include "comm.hpp"

#include <algorithm>
#include <climits>
#include <string>
#include <thread>

#include "latent/core/errors.hpp"
#include "latent/core/parallel.hpp"

namespace latent::mpi {

namespace detail {

void check(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(status, text, &length);
  raise<BackendError>("latent::mpi", call, "failed", std::string(text, static_cast<std::size_t>(length)));
}

int rank_of(MPI_Comm comm) {
  int rank = 0;
  check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  return rank;
}

int size_of(MPI_Comm comm) {
  int size = 1;
  check(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  return size;
}

template <>
MPI_Datatype datatype<float>() {
  return MPI_FLOAT;
}
template <>
MPI_Datatype datatype<double>() {
  return MPI_DOUBLE;
}
template <>
MPI_Datatype datatype<std::int64_t>() {
  return MPI_INT64_T;
}

template <class T>
RowType<T>::RowType(std::int64_t count) {
  if (count < 1 || count > INT_MAX) {
    raise<InvalidArgument>("latent::mpi", "row", "width must be in [1, 2^31)", "width=" + std::to_string(count));
  }
  check(MPI_Type_contiguous(static_cast<int>(count), datatype<T>(), &type_), "MPI_Type_contiguous");
  check(MPI_Type_commit(&type_), "MPI_Type_commit");
}

template <class T>
RowType<T>::~RowType() {
  if (type_ != MPI_DATATYPE_NULL) MPI_Type_free(&type_);
}

template class RowType<float>;
template class RowType<double>;
template class RowType<std::int64_t>;

int Layout::owner(std::int64_t id) const {
  // The last block whose begin is <= id (empty blocks share a begin with the next).
  const auto after = std::upper_bound(blocks.begin(), blocks.end(), id,
                                      [](std::int64_t value, const RowBlock& block) { return value < block.begin; });
  auto it = after - 1;
  while (it->rows == 0 && it != blocks.begin()) --it;
  return static_cast<int>(it - blocks.begin());
}

std::int64_t Layout::max_rows() const {
  std::int64_t most = 0;
  for (const RowBlock& block : blocks) most = std::max(most, block.rows);
  return most;
}

Layout layout_of(MPI_Comm comm, std::int64_t local_rows, std::int64_t dim, const char* function, const char* argument) {
  Layout layout;
  layout.rank = rank_of(comm);
  layout.ranks = size_of(comm);
  const std::int64_t mine[2] = {local_rows, local_rows > 0 ? dim : -1};
  std::vector<std::int64_t> all(2 * static_cast<std::size_t>(layout.ranks));
  check(MPI_Allgather(mine, 2, MPI_INT64_T, all.data(), 2, MPI_INT64_T, comm), "MPI_Allgather");
  layout.dim = -1;
  for (int r = 0; r < layout.ranks; ++r) {
    const std::int64_t rows = all[2 * static_cast<std::size_t>(r)], d = all[2 * static_cast<std::size_t>(r) + 1];
    layout.blocks.push_back({layout.total, rows});
    layout.total += rows;
    if (d < 0) continue;
    if (layout.dim >= 0 && d != layout.dim) {
      raise<DimensionMismatch>(
          function, argument, "has another dim on another rank",
          "rank " + std::to_string(r) + ": " + std::to_string(d) + ", earlier ranks: " + std::to_string(layout.dim));
    }
    layout.dim = d;
  }
  if (layout.dim < 0) layout.dim = 0;
  return layout;
}

Layout checked_layout(MPI_Comm comm, std::int64_t local_rows, std::int64_t dim, std::int64_t k, bool self_excluded,
                      const char* function, const char* argument) {
  Layout layout = layout_of(comm, local_rows, dim, function, argument);
  require_k(function, k, layout.total - (self_excluded ? 1 : 0),
            self_excluded ? "the rows of every rank (self excluded)" : "the rows of every rank");
  if (local_rows == 0) {
    raise<EmptyInput>(function, argument, "is empty on this rank (use at most as many ranks as rows)",
                      "rank " + std::to_string(layout.rank) + " of " + std::to_string(layout.ranks) + ", " +
                          std::to_string(layout.total) + " rows");
  }
  return layout;
}

void allreduce_sum(MPI_Comm comm, std::vector<std::int64_t>& values) {
  // In pieces whose count fits an int.
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  for (std::size_t begin = 0; begin < values.size(); begin += kPiece) {
    const std::size_t count = std::min(kPiece, values.size() - begin);
    check(MPI_Allreduce(MPI_IN_PLACE, values.data() + begin, static_cast<int>(count), MPI_INT64_T, MPI_SUM, comm),
          "MPI_Allreduce");
  }
}

void agree(MPI_Comm comm, std::exception_ptr error) {
  const int rank = rank_of(comm);
  int mine = error ? rank : INT_MAX, first = INT_MAX;
  check(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce");
  if (first == INT_MAX) return;
  if (first == rank) std::rethrow_exception(error);
  throw PeerFailed(first, "latent::mpi: rank " + std::to_string(first) + " failed (its message names the cause)");
}

std::string local_rows_note(const Layout& layout) {
  return " (on rank " + std::to_string(layout.rank) + ", whose row 0 is global row " +
         std::to_string(layout.local().begin) + " of " + std::to_string(layout.total) + ")";
}

[[noreturn]] void rethrow_with_note(const std::string& note) {
  try {
    throw;
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(e.what() + note);
  } catch (const DimensionMismatch& e) {
    throw DimensionMismatch(e.what() + note);
  } catch (const NonFiniteValue& e) {
    throw NonFiniteValue(e.what() + note);
  } catch (const EmptyInput& e) {
    throw EmptyInput(e.what() + note);
  } catch (const InvalidK& e) {
    throw InvalidK(e.what() + note);
  } catch (const NumericalError& e) {
    throw NumericalError(e.what() + note);
  } catch (const IoError& e) {
    throw IoError(e.what() + note);
  }
}

}  // namespace detail

RowBlock row_block(std::int64_t total_rows, int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks) {
    raise<InvalidArgument>("row_block", "rank", "must be in [0, ranks)",
                           "rank=" + std::to_string(rank) + ", ranks=" + std::to_string(ranks));
  }
  if (total_rows < 0) raise<InvalidArgument>("row_block", "total_rows", "is negative", std::to_string(total_rows));
  const std::int64_t base = total_rows / ranks, extra = total_rows % ranks;
  return {rank * base + std::min<std::int64_t>(rank, extra), base + (rank < extra ? 1 : 0)};
}

RowBlock local_block(MPI_Comm comm, std::int64_t total_rows) {
  return row_block(total_rows, detail::rank_of(comm), detail::size_of(comm));
}

int threads_per_rank(MPI_Comm comm) {
  MPI_Comm node = MPI_COMM_NULL;
  detail::check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
  const int on_node = detail::size_of(node);
  MPI_Comm_free(&node);
  return std::max(1, available_processors() / std::max(1, on_node));
}

void collectively(MPI_Comm comm, const std::function<void()>& work) {
  std::exception_ptr error;
  try {
    work();
  } catch (...) {
    error = std::current_exception();
  }
  detail::agree(comm, error);
}

}  // namespace latent::mpi
