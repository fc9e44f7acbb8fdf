// latent/metrics.hpp - the measures that judge an embedding space: k-NN
// classification (majority vote, leave-one-out), prototype (nearest class mean)
// and zero-shot classifiers with accuracy and confusion matrix, retrieval
// metrics (recall@k, precision@k, Hit@k, MRR, nDCG@k, MAP, R-precision, median
// and mean rank) from neighbour lists and relevance judgements, rank and linear
// correlation (STS-style benchmarks), alignment and uniformity (Wang & Isola
// 2020), effective rank (RankMe), comparisons of two representations (linear,
// RBF and minibatch CKA, RSA, CCA/SVCCA/PWCCA, affine R^2, feature matching),
// LiDAR, collapse diagnostics, silhouette, and the agreement of a clustering
// with labels (NMI, ARI, Hungarian accuracy).
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

/// Minibatch linear CKA (Nguyen et al. 2021): the rows are shuffled by `seed`
/// and cut into batches of `batch_size` rows (a last, smaller batch is dropped);
/// CKA = mean HSIC_1(K_i, L_i) / sqrt(mean HSIC_1(K_i, K_i) mean HSIC_1(L_i,
/// L_i)) over the batches i, K_i = A_i A_i^T and L_i = B_i B_i^T, with HSIC_1 the
/// unbiased estimator of Song et al. 2012: for K~, L~ the kernels with a zero
/// diagonal and m rows, HSIC_1 = (tr(K~ L~) + 1'K~1 1'L~1 / ((m-1)(m-2)) -
/// 2/(m-2) 1'K~L~1) / (m(m-3)). Memory O(batch_size^2); the same seed gives
/// the same value. Throws as linear_cka, InvalidArgument (batch_size < 4 or
/// more than the rows), NumericalError (a space whose HSIC_1 mean is <= 0).
double minibatch_cka(const MatrixView<float>& a, const MatrixView<float>& b, std::int64_t batch_size = 1000,
                     std::uint64_t seed = 0);

/// Canonical correlations (Hotelling's CCA) of two row sets with the same rows,
/// largest first: the singular values of U_a^T U_b, U the orthonormal basis of
/// the centred rows' column space (its directions of variance > 1e-12 times
/// the largest; fewer when a space is rank deficient). min(rank a, rank b)
/// values in [0, 1], computed in double. Throws as linear_cka, NumericalError
/// when a space has all rows equal.
std::vector<double> canonical_correlations(const MatrixView<float>& a, const MatrixView<float>& b);

/// SVCCA (Raghu et al. 2017): the mean canonical correlation after keeping, in
/// each space, the fewest top principal directions of the centred rows whose
/// variances sum to at least `variance` (0 < variance <= 1) of the total.
/// variance = 1 keeps every direction (plain mean CCA, invariant to any
/// invertible linear map of either space). Throws as canonical_correlations,
/// InvalidArgument (variance).
double svcca(const MatrixView<float>& a, const MatrixView<float>& b, double variance = 0.99);

/// Projection-weighted CCA (Morcos et al. 2018): sum_i w_i rho_i / sum_i w_i
/// over the canonical pairs, rho_i the canonical correlations and w_i = sum_j
/// |<h_i, x_j>| the weight of the i-th canonical variate h_i (unit length, a
/// combination of the centred rows) over the centred columns x_j of the space
/// of fewer dimensions (a when equal). Throws as canonical_correlations.
double pwcca(const MatrixView<float>& a, const MatrixView<float>& b);

/// Matching of the dimensions (units) of two spaces over the same rows by their
/// Pearson correlation (Li et al. 2016, convergent learning): correlation(i, j)
/// of a's column i and b's column j over the rows (0 when either column is
/// constant). `one_to_one` false gives each column of a the column of b of
/// largest correlation (argmax; the smaller index on ties); true gives the
/// one-to-one matching of largest total correlation (linear_assignment), which
/// leaves d_a - d_b columns of a unmatched (-1) when a has more. Throws as
/// linear_cka, InvalidArgument (fewer than 2 rows).
struct FeatureMatching {
  RowMatrixd correlation;           ///< [d_a x d_b]
  std::vector<std::int64_t> match;  ///< per column of a: its column of b, or -1
  double mean_correlation = 0;      ///< over the matched columns of a
};
FeatureMatching match_features(const MatrixView<float>& a, const MatrixView<float>& b, bool one_to_one = true);

