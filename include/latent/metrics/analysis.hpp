// latent/metrics/analysis.hpp - how two representations compare and how one
// is shaped: minibatch CKA, canonical correlations with SVCCA and PWCCA, the
// matching of units across spaces, LiDAR, collapse diagnostics, matrix-based
// Renyi entropy, trajectory curvature, and the agreement of a clustering with
// labels (NMI, ARI, Hungarian accuracy) over the Hungarian method. Included by
// latent/metrics.hpp.
//
// Second moments come from the kernel layer's crossprod_f64 (per-ISA, threaded,
// the same for any thread count); everything after is d x d work in double.
#pragma once

#include <cstdint>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

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

// ---------------------------------------------------------------- entropy, curvature

/// Matrix-based Renyi alpha-entropy (Sanchez Giraldo et al. 2015; the prompt
/// entropy of "Layer by Layer", Skean et al. 2025): with K = Z Z^T the Gram
/// matrix of the rows and p_k = lambda_k / tr K its normalised eigenvalues,
/// S_alpha = log(sum_k p_k^alpha) / (1 - alpha), natural log; alpha = 1 is the
/// limit -sum p log p (von Neumann). With `normalize_rows` the rows are first
/// L2-normalised (the cosine kernel, every row weighing the same). Between 0
/// and log(min(n, d)); the eigenvalues come from the d x d matrix Z^T Z. Throws
/// EmptyInput, NonFiniteValue, InvalidArgument (alpha <= 0), NumericalError (all
/// rows 0, or a zero row under normalize_rows).
double renyi_entropy(const MatrixView<float>& x, double alpha = 1.0, bool normalize_rows = false);

/// Mean curvature of a trajectory of T >= 3 points (rows, in order; Hosseini &
/// Fedorenko 2023): the mean over k of the angle (radians, in [0, pi]) between
/// consecutive steps v_k = x_{k+1} - x_k and v_{k+1}; steps of length 0 are
/// skipped. 0 for a straight line. Throws EmptyInput, NonFiniteValue,
/// InvalidArgument (fewer than 3 rows, or fewer than 2 steps of length > 0).
double trajectory_curvature(const MatrixView<float>& x);

}  // namespace latent
