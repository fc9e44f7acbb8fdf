// How alike are two encoders, and how good is one? The bundled latents of the
// same 2000 Fashion-MNIST test images under two MLPs (different seeds) and a
// CNN, measured the way representation-similarity and self-supervised-learning
// papers measure them: CKA and SVCCA between spaces, zero-shot stitching of a
// classifier head across them, and within one space its collapse diagnostics,
// LiDAR, and how well a spherical k-means recovers the ten classes.
//
//   analyze_encoders
//
// Exits 1 unless the two MLPs are more alike (SVCCA) than an MLP and the CNN,
// and the stitched head labels well above chance.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/index/faiss_clustering.hpp"
#include "latent/metrics.hpp"
#include "latent/relative.hpp"

int main() {
  const std::string data = std::string(LATENT_DATA_DIR) + "/encoders/";
  try {
    const latent::RowMatrixf a = latent::read_npy_matrix<float>(data + "mlp_seed0.npy");
    const latent::RowMatrixf b = latent::read_npy_matrix<float>(data + "mlp_seed1.npy");
    const latent::RowMatrixf cnn = latent::read_npy_matrix<float>(data + "cnn_seed0.npy");
    const std::vector<std::int64_t> labels = latent::read_npy_vector<std::int64_t>(data + "labels.npy");

    // Between spaces: the same images are rows i of each.
    const double shared = latent::svcca(a, b);  // 99% of each space's variance
    const double shared_cnn = latent::svcca(a, cnn);
    std::printf("%-28s %8s %8s %8s\n", "pair", "CKA", "SVCCA", "PWCCA");
    std::printf("%-28s %8.4f %8.4f %8.4f\n", "mlp_seed0 vs mlp_seed1", latent::linear_cka(a, b), shared,
                latent::pwcca(a, b));
    std::printf("%-28s %8.4f %8.4f %8.4f\n", "mlp_seed0 vs cnn_seed0", latent::linear_cka(a, cnn), shared_cnn,
                latent::pwcca(a, cnn));

    // Zero-shot stitching: a class-mean head fitted on the CNN's even rows reads
    // the MLP's odd rows, mapped by Procrustes fitted on 300 anchor pairs.
    latent::AnchorOptions sample;
    const std::vector<std::int64_t> anchors = latent::select_anchors(a, 300, sample);
    std::vector<std::int64_t> train, test;
    for (std::int64_t i = 0; i < a.rows(); ++i) (i % 2 == 0 ? train : test).push_back(i);
    const latent::StitchingResult stitched = latent::stitching_accuracy(a, cnn, labels, anchors, train, test);
    std::printf("stitching mlp -> cnn head: accuracy %.4f (the head on the CNN's own rows: %.4f)\n",
                stitched.accuracy, stitched.target_accuracy);

    // Within one space.
    const latent::CollapseDiagnostics collapse = latent::collapse_diagnostics(a);
    latent::index::KMeansOptions clustering;
    clustering.spherical = true;
    const auto clusters = latent::index::kmeans(a, 10, clustering);
    const double nmi = latent::normalized_mutual_info(labels, clusters.assignment);
    std::printf("mlp_seed0: RankMe %.1f of %lld, %lld active units, LiDAR %.2f, k-means NMI %.4f, ARI %.4f\n",
                collapse.rankme, static_cast<long long>(a.cols()), static_cast<long long>(collapse.active_units),
                latent::lidar(a, labels), nmi, latent::adjusted_rand_index(labels, clusters.assignment));
    if (!(shared > shared_cnn) || !(stitched.accuracy > 0.5)) {
      std::fprintf(stderr, "analyze_encoders: SVCCA %.4f vs %.4f, stitching %.4f\n", shared, shared_cnn,
                   stitched.accuracy);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "analyze_encoders: %s\n", e.what());
    return 1;
  }
}
