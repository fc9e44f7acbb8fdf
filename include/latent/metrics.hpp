// latent/metrics.hpp - the measures that judge an embedding space: k-NN
// classification (majority vote, leave-one-out), prototype (nearest class mean)
// and zero-shot classifiers with accuracy and confusion matrix, retrieval
// metrics (recall@k, precision@k, Hit@k, MRR, nDCG@k, MAP, R-precision, median
// and mean rank) from neighbour lists and relevance judgements, rank and linear
// correlation (STS-style benchmarks), alignment and uniformity (Wang & Isola
// 2020), effective rank (RankMe), linear and RBF CKA, RSA, affine R^2 and
// silhouette. The rest of the analysis toolkit is in metrics/analysis.hpp
// (CCA family, minibatch CKA, feature matching, LiDAR, collapse, entropy,
// clustering agreement) and metrics/probes.hpp (ridge probe, ConSE, word-vector
// tests), both included below.
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

/// Distance-weighted k-NN classification (scikit-learn's weights="distance"):
/// neighbour p of row i votes with weight 1 / distances(i, p) for its label, and
/// the class of largest total weight wins (equal totals: the class of the
/// nearest neighbour among them). A row with a neighbour at distance 0 counts
/// only its neighbours at distance 0, each with weight 1. `distances` are the
/// neighbours' distances, [n_queries x K] like `neighbors` (a cosine KnnGraph's
/// scores s give 1 - s); they must be finite and >= 0 (InvalidArgument,
/// NonFiniteValue). Otherwise as knn_predict.
std::vector<std::int64_t> knn_predict_weighted(const IdMatrix& neighbors, const RowMatrixd& distances,
                                               const std::vector<std::int64_t>& labels, std::int64_t k = 0,
                                               const Parallel& parallel = {});

/// k-NN regression (decoding a continuous variable from neighbours, as CEBRA
/// does): row i of the result is the mean of targets' rows of its first k
/// neighbours ([n_queries x targets.cols]; k = 0: all columns). With
/// `distances` (as in knn_predict_weighted, nullptr: uniform weights) the mean
/// is weighted by 1 / distance, a neighbour at distance 0 taking all the
/// weight as in scikit-learn's KNeighborsRegressor(weights="distance"). Ids -1
/// are skipped; a row with no valid neighbour is NaN. Throws InvalidK,
/// InvalidArgument (an id outside targets' rows), DimensionMismatch, EmptyInput,
/// NonFiniteValue (targets or distances).
RowMatrixd knn_regress(const IdMatrix& neighbors, const MatrixView<double>& targets, std::int64_t k = 0,
                       const RowMatrixd* distances = nullptr, const Parallel& parallel = {});

// ---------------------------------------------------------------- prototype and zero-shot classification

/// Accuracy and confusion matrix of predicted labels against true ones (equal
/// lengths, DimensionMismatch otherwise; EmptyInput when empty). `classes` are
/// the distinct labels of both, ascending; confusion(i, j) counts the rows of
/// true class classes[i] predicted as classes[j] (rows: truth, columns:
/// prediction, as scikit-learn's confusion_matrix); per_class_accuracy[i] =
/// confusion(i, i) / (row i's sum), the recall of class i (NaN for a class that
/// is only ever predicted).
struct ClassificationReport {
  double accuracy = 0;
  std::vector<std::int64_t> classes;
  RowMatrix<std::int64_t> confusion;
  std::vector<double> per_class_accuracy;
};
ClassificationReport classification_report(const std::vector<std::int64_t>& truth,
                                           const std::vector<std::int64_t>& predicted);

/// Nearest class mean (the prototype classifier of Snell et al. 2017,
/// scikit-learn's NearestCentroid): `fit` keeps, for every distinct label
/// (ascending), the mean of its rows (summed in double); `predict` gives each
/// row the label of its nearest prototype under the metric: cosine (the largest
/// cosine to the mean; normalise the rows first for the mean of directions), l2
/// or sqeuclidean. Equal scores go to the smaller label. Rows are float or
/// double; prototypes are kept in double and compared in the rows' type.
/// Errors: InvalidArgument (another metric), EmptyInput, DimensionMismatch
/// (labels, or columns at predict), NonFiniteValue, NumericalError (a class
/// mean of norm 0 under cosine), NotFitted.
class PrototypeClassifier {
 public:
  explicit PrototypeClassifier(Metric metric = Metric::cosine);

