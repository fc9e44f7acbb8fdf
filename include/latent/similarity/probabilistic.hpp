// latent/similarity/probabilistic.hpp - probabilistic embeddings: each row is a
// distribution, a diagonal Gaussian N(mu, diag(sigma^2)) (Hedged Instance
// Embedding, PCME, ProbVLM, multivariate retrieval) or a von Mises-Fisher
// distribution vMF(mu, kappa) on the unit sphere; divergences and distances
// between them, and exact nearest neighbours under KL through the KL -> MIPS
// reduction.
//
// Every pairwise function returns a [n_queries x n_base] matrix in double (the
// sums mix logarithms and ratios; the inputs may be float or double), computed
// with each dimension's term in double, summed in dimension order, in parallel
// over query rows (bitwise independent of the thread count). Errors name the
// argument: EmptyInput, DimensionMismatch (the two sets' dims), NonFiniteValue,
// InvalidArgument (a variance or kappa <= 0, a zero mean direction, options out
// of range), InvalidK.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"
#include "latent/similarity/search.hpp"

namespace latent {

/// Diagonal-Gaussian embeddings: row i is N(mean_i, diag(variance_i)).
template <class T>
class GaussianEmbedding {
 public:
  /// mean and variance [rows x dim], the same shape (DimensionMismatch), not
  /// empty, finite, every variance > 0 (InvalidArgument naming row and column).
  GaussianEmbedding(RowMatrix<T> mean, RowMatrix<T> variance);

  /// From log-variances, as PCME / ProbVLM heads output them: variance =
  /// exp(log_variance), NumericalError when that leaves T's range (0 or Inf).
  static GaussianEmbedding from_log_variance(RowMatrix<T> mean, const MatrixView<T>& log_variance);

  std::int64_t rows() const { return mean_.rows(); }
  std::int64_t dim() const { return mean_.cols(); }
  const RowMatrix<T>& mean() const { return mean_; }
  const RowMatrix<T>& variance() const { return variance_; }

 private:
  RowMatrix<T> mean_, variance_;
};

/// von Mises-Fisher embeddings on the unit sphere S^(dim-1): row i has density
/// C_d(kappa_i) exp(kappa_i <mu_i, x>).
template <class T>
class VmfEmbedding {
 public:
  /// mean_direction [rows x dim] (each row scaled to unit norm; a zero row is
  /// InvalidArgument), kappa one concentration > 0 per row; dim >= 2.
  VmfEmbedding(RowMatrix<T> mean_direction, std::vector<T> kappa);

  std::int64_t rows() const { return mean_direction_.rows(); }
  std::int64_t dim() const { return mean_direction_.cols(); }
  const RowMatrix<T>& mean_direction() const { return mean_direction_; }
  const std::vector<T>& kappa() const { return kappa_; }

