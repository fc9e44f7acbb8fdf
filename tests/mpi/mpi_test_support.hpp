// Support of the tests that run under mpirun: the bundled real rows, the calling
// rank's block of them, and the rank / size of MPI_COMM_WORLD.
#pragma once

#include <gtest/gtest.h>
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

/// Runs the collective `call`, which must fail: rank `failing` throws Expected
/// (its message holding `note`, when given), every other rank mpi::PeerFailed
/// naming `failing`.
template <class Expected, class Call>
void expect_fails_on_rank(int failing, Call&& call, const std::string& what = "", const std::string& note = "") {
  try {
    call();
    ADD_FAILURE() << "no exception: " << what;
  } catch (const Expected& e) {
    EXPECT_EQ(world_rank(), failing) << what;
    if (!note.empty()) {
      EXPECT_NE(std::string(e.what()).find(note), std::string::npos) << e.what();
    }
  } catch (const mpi::PeerFailed& e) {
    EXPECT_NE(world_rank(), failing) << what;
    EXPECT_EQ(e.failed_rank(), failing) << what;
  }
}

/// What a rank's error says after its local row numbers.
inline const char* const kGlobalRowsNote = "whose row 0 is global row";

}  // namespace latent::testing