  PrototypeClassifier& fit(const MatrixView<float>& x, const std::vector<std::int64_t>& labels);
  PrototypeClassifier& fit(const MatrixView<double>& x, const std::vector<std::int64_t>& labels);
  /// One label per row of x. Cost: rows x classes x dim.
  std::vector<std::int64_t> predict(const MatrixView<float>& x, const Parallel& parallel = {}) const;
  std::vector<std::int64_t> predict(const MatrixView<double>& x, const Parallel& parallel = {}) const;
  /// classification_report(labels, predict(x)).
  ClassificationReport score(const MatrixView<float>& x, const std::vector<std::int64_t>& labels,
                             const Parallel& parallel = {}) const;
  ClassificationReport score(const MatrixView<double>& x, const std::vector<std::int64_t>& labels,
                             const Parallel& parallel = {}) const;

  bool is_fitted() const { return !classes_.empty(); }
  Metric metric() const { return metric_; }
  /// The fitted labels, ascending, and their prototypes ([classes x dim], same order).
  const std::vector<std::int64_t>& classes() const { return classes_; }
  const RowMatrixd& prototypes() const { return prototypes_; }

 private:
  Metric metric_;
  std::vector<std::int64_t> classes_;
  RowMatrixd prototypes_;
};

/// Zero-shot classification (as CLIP's): each row of x ([n x d]) gets the class
/// whose embedding (a row of class_embeddings, [C x d], e.g. encoded prompts) is
/// nearest under the metric (default cosine); the result is that row's index
/// 0..C-1, or class_labels[index] when class_labels (C entries) is given. Equal
/// scores go to the smaller index. Throws as knn (EmptyInput, DimensionMismatch,
/// NonFiniteValue, NumericalError for a zero row under cosine) and
/// DimensionMismatch for class_labels of another length. Cost: n C d.
std::vector<std::int64_t> zero_shot_predict(const MatrixView<float>& x, const MatrixView<float>& class_embeddings,
                                            Metric metric = Metric::cosine,
                                            const std::vector<std::int64_t>& class_labels = {},
                                            const Parallel& parallel = {});
std::vector<std::int64_t> zero_shot_predict(const MatrixView<double>& x, const MatrixView<double>& class_embeddings,
                                            Metric metric = Metric::cosine,
                                            const std::vector<std::int64_t>& class_labels = {},
                                            const Parallel& parallel = {});

// ---------------------------------------------------------------- retrieval

/// Relevance judgements: ids[i] are the relevant base ids of query i (no
/// duplicates); gains[i] (optional, same shape) their graded relevance for nDCG
/// (empty: every relevant id has gain 1). Recall, precision, MRR and MAP treat
/// every listed id as relevant.
struct Relevance {
  std::vector<std::vector<std::int64_t>> ids;
  std::vector<std::vector<double>> gains;
};

/// Retrieval metrics at cut-off k, averaged over the queries that have at least
/// one relevant id (the others are counted in `skipped`). Per query, with
/// hits = relevant ids among the first k retrieved:
/// recall = hits / |relevant|; precision = hits / k; MRR = 1 / rank of the first
/// relevant id (0 if none in the top k); nDCG = DCG / IDCG with
/// DCG = sum_r gain(r) / log2(r + 1) over ranks r = 1..k and IDCG the DCG of the
/// best ordering of the judged gains; MAP = sum over relevant ranks r of
/// precision@r / min(k, |relevant|) (the convention of sentence-transformers'
/// InformationRetrievalEvaluator and BEIR's MAP@k); hit = 1 if hits > 0 (Hit@k,
/// the share of queries answered in the top k). Ids -1 (missing) never count.
///
/// Three measures ignore the cut-off k and read the whole list of K ids:
/// R-precision = (relevant ids among the first R retrieved) / R with
/// R = |relevant| (ranks beyond K count as misses); the rank of a query = the
/// 1-based position of its first relevant id in the list, or K + 1 when the
/// list holds none (a lower bound of its true rank; such queries are counted in
/// `unranked`); median_rank and mean_rank summarise those ranks (the median of
/// an even count is the mean of the middle two), as MedR / MeanR in cross-modal
/// retrieval.
struct RetrievalScores {
  std::int64_t k = 0;
  std::int64_t queries = 0;   ///< queries evaluated
  std::int64_t skipped = 0;   ///< queries without relevant ids
  std::int64_t unranked = 0;  ///< evaluated queries with no relevant id among all K listed
  double recall = 0, precision = 0, mrr = 0, ndcg = 0, map = 0, hit = 0;
  double r_precision = 0, median_rank = 0, mean_rank = 0;
};

