// A consumer of the installed library: writes and reads a .npy, checks an error
// type crosses the library boundary, and (with the components) calls the FAISS
// adapter and latent::mpi. Exit status 0 only if all of it works.
#include <latent/core/errors.hpp>
#include <latent/core/io.hpp>
#include <latent/core/parallel.hpp>
#include <latent/core/types.hpp>

#include <cstdio>
#include <string>

#ifdef CONSUMER_USES_FAISS
#include <latent/index/faiss_index.hpp>
#endif
#ifdef CONSUMER_USES_MPI
#include <latent/mpi.hpp>
#endif

int main(int argc, char** argv) {
  const std::string path = std::string(argc > 1 ? argv[1] : ".") + "/consumer.npy";
  latent::RowMatrixf m = latent::RowMatrixf::Random(3, 4);
  latent::write_npy(path, m);
  const latent::RowMatrixf back = latent::read_npy_matrix<float>(path);
  if (!back.isApprox(m)) return 1;
  try {
    latent::read_npy_matrix<double>(path);
    return 1;
  } catch (const latent::IoError& e) {
    std::printf("caught as expected: %s\n", e.what());
  }
  if (latent::parse_metric("cosine") != latent::Metric::cosine) return 1;
  if (latent::resolve_threads(latent::Parallel{1}) != 1) return 1;  // (larger counts are clamped to the machine)
#ifdef CONSUMER_USES_FAISS
  std::printf("faiss %s\n", latent::index::faiss_version().c_str());
#endif
#ifdef CONSUMER_USES_MPI
  // Linked, not started: the row split needs no MPI runtime.
  if (latent::mpi::row_block(10, 3, 4).begin != 8) return 1;
  std::printf("latent::mpi linked\n");
#endif
  std::printf("latent %s consumer ok\n", LATENT_VERSION_STRING);
  return 0;
}
