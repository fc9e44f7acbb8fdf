// Fuzz target: HDF5 files through list_arrays and open_array (the superblock
// check, libhdf5 behind a silenced error stack, the extent-against-storage bound).
// Built only when the library reads HDF5. A finding inside libhdf5 itself is
// reported to its maintainers; latent's part is that nothing but IoError leaves.
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "latent/core/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = latent::fuzz::scratch_path(".hdf5");
  latent::fuzz::write_file(path, data, size);
  latent::fuzz::expect_only_latent_errors([&] {
    for (const latent::ArrayInfo& info : latent::list_arrays(path)) {
      latent::fuzz::expect_only_latent_errors([&] {
        const latent::ArrayFile array = latent::open_array(path + ":" + info.name);
        volatile unsigned char sink = 0;
        for (std::size_t b = 0; b < array.bytes(); ++b) sink = sink ^ array.data()[b];
        (void)sink;
      });
    }
  });
  latent::fuzz::expect_only_latent_errors([&] { (void)latent::open_array(path + ":train"); });
  return 0;
}
