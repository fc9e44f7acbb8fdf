// latent/similarity/scores.hpp - scores beyond the fixed metrics: bilinear and
// Mahalanobis scores with a given matrix, the temperature softmax over
// similarities and the InfoNCE loss of paired rows, and the mining of hard
// negatives for contrastive training. Included by latent/similarity.hpp.
//
// Float inputs, results in double. Validation as in search.hpp (EmptyInput,
// DimensionMismatch, NonFiniteValue, NumericalError for a zero row under
// cosine); deterministic for any thread count.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

/// Bilinear scores s(q_i, b_j) = q_i^T M b_j ([n_q x n_b]) with a given matrix M
/// [d_q x d_b] (a learned similarity: the two sides may differ in dimension).
/// Cost 2 n_q d_q d_b + 2 n_q n_b d_b, in double.
RowMatrixd bilinear_scores(const MatrixView<float>& queries, const MatrixView<float>& base,
                           const MatrixView<double>& matrix);

/// Mahalanobis distances sqrt((q_i - b_j)^T M (q_i - b_j)) ([n_q x n_b]) with M
/// [d x d] symmetric positive semi-definite (e.g. an inverse covariance),
/// computed as Euclidean distances after mapping the rows by L^T, M = L L^T (an
/// LDL^T factorisation, so a singular M is accepted). Throws InvalidArgument (M
/// not symmetric to 1e-10 relative, or with a negative pivot below -1e-10 of the
/// largest).
RowMatrixd mahalanobis_distances(const MatrixView<float>& queries, const MatrixView<float>& base,
                                 const MatrixView<double>& matrix);

/// The temperature softmax over similarities: p_ij = exp(s_ij / t) / sum_k
/// exp(s_ik / t) ([n_q x n_b], rows sum to 1), s the cosine (default) or ip of
/// query i and key j; log-sum-exp in double. t > 0 (InvalidArgument).
RowMatrixd softmax_scores(const MatrixView<float>& queries, const MatrixView<float>& keys, double temperature,
                          Metric metric = Metric::cosine);

/// The InfoNCE loss of paired rows (query i's positive is key i, every other key
/// a negative; CLIP's and SimCSE's in-batch objective, one direction): the mean
/// over i of -log p_ii with p as softmax_scores. n_q = n_k (DimensionMismatch).
/// The loss of uniform scores is log n.
double info_nce(const MatrixView<float>& queries, const MatrixView<float>& keys, double temperature,
                Metric metric = Metric::cosine);

/// Hard negatives for contrastive training (as sentence-transformers'
/// mine_hard_negatives): per query, the corpus rows ranked by similarity with
/// the query's positives left out; the negatives are the first `count` of the
/// ranks [rank_min, rank_max) (0-based among the non-positives) whose score is
/// also below the query's lowest positive score minus `margin` (NaN: no margin
/// test; a query without positives has no positive score, so only the ranks
/// apply); with `max_ratio` (NaN: none) the score must also be at most
/// max_ratio times that lowest positive score (the positive-aware cap that
/// drops likely false negatives, e.g. 0.95). Rows of the result are [count]
/// ids, -1 where fewer qualify.
struct HardNegativeOptions {
  std::int64_t count = 1;
  std::int64_t rank_min = 0;
  std::int64_t rank_max = 100;
  double margin = std::numeric_limits<double>::quiet_NaN();
  double max_ratio = std::numeric_limits<double>::quiet_NaN();
  Metric metric = Metric::cosine;  ///< cosine or ip
  Parallel parallel;
};
/// `positives[i]` are query i's positive corpus ids (one list per query). Throws
/// EmptyInput, DimensionMismatch (positives), InvalidArgument (a positive id out
/// of range, count < 1, rank_min < 0, rank_max <= rank_min, another metric),
/// NonFiniteValue, NumericalError (a zero row under cosine). Cost: one knn of
/// rank_max + max |positives| neighbours, and with a margin or a ratio one row
/// of similarities per query that has positives.
IdMatrix mine_hard_negatives(const MatrixView<float>& queries, const MatrixView<float>& corpus,
                             const std::vector<std::vector<std::int64_t>>& positives,
                             const HardNegativeOptions& options = {});

}  // namespace latent
