// latent::mpi: the kNN graph and a whitening fit over rows sharded across MPI
// ranks. Every rank maps the same .npy, keeps its block of rows, and calls the
// collective functions; the result is the single-process one.
//
//   mpirun -np 2 distributed_knn [ROWS.npy]     (default: the bundled CNN encoder latents)
//
// Exits 1 if the file cannot be read, or if a rank's rows of the distributed
// graph differ from the single-process graph (checked here on the small sample).
#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>

#include "latent/core/npy.hpp"
#include "latent/mpi.hpp"
#include "latent/similarity.hpp"
#include "latent/whitening.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  const std::string path = argc > 1 ? argv[1] : std::string(LATENT_DATA_DIR) + "/encoders/cnn_seed0.npy";
  int status = 0;
  try {
    // Each rank views its block of the mapped file: rows it never touches are
    // never read.
    const latent::MappedNpy file(path);
    const latent::MatrixView<float> all = file.view<float>();
    const latent::mpi::RowBlock block = latent::mpi::local_block(MPI_COMM_WORLD, all.rows);
    const latent::MatrixView<float> mine(all.row(block.begin), block.rows, all.cols);

    latent::SearchOptions options;
    options.parallel.threads = latent::mpi::threads_per_rank(MPI_COMM_WORLD);
    const latent::KnnGraph graph =
        latent::mpi::distributed_knn_graph(MPI_COMM_WORLD, mine, 10, latent::Metric::cosine, options);

    latent::Whitening<float> whitening;  // moments merged across the ranks, in rank order
    latent::mpi::fit(MPI_COMM_WORLD, whitening, mine);

    // Check this rank's rows against one process over the whole (small) set.
    const latent::KnnGraph whole = latent::knn_graph(all, 10, latent::Metric::cosine, options);
    long long differing = 0;
    for (std::int64_t i = 0; i < block.rows; ++i) {
      for (std::int64_t p = 0; p < 10; ++p) {
        differing +=
            graph.ids(i, p) != whole.ids(block.begin + i, p) || graph.scores(i, p) != whole.scores(block.begin + i, p);
      }
    }
    MPI_Allreduce(MPI_IN_PLACE, &differing, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) {
      std::printf("kNN graph of %lld rows on %d ranks (rank 0: rows 0..%lld): %lld entries differ from one process\n",
                  static_cast<long long>(all.rows), ranks, static_cast<long long>(block.end() - 1), differing);
      std::printf("whitening fitted on %lld rows: largest eigenvalue %.6g\n",
                  static_cast<long long>(whitening.n_samples()), whitening.eigenvalues().front());
    }
    status = differing == 0 && whitening.n_samples() == all.rows ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "distributed_knn (rank %d): %s\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  return status;
}
