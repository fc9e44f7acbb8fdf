// FAISS search with re-ranking, through latent's adapter (link latent::faiss).
// The bundled latents of 1900 Fashion-MNIST test images go into an IVF index
// with product-quantised codes (32 x 4-bit codes: 16 bytes per image instead of 256); the other 100
// images are the queries. Compressed codes lose recall; re-scoring the top 100
// candidates exactly from the kept float rows restores it; CSLS re-ranking
// (statistics computed once at build time) balances who gets retrieved. A binary
// HNSW over 1-bit codes (8 bytes per image) needs more candidates (200) for the
// exact re-scoring to reach recall 0.9: 64 bits say less than 32 PQ codes.
//
//   faiss_search [LATENTS.npy]     (default: data/encoders/mlp_seed0.npy)
//
// Exits 1 unless exact re-scoring reaches recall@10 >= 0.9 (PQ and binary) and beats the codes.
#include <cstdio>
#include <exception>
#include <string>

#include "latent/core/io.hpp"
#include "latent/embedding/quantization.hpp"
#include "latent/hubness.hpp"
#include "latent/index/faiss_binary_index.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : std::string(LATENT_DATA_DIR) + "/encoders/mlp_seed0.npy";
  try {
    const latent::RowMatrixf x = latent::read_npy_matrix<float>(path);
    const latent::RowMatrixf base = x.topRows(x.rows() - 100), queries = x.bottomRows(100);
    const std::int64_t k = 10;

    // Cosine done right: the adapter normalises on add and on search; scores are cosines.
    latent::index::IndexOptions options;
    options.keep_vectors = true;  // float rows kept for exact re-scoring
    latent::index::FaissIndex index(base.cols(), "IVF16,PQ32x4", latent::Metric::cosine, options);
    index.train(base);
    index.add(base);

    latent::index::IndexSearchOptions search;
    search.nprobe = 8;  // per call; the index's own setting is untouched
    const latent::KnnGraph coded = index.search(queries, k, search);
    search.rerank = latent::index::Rerank::exact;
    search.candidates = 100;
    const latent::KnnGraph rescored = index.search(queries, k, search);

    latent::ReductionOptions csls;
    csls.method = latent::Reduction::csls;
    index.fit_hubness(csls, 20, search);
    search.rerank = latent::index::Rerank::hubness;
    const latent::KnnGraph balanced = index.search(queries, k, search);

    // Binary codes (one bit a dimension) in a FAISS binary HNSW: l1 on bits is the
    // Hamming distance. The Hamming candidates are re-scored from the float rows.
    latent::QuantizerOptions bits{latent::QuantizationType::binary};
    bits.binary_center = true;
    latent::Quantizer binary(bits);
    binary.fit(base);
    latent::index::FaissBinaryIndex hamming(base.cols(), "BHNSW32");
    hamming.add(binary.encode(base).view());
    hamming.attach_vectors(base);  // lent (could be memory-mapped), not copied
    latent::index::IndexSearchOptions beam;
    beam.ef_search = 200;
    beam.candidates = 200;
    const latent::KnnGraph bit_hits =
        hamming.search_rescored(binary.encode(queries).view(), queries, k, latent::Metric::cosine, beam);

    const latent::KnnGraph exact = latent::knn(queries, base, k, latent::Metric::cosine);
    const double recall_coded = latent::neighbor_recall(coded.ids, exact.ids, k);
    const double recall_rescored = latent::neighbor_recall(rescored.ids, exact.ids, k);
    const auto skew = [&](const latent::KnnGraph& g) { return latent::hubness_measures(g.ids, base.rows()).k_skewness; };
    std::printf("IVF16,PQ32x4 over %lld rows (%lld-d), 100 queries, k=%lld, nprobe 8 (FAISS %s)\n",
                static_cast<long long>(base.rows()), static_cast<long long>(base.cols()), static_cast<long long>(k),
                latent::index::faiss_version().c_str());
    std::printf("%-34s %10s %16s\n", "", "recall@10", "k-skewness (base)");
    std::printf("%-34s %10.3f %16.3f\n", "exact search", 1.0, skew(exact));
    std::printf("%-34s %10.3f %16.3f\n", "compressed codes", recall_coded, skew(coded));
    std::printf("%-34s %10.3f %16.3f\n", "+ exact re-scoring of 100", recall_rescored, skew(rescored));
    std::printf("%-34s %10.3f %16.3f\n", "+ CSLS re-ranking", latent::neighbor_recall(balanced.ids, exact.ids, k),
                skew(balanced));
    const double recall_bits = latent::neighbor_recall(bit_hits.ids, exact.ids, k);
    std::printf("%-34s %10.3f %16.3f\n", "BHNSW32 1-bit codes, 200 re-scored", recall_bits, skew(bit_hits));
    if (!(recall_rescored >= 0.9 && recall_rescored > recall_coded && recall_bits >= 0.9)) {
      std::fprintf(stderr, "faiss_search: exact re-scoring should reach recall 0.9 and beat the codes\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "faiss_search: %s\n", e.what());
    return 1;
  }
}
