// latent/whitening.hpp - post-processing of an embedding space: streaming moments,
// PCA (BERT) and ZCA whitening with shrinkage, all-but-the-top, f-norm, z-scores
// and centering, and the isotropy measures that say whether any of it is needed.
//
// Numerical policy: every statistic (means, covariances, eigen-decompositions,
// rank transforms) is computed in double, whatever the input type; the covariance
// comes from the kernel layer's crossprod_f64 (each float product exact in double,
// one fused multiply-add chain per entry, independent of the thread count).
// Eigen-decompositions use Eigen::SelfAdjointEigenSolver; eigenvalues are sorted
// descending and every eigenvector is given a fixed sign (its entry of largest
// magnitude is positive), so a fitted model is reproducible. Eigenvalues below
// `epsilon * largest` are floored to that value (rank-deficient inputs, n <= d or
// constant columns, give large but finite scales, never NaN); the fitted state
// reports how many were floored. Transforms of float rows run in float through
// the kernel layer's GEMM path after centering in float; double rows use Eigen.
//
// Conventions: the covariance is 1/n (WhiteningBERT's convention) unless
// `CovarianceConvention::sample` (1/(n-1), numpy's np.cov) is chosen; it only
// rescales eigenvalues (and so W by sqrt((n-1)/n)).
//
// Every fitted object follows fit / partial_fit / transform / fit_transform and
// save / load (a ModelFile of core/io.hpp), throws NotFitted before it is fitted,
// and is safe to use from several threads once fitted (const methods only read).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

class ModelWriter;
class ModelReader;

/// 1/n (`population`) or 1/(n-1) (`sample`) covariances.
enum class CovarianceConvention { population, sample };

/// "population", "sample"; the parser throws InvalidArgument naming `argument`
/// and the accepted names.
std::string_view to_string(CovarianceConvention convention);
CovarianceConvention parse_covariance_convention(std::string_view name, std::string_view argument = "covariance");

// ---------------------------------------------------------------- moments

/// Mergeable first and second moments of a stream of rows (Chan, Golub and
/// LeVeque's pairwise update): count, mean, the centred cross-product matrix
/// M2 = sum (x - mean)(x - mean)^T (or its diagonal only), and, when asked, the
/// fourth-order sums the Ledoit-Wolf shrinkage needs. A full-covariance batch is
/// read once: its rows are shifted by the mean of its first 256 rows, crossprod_f64
/// returns the shifted cross-products and column sums together, and the exact
/// correction M2 = S - n delta delta^T follows (delta = mean - shift is small, so
/// nothing cancels). The diagonal and fourth-order modes take two passes (mean,
/// then centred sums). Batches are merged, so adding the rows in 1 or in 100
/// batches gives the same moments up to rounding (~1e-15 relative). With
/// `center = false` the moments are taken about 0 (mean stays 0).
/// Memory: d^2 doubles (full) or d (diagonal). Not thread-safe for writing.
class MomentAccumulator {
 public:
  explicit MomentAccumulator(bool center = true, bool full_covariance = true, bool fourth_order = false);

  /// Adds the rows of `rows` ([n x d]; the first call fixes d). Throws
  /// DimensionMismatch when d changes, NonFiniteValue on NaN or Inf. n = 0 is a no-op.
  /// Cost: n d (d + 1) flops through crossprod_f64 (full) or 3 n d (diagonal).
  void add(const MatrixView<float>& rows, const Parallel& parallel = {});
  void add(const MatrixView<double>& rows, const Parallel& parallel = {});
  /// Adds everything `other` has seen (same d and mode, else DimensionMismatch /
  /// InvalidArgument).
  void merge(const MomentAccumulator& other);

  std::int64_t count() const { return count_; }
  std::int64_t dim() const { return dim_; }
  bool centered() const { return center_; }
  bool full() const { return full_; }
  bool fourth_order() const { return fourth_order_; }
  /// Column means ([d]; zeros when not centering).
  const std::vector<double>& mean() const { return mean_; }
  /// M2 / n or M2 / (n - 1) ([d x d]). Throws InvalidArgument when the
  /// accumulator keeps only the diagonal, EmptyInput with fewer than 2 rows.
  RowMatrixd covariance(CovarianceConvention convention = CovarianceConvention::population) const;
  /// The diagonal of the covariance ([d]); throws EmptyInput with fewer than 2 rows.
  std::vector<double> variances(CovarianceConvention convention = CovarianceConvention::population) const;
  /// The Ledoit-Wolf shrinkage intensity in [0, 1] (the estimator of
  /// scikit-learn's `ledoit_wolf_shrinkage`, on the 1/n covariance). Needs the
  /// full and fourth-order modes (InvalidArgument otherwise).
  double ledoit_wolf_shrinkage() const;

