// latent/relative.hpp - making two embedding spaces talk to each other: anchor
// selection, relative representations (Moschella et al., ICLR 2023) with several
// similarities at once (product of invariances, Cannistraci et al., ICLR 2024),
// latent translation (Procrustes, least squares, affine, ridge), linear maps
// given as numbers, and cross-space comparison of the same items encoded twice.
//
// Numerical policy: relative representations of float rows go through the kernel
// layer (cosine, dot, l2 on the GEMM path; l1, linf on the SIMD tiles), double rows
// through the f64 pair kernels, so results are bitwise independent of threads and
// block sizes. Every fit (anchor statistics, pseudo-inverses, SVDs, least squares)
// is computed in double with Eigen's BDCSVD; a fitted translation is one affine map
// y = (x - input_shift) W + output_shift kept in double. Comparison scores are
// accumulated in double; ranks are strict (a tie does not hurt) and neighbour lists
// break ties by the smaller id. Each score is defined where it is declared.
// Fitted objects are safe to share between threads for reading.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"
#include "latent/similarity/search.hpp"
#include "latent/whitening.hpp"

namespace latent {

// ---------------------------------------------------------------- anchors

/// How anchors are chosen among the rows of a matrix.
enum class AnchorMethod {
  uniform,           ///< `count` distinct rows drawn uniformly (seeded), in increasing id order
  first,             ///< rows 0..count-1 (e.g. the most frequent items first)
  farthest_point,    ///< greedy farthest-point sampling (l2), starting from a seeded random row
  kmeans_plus_plus,  ///< the k-means++ seeding (D^2 sampling, seeded): real rows
  kmeans,            ///< Lloyd's k-means from the k-means++ seeds; select_anchors returns the medoids
};

/// "uniform", "first", "farthest-point", "kmeans++", "kmeans"; the parser throws
/// InvalidArgument naming `argument` and the accepted names.
std::string_view to_string(AnchorMethod method);
AnchorMethod parse_anchor_method(std::string_view name, std::string_view argument = "method");

struct AnchorOptions {
  AnchorMethod method = AnchorMethod::uniform;
  std::uint64_t seed = 0;
  std::int64_t kmeans_iterations = 25;  ///< Lloyd iterations at most (stops early when nothing moves)
  Parallel parallel;
};

/// Row ids of `count` anchors among the rows of x ([n x d]), all distinct. For
/// `kmeans` the ids are the medoids: the row nearest (l2) to each centroid, so
/// anchors stay real samples (a row already taken goes to the next nearest free one).
/// Deterministic for a given seed. Throws EmptyInput, NonFiniteValue,
/// InvalidArgument (count < 1 or count > n: "fewer rows than anchors").
/// Cost: uniform/first O(count); farthest_point and kmeans++ O(n d count);
/// kmeans O(n d count iterations).
std::vector<std::int64_t> select_anchors(const MatrixView<float>& x, std::int64_t count,
                                         const AnchorOptions& options = {});
std::vector<std::int64_t> select_anchors(const MatrixView<double>& x, std::int64_t count,
                                         const AnchorOptions& options = {});

/// The same, stratified by labels (one per row of x): each label gets
/// floor(count * share) anchors, the remainder going to the labels with the
/// largest fractional parts (ties: smaller label), each stratum chosen by
/// `options.method` among its rows. Ids are returned sorted by label, then as
/// the method ranks them. Throws DimensionMismatch (labels size != rows) and the above.
std::vector<std::int64_t> select_anchors_stratified(const MatrixView<float>& x, const std::vector<std::int64_t>& labels,
                                                    std::int64_t count, const AnchorOptions& options = {});
std::vector<std::int64_t> select_anchors_stratified(const MatrixView<double>& x,
                                                    const std::vector<std::int64_t>& labels, std::int64_t count,
                                                    const AnchorOptions& options = {});

/// k-means centroids ([count x d], not real rows), seeded by k-means++.
RowMatrixf kmeans_centroids(const MatrixView<float>& x, std::int64_t count, const AnchorOptions& options = {});
RowMatrixd kmeans_centroids(const MatrixView<double>& x, std::int64_t count, const AnchorOptions& options = {});

/// The rows `ids` of x, in that order ([ids.size() x d]): anchors as vectors.
/// Throws InvalidArgument naming the first id outside [0, rows) ("anchor id out of range").
RowMatrixf gather_rows(const MatrixView<float>& x, const std::vector<std::int64_t>& ids);
RowMatrixd gather_rows(const MatrixView<double>& x, const std::vector<std::int64_t>& ids);

// ---------------------------------------------------------------- relative projection

/// The similarity of a row x to an anchor a that fills one relative column.
enum class RelativeSimilarity {
  cosine,   ///< x.a / (|x| |a|)
  angular,  ///< 1 - arccos(cosine) / pi, in [0, 1]
  dot,      ///< x.a
  l2,       ///< |x - a| (the raw distance: no sign flip)
  l1,       ///< sum |x_t - a_t|
  linf,     ///< max |x_t - a_t|
  lp,       ///< (sum |x_t - a_t|^p)^(1/p), p = RelativeOptions::p
  basis,    ///< change of basis: the least-squares (minimum-norm) coordinates c of x in the anchors, c = x A^+
};

/// "cosine", "angular", "dot", "l2", "l1", "linf", "lp", "basis".
std::string_view to_string(RelativeSimilarity similarity);
/// Parses one name; throws InvalidArgument naming `argument` and the accepted names.
RelativeSimilarity parse_relative_similarity(std::string_view name, std::string_view argument = "similarity");
/// Parses a comma-separated list ("cosine,l2"); no empty items, no repeats.
std::vector<RelativeSimilarity> parse_relative_similarities(std::string_view names,
                                                            std::string_view argument = "similarity");

/// Absolute pre-transform, fitted on the anchors and applied to anchors and rows.
enum class PreTransform {
  none,
  center,       ///< x - mean(anchors) (Centering of whitening.hpp)
  standardize,  ///< (x - mean) / sd per column, fitted on the anchors (Standardizer; needs >= 2 anchors)
  l2,           ///< every row and anchor scaled to unit L2 norm (a zero row stays 0)
};

/// Relative post-transform of each similarity block, per row across the anchors.
enum class PostTransform {
  none,
  l2,           ///< the block scaled to unit L2 norm (zero stays zero)
  standardize,  ///< (r - mean over anchors) / sd over anchors (1/n; sd 0 -> only centred)
};

/// How several similarity blocks are combined.
enum class Aggregation {
  concat,  ///< side by side: [n x (blocks x anchors)], in the order of `similarities`
  sum,     ///< element-wise sum: [n x anchors]
  mean,    ///< element-wise mean: [n x anchors]
};

/// "none", "l2", "standardize" (PostTransform) and "concat", "sum", "mean"
/// (Aggregation); the parsers throw InvalidArgument naming `argument` and the
/// accepted names.
std::string_view to_string(PostTransform post);
PostTransform parse_post_transform(std::string_view name, std::string_view argument = "post");
/// "none", "center", "standardize", "l2" (PreTransform), as the parsers above.
std::string_view to_string(PreTransform pre);
PreTransform parse_pre_transform(std::string_view name, std::string_view argument = "pre");
std::string_view to_string(Aggregation aggregation);
Aggregation parse_aggregation(std::string_view name, std::string_view argument = "aggregation");

struct RelativeOptions {
  std::vector<RelativeSimilarity> similarities = {RelativeSimilarity::cosine};
  double p = 3.0;  ///< exponent of `lp` (>= 1)
  PreTransform pre = PreTransform::none;
  PostTransform post = PostTransform::none;
  /// With more than one similarity, scale each block to unit L2 norm per row
  /// before aggregating (so no similarity dominates by its units). A single
  /// similarity is never rescaled by this.
  bool normalize_blocks = true;
  Aggregation aggregation = Aggregation::concat;
  /// cosine and angular of a zero row or anchor: raise (default), or treat it as
  /// at cosine 0 to everything (angular 0.5).
  ZeroNormPolicy zero_norm = ZeroNormPolicy::raise;
  /// basis: singular values below rcond x largest count as zero (numpy's lstsq default is eps x max(n, d)).
  double rcond = 0.0;
  Parallel parallel;
};

/// Relative representations: each row x becomes its similarities to fixed anchors.
/// fit() keeps (pre-transformed) anchors; transform() gives [n x output_dim()].
/// Pipeline per row: pre-transform, one block per similarity, post-transform per
/// block, block normalisation (several similarities), aggregation.
/// Cost of transform: 2 n k d flops per GEMM similarity (cosine, angular, dot, l2,
/// basis), 3 n k d for l1 / linf / lp; memory: the output plus one block per similarity.
template <class T>
class RelativeProjection {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "latent::RelativeProjection<T>: T must be float or double");

