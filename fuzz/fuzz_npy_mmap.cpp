// Fuzz target: memory-mapped `.npy` (MappedNpy). Every element of the view is
// read, so a view reaching past the mapping is a sanitizer/segfault finding.
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "latent/core/io.hpp"

namespace {

template <class T>
void touch_all(const latent::MappedNpy& mapped) {
  latent::fuzz::expect_only_latent_errors([&] {
    const latent::MatrixView<T> view = mapped.view<T>();
    volatile unsigned char sink = 0;
    for (std::int64_t i = 0; i < view.rows; ++i) {
      const auto* row = reinterpret_cast<const unsigned char*>(view.data + i * view.row_stride);
      for (std::size_t b = 0; b < static_cast<std::size_t>(view.cols) * sizeof(T); ++b) sink = sink ^ row[b];
    }
    (void)sink;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = latent::fuzz::scratch_path(".npy");
  latent::fuzz::write_file(path, data, size);
  latent::fuzz::expect_only_latent_errors([&] {
    latent::MappedNpy mapped(path);
    touch_all<float>(mapped);
    touch_all<double>(mapped);
    touch_all<std::int64_t>(mapped);
    touch_all<std::int32_t>(mapped);
    touch_all<std::uint8_t>(mapped);
    latent::MappedNpy moved(std::move(mapped));  // the move keeps one owner of the mapping
    touch_all<float>(moved);
  });
  return 0;
}
