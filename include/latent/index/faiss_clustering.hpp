// latent/index/faiss_clustering.hpp - k-means and spherical k-means through
// FAISS's Clustering (part of `latent::faiss`; no FAISS header here).
//
// FAISS's Lloyd iterations with its seeded initialisation (k distinct rows
// drawn with the seed) and its handling of empty clusters (split a large one),
// and latent's conventions around them: typed errors, threads per call, and a
// final assignment by latent's exact search (nearest centroid, ties to the
// smaller centroid id), so the result is the same for any thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent::index {

struct KMeansOptions {
  std::int64_t iterations = 25;  ///< Lloyd iterations (>= 1)
  /// Spherical k-means: the rows are L2-normalised (a zero row raises
  /// NumericalError), assignment is by inner product and the centroids are
  /// normalised after every update, so clusters are judged by cosine.
  bool spherical = false;
  std::uint64_t seed = 1234;  ///< the initial centroids' draw (and subsampling)
  std::int64_t restarts = 1;  ///< runs from different seeds; the best objective is kept (>= 1)
  /// FAISS trains on a seeded sample of k * this many rows when there are more
  /// (0: always on all rows).
  std::int64_t max_points_per_centroid = 256;
  Parallel parallel;
};

struct KMeansResult {
  RowMatrixf centroids;                  ///< [k x d]
  std::vector<std::int64_t> assignment;  ///< per row, its nearest centroid
  /// Sum over rows of the squared Euclidean distance to their centroid, or with
  /// `spherical` of the cosine to it (computed in double).
  double objective = 0;
};

/// Clusters the rows of x ([n x d], float) into k clusters. Throws EmptyInput,
/// NonFiniteValue, InvalidK (k < 1 or k > n), InvalidArgument (iterations,
/// restarts or max_points_per_centroid out of range), NumericalError (a zero
/// row under `spherical`), BackendError (FAISS). Cost: iterations x restarts x
/// n k d.
KMeansResult kmeans(const MatrixView<float>& x, std::int64_t k, const KMeansOptions& options = {});

}  // namespace latent::index