 public:
  /// Throws InvalidArgument (no similarity, a repeated one, p < 1, rcond < 0).
  /// Every block has one column per anchor, so sum and mean apply to any list.
  explicit RelativeProjection(const RelativeOptions& options = {});

  /// Fits on the anchors ([k x d], k >= 1; >= 2 for standardize). Throws EmptyInput,
  /// NonFiniteValue, InvalidArgument (too few anchors), NumericalError (a zero
  /// anchor under cosine with ZeroNormPolicy::raise; basis with all-zero anchors).
  RelativeProjection& fit(const MatrixView<T>& anchors);
  /// Fits on the rows `anchor_ids` of x (throws InvalidArgument on an id out of range).
  RelativeProjection& fit(const MatrixView<T>& x, const std::vector<std::int64_t>& anchor_ids);
  /// [n x output_dim()]. Throws NotFitted, DimensionMismatch, NonFiniteValue,
  /// NumericalError (a zero row under cosine with ZeroNormPolicy::raise).
  RowMatrix<T> transform(const MatrixView<T>& x) const;
  RowMatrix<T> fit_transform(const MatrixView<T>& anchors);

  /// Saves options and anchors (kind "relative-projection"); load refits on them,
  /// so the loaded object transforms bitwise like the saved one. IoError, NotFitted.
  void save(const std::string& path) const;
  static RelativeProjection load(const std::string& path);

