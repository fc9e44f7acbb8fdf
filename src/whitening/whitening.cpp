// PCA and ZCA whitening: fit, transform, save and load (see whitening.hpp for the
// numerical policy). Rows are projected through detail::project
// (kernels/row_transforms.hpp).
#include "latent/whitening.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include <Eigen/Cholesky>

#include "../core/row_norms.hpp"
#include "../core/validation.hpp"
#include "../kernels/row_transforms.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/core/names.hpp"
#include "whitening_detail.hpp"

namespace latent {

namespace {

using detail::check_rows;
using detail::inconsistent;
using detail::require_fitted;
using detail::require_moments_like;
using detail::require_shape;
using detail::write_view;

// The output width: all d components for zca; for pca and projection the top
// `dim`, or the fewest whose cumulative share of the eigenvalue sum exceeds
// `variance` (scikit-learn's rule), or all d.
std::int64_t kept_components(const WhiteningOptions& options, const std::vector<double>& eigenvalues) {
  const auto d = static_cast<std::int64_t>(eigenvalues.size());
  if (options.method == WhiteningMethod::zca || options.method == WhiteningMethod::cholesky) return d;
  if (options.dim > 0) return options.dim;
  if (options.variance <= 0 || options.variance >= 1) return d;
  double total = 0;
  for (const double value : eigenvalues) total += value;
  double running = 0;
  for (std::int64_t k = 0; k < d; ++k) {
    running += eigenvalues[static_cast<std::size_t>(k)];
    if (running / total > options.variance) return k + 1;
  }
  return d;
}

}  // namespace

// ---------------------------------------------------------------- whitening

template <class T>
Whitening<T>::Whitening(const WhiteningOptions& options)
    : options_(options), moments_(options.center, true, options.shrinkage == Shrinkage::ledoit_wolf) {
  const char* function = "Whitening";
  if (options.dim < 0) raise<InvalidArgument>(function, "dim", "is negative", "dim=" + std::to_string(options.dim));
  if (!(options.alpha >= 0) || !std::isfinite(options.alpha))
    raise<InvalidArgument>(function, "alpha", "must be finite and >= 0", "alpha=" + std::to_string(options.alpha));
  if (!(options.epsilon >= 0 && options.epsilon < 1))
    raise<InvalidArgument>(function, "epsilon", "must be in [0, 1)", "epsilon=" + std::to_string(options.epsilon));
  if (!(options.variance >= 0 && options.variance <= 1))
    raise<InvalidArgument>(function, "variance", "must be in (0, 1] (0: unused)",
                           "variance=" + std::to_string(options.variance));
  if (options.variance > 0 && options.dim > 0)
    raise<InvalidArgument>(function, "variance", "and dim both choose the output dimension: give one");
  if ((options.method == WhiteningMethod::zca || options.method == WhiteningMethod::cholesky) &&
      (options.variance > 0 || options.dim > 0))
    raise<InvalidArgument>(function, options.dim > 0 ? "dim" : "variance",
                           "applies to pca and projection (zca and cholesky keep every component)");
}

template <class T>
Whitening<T>& Whitening<T>::fit(const MatrixView<T>& x) {
  if (x.rows < 2) raise<EmptyInput>("Whitening::fit", "x", "needs at least 2 rows", "n=" + std::to_string(x.rows));
  if (options_.dim > x.cols)
    raise<InvalidArgument>("Whitening::fit", "dim", "exceeds the columns of x",
                           "dim=" + std::to_string(options_.dim) + ", cols=" + std::to_string(x.cols));
  MomentAccumulator fresh = new_moments();
  fresh.add(x, options_.parallel);
  return fit(fresh);
}

template <class T>
MomentAccumulator Whitening<T>::new_moments() const {
  return MomentAccumulator(options_.center, true, options_.shrinkage == Shrinkage::ledoit_wolf);
}

template <class T>
Whitening<T>& Whitening<T>::fit(const MomentAccumulator& moments) {
  require_moments_like("Whitening::fit", moments, new_moments(), 2);
  if (options_.dim > moments.dim())
    raise<InvalidArgument>("Whitening::fit", "dim", "exceeds the dimension of the moments",
                           "dim=" + std::to_string(options_.dim) + ", moments dim=" + std::to_string(moments.dim()));
  MomentAccumulator previous = std::exchange(moments_, moments);
  try {
    refit();
  } catch (...) {
    moments_ = std::move(previous);  // a failed fit leaves the object as it was
    throw;
  }
  return *this;
}

template <class T>
Whitening<T>& Whitening<T>::partial_fit(const MatrixView<T>& batch) {
  if (options_.dim > batch.cols)
    raise<InvalidArgument>("Whitening::partial_fit", "dim", "exceeds the columns of batch",
                           "dim=" + std::to_string(options_.dim) + ", cols=" + std::to_string(batch.cols));
  MomentAccumulator updated = moments_;
  updated.add(batch, options_.parallel);
  if (updated.count() < 2) {  // keep the rows, wait for more before fitting
    moments_ = std::move(updated);
    return *this;
  }
  std::swap(moments_, updated);
  try {
    refit();
  } catch (...) {
    std::swap(moments_, updated);  // a failed refit leaves the object as it was
    throw;
  }
  return *this;
}

template <class T>
void Whitening<T>::refit() {
  const char* function = "Whitening::fit";
  const std::int64_t d = moments_.dim();
  RowMatrixd sigma = moments_.covariance(options_.covariance);
  double intensity = 0;
  if (options_.shrinkage == Shrinkage::ledoit_wolf) {
    intensity = moments_.ledoit_wolf_shrinkage();
    const double mu = sigma.trace() / static_cast<double>(d);
    sigma *= 1 - intensity;
    sigma.diagonal().array() += intensity * mu;
  }
  Spectrum spectrum = symmetric_spectrum(sigma);
  if (options_.shrinkage == Shrinkage::ridge)
    for (double& value : spectrum.values) value += options_.alpha;
  const double largest = spectrum.values.front();
  if (!(largest > 0)) raise<NumericalError>(function, "x", "has zero variance in every direction");
  const double floor = options_.epsilon * largest;
  std::int64_t floored = 0;
  Eigen::VectorXd used(d);
  for (std::int64_t c = 0; c < d; ++c) {
    const double value = spectrum.values[static_cast<std::size_t>(c)];
    if (value < floor) ++floored;
    used(c) = std::max(value, floor);
    if (!(used(c) > 0))
      raise<NumericalError>(function, "epsilon", "is 0 and the covariance is singular (use epsilon > 0)",
                            "eigenvalue " + std::to_string(c) + " = " + std::to_string(value));
  }
  const std::int64_t k = kept_components(options_, spectrum.values);
  const RowMatrixd& u = spectrum.vectors;
  const Eigen::ArrayXd root = used.array().sqrt();
  if (options_.method == WhiteningMethod::pca) {
    matrix_ = u.leftCols(k) * root.head(k).inverse().matrix().asDiagonal();
    inverse_ = root.head(k).matrix().asDiagonal() * u.leftCols(k).transpose();
  } else if (options_.method == WhiteningMethod::projection) {
    matrix_ = u.leftCols(k);
    inverse_ = u.leftCols(k).transpose();
  } else if (options_.method == WhiteningMethod::cholesky) {
    // Sigma = L L^T from the floored spectrum, so a singular covariance factors too.
    RowMatrixd rebuilt = u * used.asDiagonal() * u.transpose();
    rebuilt = (rebuilt + rebuilt.transpose()) * 0.5;
    const Eigen::LLT<Eigen::MatrixXd> factor(rebuilt);
    if (factor.info() != Eigen::Success)
      raise<NumericalError>(function, "x", "has a covariance the Cholesky factorisation rejects");
    const Eigen::MatrixXd lower = factor.matrixL();
    // W = L^-T (upper triangular), and back = L^T.
    matrix_ = lower.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(d, d)).transpose();
    inverse_ = lower.transpose();
  } else {
    RowMatrixd w = u * root.inverse().matrix().asDiagonal() * u.transpose();
    RowMatrixd back = u * root.matrix().asDiagonal() * u.transpose();
    matrix_ = (w + w.transpose()) * 0.5;  // exactly symmetric
    inverse_ = (back + back.transpose()) * 0.5;
  }
  n_samples_ = moments_.count();
  mean_ = moments_.mean();
  eigenvalues_ = std::move(spectrum.values);
  eigenvectors_ = std::move(spectrum.vectors);
  floor_ = floor;
  n_floored_ = floored;
  shrinkage_intensity_ = intensity;
}

