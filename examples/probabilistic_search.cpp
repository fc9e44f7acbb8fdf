// Probabilistic embeddings: each of the 2,000 bundled Fashion-MNIST test images
// becomes a diagonal Gaussian whose mean is the average of two encoders' latents
// (64-d, trained with different seeds) and whose variance is their squared
// disagreement (plus a floor): dimensions where the encoders disagree are
// uncertain. latent::kl_knn finds each image's 10 nearest Gaussians by KL through
// the KL -> MIPS reduction; the same lists come from the full divergence matrix.
// The neighbours' labels classify the images, beside the plain Euclidean
// neighbours of the means; the 2-Wasserstein and Bhattacharyya distances of a few
// pairs are printed.
//
//   probabilistic_search
//
// Exits 1 unless the reduced search equals the divergence matrix's lists and the
// leave-one-out 10-NN accuracy under KL is at least 0.7.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"

int main() {
  const std::string data = std::string(LATENT_DATA_DIR) + "/encoders/";
  try {
    const latent::RowMatrixf a = latent::read_npy_matrix<float>(data + "mlp_seed0.npy");
    const latent::RowMatrixf b = latent::read_npy_matrix<float>(data + "mlp_seed1.npy");
    const std::vector<std::int64_t> labels = latent::read_npy_vector<std::int64_t>(data + "labels.npy");
    const float scale = 1.0f / a.rowwise().norm().mean();
    const latent::RowMatrixf mean = 0.5f * scale * (a + b);
    const latent::RowMatrixf variance = (0.5f * scale * (a - b)).cwiseAbs2().array() + 0.01f;
    const latent::GaussianEmbedding<float> images(mean, variance);
    const std::int64_t k = 10;

    const latent::KnnGraph by_kl = latent::kl_knn_graph(images, k);
    // The direct way: every divergence, each row's k smallest (itself left out).
    const latent::RowMatrixd kl = latent::kl_divergence(images, images);
    latent::IdMatrix direct(kl.rows(), k);
    for (std::int64_t i = 0; i < kl.rows(); ++i) {
      std::vector<std::int64_t> order;
      for (std::int64_t j = 0; j < kl.cols(); ++j)
        if (j != i) order.push_back(j);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](std::int64_t x, std::int64_t y) {
        return kl(i, x) < kl(i, y) || (kl(i, x) == kl(i, y) && x < y);
      });
      for (std::int64_t e = 0; e < k; ++e) direct(i, e) = order[static_cast<std::size_t>(e)];
    }
    const latent::KnnGraph by_mean = latent::knn_graph(mean, k, latent::Metric::l2);

    const double agreement = latent::neighbor_recall(by_kl.ids, direct, k);
    const double accuracy_kl = latent::loo_knn_accuracy(by_kl.ids, labels, k);
    const double accuracy_mean = latent::loo_knn_accuracy(by_mean.ids, labels, k);
    std::printf("%lld diagonal Gaussians (%lld-d): 10 nearest by forward KL\n", static_cast<long long>(images.rows()),
                static_cast<long long>(images.dim()));
    std::printf("  lists equal to the divergence matrix's: %.4f\n", agreement);
    std::printf("  leave-one-out 10-NN accuracy: KL %.3f, l2 of the means %.3f\n", accuracy_kl, accuracy_mean);
    const latent::GaussianEmbedding<float> first(mean.topRows(3), variance.topRows(3));
    const latent::RowMatrixd w2 = latent::wasserstein2_distance(first, first);
    const latent::RowMatrixd bhattacharyya = latent::bhattacharyya_distance(first, first);
    std::printf("  images 0-1, 0-2: W2 %.3f %.3f, Bhattacharyya %.3f %.3f, KL %.3f %.3f\n", w2(0, 1), w2(0, 2),
                bhattacharyya(0, 1), bhattacharyya(0, 2), kl(0, 1), kl(0, 2));
    if (!(agreement == 1.0 && accuracy_kl >= 0.7)) {
      std::fprintf(stderr, "probabilistic_search: lists differ from the divergence matrix or accuracy below 0.7\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "probabilistic_search: %s\n", e.what());
    return 1;
  }
}
