// Fuzz target: `.fvecs / .ivecs / .bvecs` (the same bytes read as each format).
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "latent/core/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = latent::fuzz::scratch_path(".vecs");
  latent::fuzz::write_file(path, data, size);
  latent::fuzz::expect_only_latent_errors([&] { (void)latent::read_fvecs(path); });
  latent::fuzz::expect_only_latent_errors([&] { (void)latent::read_ivecs(path); });
  latent::fuzz::expect_only_latent_errors([&] { (void)latent::read_bvecs(path); });
  return 0;
}