template <class T>
RowMatrix<T> Whitening<T>::transform(const MatrixView<T>& x) const {
  require_fitted("Whitening::transform", is_fitted());
  check_rows("Whitening::transform", "x", x, input_dim());
  RowMatrix<T> out = detail::project(x, mean_, matrix_, options_.parallel);
  if (options_.normalize) detail::normalize_rows(out, options_.parallel);
  return out;
}

template <class T>
RowMatrix<T> Whitening<T>::fit_transform(const MatrixView<T>& x) {
  return fit(x).transform(x);
}

template <class T>
RowMatrix<T> Whitening<T>::inverse_transform(const MatrixView<T>& y) const {
  const char* function = "Whitening::inverse_transform";
  require_fitted(function, is_fitted());
  if (options_.normalize) raise<InvalidArgument>(function, "y", "was L2-normalised: the scale is lost");
  require_same_dim(function, "y", y.cols, "the whitened dimension", output_dim());
  require_finite(function, "y", y);
  RowMatrix<T> out =
      detail::project(y, std::vector<double>(static_cast<std::size_t>(y.cols), 0.0), inverse_, options_.parallel);
  for (std::int64_t j = 0; j < out.cols(); ++j)
    out.col(j).array() += static_cast<T>(mean_[static_cast<std::size_t>(j)]);
  return out;
}

