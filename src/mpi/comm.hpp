// The MPI plumbing shared by latent::mpi's sources (private): rank and size,
// row datatypes whose counts stay within int, the block layout of a sharded set,
// the ring every block travels, and the exchange of per-point values by owner.
#pragma once

#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "latent/core/types.hpp"
#include "latent/mpi.hpp"

namespace latent::mpi::detail {

/// BackendError naming the MPI call unless `status` is MPI_SUCCESS.
void check(int status, const char* call);

int rank_of(MPI_Comm comm);
int size_of(MPI_Comm comm);

/// MPI's datatype of T (float, double, std::int64_t).
template <class T>
MPI_Datatype datatype();

/// A committed contiguous datatype of `count` values of T (one row of a matrix),
/// so message sizes are counted in rows and stay within int for any set.
template <class T>
class RowType {
 public:
  explicit RowType(std::int64_t count);
  ~RowType();
  RowType(const RowType&) = delete;
  RowType& operator=(const RowType&) = delete;
  MPI_Datatype get() const { return type_; }

 private:
  MPI_Datatype type_ = MPI_DATATYPE_NULL;
};

/// The blocks of every rank of a set whose rows are sharded in rank order, from
/// each rank's local row count and dim (one allgather). Throws
/// DimensionMismatch (on every rank) when ranks holding rows disagree on dim.
struct Layout {
  std::vector<RowBlock> blocks;  ///< [ranks], consecutive from row 0
  std::int64_t total = 0;
  std::int64_t dim = 0;  ///< the dim of the ranks that hold rows (0 when none does)
  int rank = 0;
  int ranks = 1;

