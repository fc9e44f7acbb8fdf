// k-means through FAISS's Clustering (see faiss_clustering.hpp).
#include "latent/index/faiss_clustering.hpp"

#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <string>

#include "faiss_detail.hpp"
#include "latent/core/errors.hpp"
#include "latent/embedding.hpp"
#include "latent/similarity/search.hpp"

namespace latent::index {

KMeansResult kmeans(const MatrixView<float>& x, std::int64_t k, const KMeansOptions& options) {
  constexpr std::string_view kFunction = "kmeans";
  require_non_empty(kFunction, "x", x);
  require_finite(kFunction, "x", x);
  require_k(kFunction, k, x.rows, "x");
  if (options.iterations < 1 || options.iterations > INT_MAX)
    raise<InvalidArgument>(kFunction, "iterations", "must be >= 1", std::to_string(options.iterations));
  if (options.restarts < 1 || options.restarts > INT_MAX)
    raise<InvalidArgument>(kFunction, "restarts", "must be >= 1", std::to_string(options.restarts));
  if (options.max_points_per_centroid < 0 || options.max_points_per_centroid > INT_MAX)
    raise<InvalidArgument>(kFunction, "max_points_per_centroid", "must be >= 0",
                           std::to_string(options.max_points_per_centroid));
  // Contiguous rows (normalised for spherical k-means), the layout FAISS reads.
  const RowMatrixf rows = options.spherical ? l2_normalize(x) : RowMatrixf(x.map());
  faiss::ClusteringParameters parameters;
  parameters.niter = static_cast<int>(options.iterations);
  parameters.nredo = static_cast<int>(options.restarts);
  parameters.spherical = options.spherical;
  parameters.seed = static_cast<int>(options.seed & 0x7fffffffU);
  parameters.min_points_per_centroid = 1;  // FAISS only warns on stderr below its minimum
  parameters.max_points_per_centroid =
      options.max_points_per_centroid == 0 ? INT_MAX : static_cast<int>(options.max_points_per_centroid);
  parameters.verbose = false;
  KMeansResult result;
  result.centroids.resize(k, x.cols);
  call_faiss(kFunction, [&] {
    const ThreadScope threads(options.parallel);
    faiss::Clustering clustering(static_cast<int>(x.cols), static_cast<int>(k), parameters);
    std::unique_ptr<faiss::IndexFlat> assigner;
    if (options.spherical)
      assigner = std::make_unique<faiss::IndexFlatIP>(x.cols);
    else
      assigner = std::make_unique<faiss::IndexFlatL2>(x.cols);
    clustering.train(static_cast<faiss::Index::idx_t>(x.rows), rows.data(), *assigner);
    std::copy(clustering.centroids.begin(), clustering.centroids.end(), result.centroids.data());
  });
  SearchOptions search;
  search.parallel = options.parallel;
  const KnnGraph nearest = knn(MatrixView<float>(rows), MatrixView<float>(result.centroids), 1,
                               options.spherical ? Metric::ip : Metric::sqeuclidean, search);
  result.assignment.resize(static_cast<std::size_t>(x.rows));
  for (std::int64_t i = 0; i < x.rows; ++i) {
    result.assignment[static_cast<std::size_t>(i)] = nearest.ids(i, 0);
    result.objective += static_cast<double>(nearest.scores(i, 0));
  }
  return result;
}

}  // namespace latent::index