/// `retrieved` is [n_queries x K] (a KnnGraph's ids), nearest first; 1 <= k <= K
/// (InvalidK). Throws DimensionMismatch (relevance rows or gains shape),
/// InvalidArgument (negative gain, duplicate relevant id), EmptyInput (no query
/// has a relevant id). Cost O(n_queries (K + |relevant|) log |relevant|).
RetrievalScores retrieval_scores(const IdMatrix& retrieved, const Relevance& relevance, std::int64_t k);
inline RetrievalScores retrieval_scores(const KnnGraph& graph, const Relevance& relevance, std::int64_t k) {
  return retrieval_scores(graph.ids, relevance, k);
}

/// Share of the exact neighbours found: mean over queries of
/// |found[i, :k] ∩ exact[i, :k]| / k (both [n_queries x >= k]); the ANN recall@k.
double neighbor_recall(const IdMatrix& found, const IdMatrix& exact, std::int64_t k);

// ---------------------------------------------------------------- correlation

/// Pearson correlation of two samples of the same length (>= 2), in double.
/// Throws DimensionMismatch, EmptyInput, NonFiniteValue, NumericalError (a constant sample).
double pearson(const std::vector<double>& x, const std::vector<double>& y);
/// Spearman's rho: Pearson of the ranks, ties given their average rank (scipy's
/// spearmanr). Throws as pearson.
double spearman(const std::vector<double>& x, const std::vector<double>& y);
/// 1-based ranks with ties averaged (scipy.stats.rankdata "average").
std::vector<double> average_ranks(const std::vector<double>& values);

// ---------------------------------------------------------------- alignment, uniformity

/// Alignment (Wang & Isola): mean over i of |a_i - b_i|^alpha for positive pairs
/// (rows i of a and b, [n x d] each; use normalised rows as in the paper), alpha > 0.
/// Throws EmptyInput, DimensionMismatch, NonFiniteValue, InvalidArgument.
double alignment(const MatrixView<float>& a, const MatrixView<float>& b, double alpha = 2.0);
/// Uniformity: log mean over pairs i < j of exp(-t |x_i - x_j|^2), t > 0, n >= 2;
/// pairs in blocks through the kernel layer (no n x n matrix), log-sum-exp in double.
/// Cost n^2 d. Throws EmptyInput, NonFiniteValue, InvalidArgument.
double uniformity(const MatrixView<float>& x, double t = 2.0, const Parallel& parallel = {});

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

/// RBF-kernel CKA (Kornblith et al. 2019): HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))
/// with HSIC(K, L) = tr(K H L H), H the centring matrix, and K_ij = exp(-|a_i -
/// a_j|^2 / (2 sigma^2)), sigma the median Euclidean distance between distinct
/// rows of that space (likewise L for b). NumericalError when a space has all
/// rows equal (sigma 0). Memory
/// two n x n double matrices, cost O(n^2 (d + n)): give it a sample of rows.
/// Throws as linear_cka.
double rbf_cka(const MatrixView<float>& a, const MatrixView<float>& b);

/// Representational similarity analysis: the Spearman correlation (average
/// ranks) between the upper triangles (i < j) of the cosine-distance matrices
/// 1 - cos of a and b. Memory O(n^2). Throws as linear_cka, NumericalError for a
/// zero row.
double rsa(const MatrixView<float>& a, const MatrixView<float>& b);

/// R^2 of the least-squares affine map from a to b, total over b's dimensions:
/// 1 - |B - (A W + c)|_F^2 / |B - mean B|_F^2 (W, c fitted in double by a
/// column-pivoted QR of the centred a). Throws as linear_cka, NumericalError
/// when b has all rows equal.
double affine_r2(const MatrixView<float>& a, const MatrixView<float>& b);

/// Mean silhouette of the labelled rows (scikit-learn's silhouette_score):
/// s_i = (b_i - a_i) / max(a_i, b_i), a_i the mean distance to the other rows of
/// its class, b_i the smallest mean distance to another class's rows, s_i = 0
/// in a class of one row. Distance: 1 - cos (cosine) or the Euclidean distance
/// (l2). Between 2 and n - 1 distinct labels (InvalidArgument). Memory O(n
/// classes); cost O(n^2 d), by blocks of rows.
double silhouette(const MatrixView<float>& x, const std::vector<std::int64_t>& labels, Metric metric = Metric::cosine,
                  const Parallel& parallel = {});

}  // namespace latent

#include "latent/metrics/analysis.hpp"
#include "latent/metrics/probes.hpp"
