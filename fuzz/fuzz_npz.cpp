// Fuzz target: `.npz` archives (the zip reader: end records, ZIP64, central
// directory, local headers, stored and deflated members, CRC-32) through
// list_arrays and open_array. Every byte of each opened array is read, so a view
// reaching past a mapping or a buffer is a sanitizer finding.
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "latent/core/io.hpp"

namespace {

void touch_all(const latent::ArrayFile& array) {
  volatile unsigned char sink = 0;
  for (std::size_t b = 0; b < array.bytes(); ++b) sink = sink ^ array.data()[b];
  (void)sink;
  latent::fuzz::expect_only_latent_errors([&] { (void)array.matrix<double>(); });
  latent::fuzz::expect_only_latent_errors([&] { (void)array.vector<std::int64_t>(); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = latent::fuzz::scratch_path(".npz");
  latent::fuzz::write_file(path, data, size);
  latent::fuzz::expect_only_latent_errors([&] {
    for (const latent::ArrayInfo& info : latent::list_arrays(path)) {
      latent::fuzz::expect_only_latent_errors([&] { touch_all(latent::open_array(path + ":" + info.name)); });
    }
  });
  latent::fuzz::expect_only_latent_errors([&] { touch_all(latent::open_array(path)); });
  latent::fuzz::expect_only_latent_errors([&] { touch_all(latent::open_array(path + ":x")); });
  return 0;
}