  /// Stores the moments as fields `prefix`... of a model file, and reads them back
  /// (IoError when they are inconsistent), so a saved model can keep fitting.
  void write(ModelWriter& writer, const std::string& prefix) const;
  static MomentAccumulator read(const ModelReader& reader, const std::string& prefix);
  /// The whole state as a flat list of doubles, and back, for sending moments
  /// between processes (latent::mpi merges them across ranks). from_doubles
  /// throws InvalidArgument on a list that to_doubles could not have written.
  std::vector<double> to_doubles() const;
  static MomentAccumulator from_doubles(const std::vector<double>& values);

 private:
  template <class T>
  void add_rows(const MatrixView<T>& rows, const Parallel& parallel);
  template <class T>
  void add_in_one_pass(const MatrixView<T>& rows, const Parallel& parallel, MomentAccumulator& batch);

  bool center_ = true;
  bool full_ = true;
  bool fourth_order_ = false;
  std::int64_t count_ = 0;
  std::int64_t dim_ = 0;
  std::vector<double> mean_;
  RowMatrixd m2_;                // full mode
  std::vector<double> m2_diag_;  // diagonal mode
  double quartic_ = 0;           // sum |x - mean|^4
  std::vector<double> cubic_;    // sum |x - mean|^2 (x - mean)
};

// ---------------------------------------------------------------- spectra

/// Eigenvalues (descending) and eigenvectors (columns, largest-magnitude entry
/// positive) of a symmetric matrix.
struct Spectrum {
  std::vector<double> values;
  RowMatrixd vectors;
};

/// Decomposes a symmetric [d x d] matrix (Eigen::SelfAdjointEigenSolver, O(d^3)).
/// Throws InvalidArgument (not square), NonFiniteValue, NumericalError (no convergence).
Spectrum symmetric_spectrum(const RowMatrixd& symmetric);

// ---------------------------------------------------------------- whitening

enum class WhiteningMethod {
  pca,  ///< BERT-whitening: y = (x - mu) U diag(1 / sqrt(lambda)), optionally the top `dim` components
  zca,  ///< y = (x - mu) U diag(1 / sqrt(lambda)) U^T (stays in the input basis)
  /// PCA without the whitening scale: y = (x - mu) U, the principal components
  /// (scikit-learn's PCA.transform up to signs), optionally the top `dim`
  projection,
  /// Cholesky whitening: y = (x - mu) L^-T with Sigma = L L^T (Sigma rebuilt
  /// from its floored eigenvalues), the lower-triangular whitening: output
  /// coordinate j depends on input coordinates 0..j only (Kessy et al. 2018)
  cholesky,
};

/// Covariance regularisation before the decomposition (both methods).
enum class Shrinkage {
  none,
  ridge,        ///< lambda + alpha
  ledoit_wolf,  ///< (1 - s) Sigma + s (trace(Sigma) / d) I, s from MomentAccumulator::ledoit_wolf_shrinkage
};

/// "pca", "zca", "projection" (WhiteningMethod) and "none", "ridge", "ledoit-wolf" (Shrinkage);
/// the parsers throw InvalidArgument naming `argument` and the accepted names.
std::string_view to_string(WhiteningMethod method);
WhiteningMethod parse_whitening_method(std::string_view name, std::string_view argument = "method");
std::string_view to_string(Shrinkage shrinkage);
Shrinkage parse_shrinkage(std::string_view name, std::string_view argument = "shrinkage");

struct WhiteningOptions {
  WhiteningMethod method = WhiteningMethod::pca;
  std::int64_t dim = 0;  ///< pca, projection: keep the top `dim` components (0: all d); must be <= d
  /// pca, projection: instead of `dim`, keep the fewest top components whose
  /// share of the total variance exceeds `variance` (the eigenvalues of the
  /// regularised covariance; scikit-learn's PCA(n_components=0.95) rule; 1 keeps
  /// all). 0: unused. In (0, 1]; excludes dim > 0.
  double variance = 0.0;
  bool center = true;      ///< subtract the mean (false: moments about 0)
  bool normalize = false;  ///< L2-normalise the output rows (rows of norm 0 stay 0)
  CovarianceConvention covariance = CovarianceConvention::population;
  Shrinkage shrinkage = Shrinkage::none;
  double alpha = 0.0;     ///< ridge added to every eigenvalue (Shrinkage::ridge), >= 0
  double epsilon = 1e-9;  ///< eigenvalue floor, relative to the largest eigenvalue, in [0, 1)
  Parallel parallel;
};