  const RowBlock& local() const { return blocks[static_cast<std::size_t>(rank)]; }
  /// The rank owning global row `id` (0 <= id < total), by binary search.
  int owner(std::int64_t id) const;
  /// The most rows any rank holds.
  std::int64_t max_rows() const;
};
Layout layout_of(MPI_Comm comm, std::int64_t local_rows, std::int64_t dim, const char* function, const char* argument);

/// layout_of for the rows of a kNN-type call, checked alike on every rank:
/// 1 <= k <= total (total - 1 when `self_excluded`; InvalidK), then this rank's
/// block must hold rows (EmptyInput: more ranks than rows). Call inside
/// collectively().
Layout checked_layout(MPI_Comm comm, std::int64_t local_rows, std::int64_t dim, std::int64_t k, bool self_excluded,
                      const char* function, const char* argument);

/// Passes every rank's block once through every rank, starting with its own:
/// visit(block, owner) is called ranks times, with the rows of rank `owner`
/// (a contiguous [rows x dim] view). The next block is received from rank - 1
/// while `visit` works on the one in hand, which is sent on to rank + 1.
/// Scratch: two blocks of layout.max_rows() rows. Collective.
template <class T, class Visit>
void ring_pass(MPI_Comm comm, const Layout& layout, const MatrixView<T>& local, Visit&& visit);

/// For each requested global id, the `width` values its owner keeps for it:
/// `requests` are global ids (any order, repeats allowed); `local_values` is
/// [local rows x width] for the calling rank's own rows. Returns
/// [requests x width] in request order. Each rank sends only the rows other
/// ranks asked it for (two MPI_Alltoall(v) rounds). Collective.
template <class T>
std::vector<T> fetch_by_owner(MPI_Comm comm, const Layout& layout, const std::vector<std::int64_t>& requests,
                              const T* local_values, std::int64_t width);

/// Sums `values` (length n, the same on every rank) over the ranks, in place.
void allreduce_sum(MPI_Comm comm, std::vector<std::int64_t>& values);

/// The collective outcome of local work that ended with `error` (null when it
/// succeeded) on the calling rank: returns when no rank failed; otherwise the
/// smallest failing rank rethrows its own error and every other rank throws
/// PeerFailed naming it.
void agree(MPI_Comm comm, std::exception_ptr error);

/// " (on rank r, whose row 0 is global row b of n)": appended to a local error,
/// so its row numbers can be read globally.
std::string local_rows_note(const Layout& layout);

/// Rethrows the current latent::Error with `note` appended to its message, as
/// the same type (used to say which global rows a rank's local row numbers mean).
[[noreturn]] void rethrow_with_note(const std::string& note);

// ---------------------------------------------------------------- templates

template <class T, class Visit>
void ring_pass(MPI_Comm comm, const Layout& layout, const MatrixView<T>& local, Visit&& visit) {
  const int ranks = layout.ranks, rank = layout.rank;
  const std::int64_t dim = layout.dim;
  if (ranks == 1) {
    visit(local, rank);
    return;
  }
  const RowType<T> row(dim);
  const int right = (rank + 1) % ranks, left = (rank + ranks - 1) % ranks;
  const auto capacity = static_cast<std::size_t>(layout.max_rows() * dim);
  std::vector<T> in_hand, incoming(capacity);
  // The own block goes out as it is when its rows are contiguous.
  MatrixView<T> current = local;
  if (local.rows > 0 && local.row_stride != dim) {
    in_hand.resize(capacity);
    for (std::int64_t i = 0; i < local.rows; ++i) std::copy(local.row(i), local.row(i) + dim, in_hand.data() + i * dim);
    current = MatrixView<T>(in_hand.data(), local.rows, dim);
  } else {
    in_hand.resize(capacity);
  }
  for (int step = 0; step < ranks; ++step) {
    const int owner = (rank + ranks - step) % ranks;
    const int next_owner = (owner + ranks - 1) % ranks;
    const bool more = step + 1 < ranks;
    MPI_Request requests[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    if (more) {
      const auto next_rows = static_cast<int>(layout.blocks[static_cast<std::size_t>(next_owner)].rows);
      check(MPI_Irecv(incoming.data(), next_rows, row.get(), left, step, comm, &requests[0]), "MPI_Irecv");
      check(MPI_Isend(current.data, static_cast<int>(current.rows), row.get(), right, step, comm, &requests[1]),
            "MPI_Isend");
    }
    visit(current, owner);
    if (!more) break;
    check(MPI_Waitall(2, requests, MPI_STATUSES_IGNORE), "MPI_Waitall");
    std::swap(in_hand, incoming);
    current = MatrixView<T>(in_hand.data(), layout.blocks[static_cast<std::size_t>(next_owner)].rows, dim);
  }
}

template <class T>
std::vector<T> fetch_by_owner(MPI_Comm comm, const Layout& layout, const std::vector<std::int64_t>& requests,
                              const T* local_values, std::int64_t width) {
  const auto ranks = static_cast<std::size_t>(layout.ranks);
  // Group the requests by owner (counting sort keeps each owner's in request order).
  std::vector<int> send_counts(ranks, 0), send_offsets(ranks, 0);
  std::vector<int> owners(requests.size());
  for (std::size_t q = 0; q < requests.size(); ++q) {
    owners[q] = layout.owner(requests[q]);
    ++send_counts[static_cast<std::size_t>(owners[q])];
  }
  for (std::size_t r = 1; r < ranks; ++r) send_offsets[r] = send_offsets[r - 1] + send_counts[r - 1];
  std::vector<std::int64_t> asked(requests.size());
  std::vector<std::size_t> slot(requests.size());
  {
    std::vector<int> fill = send_offsets;
    for (std::size_t q = 0; q < requests.size(); ++q) {
      slot[q] = static_cast<std::size_t>(fill[static_cast<std::size_t>(owners[q])]++);
      asked[slot[q]] = requests[q];
    }
  }
  std::vector<int> recv_counts(ranks), recv_offsets(ranks, 0);
  check(MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, comm), "MPI_Alltoall");
  for (std::size_t r = 1; r < ranks; ++r) recv_offsets[r] = recv_offsets[r - 1] + recv_counts[r - 1];
  const std::size_t incoming = ranks == 0 ? 0 : static_cast<std::size_t>(recv_offsets.back() + recv_counts.back());
  std::vector<std::int64_t> wanted(incoming);
  check(MPI_Alltoallv(asked.data(), send_counts.data(), send_offsets.data(), MPI_INT64_T, wanted.data(),
                      recv_counts.data(), recv_offsets.data(), MPI_INT64_T, comm),
        "MPI_Alltoallv");
  // Answer: the rows asked of this rank, in the order asked.
  const std::int64_t begin = layout.local().begin;
  std::vector<T> answers(incoming * static_cast<std::size_t>(width));
  for (std::size_t q = 0; q < incoming; ++q) {
    const T* source = local_values + (wanted[q] - begin) * width;
    std::copy(source, source + width, answers.data() + q * static_cast<std::size_t>(width));
  }
  const RowType<T> row(width);
  std::vector<T> received(requests.size() * static_cast<std::size_t>(width));
  check(MPI_Alltoallv(answers.data(), recv_counts.data(), recv_offsets.data(), row.get(), received.data(),
                      send_counts.data(), send_offsets.data(), row.get(), comm),
        "MPI_Alltoallv");
  std::vector<T> out(requests.size() * static_cast<std::size_t>(width));
  for (std::size_t q = 0; q < requests.size(); ++q) {
    std::copy(received.data() + slot[q] * static_cast<std::size_t>(width),
              received.data() + (slot[q] + 1) * static_cast<std::size_t>(width),
              out.data() + q * static_cast<std::size_t>(width));
  }
  return out;
}

}  // namespace latent::mpi::detail
