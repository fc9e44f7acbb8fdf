// How the rows of a run are shared among processes. Started plainly, `latent`
// is one process and every call below is the library's own. Started by mpirun
// or mpiexec (and built with latent::mpi), it is one of N ranks: each reads its
// block of every input (RowSplit), the calls below are the latent::mpi
// versions, outputs are written once, complete, by all ranks together, and
// only rank 0 prints.
//
// Failures: work that may fail on one rank only (opening and checking its
// block) runs inside phase(): when any rank fails, the smallest failing rank's
// error propagates there and every other rank throws PeerFailed, which the tool
// turns into a quiet exit 1, so the job prints one message. An error elsewhere
// may leave other ranks waiting for this one: finish() then ends the whole job.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.hpp"
#include "latent/hubness.hpp"
#include "latent/whitening.hpp"

namespace latent::cli {

/// Thrown on the ranks that did not fail when another rank did (its message is
/// the one printed). Not a latent::Error, so the wrappers that add a file name
/// to an Error (blame, blame_inputs) let it through to main, which stays quiet.
class PeerFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Shards {
 public:
  /// The run's sharing: set up by main, one process unless MPI was initialised.
  static const Shards& current();
  /// Initialises MPI when a launcher started this process (and the tool has
  /// MPI); returns false when it did not. Throws Error when a launcher started
  /// several processes but this latent was built without MPI.
  static bool start(int* argc, char*** argv);
  /// Ends the run with this rank's exit status. Under MPI every rank meets the
  /// others at a final barrier (on a communicator of its own); a rank that
  /// failed waits there at most a few seconds, and when some rank does not come
  /// (it waits for this one inside a collective call) ends the job: MPI_Abort
  /// with status 1. Returns the status to exit with.
  static int finish(int status);

  bool distributed() const { return ranks_ > 1 || mpi_; }
  int rank() const { return rank_; }
  int ranks() const { return ranks_; }
  /// True on the process that prints (rank 0, or the only process).
  bool root() const { return rank_ == 0; }
  RowSplit split() const { return {rank_, ranks_}; }
  /// The threads each rank should use: its node's processors divided by the
  /// ranks on the node, at least 1 (0 for one process: the library default).
  int threads_per_rank() const;

  /// Runs `work` on every rank; see the file comment.
  void phase(const std::function<void()>& work) const;

  /// The library calls, sharded when distributed (rows are this rank's block).
  KnnGraph knn_graph(const MatrixView<float>& rows, std::int64_t k, Metric metric, const SearchOptions& options) const;
  KnnGraph knn(const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k, Metric metric,
               const SearchOptions& options) const;
  void fit(Whitening<float>& model, const MatrixView<float>& rows) const;
  void fit(AllButTheTop<float>& model, const MatrixView<float>& rows) const;
  RowMatrixf gather_rows(const MatrixView<float>& rows, const std::vector<std::int64_t>& ids) const;
  HubnessPipelineResult reduce_hubness(const MatrixView<float>& rows, std::int64_t k, Metric metric,
                                       const HubnessPipelineOptions& options) const;
  /// Sums a count over the ranks.
  std::int64_t sum(std::int64_t value) const;

  /// Writes a 2-D .npy whose rows are every rank's `rows` in rank order
  /// (`total_rows` in all), atomically: the file appears complete or not at all.
  /// Collective; IoError naming the path.
  template <class T>
  void write_rows(const std::string& path, const MatrixView<T>& rows, std::int64_t total_rows) const;

 private:
  template <class T>
  void write_rows_together(const std::string& path, const MatrixView<T>& rows, std::int64_t total_rows) const;

  int rank_ = 0;
  int ranks_ = 1;
  bool mpi_ = false;
  void* end_comm_ = nullptr;  // the MPI_Comm of the final barrier (MPI types stay out of this header)
};

}  // namespace latent::cli
