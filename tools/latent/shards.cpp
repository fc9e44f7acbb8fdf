// The run's sharing of rows among processes (shards.hpp): the library's calls
// for one process, latent::mpi's for the ranks of an mpirun job.
#include "shards.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "latent/core/npy.hpp"
#include "latent/similarity.hpp"

#ifdef LATENT_TOOL_HAVE_MPI
#include "latent/mpi.hpp"
#endif

namespace latent::cli {
namespace {

Shards& the_shards() {
  static Shards shards;
  return shards;
}

// The number of processes a launcher started, read from its environment
// (Open MPI, MPICH / Hydra and PMIx launchers); 0 when none started this one.
int launcher_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return std::max(1, std::atoi(value));
  }
  return std::getenv("PMIX_RANK") != nullptr ? 1 : 0;
}

}  // namespace

const Shards& Shards::current() { return the_shards(); }

#ifdef LATENT_TOOL_HAVE_MPI
namespace {

// A collective library call: an error there is agreed on by every rank
// (latent::mpi throws PeerFailed on the ranks that did not fail).
template <class F>
auto agreed(F&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const mpi::PeerFailed& e) {
    throw PeerFailed(e.what());
  }
}

}  // namespace

bool Shards::start(int* argc, char*** argv) {
  if (launcher_size() == 0) return false;
  MPI_Init(argc, argv);
  Shards& shards = the_shards();
  MPI_Comm_rank(MPI_COMM_WORLD, &shards.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &shards.ranks_);
  auto* end = new MPI_Comm(MPI_COMM_NULL);
  MPI_Comm_dup(MPI_COMM_WORLD, end);
  shards.end_comm_ = end;
  shards.mpi_ = true;
  // Results are printed once: the other ranks' standard output goes nowhere
  // (their errors still reach stderr).
  if (shards.rank_ != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) throw IoError("cannot silence stdout");
  return true;
}

int Shards::finish(int status) {
  Shards& shards = the_shards();
  if (!shards.mpi_) return status;
  auto* end = static_cast<MPI_Comm*>(shards.end_comm_);
  MPI_Request request = MPI_REQUEST_NULL;
  MPI_Ibarrier(*end, &request);
  int arrived = 0;
  if (status == 0) {
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    arrived = 1;
  } else {
    // Every rank that knows of the failure arrives at once; one that is still
    // waiting for this rank never will.
    for (int waited_ms = 0; waited_ms < 5000 && arrived == 0; waited_ms += 10) {
      MPI_Test(&request, &arrived, MPI_STATUS_IGNORE);
      if (arrived == 0) ::usleep(10000);
    }
  }
  if (arrived == 0) MPI_Abort(MPI_COMM_WORLD, 1);
  MPI_Comm_free(end);
  delete end;
  MPI_Finalize();
  return status;
}

#else  // this latent has no MPI: it refuses to be one of several ranks

bool Shards::start(int*, char***) {
  const int size = launcher_size();
  if (size > 1) {
    throw Error("started by mpirun with " + std::to_string(size) +
                " processes, but this latent was built without MPI (LATENT_WITH_MPI=OFF or no MPI found); run it "
                "without mpirun");
  }
  return false;
}
int Shards::finish(int status) { return status; }

#endif

int Shards::threads_per_rank() const {
#ifdef LATENT_TOOL_HAVE_MPI
  if (mpi_) return mpi::threads_per_rank(MPI_COMM_WORLD);
#endif
  return 0;
}

void Shards::phase(const std::function<void()>& work) const {
#ifdef LATENT_TOOL_HAVE_MPI
  if (mpi_) return agreed([&] { mpi::collectively(MPI_COMM_WORLD, work); });
#endif
  work();
}

KnnGraph Shards::knn_graph(const MatrixView<float>& rows, std::int64_t k, Metric metric,
                           const SearchOptions& options) const {
#ifdef LATENT_TOOL_HAVE_MPI
  if (mpi_) return agreed([&] { return mpi::distributed_knn_graph(MPI_COMM_WORLD, rows, k, metric, options); });
#endif
  return latent::knn_graph(rows, k, metric, options);
}

KnnGraph Shards::knn(const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k, Metric metric,
                     const SearchOptions& options) const {
#ifdef LATENT_TOOL_HAVE_MPI
  if (mpi_) return agreed([&] { return mpi::distributed_knn(MPI_COMM_WORLD, queries, base, k, metric, options); });
#endif
  return latent::knn(queries, base, k, metric, options);
}

void Shards::fit(Whitening<float>& model, const MatrixView<float>& rows) const {
#ifdef LATENT_TOOL_HAVE_MPI
  if (mpi_) return agreed([&] { mpi::fit(MPI_COMM_WORLD, model, rows); });
#endif
  model.fit(rows);
}

void Shards::fit(AllButTheTop<float>& model, const MatrixView<float>& rows) const {
#ifdef LATENT_TOOL_HAVE_MPI
  if (mpi_) return agreed([&] { mpi::fit(MPI_COMM_WORLD, model, rows); });
#endif
  model.fit(rows);
}