namespace {
constexpr std::uint32_t kWhiteningVersion = 1;
constexpr NamedValue<WhiteningMethod> kMethodNames[] = {{"pca", WhiteningMethod::pca},
                                                        {"zca", WhiteningMethod::zca},
                                                        {"projection", WhiteningMethod::projection},
                                                        {"cholesky", WhiteningMethod::cholesky}};
constexpr NamedValue<Shrinkage> kShrinkageNames[] = {
    {"none", Shrinkage::none}, {"ridge", Shrinkage::ridge}, {"ledoit-wolf", Shrinkage::ledoit_wolf}};
constexpr NamedValue<CovarianceConvention> kCovarianceNames[] = {{"population", CovarianceConvention::population},
                                                                 {"sample", CovarianceConvention::sample}};
}  // namespace

std::string_view to_string(WhiteningMethod method) { return name_of(kMethodNames, method); }
WhiteningMethod parse_whitening_method(std::string_view name, std::string_view argument) {
  return parse_name(kMethodNames, name, "parse_whitening_method", argument, "whitening method");
}
std::string_view to_string(Shrinkage shrinkage) { return name_of(kShrinkageNames, shrinkage); }
Shrinkage parse_shrinkage(std::string_view name, std::string_view argument) {
  return parse_name(kShrinkageNames, name, "parse_shrinkage", argument, "shrinkage");
}
std::string_view to_string(CovarianceConvention convention) { return name_of(kCovarianceNames, convention); }
CovarianceConvention parse_covariance_convention(std::string_view name, std::string_view argument) {
  return parse_name(kCovarianceNames, name, "parse_covariance_convention", argument, "covariance convention");
}

template <class T>
void Whitening<T>::save(const std::string& path) const {
  require_fitted("Whitening::save", is_fitted());
  ModelWriter writer("whitening", kWhiteningVersion);
  writer.put("method", std::string(to_string(options_.method)));
  writer.put("dim", options_.dim);
  writer.put("variance", options_.variance);
  writer.put("center", std::int64_t{options_.center});
  writer.put("normalize", std::int64_t{options_.normalize});
  writer.put("covariance", std::string(to_string(options_.covariance)));
  writer.put("shrinkage", std::string(to_string(options_.shrinkage)));
  writer.put("alpha", options_.alpha);
  writer.put("epsilon", options_.epsilon);
  writer.put("eigenvalues", eigenvalues_);
  write_view(writer, "eigenvectors", eigenvectors_);
  write_view(writer, "matrix", matrix_);
  write_view(writer, "inverse", inverse_);
  writer.put("floor", floor_);
  writer.put("n_floored", n_floored_);
  writer.put("shrinkage_intensity", shrinkage_intensity_);
  moments_.write(writer, "moments.");
  writer.save(path);
}

template <class T>
Whitening<T> Whitening<T>::load(const std::string& path) {
  const ModelReader reader(path, "whitening", kWhiteningVersion);
  WhiteningOptions options;
  try {
    options.method = parse_whitening_method(reader.get_string("method"));
    options.covariance = parse_covariance_convention(reader.get_string("covariance"));
    options.shrinkage = parse_shrinkage(reader.get_string("shrinkage"));
  } catch (const InvalidArgument& e) {
    inconsistent(reader, e.what());
  }
  options.dim = reader.get_int("dim");
  options.variance = reader.has("variance") ? reader.get_double("variance") : 0.0;  // absent from older files
  options.center = reader.get_int("center") != 0;
  options.normalize = reader.get_int("normalize") != 0;
  options.alpha = reader.get_double("alpha");
  options.epsilon = reader.get_double("epsilon");
  Whitening out = [&] {
    try {
      return Whitening(options);
    } catch (const InvalidArgument& e) {
      inconsistent(reader, e.what());
    }
  }();
  out.moments_ = MomentAccumulator::read(reader, "moments.");
  const std::int64_t d = out.moments_.dim();
  if (d < 1 || out.moments_.count() < 2 || out.moments_.centered() != options.center || !out.moments_.full() ||
      out.moments_.fourth_order() != (options.shrinkage == Shrinkage::ledoit_wolf) || options.dim > d)
    inconsistent(reader, "moments");
  out.n_samples_ = out.moments_.count();
  out.mean_ = out.moments_.mean();
  out.eigenvalues_ = reader.get_doubles("eigenvalues");
  if (out.eigenvalues_.size() != static_cast<std::size_t>(d)) inconsistent(reader, "eigenvalues");
  const std::int64_t k = kept_components(options, out.eigenvalues_);
  out.eigenvectors_ = reader.get_matrix("eigenvectors");
  require_shape(reader, "eigenvectors", out.eigenvectors_, d, d);
  out.matrix_ = reader.get_matrix("matrix");
  require_shape(reader, "matrix", out.matrix_, d, k);
  out.inverse_ = reader.get_matrix("inverse");
  require_shape(reader, "inverse", out.inverse_, k, d);
  out.floor_ = reader.get_double("floor");
  out.n_floored_ = reader.get_int("n_floored");
  out.shrinkage_intensity_ = reader.get_double("shrinkage_intensity");
  return out;
}

template class Whitening<float>;
template class Whitening<double>;

}  // namespace latent
