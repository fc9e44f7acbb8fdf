// latent/metrics/probes.hpp - what a representation lets a simple reader do: a
// closed-form ridge linear probe with cross-validated alpha, ConSE zero-shot
// labels, and the word-vector tests (analogies by 3CosAdd / 3CosMul, WEAT
// effect size with a permutation p-value, EvalRank). Included by
// latent/metrics.hpp; ClassificationReport is declared there.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

struct ClassificationReport;

// ---------------------------------------------------------------- ridge probe

/// A closed-form ridge linear probe (scikit-learn's RidgeClassifier, whose
/// predictions it reproduces): one-vs-all targets in {-1, +1}, centred rows
/// and targets, W = (X_c^T X_c + alpha I)^-1 X_c^T Y_c ([d x C]) and the bias
/// from the means; a row's label is the class of its largest score (the smaller
/// label on ties). `fit_cv` chooses alpha among `alphas` by k-fold
/// cross-validated accuracy (fold f holds the rows i with i % folds == f; the
/// smallest alpha among the best), then fits on all rows. The scatter of the
/// centred rows comes from crossprod_f64 and one eigen-decomposition per
/// training set serves every alpha. Errors: InvalidArgument (alpha <= 0, fewer
/// than 2 classes, folds < 2 or > rows, no alphas), EmptyInput,
/// DimensionMismatch, NonFiniteValue, NotFitted.
class RidgeProbe {
 public:
  explicit RidgeProbe(double alpha = 1.0);

  RidgeProbe& fit(const MatrixView<float>& x, const std::vector<std::int64_t>& labels);
  RidgeProbe& fit_cv(const MatrixView<float>& x, const std::vector<std::int64_t>& labels,
                     const std::vector<double>& alphas, std::int64_t folds = 5);
  std::vector<std::int64_t> predict(const MatrixView<float>& x) const;
  /// classification_report(labels, predict(x)).
  ClassificationReport score(const MatrixView<float>& x, const std::vector<std::int64_t>& labels) const;

  bool is_fitted() const { return weights_.size() != 0; }
  double alpha() const { return alpha_; }
  /// After fit_cv: the mean accuracy over the folds of each alpha, in the order given.
  const std::vector<double>& cv_accuracy() const { return cv_accuracy_; }
  const std::vector<std::int64_t>& classes() const { return classes_; }
  const RowMatrixd& weights() const { return weights_; }  ///< [d x C]
  const std::vector<double>& bias() const { return bias_; }

 private:
  double alpha_;
  std::vector<double> cv_accuracy_;
  std::vector<std::int64_t> classes_;
  RowMatrixd weights_;
  std::vector<double> bias_;
};

// ---------------------------------------------------------------- ConSE

/// ConSE (Norouzi et al. 2014), zero-shot labels from a classifier of seen
/// classes: row i of `probabilities` ([n x S], p(seen class s | x_i), >= 0)
/// gives f_i = sum over its `top` most probable seen classes of p_s e_s / sum
/// of those p_s (e_s the row s of seen_embeddings [S x d]; ties to the smaller
/// index); the label is the index of the row of unseen_embeddings [U x d] with
/// the largest cosine to f_i (the smaller index on ties). Throws EmptyInput,
/// DimensionMismatch, NonFiniteValue, InvalidArgument (a negative probability,
/// a row whose top probabilities sum to 0, top outside [1, S]),
/// NumericalError (a zero unseen embedding).
std::vector<std::int64_t> conse_predict(const MatrixView<double>& probabilities,
                                        const MatrixView<float>& seen_embeddings,
                                        const MatrixView<float>& unseen_embeddings, std::int64_t top = 10);

// ---------------------------------------------------------------- word-vector tests

enum class AnalogyMethod {
  add,  ///< 3CosAdd (Mikolov et al. 2013): cos(d, b) - cos(d, a) + cos(d, c)
  mul,  ///< 3CosMul (Levy & Goldberg 2014): c'(d, b) c'(d, c) / (c'(d, a) + 0.001), c' = (cos + 1) / 2
};
std::string_view to_string(AnalogyMethod method);
/// "3cosadd", "3cosmul"; InvalidArgument otherwise.
AnalogyMethod parse_analogy_method(std::string_view name, std::string_view argument = "method");

/// Answers "a is to b as c is to ?" for each row (a, b, c) of `questions`
/// ([q x 3] ids into the rows of `vectors`, [V x d]): the id, other than a, b
/// and c, of the best score of `method` (the smaller id on ties). Cosines
/// through the GEMM path in blocks of questions. Throws EmptyInput,
/// NonFiniteValue, NumericalError (a zero vector), InvalidArgument (an id out of
/// range, questions not 3 columns, fewer than 4 vectors).
std::vector<std::int64_t> solve_analogies(const MatrixView<float>& vectors, const IdMatrix& questions,
                                          AnalogyMethod method = AnalogyMethod::add, const Parallel& parallel = {});

/// WEAT (Caliskan et al. 2017) of target sets X, Y and attribute sets A, B
/// (rows of one space): s(w) = mean_a cos(w, a) - mean_b cos(w, b); the
/// statistic sum_X s - sum_Y s; the effect size (mean_X s - mean_Y s) / sd of s
/// over X and Y together (divisor n - 1); the one-sided p-value, the share of
/// the partitions of X u Y into sets of |X| and |Y| rows whose statistic
/// exceeds the observed one: all of them when there are at most `permutations`
/// (`exact`), otherwise `permutations` partitions drawn from `seed`.
struct WeatResult {
  double effect_size = 0;
  double statistic = 0;
  double p_value = 0;
  std::int64_t partitions = 0;  ///< how many the p-value counts over
  bool exact = false;
};
/// Throws EmptyInput, DimensionMismatch (the four sets' dims), NonFiniteValue,
/// NumericalError (a zero row, or all s equal), InvalidArgument (permutations < 1).
WeatResult weat(const MatrixView<float>& x, const MatrixView<float>& y, const MatrixView<float>& a,
                const MatrixView<float>& b, std::int64_t permutations = 10000, std::uint64_t seed = 0);

/// EvalRank (Wang et al. 2022): for each positive pair (i, j) (rows of `pairs`,
/// [p x 2] ids into `vectors`), rank_ij = 1 + the number of rows k other than i
/// and j with cos(v_i, v_k) > cos(v_i, v_j); mrr = mean 1 / rank, hits1 and
/// hits3 the shares of ranks <= 1 and <= 3. Throws EmptyInput, NonFiniteValue,
/// NumericalError (a zero vector), InvalidArgument (an id out of range, i = j,
/// pairs not 2 columns).
struct EvalRankScores {
  double mrr = 0, hits1 = 0, hits3 = 0;
  std::int64_t pairs = 0;
};
EvalRankScores evalrank(const MatrixView<float>& vectors, const IdMatrix& pairs, const Parallel& parallel = {});

}  // namespace latent
