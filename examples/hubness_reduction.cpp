// Hubness reduction: in the bundled Fashion-MNIST sample a few images appear in
// very many cosine neighbour lists (hubs) while others appear in none. Mutual
// proximity re-ranks the 50 nearest candidates of every image; the lists become
// balanced (k-skewness drops) and the neighbours stay as useful (leave-one-out
// kNN accuracy does not drop).
//
//   hubness_reduction [IMAGES.npy LABELS.npy]     (default: the bundled sample)
//
// Exits 1 if the skewness does not drop or the accuracy drops by more than 0.01.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/hubness.hpp"
#include "latent/metrics.hpp"

int main(int argc, char** argv) {
  const std::string data = LATENT_DATA_DIR;
  const std::string images_path = argc > 2 ? argv[1] : data + "/fashion-mnist/images.npy";
  const std::string labels_path = argc > 2 ? argv[2] : data + "/fashion-mnist/labels.npy";
  try {
    const latent::RowMatrixf x = latent::read_npy_matrix<float>(images_path);
    const std::vector<std::int64_t> labels = latent::read_npy_vector<std::int64_t>(labels_path);
    const std::int64_t k = 10;

    // The 50 nearest other images of every image (exact, self excluded).
    const latent::DistanceGraph candidates =
        latent::exact_candidate_graph(x, 50, latent::Metric::cosine);
    const latent::DistanceGraph before = latent::keep_top(candidates, k);

    // Mutual proximity: y is near x when x is also near y, relative to everyone else.
    latent::ReductionOptions options;
    options.method = latent::Reduction::mutual_proximity;
    const latent::DistanceGraph after = latent::HubnessReducer(options).fit_transform(candidates, k);

    const latent::HubnessMeasures m0 = latent::hubness_measures(before.ids, x.rows());
    const latent::HubnessMeasures m1 = latent::hubness_measures(after.ids, x.rows());
    const double acc0 = latent::loo_knn_accuracy(before.ids, labels);
    const double acc1 = latent::loo_knn_accuracy(after.ids, labels);
    std::printf("%lld images, k=%lld, cosine, 50 candidates\n", static_cast<long long>(x.rows()),
                static_cast<long long>(k));
    std::printf("%-24s %10s %10s %9s %12s\n", "", "k-skewness", "robinhood", "antihubs", "kNN accuracy");
    std::printf("%-24s %10.3f %10.4f %8.1f%% %12.4f\n", "as given", m0.k_skewness, m0.robinhood,
                100 * m0.antihub_occurrence, acc0);
    std::printf("%-24s %10.3f %10.4f %8.1f%% %12.4f\n", "mutual proximity", m1.k_skewness, m1.robinhood,
                100 * m1.antihub_occurrence, acc1);

    if (!(m1.k_skewness < m0.k_skewness) || acc1 < acc0 - 0.01) {
      std::fprintf(stderr, "hubness_reduction: expected lower skewness at equal accuracy\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hubness_reduction: %s\n", e.what());
    return 1;
  }
}