  bool is_fitted() const { return anchors_.rows() > 0; }
  const RelativeOptions& options() const { return options_; }
  std::int64_t n_anchors() const { return anchors_.rows(); }
  std::int64_t input_dim() const { return anchors_.cols(); }
  std::int64_t output_dim() const;
  /// The anchors as given to fit ([k x d]).
  const RowMatrix<T>& anchors() const { return raw_anchors_; }

 private:
  RowMatrix<T> pre_transform(const MatrixView<T>& x) const;
  void block(RelativeSimilarity similarity, const MatrixView<T>& x, RowMatrix<T>& out) const;

  RelativeOptions options_;
  RowMatrix<T> raw_anchors_;
  RowMatrix<T> anchors_;  // after the pre-transform
  Centering<T> centering_;
  Standardizer<T> standardizer_;
  RowMatrix<T> pseudo_inverse_transposed_;  // basis: (A^+)^T, [k x d]
};

// Defined in the library for float and double only.
extern template class RelativeProjection<float>;
extern template class RelativeProjection<double>;

// ---------------------------------------------------------------- translation

enum class TranslationMethod {
  procrustes,  ///< orthogonal Procrustes on centred, Frobenius-scaled rows: f(x) = ((x - mu_a) / s_a) R s_b + mu_b
  lstsq,       ///< least squares Y ~ X W (no bias)
  affine,      ///< least squares Y ~ [X, 1] M (with bias)
  ridge,       ///< centred ridge regression W = (Xc^T Xc + alpha I)^-1 Xc^T Yc, bias from the means
  orthogonal_lstsq,  ///< lstsq W projected to the nearest orthogonal matrix (U V^T of its SVD)
};

std::string_view to_string(TranslationMethod method);
/// "procrustes", "lstsq", "affine", "ridge", "orthogonal-lstsq"; InvalidArgument otherwise.
TranslationMethod parse_translation_method(std::string_view name, std::string_view argument = "method");

struct TranslationOptions {
  TranslationMethod method = TranslationMethod::procrustes;
  /// procrustes: rescale isotropically by sQ / sP (the Frobenius norms of the
  /// centred target and source rows); false: a pure rotation between the means.
  bool scale = true;
  /// procrustes / orthogonal_lstsq: force det R = +1 (flip the last singular pair).
  bool proper_rotation = false;
  double alpha = 1.0;  ///< ridge strength (> 0)
  /// Standard-scale source and target columns (fitted on the fit rows), fit the
  /// method on the scaled rows, and de-scale the output.
  bool standardize = false;
  /// lstsq / affine: singular values below rcond x largest are dropped (0: eps x max(rows, cols), numpy's default).
  double rcond = 0.0;
  Parallel parallel;  ///< threads of fit (the Procrustes cross-product) and transform
};