/// PCA or ZCA whitening, fitted on rows of T (float or double); statistics in double.
/// Fitting costs n d (d + 1) flops (the covariance) + O(d^3) (the decomposition);
/// memory 3 d^2 doubles. transform costs 2 n d k flops.
template <class T>
class Whitening {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "latent::Whitening<T>: T must be float or double");

 public:
  /// Throws InvalidArgument on a negative dim or alpha, epsilon outside [0, 1),
  /// variance outside [0, 1], both dim and variance, or either with zca.
  explicit Whitening(const WhiteningOptions& options = {});

  /// Fits on `x` ([n x d], n >= 2). Throws EmptyInput (fewer than 2 rows),
  /// NonFiniteValue, InvalidArgument (dim > d), NumericalError (all variances 0).
  Whitening& fit(const MatrixView<T>& x);
  /// Fits on moments accumulated elsewhere, e.g. merged across processes: equal to
  /// fit(X) on the rows they saw, to ~1e-12. They must be of the kind new_moments()
  /// returns (InvalidArgument) and hold at least 2 rows (EmptyInput). A failed
  /// fit leaves the object as it was.
  Whitening& fit(const MomentAccumulator& moments);
  /// An empty accumulator of the kind fit(moments) takes (centring, covariance mode).
  MomentAccumulator new_moments() const;
  /// Adds a batch to the moments seen so far and refits (O(d^3) per call, so use
  /// large batches); after the batches of X it equals fit(X) to ~1e-12.
  Whitening& partial_fit(const MatrixView<T>& batch);
  /// [n x output_dim()] whitened rows. Throws NotFitted, DimensionMismatch, NonFiniteValue.
  RowMatrix<T> transform(const MatrixView<T>& x) const;
  RowMatrix<T> fit_transform(const MatrixView<T>& x);
  /// Maps whitened rows back: y W^+ + mu ([n x d]); exact for full-rank pca and
  /// zca (up to the floor), the projection onto the kept components for pca with
  /// dim < d. Throws InvalidArgument when the output was normalised.
  RowMatrix<T> inverse_transform(const MatrixView<T>& y) const;

  /// Saves the fitted model (kind "whitening"); throws NotFitted, IoError.
  void save(const std::string& path) const;
  /// Loads a model saved by save(); throws IoError on a corrupt or foreign file.
  static Whitening load(const std::string& path);

  bool is_fitted() const { return matrix_.size() != 0; }
  const WhiteningOptions& options() const { return options_; }
  std::int64_t n_samples() const { return n_samples_; }
  std::int64_t input_dim() const { return static_cast<std::int64_t>(mean_.size()); }
  std::int64_t output_dim() const { return matrix_.cols(); }
  /// The mean subtracted ([d]; zeros without centering).
  const std::vector<double>& mean() const { return mean_; }
  /// Eigenvalues of the (shrunk) covariance, descending, before the floor ([d]).
  const std::vector<double>& eigenvalues() const { return eigenvalues_; }
  /// Eigenvectors as columns ([d x d]), sign convention of the file comment.
  const RowMatrixd& eigenvectors() const { return eigenvectors_; }
  /// W: y = (x - mean) W ([d x output_dim]).
  const RowMatrixd& matrix() const { return matrix_; }
  /// The floor applied (epsilon x largest eigenvalue) and how many eigenvalues it raised.
  double eigenvalue_floor() const { return floor_; }
  std::int64_t n_floored() const { return n_floored_; }
  /// The shrinkage intensity used (Ledoit-Wolf), or 0.
  double shrinkage_intensity() const { return shrinkage_intensity_; }

 private:
  void refit();

  WhiteningOptions options_;
  MomentAccumulator moments_;
  std::int64_t n_samples_ = 0;
  std::vector<double> mean_;
  std::vector<double> eigenvalues_;
  RowMatrixd eigenvectors_;
  RowMatrixd matrix_;   // d x k
  RowMatrixd inverse_;  // k x d
  double floor_ = 0;
  std::int64_t n_floored_ = 0;
  double shrinkage_intensity_ = 0;
};

// Defined in the library for float and double only.
extern template class Whitening<float>;
extern template class Whitening<double>;

// ---------------------------------------------------------------- all-but-the-top

struct AllButTheTopOptions {
  std::int64_t components = 0;  ///< D directions removed (0: d / 100 rounded, at least 1), < d
  Parallel parallel;
};

