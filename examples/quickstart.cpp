// Quickstart: load the bundled Fashion-MNIST sample, build its exact cosine kNN
// graph (each image's nearest other images) and check that neighbours usually
// share the label (a leave-one-out 1-NN classifier).
//
//   quickstart [IMAGES.npy LABELS.npy]     (default: the bundled sample)
//
// Exits 1 if the files cannot be read or the accuracy is implausibly low.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/core/types.hpp"
#include "latent/kernels/isa.hpp"
#include "latent/similarity.hpp"

int main(int argc, char** argv) {
  const std::string data = LATENT_DATA_DIR;
  const std::string images_path = argc > 2 ? argv[1] : data + "/fashion-mnist/images.npy";
  const std::string labels_path = argc > 2 ? argv[2] : data + "/fashion-mnist/labels.npy";
  try {
    const latent::RowMatrixf x = latent::read_npy_matrix<float>(images_path);
    const std::vector<std::int64_t> labels = latent::read_npy_vector<std::int64_t>(labels_path);
    latent::require_same_dim("quickstart", "rows of " + images_path, x.rows(), "labels", static_cast<std::int64_t>(labels.size()));
    std::printf("read %s: %lld x %lld float32\n", images_path.c_str(), static_cast<long long>(x.rows()),
                static_cast<long long>(x.cols()));

    // Exact neighbours, self excluded, nearest first (ties to the smaller id).
    const latent::KnnGraph graph = latent::knn_graph(x, 5, latent::Metric::cosine);
    std::printf("kNN graph: k=%lld, cosine, kernels %s\n", static_cast<long long>(graph.k()),
                std::string(latent::kernels::to_string(latent::kernels::active_isa())).c_str());
    std::printf("image 0 (class %lld): nearest images %lld %lld %lld (cosine %.3f %.3f %.3f)\n",
                static_cast<long long>(labels[0]), static_cast<long long>(graph.ids(0, 0)),
                static_cast<long long>(graph.ids(0, 1)), static_cast<long long>(graph.ids(0, 2)), graph.scores(0, 0),
                graph.scores(0, 1), graph.scores(0, 2));

    std::int64_t correct = 0;
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      const auto nearest = static_cast<std::size_t>(graph.ids(i, 0));
      correct += labels[nearest] == labels[static_cast<std::size_t>(i)] ? 1 : 0;
    }
    const double accuracy = static_cast<double>(correct) / static_cast<double>(x.rows());
    std::printf("leave-one-out 1-NN accuracy (cosine): %.3f\n", accuracy);
    // 10 balanced classes: chance is 0.1; raw pixels with cosine reach about 0.8.
    if (accuracy < 0.5) {
      std::fprintf(stderr, "quickstart: accuracy %.3f is implausibly low\n", accuracy);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quickstart: %s\n", e.what());
    return 1;
  }
}