/// A linear map given as numbers: y = x W + b, W [d_in x d_out] and the bias b
/// [d_out] (empty: none), kept in double; a map from elsewhere (a learned
/// adapter, a published alignment) or one that LatentTranslator hands out.
/// Float rows are multiplied through the kernel layer's GEMM, double rows
/// through Eigen; results do not depend on threads.
template <class T>
class LinearMap {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "latent::LinearMap<T>: T must be float or double");

 public:
  LinearMap() = default;
  /// Throws EmptyInput (no entries), NonFiniteValue (W or b), DimensionMismatch
  /// (b of another length than W's columns).
  explicit LinearMap(const MatrixView<double>& matrix, const std::vector<double>& bias = {},
                     const Parallel& parallel = {});

  /// [n x d_out]. Throws NotFitted, DimensionMismatch (x has other than d_in
  /// columns), NonFiniteValue, EmptyInput. Cost 2 n d_in d_out flops.
  RowMatrix<T> transform(const MatrixView<T>& x) const;

  /// Kind "linear-map"; IoError on a corrupt or foreign file, NotFitted.
  void save(const std::string& path) const;
  static LinearMap load(const std::string& path, const Parallel& parallel = {});

  bool is_fitted() const { return matrix_.size() != 0; }
  std::int64_t input_dim() const { return matrix_.rows(); }
  std::int64_t output_dim() const { return matrix_.cols(); }
  const RowMatrixd& matrix() const { return matrix_; }
  /// d_out values, zeros when no bias was given.
  const std::vector<double>& bias() const { return bias_; }

 private:
  RowMatrixd matrix_;
  std::vector<double> bias_;
  Parallel parallel_;
};

extern template class LinearMap<float>;
extern template class LinearMap<double>;

/// Maps rows of a source space onto a target space, fitted on paired rows (row i
/// of source and target is the same item, usually the anchors). When the
/// dimensions differ, procrustes and orthogonal_lstsq pad the smaller side with
/// zero columns, fit a square map, and keep the source x target block. The fitted
/// map is y = (x - input_shift) W + output_shift, in double.
/// Cost of fit: O(n d^2 + d^3); of transform 2 n d_s d_t flops.
template <class T>
class LatentTranslator {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "latent::LatentTranslator<T>: T must be float or double");

 public:
  /// Throws InvalidArgument (alpha <= 0 for ridge, rcond < 0).
  explicit LatentTranslator(const TranslationOptions& options = {});

  /// source [n x d_s], target [n x d_t]. Throws EmptyInput, NonFiniteValue,
  /// DimensionMismatch (rows differ), InvalidArgument (n < 2 for procrustes,
  /// ridge, standardize: "fewer pairs than needed"), NumericalError (procrustes on
  /// rows that are all equal: the Frobenius scale is 0).
  LatentTranslator& fit(const MatrixView<T>& source, const MatrixView<T>& target);
  /// The same on the rows `ids` of both (InvalidArgument on an id out of range).
  LatentTranslator& fit(const MatrixView<T>& source, const MatrixView<T>& target, const std::vector<std::int64_t>& ids);
  /// [n x d_t]. Throws NotFitted, DimensionMismatch, NonFiniteValue.
  RowMatrix<T> transform(const MatrixView<T>& x) const;

  /// Kind "latent-translation"; IoError on a corrupt or foreign file, NotFitted.
  void save(const std::string& path) const;
  static LatentTranslator load(const std::string& path);

  /// The fitted map as a LinearMap: W, and b = output_shift - input_shift W
  /// (the same map, up to rounding). Throws NotFitted.
  LinearMap<T> linear_map() const;

  bool is_fitted() const { return matrix_.size() != 0; }
  const TranslationOptions& options() const { return options_; }
  std::int64_t source_dim() const { return matrix_.rows(); }
  std::int64_t target_dim() const { return matrix_.cols(); }
  /// W ([d_s x d_t]); for procrustes R (sQ / sP) or R.
  const RowMatrixd& matrix() const { return matrix_; }
  const std::vector<double>& input_shift() const { return input_shift_; }
  const std::vector<double>& output_shift() const { return output_shift_; }
  /// procrustes / orthogonal_lstsq: the orthogonal factor ([D x D], D = max(d_s, d_t))
  /// and the singular values of the (scaled) cross-covariance it came from; empty otherwise.
  const RowMatrixd& rotation() const { return rotation_; }
  const std::vector<double>& singular_values() const { return singular_values_; }

 private:
  TranslationOptions options_;
  RowMatrixd matrix_;
  std::vector<double> input_shift_, output_shift_;
  RowMatrixd rotation_;
  std::vector<double> singular_values_;
};

// Defined in the library for float and double only.
extern template class LatentTranslator<float>;
extern template class LatentTranslator<double>;

// ---------------------------------------------------------------- comparison

