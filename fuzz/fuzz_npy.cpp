// Fuzz target: `.npy` header and body read into memory (read_npy_header, read_npy,
// read_npy_matrix / read_npy_vector for each dtype, to_matrix conversions, the
// big-endian and Fortran-order conversions they make), and open_array (mapped
// when the layout allows, every byte read).
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "latent/core/io.hpp"

namespace {

template <class T>
void read_as(const std::string& path) {
  latent::fuzz::expect_only_latent_errors([&] { (void)latent::read_npy_matrix<T>(path); });
  latent::fuzz::expect_only_latent_errors([&] { (void)latent::read_npy_vector<T>(path); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = latent::fuzz::scratch_path(".npy");
  latent::fuzz::write_file(path, data, size);
  latent::fuzz::expect_only_latent_errors([&] { (void)latent::read_npy_header(path); });
  latent::fuzz::expect_only_latent_errors([&] {
    const latent::NpyArray array = latent::read_npy(path);
    if (array.bytes.size() != static_cast<std::size_t>(array.header.bytes())) std::abort();
    latent::fuzz::expect_only_latent_errors([&] { (void)latent::to_matrix<float>(array, "fuzz"); });
    latent::fuzz::expect_only_latent_errors([&] { (void)latent::to_matrix<double>(array, "fuzz"); });
  });
  latent::fuzz::expect_only_latent_errors([&] {
    const latent::ArrayFile array = latent::open_array(path);
    volatile unsigned char sink = 0;
    for (std::size_t b = 0; b < array.bytes(); ++b) sink = sink ^ array.data()[b];
    (void)sink;
    latent::fuzz::expect_only_latent_errors([&] { (void)array.matrix<float>(); });
  });
  read_as<float>(path);
  read_as<double>(path);
  read_as<std::int64_t>(path);
  read_as<std::int32_t>(path);
  read_as<std::uint8_t>(path);
  return 0;
}