/// LiDAR (Thilak et al. 2023): the effective rank of the linear discriminant
/// matrix of labelled rows. With mu_c the mean of class c (n_c rows), mu the
/// mean of the C class means, S_b = sum_c (mu_c - mu)(mu_c - mu)^T / (C - 1) and
/// S_w = sum_c sum_{i in c} (x_i - mu_c)(x_i - mu_c)^T / n + delta I, the
/// eigenvalues lambda of S_w^-1/2 S_b S_w^-1/2 give p_k = lambda_k / sum lambda
/// + epsilon and LiDAR = exp(-sum_k p_k log p_k). delta = 1e-4 and epsilon =
/// 1e-8, the paper's values. In double; at least 2 classes (InvalidArgument).
/// Throws EmptyInput, DimensionMismatch (labels), NonFiniteValue,
/// NumericalError (all class means equal).
double lidar(const MatrixView<float>& x, const std::vector<std::int64_t>& labels, double delta = 1e-4,
             double epsilon = 1e-8);

/// Dimensional-collapse diagnostics of a set of rows (n >= 2), from the
/// unbiased per-dimension variances var_j and covariance matrix C (divisor n - 1):
/// std_j = sqrt(var_j); VICReg's variance term (Bardes et al. 2022) mean_j
/// max(0, gamma - sqrt(var_j + 1e-4)) with gamma = 1, and covariance term
/// sum_{i != j} C_ij^2 / d; the active units (Burda et al. 2016), dimensions of
/// variance above `active_threshold` (default 0.01); RankMe, the effective
/// rank of the singular values of the (uncentred) rows (Garrido et al. 2023),
/// 0 when every row is 0.
struct CollapseDiagnostics {
  std::vector<double> std;
  double min_std = 0, mean_std = 0;
  double vicreg_variance = 0, vicreg_covariance = 0;
  std::int64_t active_units = 0;
  double rankme = 0;
};
/// Throws EmptyInput, InvalidArgument (one row, active_threshold < 0), NonFiniteValue.
CollapseDiagnostics collapse_diagnostics(const MatrixView<float>& x, double active_threshold = 0.01);

// ---------------------------------------------------------------- clustering agreement

/// Minimum-cost assignment (the Hungarian method, as scipy's
/// linear_sum_assignment): for cost [r x c], the one-to-one matching of
/// min(r, c) rows and columns of least total cost (largest with maximize).
/// Returns per row its column, or -1 for rows left unmatched when r > c.
/// Throws EmptyInput, NonFiniteValue. Cost O(min(r, c)^2 max(r, c)).
std::vector<std::int64_t> linear_assignment(const RowMatrixd& cost, bool maximize = false);

/// Agreement of a clustering with true labels (any int64 values; equal lengths,
/// DimensionMismatch; EmptyInput):
/// - normalized_mutual_info: I(T; P) / ((H(T) + H(P)) / 2), natural logs,
///   scikit-learn's default (arithmetic) normalisation; 1 when both are one
///   cluster;
/// - adjusted_rand_index: Hubert & Arabie's adjusted Rand index from the
///   contingency table (1 when the partitions are equal);
/// - cluster_accuracy: the share of rows whose cluster maps to their label under
///   the one-to-one map of clusters to labels that agrees most (linear_assignment).
double normalized_mutual_info(const std::vector<std::int64_t>& truth, const std::vector<std::int64_t>& predicted);
double adjusted_rand_index(const std::vector<std::int64_t>& truth, const std::vector<std::int64_t>& predicted);
double cluster_accuracy(const std::vector<std::int64_t>& truth, const std::vector<std::int64_t>& predicted);

}  // namespace latent
