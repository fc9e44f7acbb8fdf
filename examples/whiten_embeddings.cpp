// Whitening: measure how anisotropic the bundled Fashion-MNIST sample is, fit
// PCA whitening to 64 dimensions on the first half of the images and apply the
// model to the other half, then compare isotropy and the leave-one-out 1-NN
// accuracy (cosine) of the held-out half before and after.
//
//   whiten_embeddings [IMAGES.npy LABELS.npy]     (default: the bundled sample)
//
// Exits 1 if the files cannot be read, the whitened fit rows do not have an
// identity covariance, or whitening did not make the space more isotropic.
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/similarity.hpp"
#include "latent/whitening.hpp"

namespace {

double one_nn_accuracy(const latent::RowMatrixf& x, const std::vector<std::int64_t>& labels) {
  const latent::KnnGraph graph = latent::knn_graph(x, 1, latent::Metric::cosine);
  std::int64_t correct = 0;
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    correct += labels[static_cast<std::size_t>(graph.ids(i, 0))] == labels[static_cast<std::size_t>(i)] ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(x.rows());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string data = LATENT_DATA_DIR;
  const std::string images_path = argc > 2 ? argv[1] : data + "/fashion-mnist/images.npy";
  const std::string labels_path = argc > 2 ? argv[2] : data + "/fashion-mnist/labels.npy";
  try {
    const latent::RowMatrixf x = latent::read_npy_matrix<float>(images_path);
    const std::vector<std::int64_t> labels = latent::read_npy_vector<std::int64_t>(labels_path);
    const Eigen::Index half = x.rows() / 2;
    const latent::RowMatrixf fit_rows = x.topRows(half), held_out = x.bottomRows(x.rows() - half);
    const std::vector<std::int64_t> held_labels(labels.begin() + half, labels.end());

    // Statistics in double; the eigenvalue floor keeps the near-empty pixel
    // directions (image borders) finite.
    latent::WhiteningOptions options;
    options.dim = 64;
    latent::Whitening<float> whitening(options);
    const latent::RowMatrixf white_fit = whitening.fit_transform(fit_rows);
    const latent::RowMatrixf white_held = whitening.transform(held_out);
    std::printf("fitted PCA whitening on %lld images: eigenvalues %.4g ... %.4g, %lld of %lld floored\n",
                static_cast<long long>(half), whitening.eigenvalues().front(), whitening.eigenvalues().back(),
                static_cast<long long>(whitening.n_floored()), static_cast<long long>(x.cols()));

    // The fitted rows come out with an identity covariance (float transform).
    const Eigen::MatrixXd y = white_fit.cast<double>();
    const Eigen::MatrixXd centred = y.rowwise() - y.colwise().mean();
    const Eigen::MatrixXd covariance = centred.transpose() * centred / static_cast<double>(y.rows());
    const double deviation = (covariance - Eigen::MatrixXd::Identity(64, 64)).cwiseAbs().maxCoeff();
    std::printf("covariance of the whitened fit rows: max |cov - I| = %.2g\n", deviation);

    const latent::IsotropyReport before = latent::isotropy(held_out);
    const latent::IsotropyReport after = latent::isotropy(white_held);
    std::printf("held-out images   average cosine %.3f -> %.3f, effective rank %.1f -> %.1f\n",
                before.average_cosine, after.average_cosine, before.effective_rank, after.effective_rank);
    std::printf("held-out 1-NN accuracy (cosine): raw %.3f, whitened %.3f\n", one_nn_accuracy(held_out, held_labels),
                one_nn_accuracy(white_held, held_labels));
    if (!(deviation < 1e-3) || !(std::fabs(after.average_cosine) < std::fabs(before.average_cosine))) {
      std::fprintf(stderr, "whiten_embeddings: whitening did not whiten (deviation %.3g, average cosine %.3f)\n",
                   deviation, after.average_cosine);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "whiten_embeddings: %s\n", e.what());
    return 1;
  }
}
