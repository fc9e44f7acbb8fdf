// Fuzz target: CSR `.npz` files (scipy.sparse.save_npz's layout) through
// read_sparse_npz: the zip reader, the five members, the dtype conversions and the
// CSR checks (offsets, sorted indices, finite values). A matrix that reads is
// walked entry by entry, written back and read again, which must give the same
// entries.
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "latent/core/sparse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = latent::fuzz::scratch_path(".npz");
  static const std::string copy = latent::fuzz::scratch_path("-copy.npz");
  latent::fuzz::write_file(path, data, size);
  latent::fuzz::expect_only_latent_errors([&] {
    const latent::SparseMatrix m = latent::read_sparse_npz(path);
    double sum = 0.0;
    for (std::int64_t i = 0; i < m.rows(); ++i)
      for (std::int64_t e = m.offsets()[i]; e < m.offsets()[i + 1]; ++e) sum += static_cast<double>(m.values()[e]) + static_cast<double>(m.indices()[e]);
    latent::write_sparse_npz(copy, m);
    const latent::SparseMatrix back = latent::read_sparse_npz(copy);
    if (back.rows() != m.rows() || back.cols() != m.cols() || back.nnz() != m.nnz()) __builtin_trap();
    for (std::int64_t e = 0; e < m.nnz(); ++e)
      if (back.indices()[e] != m.indices()[e] || back.values()[e] != m.values()[e]) __builtin_trap();
    (void)sum;
  });
  return 0;
}
