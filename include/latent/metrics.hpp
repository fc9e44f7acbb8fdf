// latent/metrics.hpp - evaluation metrics over neighbour lists. For now: k-NN
// classification (majority vote) and its leave-one-out accuracy; retrieval
// metrics, rank correlation and representation similarity follow.
//
// Neighbour lists are the `ids` of a KnnGraph or DistanceGraph ([n_queries x k],
// nearest first). Labels are int64 class ids of the indexed points. Votes are
// exact integer counts; results are identical for any thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

/// k-NN classification: the predicted class of each row of `neighbors`
/// ([n_queries x K]) from the labels of its first k ids (k = 0: all K columns;
/// 1 <= k <= K otherwise InvalidK). Majority vote; when several classes share
/// the top vote, the class of the nearest (first listed) neighbour among them
/// wins. Ids equal to -1 (missing) do not vote; a row with no valid neighbour
/// predicts -1. Throws InvalidArgument for an id outside [0, labels.size()).
/// Cost O(n_queries k log k); memory O(n_queries).
std::vector<std::int64_t> knn_predict(const IdMatrix& neighbors, const std::vector<std::int64_t>& labels,
                                      std::int64_t k = 0, const Parallel& parallel = {});

/// Share of rows whose prediction equals `query_labels` (one per row of
/// `neighbors`, DimensionMismatch otherwise).
double knn_accuracy(const IdMatrix& neighbors, const std::vector<std::int64_t>& labels,
                    const std::vector<std::int64_t>& query_labels, std::int64_t k = 0, const Parallel& parallel = {});

/// Leave-one-out accuracy on a self-excluded graph of the labelled points
/// themselves (row i never lists i): knn_accuracy with query_labels = labels.
/// Throws DimensionMismatch when the rows differ from labels.size().
double loo_knn_accuracy(const IdMatrix& neighbors, const std::vector<std::int64_t>& labels, std::int64_t k = 0,
                        const Parallel& parallel = {});

// ---------------------------------------------------------------- representations

/// RankMe from singular values (>= 0, not all 0): exp(-sum p_k log p_k),
/// p_k = sigma_k / sum sigma (terms with p_k = 0 count 0). Throws InvalidArgument.
double effective_rank(const std::vector<double>& singular_values);

/// Linear CKA (Kornblith et al. 2019) of two row sets with the same rows ([n x d_a],
/// [n x d_b]), in double: |Yc^T Xc|_F^2 / (|Xc^T Xc|_F |Yc^T Yc|_F) of the centred
/// rows; NaN when either side is constant. Throws EmptyInput, DimensionMismatch
/// (rows differ), NonFiniteValue. Cost O(n d^2).
double linear_cka(const MatrixView<float>& a, const MatrixView<float>& b);
double linear_cka(const MatrixView<double>& a, const MatrixView<double>& b);

}  // namespace latent
