// Fuzz target: sparse autoencoder weights (SparseAutoencoder::load). The input is
// cut into the four files of a weights folder: three little-endian uint16 lengths,
// then W_enc.npy, b_enc.npy and W_dec.npy of those lengths, and b_dec.npy with the
// rest. Weights that load are used: a few rows are encoded (topk and relu) and
// decoded when the shapes are small.
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_support.hpp"
#include "latent/embedding/sparse_autoencoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = latent::fuzz::scratch_path(".sae");
  std::filesystem::create_directories(dir);
  if (size < 6) return 0;
  std::size_t lengths[3];
  for (int i = 0; i < 3; ++i)
    lengths[i] = static_cast<std::size_t>(data[2 * i]) | (static_cast<std::size_t>(data[2 * i + 1]) << 8);
  std::size_t at = 6;
  const char* names[4] = {"/W_enc.npy", "/b_enc.npy", "/W_dec.npy", "/b_dec.npy"};
  for (int i = 0; i < 4; ++i) {
    const std::size_t length = i < 3 ? std::min(lengths[i], size - at) : size - at;
    latent::fuzz::write_file(dir + names[i], data + at, length);
    at += length;
  }
  latent::fuzz::expect_only_latent_errors([&] {
    const latent::SparseAutoencoder sae = latent::SparseAutoencoder::load(dir);
    if (sae.dim() > 64 || sae.features() > 1024) return;
    latent::RowMatrixf x(3, sae.dim());
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 7) - 3.0f;
    latent::SaeEncodeOptions options;
    options.k = std::min<std::int64_t>(4, sae.features());
    const latent::RowMatrixf back = sae.decode(sae.encode(x, options));
    options.activation = latent::SaeActivation::relu;
    (void)sae.encode(x, options);
    (void)back;
  });
  return 0;
}