struct CompareOptions {
  std::int64_t k = 10;  ///< neighbours for jaccard (1 <= k <= rows - 1)
  /// Similarity of the counterpart ranks: cosine, or l2 (the translation scores
  /// top1_l2 / mrr_l2: #{j : |a_i - b_j| < |a_i - b_i|}; needs equal dims).
  Metric rank_metric = Metric::cosine;
  bool jaccard = true;            ///< false skips the two kNN graphs
  bool cka = true;                ///< false skips linear CKA
  std::int64_t block_rows = 256;  ///< rows of the cross-similarity block (memory: block_rows x n scores)
  Parallel parallel;
};

/// How well the same n items agree across two spaces (rows i of a and b are the
/// same item). The dims may differ: jaccard and cka are then computed, while mrr,
/// top1, mean_rank and mean_cos (cross-space similarities) are NaN; with
/// rank_metric l2 differing dims throw DimensionMismatch. Unrequested scores are NaN.
struct CrossSpaceScores {
  std::int64_t rows = 0;
  std::int64_t k = 0;
  /// mean over i of |N_a(i) & N_b(i)| / |N_a(i) | N_b(i)|, N = top-k cosine neighbours within the space, self excluded.
  double jaccard = 0;
  /// rank_i = 1 + #{j : s(a_i, b_j) > s(a_i, b_i)}: mrr = mean 1/rank, top1 = share of rank 1.
  double mrr = 0;
  double top1 = 0;
  double mean_rank = 0;
  /// mean cos(a_i, b_i) (also for rank_metric l2).
  double mean_cos = 0;
  /// Linear CKA of the centred rows: |Yc^T Xc|_F^2 / (|Xc^T Xc|_F |Yc^T Yc|_F).
  double cka = 0;
};

/// Compares a ([n x d_a]) with b ([n x d_b]), n >= 2. Cosines through the kernel
/// layer's GEMM path (f32 or f64 panels by the input type); ranks in
/// blocks of block_rows rows (no n x n matrix). Throws EmptyInput, NonFiniteValue,
/// DimensionMismatch (rows differ), InvalidK, NumericalError (a zero row under cosine).
/// Cost: 2 n^2 (d_a + d_b) flops for jaccard, 2 n^2 d_b for the ranks, O(n d^2) for CKA.
CrossSpaceScores compare_spaces(const MatrixView<float>& a, const MatrixView<float>& b,
                                const CompareOptions& options = {});
CrossSpaceScores compare_spaces(const MatrixView<double>& a, const MatrixView<double>& b,
                                const CompareOptions& options = {});

// ---------------------------------------------------------------- zero-shot stitching

/// How a stitched pipeline carries source rows to a head fitted in the target space.
enum class StitchMethod {
  /// A LatentTranslator (options.translation) fitted on the anchor pairs maps
  /// source rows into the target space, where the head was fitted.
  translation,
  /// Each space is replaced by its relative representation to its own copy of
  /// the anchors (options.relative); the head is fitted on the target's relative
  /// rows and reads the source's relative rows unchanged.
  relative,
};
std::string_view to_string(StitchMethod method);
/// "translation", "relative"; InvalidArgument otherwise.
StitchMethod parse_stitch_method(std::string_view name, std::string_view argument = "method");

struct StitchingOptions {
  StitchMethod method = StitchMethod::translation;
  TranslationOptions translation;
  RelativeOptions relative;
};

struct StitchingResult {
  /// Share of the `test` rows of the source, carried to the target's head, that
  /// get their label.
  double accuracy = 0;
  /// The head on the target's own `test` rows (or their relative rows): the
  /// accuracy stitching would reach if it lost nothing.
  double target_accuracy = 0;
};

/// Zero-shot model stitching (Moschella et al. 2023): a nearest-class-mean head
/// (PrototypeClassifier, cosine) is fitted on the target's rows `train` with
/// their labels; the source's rows `test` reach it through `options.method` and
/// are scored against their labels. Rows i of source ([n x d_s]) and target
/// ([n x d_t]) are the same item; `anchors` are the row ids whose pairs fit the
/// translation or serve as the relative anchors (the labels are never used for
/// them). Throws EmptyInput, NonFiniteValue, DimensionMismatch (rows or labels
/// differ), InvalidArgument (an id out of range, empty train or test), and what
/// the translator, the relative projection and the head throw.
StitchingResult stitching_accuracy(const MatrixView<float>& source, const MatrixView<float>& target,
                                   const std::vector<std::int64_t>& labels, const std::vector<std::int64_t>& anchors,
                                   const std::vector<std::int64_t>& train, const std::vector<std::int64_t>& test,
                                   const StitchingOptions& options = {});

}  // namespace latent