/// Mu and Viswanath's post-processing: y = (x - mu) - sum_{i <= D} ((x - mu) . u_i) u_i
/// with u_i the top-D principal directions of the fitted rows. Fit as Whitening.
template <class T>
class AllButTheTop {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "latent::AllButTheTop<T>: T must be float or double");

 public:
  explicit AllButTheTop(const AllButTheTopOptions& options = {});
  /// Throws EmptyInput (< 2 rows), NonFiniteValue, InvalidArgument (components >= d).
  AllButTheTop& fit(const MatrixView<T>& x);
  /// Fits on moments accumulated elsewhere, e.g. merged across processes: equal to
  /// fit(X) on the rows they saw, to ~1e-12. They must be of the kind new_moments()
  /// returns (InvalidArgument) and hold at least 2 rows (EmptyInput). A failed
  /// fit leaves the object as it was.
  AllButTheTop& fit(const MomentAccumulator& moments);
  /// An empty accumulator of the kind fit(moments) takes (centring, covariance mode).
  MomentAccumulator new_moments() const;
  AllButTheTop& partial_fit(const MatrixView<T>& batch);
  /// [n x d]; throws NotFitted, DimensionMismatch, NonFiniteValue.
  RowMatrix<T> transform(const MatrixView<T>& x) const;
  RowMatrix<T> fit_transform(const MatrixView<T>& x);
  void save(const std::string& path) const;
  static AllButTheTop load(const std::string& path);

  bool is_fitted() const { return directions_.size() != 0; }
  const std::vector<double>& mean() const { return mean_; }
  /// The removed directions as columns ([d x D]).
  const RowMatrixd& directions() const { return directions_; }

 private:
  void refit();

  AllButTheTopOptions options_;
  MomentAccumulator moments_;
  std::vector<double> mean_;
  RowMatrixd directions_;
  RowMatrixd projector_;  // I - U_D U_D^T
};

// Defined in the library for float and double only.
extern template class AllButTheTop<float>;
extern template class AllButTheTop<double>;

// ---------------------------------------------------------------- z-scores, centering

/// x - mean, fitted on reference rows (any n >= 1).
template <class T>
class Centering {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "latent::Centering<T>: T must be float or double");

 public:
  Centering& fit(const MatrixView<T>& x);
  /// Fits on moments accumulated elsewhere, e.g. merged across processes: equal to
  /// fit(X) on the rows they saw, to ~1e-12. They must be of the kind new_moments()
  /// returns (InvalidArgument) and hold at least 1 rows (EmptyInput). A failed
  /// fit leaves the object as it was.
  Centering& fit(const MomentAccumulator& moments);
  /// An empty accumulator of the kind fit(moments) takes (centring, covariance mode).
  MomentAccumulator new_moments() const;
  Centering& partial_fit(const MatrixView<T>& batch);
  RowMatrix<T> transform(const MatrixView<T>& x) const;
  RowMatrix<T> fit_transform(const MatrixView<T>& x);
  RowMatrix<T> inverse_transform(const MatrixView<T>& y) const;
  void save(const std::string& path) const;
  static Centering load(const std::string& path);
  bool is_fitted() const { return !mean_.empty(); }
  const std::vector<double>& mean() const { return mean_; }

 private:
  MomentAccumulator moments_{true, false};
  std::vector<double> mean_;
};

// Defined in the library for float and double only.
extern template class Centering<float>;
extern template class Centering<double>;

/// (x - mean) / sd per column (sd with 1/n, scikit-learn's StandardScaler); a
/// column of sd 0 is only centred (scale 1). Needs n >= 2.
template <class T>
class Standardizer {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "latent::Standardizer<T>: T must be float or double");

 public:
  Standardizer& fit(const MatrixView<T>& x);
  /// Fits on moments accumulated elsewhere, e.g. merged across processes: equal to
  /// fit(X) on the rows they saw, to ~1e-12. They must be of the kind new_moments()
  /// returns (InvalidArgument) and hold at least 2 rows (EmptyInput). A failed
  /// fit leaves the object as it was.
  Standardizer& fit(const MomentAccumulator& moments);
  /// An empty accumulator of the kind fit(moments) takes (centring, covariance mode).
  MomentAccumulator new_moments() const;
  Standardizer& partial_fit(const MatrixView<T>& batch);
  RowMatrix<T> transform(const MatrixView<T>& x) const;
  RowMatrix<T> fit_transform(const MatrixView<T>& x);
  RowMatrix<T> inverse_transform(const MatrixView<T>& y) const;
  void save(const std::string& path) const;
  static Standardizer load(const std::string& path);
  bool is_fitted() const { return !mean_.empty(); }
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& scale() const { return scale_; }

 private:
  MomentAccumulator moments_{true, false};
  std::vector<double> mean_;
  std::vector<double> scale_;
};

