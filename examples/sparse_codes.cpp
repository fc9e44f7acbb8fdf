// Sparse codes: the bundled TopK sparse autoencoder (data/sae: 256 features over
// the 64-d encoder latents of 2,000 Fashion-MNIST test images, k = 8) encodes the
// latents into sparse codes, reports how well it reconstructs them, searches the
// codes with an inverted index (against the dense search of the same codes), and
// steers a search: the feature most active on sneakers is added to sandal
// queries, and their nearest images turn into sneakers.
//
//   sparse_codes
//
// Exits 1 unless the explained variance is at least 0.6, the inverted index finds
// the dense search's neighbours (recall@10 >= 0.99), and steering raises the share
// of sneakers among the sandals' neighbours.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/embedding.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"

namespace {

constexpr std::int64_t kSandal = 5, kSneaker = 7;

double share_of_class(const latent::IdMatrix& ids, const std::vector<std::int64_t>& labels, std::int64_t label) {
  double hits = 0;
  for (Eigen::Index i = 0; i < ids.size(); ++i) hits += labels[static_cast<std::size_t>(ids.data()[i])] == label;
  return hits / static_cast<double>(ids.size());
}

}  // namespace

int main() {
  const std::string data = LATENT_DATA_DIR;
  try {
    const latent::RowMatrixf x = latent::read_npy_matrix<float>(data + "/encoders/mlp_seed0.npy");
    const std::vector<std::int64_t> labels = latent::read_npy_vector<std::int64_t>(data + "/encoders/labels.npy");
    const latent::SparseAutoencoder sae = latent::SparseAutoencoder::load(data + "/sae");
    latent::SaeEncodeOptions topk;
    topk.k = 8;
    const latent::SaeStats stats = latent::sae_stats(sae, x, topk);
    std::printf("%lld latents (%lld-d) -> %lld features, topk k = 8\n", static_cast<long long>(stats.rows),
                static_cast<long long>(sae.dim()), static_cast<long long>(stats.features));
    std::printf("  explained variance %.3f, mse %.4f, %.2f active per row, %.1f%% dead features\n",
                stats.explained_variance, stats.mse, stats.mean_active, 100.0 * stats.dead_fraction);

    // Search the codes: the inverted index against the dense search of the same codes.
    const latent::RowMatrixf base_rows = x.topRows(1800), query_rows = x.bottomRows(200);
    const latent::SparseMatrix base = sae.encode(base_rows, topk), queries = sae.encode(query_rows, topk);
    const latent::KnnGraph sparse = latent::SparseIndex(base).search(queries, 10);
    const latent::KnnGraph dense = latent::knn(queries.to_dense(), base.to_dense(), 10, latent::Metric::ip);
    const double recall = latent::neighbor_recall(sparse.ids, dense.ids, 10);
    std::printf("  inverted index over %lld codes (%lld non-zeros): recall@10 %.4f against the dense search\n",
                static_cast<long long>(base.rows()), static_cast<long long>(base.nnz()), recall);

    // Steering: the feature with the largest mean activation on sneakers, added to sandals.
    const latent::SparseMatrix codes = sae.encode(x, topk);
    std::vector<double> sneaker(static_cast<std::size_t>(sae.features()), 0.0);
    for (std::int64_t i = 0; i < codes.rows(); ++i) {
      if (labels[static_cast<std::size_t>(i)] != kSneaker) continue;
      for (std::int64_t e = codes.offsets()[i]; e < codes.offsets()[i + 1]; ++e)
        sneaker[static_cast<std::size_t>(codes.indices()[e])] += codes.values()[e];
    }
    const auto feature = static_cast<std::int64_t>(std::max_element(sneaker.begin(), sneaker.end()) - sneaker.begin());
    std::vector<std::int64_t> sandal_rows;
    for (std::int64_t i = 1800; i < x.rows(); ++i)
      if (labels[static_cast<std::size_t>(i)] == kSandal) sandal_rows.push_back(i);
    latent::RowMatrixf sandals(static_cast<Eigen::Index>(sandal_rows.size()), x.cols());
    for (std::size_t r = 0; r < sandal_rows.size(); ++r)
      sandals.row(static_cast<Eigen::Index>(r)) = x.row(sandal_rows[r]);
    const std::vector<std::int64_t> base_labels(labels.begin(), labels.begin() + 1800);
    const latent::KnnGraph plain = latent::knn(sandals, base_rows, 10, latent::Metric::cosine);
    // Add three times the feature's mean activation over the sneakers.
    const auto sneakers = static_cast<double>(std::count(labels.begin(), labels.end(), kSneaker));
    const auto strength = static_cast<float>(3.0 * sneaker[static_cast<std::size_t>(feature)] / sneakers);
    const latent::KnnGraph steered = latent::steered_knn(sae, sandals, base_rows, 10, latent::Metric::cosine,
                                                         {{feature, latent::FeatureEdit::Kind::add, strength}}, topk);
    const double before = share_of_class(plain.ids, base_labels, kSneaker);
    const double after = share_of_class(steered.ids, base_labels, kSneaker);
    std::printf(
        "  steering %zu sandal queries with feature %lld (sneakers' strongest): sneakers among their 10 "
        "neighbours %.1f%% -> %.1f%%\n",
        sandal_rows.size(), static_cast<long long>(feature), 100.0 * before, 100.0 * after);
    if (!(stats.explained_variance >= 0.6 && recall >= 0.99 && after > before)) {
      std::fprintf(stderr, "sparse_codes: reconstruction, index recall or steering below expectations\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sparse_codes: %s\n", e.what());
    return 1;
  }
}