RowMatrixf Shards::gather_rows(const MatrixView<float>& rows, const std::vector<std::int64_t>& ids) const {
#ifdef LATENT_TOOL_HAVE_MPI
  if (mpi_) return agreed([&] { return mpi::gather_rows(MPI_COMM_WORLD, rows, ids); });
#endif
  RowMatrixf out(static_cast<Eigen::Index>(ids.size()), rows.cols);
  for (std::size_t q = 0; q < ids.size(); ++q) {
    if (ids[q] < 0 || ids[q] >= rows.rows) {
      throw InvalidArgument("row id " + std::to_string(ids[q]) + " is outside [0, " + std::to_string(rows.rows) + ")");
    }
    out.row(static_cast<Eigen::Index>(q)) = rows.map().row(ids[q]);
  }
  return out;
}

HubnessPipelineResult Shards::reduce_hubness(const MatrixView<float>& rows, std::int64_t k, Metric metric,
                                             const HubnessPipelineOptions& options) const {
#ifdef LATENT_TOOL_HAVE_MPI
  if (mpi_) return agreed([&] { return mpi::distributed_reduce_hubness(MPI_COMM_WORLD, rows, k, metric, options); });
#endif
  return latent::reduce_hubness(rows, k, metric, options);
}

std::int64_t Shards::sum(std::int64_t value) const {
#ifdef LATENT_TOOL_HAVE_MPI
  if (mpi_) MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
#endif
  return value;
}

template <class T>
void Shards::write_rows(const std::string& path, const MatrixView<T>& rows, std::int64_t total_rows) const {
#ifdef LATENT_TOOL_HAVE_MPI
  if (mpi_) return write_rows_together(path, rows, total_rows);
#endif
  (void)total_rows;
  write_npy(path, rows);
}

#ifdef LATENT_TOOL_HAVE_MPI
namespace {

[[noreturn]] void write_failed(const std::string& path, const std::string& what) {
  throw IoError(path + ": " + what + ": " + std::strerror(errno));
}

// Writes `count` bytes at `offset` of the open file `fd`.
void write_at(int fd, const std::string& path, const void* data, std::size_t count, std::int64_t offset) {
  const auto* in = static_cast<const unsigned char*>(data);
  while (count > 0) {
    const ssize_t done =
        ::pwrite(fd, in, std::min<std::size_t>(count, std::size_t{1} << 30), static_cast<off_t>(offset));
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) write_failed(path, "write failed");
    in += done;
    offset += done;
    count -= static_cast<std::size_t>(done);
  }
}

}  // namespace

template <class T>
void Shards::write_rows_together(const std::string& path, const MatrixView<T>& rows, std::int64_t total_rows) const {
  // Rank 0 creates a temporary sibling of the full size, every rank writes its
  // rows at their place, and rank 0 renames it over `path` once all succeeded.
  std::int64_t first_row = 0, count = rows.rows;
  MPI_Exscan(&count, &first_row, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  if (rank_ == 0) first_row = 0;
  const std::string header = npy_header_bytes(dtype_of<T>(), {total_rows, rows.cols});
  const std::int64_t row_bytes = rows.cols * static_cast<std::int64_t>(sizeof(T));
  long long job = static_cast<long long>(::getpid());
  MPI_Bcast(&job, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  const std::string temp = path + ".partial-" + std::to_string(job);
  try {
    phase([&] {
      if (rank_ != 0) return;
      const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      if (fd < 0) write_failed(path, "cannot be written");
      const bool sized = ::ftruncate(fd, static_cast<off_t>(header.size() + total_rows * row_bytes)) == 0;
      ::close(fd);
      if (!sized) write_failed(path, "cannot be written");
    });
    phase([&] {
      const int fd = ::open(temp.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) write_failed(path, "cannot be written");
      try {
        if (rank_ == 0) write_at(fd, path, header.data(), header.size(), 0);
        const auto offset = static_cast<std::int64_t>(header.size()) + first_row * row_bytes;
        for (std::int64_t i = 0; i < rows.rows; ++i) {
          write_at(fd, path, rows.row(i), static_cast<std::size_t>(row_bytes), offset + i * row_bytes);
        }
        if (::fsync(fd) != 0) write_failed(path, "write failed (fsync)");
      } catch (...) {
        ::close(fd);
        throw;
      }
      if (::close(fd) != 0) write_failed(path, "write failed (close)");
    });
    phase([&] {
      if (rank_ == 0 && ::rename(temp.c_str(), path.c_str()) != 0) write_failed(path, "cannot be replaced");
    });
  } catch (...) {
    if (rank_ == 0) ::unlink(temp.c_str());
    throw;
  }
}

#endif

template void Shards::write_rows(const std::string&, const MatrixView<float>&, std::int64_t) const;
template void Shards::write_rows(const std::string&, const MatrixView<std::int64_t>&, std::int64_t) const;

}  // namespace latent::cli