// Defined in the library for float and double only.
extern template class Standardizer<float>;
extern template class Standardizer<double>;

// ---------------------------------------------------------------- f-norm

/// The f-norm of "Hubness Reduction Improves Sentence-BERT Semantic Spaces": each
/// column is mapped through its rank onto standard normal quantiles, then each
/// row is L2-normalised. fit() keeps the sorted reference values of every column
/// (d x n values of T); a value v then gets the fractional rank r(v): the mean
/// 1-based rank of its ties when v is a reference value, linear interpolation
/// between the neighbouring reference ranks otherwise, 0.5 below the smallest and
/// n + 0.5 above the largest; its score is Phi^-1(r / (n + 1)). So
/// fit_transform(X) = transform(X) and the ranks of X (ties averaged) are kept.
/// Rows whose scores are all 0 stay 0. fit_transform costs one sort per column,
/// O(n d log n), with the quantiles of tied ranks taken from a table of 2 n + 1
/// values; transform costs O(n d log n_ref) binary searches, plus one quantile
/// evaluation per value that falls between reference values.
template <class T>
class FNorm {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "latent::FNorm<T>: T must be float or double");

 public:
  explicit FNorm(const Parallel& parallel = {});
  /// Throws EmptyInput (< 2 rows), NonFiniteValue.
  FNorm& fit(const MatrixView<T>& x);
  /// [n x d]; throws NotFitted, DimensionMismatch, NonFiniteValue.
  RowMatrix<T> transform(const MatrixView<T>& x) const;
  RowMatrix<T> fit_transform(const MatrixView<T>& x);
  void save(const std::string& path) const;
  static FNorm load(const std::string& path);
  bool is_fitted() const { return reference_rows_ > 0; }

 private:
  Parallel parallel_;
  std::int64_t reference_rows_ = 0;
  std::int64_t dim_ = 0;
  void set_reference(std::vector<T> sorted, std::int64_t rows, std::int64_t dim);

  std::vector<T> sorted_;  // column j at [j * reference_rows_, (j + 1) * reference_rows_)
  // Phi^-1((m / 2) / (n + 1)) for m = 0 .. 2 n + 1: the scores of the half-integer
  // and integer ranks that reference values (and their ties) get.
  std::vector<double> rank_quantiles_;
};

// Defined in the library for float and double only.
extern template class FNorm<float>;
extern template class FNorm<double>;

/// Phi^-1(p), the standard normal quantile, for p in (0, 1), to ~1 ulp
/// (Acklam's rational approximation refined by one Halley step on erfc).
/// Throws InvalidArgument outside (0, 1).
double normal_quantile(double p);

// ---------------------------------------------------------------- isotropy

/// How isotropic a set of rows is (all in double).
struct IsotropyReport {
  std::int64_t rows = 0;
  std::int64_t dim = 0;
  /// Eigenvalues of the 1/n covariance (centred), descending, and their shares.
  std::vector<double> eigenvalues;
  std::vector<double> explained_variance_ratio;
  /// Components needed for 90 % and 99 % of the variance.
  std::int64_t components_90 = 0;
  std::int64_t components_99 = 0;
  /// Mean cosine similarity over all pairs i != j (anisotropy; 0 for isotropic data).
  double average_cosine = 0;
  /// Mu and Viswanath's I(W) = min_c Z(c) / max_c Z(c), Z(c) = sum_i exp(c . x_i),
  /// c over the eigenvectors u_j of X^T X and their negatives (so the value does
  /// not depend on eigenvector signs); 1 = isotropic. Rows are used as given.
  double partition_isotropy = 0;
  /// RankMe: exp of the entropy of the normalised singular values of X (rows as
  /// given, not centred); between 1 and min(n, d).
  double effective_rank = 0;
};

/// Measures `x` ([n x d], n >= 2): one covariance pass, one O(d^3)
/// decomposition, one n x d x d projection. Throws EmptyInput, NonFiniteValue,
/// InvalidArgument (a row of norm 0: its cosine is undefined).
IsotropyReport isotropy(const MatrixView<float>& x, const Parallel& parallel = {});
IsotropyReport isotropy(const MatrixView<double>& x, const Parallel& parallel = {});

/// Mean cosine over pairs i != j in O(n d): (|sum_i x_i / |x_i||^2 - n) / (n (n - 1)).
/// Throws EmptyInput (< 2 rows), InvalidArgument (a row of norm 0), NonFiniteValue.
double average_cosine(const MatrixView<float>& x);
double average_cosine(const MatrixView<double>& x);

}  // namespace latent
