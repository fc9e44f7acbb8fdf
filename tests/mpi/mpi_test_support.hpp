// Support of the tests that run under mpirun: the bundled real rows, the calling
// rank's block of them, and the rank / size of MPI_COMM_WORLD.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>

#include "latent/core/npy.hpp"
#include "latent/core/types.hpp"
#include "latent/mpi.hpp"

namespace latent::testing {

inline int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

inline int world_size() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

/// The first `rows` rows of the bundled CNN encoder latents of Fashion-MNIST
/// ([1000 x 128] float32, real data); 997 by default, so that no rank count from
/// 2 to 4 divides it.
inline RowMatrixf encoder_rows(std::int64_t rows = 997) {
  const RowMatrixf all = read_npy_matrix<float>(std::string(LATENT_SOURCE_DIR) + "/data/encoders/cnn_seed0.npy");
  return all.topRows(rows);
}

/// The calling rank's block of `all` (row_block's split over MPI_COMM_WORLD).
template <class T>
MatrixView<T> my_block(const RowMatrix<T>& all, mpi::RowBlock* block_out = nullptr) {
  const mpi::RowBlock block = mpi::local_block(MPI_COMM_WORLD, all.rows());
  if (block_out != nullptr) *block_out = block;
  return MatrixView<T>(all.data() + block.begin * all.cols(), block.rows, all.cols());
}

}  // namespace latent::testing
