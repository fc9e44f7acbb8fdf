// Matryoshka funnel retrieval: the bundled Fashion-MNIST sample (1,000 images,
// 784 pixels) rotated onto its principal components (a PCA projection, so the
// leading dimensions carry the most variance, as a Matryoshka-trained model's
// do), 900 images indexed and 100 searched for their 10 nearest by l2. The funnel
// shortlists 50 candidates in the first m dimensions and re-ranks them in all 784:
// the recall / time curve over m, exact at m = 784. Last, the 2D ladder: the sweep
// harness measures the leave-one-out 10-NN accuracy of every (representation,
// dim) cell, the PCA rows standing for an early layer and the encoder latents of
// the same images for the last one.
//
//   matryoshka_funnel
//
// Exits 1 unless the funnel is exact at m = 784, its recall rises with m, and the
// sweep measured every cell.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/embedding.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"
#include "latent/whitening.hpp"

int main() {
  const std::string data = LATENT_DATA_DIR;
  try {
    const latent::RowMatrixf images = latent::read_npy_matrix<float>(data + "/fashion-mnist/images.npy");
    const std::vector<std::int64_t> labels = latent::read_npy_vector<std::int64_t>(data + "/fashion-mnist/labels.npy");
    latent::WhiteningOptions pca;
    pca.method = latent::WhiteningMethod::projection;
    latent::Whitening<float> projection(pca);
    const latent::RowMatrixf rotated = projection.fit_transform(images);
    const latent::RowMatrixf base = rotated.topRows(900), queries = rotated.bottomRows(100);

    const std::vector<latent::FunnelPoint> curve =
        latent::funnel_curve(base, queries, {8, 16, 32, 64, 784}, 10, 50, latent::Metric::l2);
    std::printf("funnel: 100 queries x 900 images (784-d, principal components), top 10 by l2, shortlist 50\n");
    std::printf("%8s %10s %12s\n", "m", "recall@10", "seconds");
    for (const latent::FunnelPoint& p : curve)
      std::printf("%8lld %10.3f %12.5f\n", static_cast<long long>(p.dim), p.recall, p.seconds);

    // The 2D ladder: leave-one-out 10-NN accuracy of each (representation, dim) cell.
    const latent::RowMatrixf latents =
        latent::read_npy_matrix<float>(data + "/encoders/mlp_seed0.npy").topRows(images.rows());
    const latent::RowMatrixf early = rotated.leftCols(64);
    const std::vector<latent::MatrixView<float>> layers = {early, latents};
    const std::vector<latent::SweepCell> cells =
        latent::sweep_ladder(layers, latent::ladder({0, 1}, {8, 16, 64}), [&](const latent::MatrixView<float>& x) {
          return latent::loo_knn_accuracy(latent::knn_graph(x, 10, latent::Metric::cosine).ids, labels);
        });
    std::printf("sweep: leave-one-out 10-NN accuracy (0: pixel components, 1: encoder latents)\n");
    for (const latent::SweepCell& c : cells)
      std::printf("  layer %lld, dim %3lld: %.3f\n", static_cast<long long>(c.layer), static_cast<long long>(c.dim),
                  c.value);
    const bool exact_at_full = curve.back().recall == 1.0;
    const bool rising = curve.front().recall < curve.back().recall;
    if (!(exact_at_full && rising && cells.size() == 6)) {
      std::fprintf(stderr, "matryoshka_funnel: funnel not exact at full dimension or recall not rising\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "matryoshka_funnel: %s\n", e.what());
    return 1;
  }
}
