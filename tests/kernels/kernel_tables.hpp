// The kernel tables this machine can run (scalar, avx2 and avx512, each with and
// without its extensions), for the tests that compare every ISA against the scalar one.
#pragma once

#include <vector>

#include "kernels/table.hpp"
#include "latent/kernels/isa.hpp"

namespace latent::kernels::testing {

inline std::vector<const detail::KernelTable*> runnable_tables() {
  std::vector<const detail::KernelTable*> tables = {&detail::scalar_table()};
#if defined(LATENT_KERNELS_X86)
  if (is_supported(Isa::avx2)) {
    tables.push_back(&detail::avx2_table());
    tables.push_back(&detail::avx2_base_table());
  }
  if (is_supported(Isa::avx512)) {
    tables.push_back(&detail::avx512_table());
    tables.push_back(&detail::avx512_base_table());
  }
#endif
  return tables;
}

}  // namespace latent::kernels::testing