 private:
  RowMatrix<T> mean_direction_;
  std::vector<T> kappa_;
};

extern template class GaussianEmbedding<float>;
extern template class GaussianEmbedding<double>;
extern template class VmfEmbedding<float>;
extern template class VmfEmbedding<double>;

/// Which KL divergence between a query q and a base row b.
enum class KlDirection {
  forward,    ///< KL(q || b) (the multivariate retrieval score, negated)
  reverse,    ///< KL(b || q)
  symmetric,  ///< KL(q || b) + KL(b || q) (Jeffreys' divergence)
};

/// "forward", "reverse", "symmetric"; parse throws InvalidArgument naming `argument`.
std::string_view to_string(KlDirection direction);
KlDirection parse_kl_direction(std::string_view name, std::string_view argument = "direction");

/// KL(p || q) = 1/2 sum_i [log(s_q,i / s_p,i) + (s_p,i + (mu_p,i - mu_q,i)^2) / s_q,i - 1]
/// (s = sigma^2), each dimension's term computed as 1/2 [(r - 1) - log1p(r - 1) +
/// delta^2 / s_q] with r = s_p / s_q, clamped at 0: KL >= 0, and exactly 0 for
/// equal Gaussians.
template <class T>
RowMatrixd kl_divergence(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base,
                         KlDirection direction = KlDirection::forward, const Parallel& parallel = {});

/// 2-Wasserstein distance W2 = sqrt(||mu_p - mu_q||^2 + ||sigma_p - sigma_q||^2)
/// (not squared; of point masses, the l2 distance).
template <class T>
RowMatrixd wasserstein2_distance(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base,
                                 const Parallel& parallel = {});

/// Bhattacharyya distance sum_i [(mu_p,i - mu_q,i)^2 / (4 (s_p,i + s_q,i)) +
/// 1/2 log((s_p,i + s_q,i) / (2 sqrt(s_p,i s_q,i)))] (each log term >= 0).
template <class T>
RowMatrixd bhattacharyya_distance(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base,
                                  const Parallel& parallel = {});

/// E ||z_p - z_q||^2 = ||mu_p - mu_q||^2 + sum s_p + sum s_q for independent draws.
template <class T>
RowMatrixd expected_squared_distance(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base,
                                     const Parallel& parallel = {});

/// Hedged Instance Embedding's match probability p(m | q, b) = E sigmoid(-a ||z_q
/// - z_b|| + b), estimated over samples x samples pairs of draws z = mu + sigma eps.
struct MatchProbabilityOptions {
  double scale = 1.0;  ///< a > 0
  double shift = 0.0;  ///< b
  int samples = 8;     ///< draws per row, J in 1..1024
  std::uint64_t seed = 0;
};

/// Monte-Carlo match probabilities [n_queries x n_base]. The draws of each row
/// come from its own seeded stream (SplitMix64 and Box-Muller, fixed by the seed,
/// the side and the row: the same on every platform and thread count). Standard
/// error about 0.5 / J; with zero variances the exact sigmoid. Cost O(m n J^2 d).
template <class T>
RowMatrixd match_probability(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base,
                             const MatchProbabilityOptions& options = {}, const Parallel& parallel = {});

/// The k base rows of smallest KL divergence (of `direction`) to each query, exact
/// (ties to the smaller id); scores are the divergences as float, ascending, and
/// the graph's metric reads Metric::l2 (a distance: smaller is nearer).
///
/// The KL -> MIPS reduction: forward KL(q || b) = <[1, mu_q^2 + s_q, mu_q], [1/2
/// sum(log s_b + mu_b^2 / s_b), 1/(2 s_b), -mu_b / s_b]> + c(q) with c(q) = 1/2
/// sum(-log s_q - 1); reverse KL(b || q) = <[1, 1/(2 s_q), -mu_q / s_q], [-1/2 sum
/// log s_b, s_b + mu_b^2, mu_b]> + c'(q); symmetric concatenates both. c(q) does not
/// change a query's order, so the smallest KL is the largest inner product with the
/// query's row negated: one search on the double GEMM path (dimension 2 dim + 1,
/// 4 dim + 1 symmetric) with 2k + 16 candidates, re-scored with the direct form and
/// certified: the k-th candidate must beat every row left out by more than the
/// rounding bound of the inner products, else the query is scanned against every
/// base row. Memory: both sets as double rows of the reduced dimension.
template <class T>
KnnGraph kl_knn(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base, std::int64_t k,
                KlDirection direction = KlDirection::forward, const SearchOptions& options = {});

/// The KL kNN graph of `base`: each row's k nearest other rows (1 <= k <= rows - 1).
template <class T>
KnnGraph kl_knn_graph(const GaussianEmbedding<T>& base, std::int64_t k, KlDirection direction = KlDirection::forward,
                      const SearchOptions& options = {});

/// log I_nu(x) of the modified Bessel function of the first kind, nu >= 0, x >= 0
/// (-Inf at x = 0 for nu > 0), from its power series summed outward from the
/// largest term in log space: every term positive, no overflow for any order or
/// argument, relative error ~1e-14. Cost O(sqrt(x) + 1) terms.
double log_bessel_i(double nu, double x);

/// log C_d(kappa) of the vMF normaliser on S^(d-1): (d/2 - 1) log kappa - (d/2)
/// log(2 pi) - log I_(d/2-1)(kappa). dim >= 2, kappa > 0.
double vmf_log_normalizer(std::int64_t dim, double kappa);

/// A_d(kappa) = I_(d/2)(kappa) / I_(d/2-1)(kappa) = E <mu, x>, the mean resultant
/// length (expected cosine of a draw to the mean direction).
double vmf_mean_resultant_length(std::int64_t dim, double kappa);

/// KL(vMF(mu_p, kappa_p) || vMF(mu_q, kappa_q)) = log C_d(kappa_p) - log C_d(kappa_q)
/// + A_d(kappa_p) (kappa_p - kappa_q <mu_p, mu_q>), [n_queries x n_base].
template <class T>
RowMatrixd vmf_kl_divergence(const VmfEmbedding<T>& queries, const VmfEmbedding<T>& base,
                             const Parallel& parallel = {});

}  // namespace latent
