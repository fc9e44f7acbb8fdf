// Quantized embeddings: the bundled encoder latents (2000 Fashion-MNIST test
// images, 64-d float32) stored as int8 codes (4x smaller) and as sign bits
// (32x smaller), searched for their 10 nearest neighbours and compared with the
// exact float search. int8 is searched asymmetrically (float queries); the bits
// go through a Hamming top-200 and the candidates are re-scored exactly. Last,
// the float search itself computed in bf16 and in int8 (both sides converted
// once, on the CPU's bf16 / int8 dot-product instructions), int8 with 50
// candidates re-scored in float.
//
//   quantize_embeddings [LATENTS.npy]     (default: data/encoders/mlp_seed0.npy)
//
// Exits 1 unless int8 reaches recall@10 >= 0.95, re-scored bits >= 0.9, the bf16
// search >= 0.99 and the re-scored int8 search >= 0.999.
#include <cstdio>
#include <exception>
#include <string>

#include "latent/core/io.hpp"
#include "latent/embedding.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : std::string(LATENT_DATA_DIR) + "/encoders/mlp_seed0.npy";
  try {
    const latent::RowMatrixf x = latent::read_npy_matrix<float>(path);
    const latent::RowMatrixf base = x.topRows(x.rows() - 200), queries = x.bottomRows(200);
    const std::int64_t k = 10;
    const latent::KnnGraph exact = latent::knn(queries, base, k, latent::Metric::cosine);

    // int8: per-dimension ranges from a calibration set (here the base itself), saved with the model.
    latent::Quantizer int8(latent::QuantizerOptions{latent::QuantizationType::int8});
    int8.fit(base);
    const latent::QuantizedMatrix int8_codes = int8.encode(base);
    const latent::KnnGraph int8_hits = latent::quantized_knn(int8, int8_codes, queries, k, latent::Metric::cosine);

    // Binary: one bit per dimension (above the calibration mean), Hamming search, exact re-scoring of 20 k.
    latent::QuantizerOptions bits{latent::QuantizationType::binary};
    bits.binary_center = true;
    latent::Quantizer binary(bits);
    binary.fit(base);
    const latent::QuantizedMatrix bit_codes = binary.encode(base);
    const latent::KnnGraph bit_hits =
        latent::binary_search_rescored(binary, bit_codes, base, queries, k, 20, latent::Metric::cosine);

    // The float search computed in lower precision: bf16, and int8 with 50 candidates re-scored in float.
    latent::LowPrecisionOptions in_bf16;
    in_bf16.compute = latent::ComputePrecision::bf16;
    latent::LowPrecisionOptions in_int8;
    in_int8.compute = latent::ComputePrecision::int8;
    in_int8.rescore = 50;
    const latent::KnnGraph bf16_search = latent::low_precision_knn(queries, base, k, latent::Metric::cosine, in_bf16);
    const latent::KnnGraph int8_search = latent::low_precision_knn(queries, base, k, latent::Metric::cosine, in_int8);

    const double float_bytes = 4.0 * static_cast<double>(base.size());
    const double recall_int8 = latent::neighbor_recall(int8_hits.ids, exact.ids, k);
    const double recall_bits = latent::neighbor_recall(bit_hits.ids, exact.ids, k);
    std::printf("%lld base rows (%lld-d), %lld queries, cosine, k=%lld\n", static_cast<long long>(base.rows()),
                static_cast<long long>(base.cols()), static_cast<long long>(queries.rows()), static_cast<long long>(k));
    std::printf("%-36s %10s %12s\n", "", "recall@10", "memory");
    std::printf("%-36s %10.3f %11.0fx\n", "int8 codes", recall_int8,
                float_bytes / static_cast<double>(int8_codes.bytes()));
    std::printf("%-36s %10.3f %11.0fx\n", "binary codes + exact re-scoring", recall_bits,
                float_bytes / static_cast<double>(bit_codes.bytes()));
    const double recall_bf16_search = latent::neighbor_recall(bf16_search.ids, exact.ids, k);
    const double recall_int8_search = latent::neighbor_recall(int8_search.ids, exact.ids, k);
    std::printf("%-36s %10.3f\n", "search computed in bf16", recall_bf16_search);
    std::printf("%-36s %10.3f\n", "search in int8, 50 re-scored", recall_int8_search);
    if (!(recall_int8 >= 0.95 && recall_bits >= 0.9 && recall_bf16_search >= 0.99 && recall_int8_search >= 0.999)) {
      std::fprintf(stderr,
                   "quantize_embeddings: recall below the expected 0.95 (int8) / 0.9 (binary) / 0.99 (bf16 "
                   "search) / 0.999 (int8 search re-scored)\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quantize_embeddings: %s\n", e.what());
    return 1;
  }
}
