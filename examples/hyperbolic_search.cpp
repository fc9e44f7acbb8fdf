// Hyperbolic search: the bundled encoder latents (2,000 Fashion-MNIST test images,
// 64-d) centred, scaled to mean norm 1 and mapped into the Poincaré ball of
// curvature -1 by the exponential map at the origin. latent::hyperbolic_knn finds
// each row's 10 nearest rows through the Lorentz -> MIPS reduction (one inner-product
// search on the GEMM path, re-scored exactly); the same lists come from every
// distance of the pair loop, and from the Lorentz images of the rows. The
// hyperbolic norm (distance from the origin) ranks the rows from general to
// specific, and the neighbours' labels classify the images.
//
//   hyperbolic_search [LATENTS.npy LABELS.npy]  (default: data/encoders/mlp_seed0.npy, labels.npy)
//
// Exits 1 unless the reduced search equals the pair loop (and the Lorentz search
// to 0.999), and the leave-one-out 10-NN accuracy is at least 0.7.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <numeric>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string data = std::string(LATENT_DATA_DIR) + "/encoders/";
  const std::string latents_path = argc > 2 ? argv[1] : data + "mlp_seed0.npy";
  const std::string labels_path = argc > 2 ? argv[2] : data + "labels.npy";
  try {
    const latent::RowMatrixf latents = latent::read_npy_matrix<float>(latents_path);
    const std::vector<std::int64_t> labels = latent::read_npy_vector<std::int64_t>(labels_path);
    latent::RowMatrixf tangent = latents.rowwise() - latents.colwise().mean();
    tangent /= tangent.rowwise().norm().mean();
    const latent::HyperbolicEmbedding ball{latent::HyperbolicModel::poincare, 1.0};
    const latent::RowMatrixf points = latent::poincare_expmap0(tangent, ball.curvature);
    const std::int64_t k = 10;

    auto start = std::chrono::steady_clock::now();
    const latent::KnnGraph graph = latent::hyperbolic_knn_graph(points, k, ball);
    const double reduced_seconds = seconds_since(start);

    // The pair loop: every distance (in double, as the search ranks them), then the k
    // smallest of each row (itself left out).
    start = std::chrono::steady_clock::now();
    const latent::RowMatrixd as_double = points.cast<double>();
    const latent::RowMatrixd distances = latent::hyperbolic_distances(as_double, as_double, ball);
    latent::IdMatrix loop_ids(points.rows(), k);
    std::vector<std::int64_t> order;
    for (std::int64_t i = 0; i < points.rows(); ++i) {
      order.clear();
      for (std::int64_t j = 0; j < points.rows(); ++j)
        if (j != i) order.push_back(j);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](std::int64_t a, std::int64_t b) {
        return distances(i, a) < distances(i, b) || (distances(i, a) == distances(i, b) && a < b);
      });
      for (std::int64_t e = 0; e < k; ++e) loop_ids(i, e) = order[static_cast<std::size_t>(e)];
    }
    const double loop_seconds = seconds_since(start);

    // The same points on the hyperboloid (an isometry): the same neighbours, up to
    // near-ties moved by rounding the images to float.
    const latent::RowMatrixf images = latent::poincare_to_lorentz(points, ball.curvature);
    const latent::KnnGraph lorentz =
        latent::hyperbolic_knn_graph(images, k, {latent::HyperbolicModel::lorentz, ball.curvature});

    const double recall_loop = latent::neighbor_recall(graph.ids, loop_ids, k);
    const double recall_lorentz = latent::neighbor_recall(lorentz.ids, graph.ids, k);
    const double accuracy = latent::loo_knn_accuracy(graph.ids, labels, k);
    std::printf("%lld rows (%lld-d) in the Poincare ball, c = 1: 10 nearest of each row\n",
                static_cast<long long>(points.rows()), static_cast<long long>(points.cols()));
    std::printf(
        "  reduced search %.3f s, pair loop %.3f s; lists equal to the loop's: %.4f, to the Lorentz "
        "images': %.4f\n",
        reduced_seconds, loop_seconds, recall_loop, recall_lorentz);
    std::printf("  leave-one-out 10-NN accuracy: %.3f\n", accuracy);

    const std::vector<float> depth = latent::hyperbolic_norms(points, ball);
    std::vector<std::int64_t> by_depth(depth.size());
    std::iota(by_depth.begin(), by_depth.end(), std::int64_t{0});
    std::sort(by_depth.begin(), by_depth.end(), [&](std::int64_t a, std::int64_t b) {
      return depth[static_cast<std::size_t>(a)] < depth[static_cast<std::size_t>(b)];
    });
    std::printf("  most general rows (nearest the origin):");
    for (std::size_t r = 0; r < 5; ++r)
      std::printf(" %lld (class %lld, %.2f)", static_cast<long long>(by_depth[r]),
                  static_cast<long long>(labels[static_cast<std::size_t>(by_depth[r])]),
                  depth[static_cast<std::size_t>(by_depth[r])]);
    std::printf("\n  most specific rows:");
    for (std::size_t r = by_depth.size() - 5; r < by_depth.size(); ++r)
      std::printf(" %lld (class %lld, %.2f)", static_cast<long long>(by_depth[r]),
                  static_cast<long long>(labels[static_cast<std::size_t>(by_depth[r])]),
                  depth[static_cast<std::size_t>(by_depth[r])]);
    std::printf("\n");
    if (!(recall_loop == 1.0 && recall_lorentz >= 0.999 && accuracy >= 0.7)) {
      std::fprintf(stderr,
                   "hyperbolic_search: lists differ from the pair loop or the Lorentz search, or accuracy "
                   "below 0.7\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hyperbolic_search: %s\n", e.what());
    return 1;
  }
}
