// Latent translation (see relative.hpp). Every fit runs in double: Procrustes is
// the SVD (BDCSVD) of the cross-covariance of the centred, Frobenius-scaled rows
// (scipy's orthogonal_procrustes on those rows); least squares is numpy's lstsq (minimum-norm
// solution, singular values below rcond x largest dropped) through BDCSVD; ridge
// solves the normal equations with LDLT. The result is always one affine map
// y = (x - input_shift) W + output_shift, applied through the kernel layer's GEMM
// for float rows and Eigen for double rows.
#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <string>

#include "../core/linalg.hpp"
#include "../core/validation.hpp"
#include "../kernels/row_transforms.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/core/names.hpp"
#include "latent/kernels/batched.hpp"
#include "latent/relative.hpp"
#include "relative_detail.hpp"

namespace latent {
namespace {

constexpr std::uint32_t kTranslationVersion = 1;
constexpr std::uint32_t kLinearMapVersion = 1;
constexpr NamedValue<TranslationMethod> kMethodNames[] = {
    {"procrustes", TranslationMethod::procrustes},
    {"lstsq", TranslationMethod::lstsq},
    {"affine", TranslationMethod::affine},
    {"ridge", TranslationMethod::ridge},
    {"orthogonal-lstsq", TranslationMethod::orthogonal_lstsq},
};

std::vector<double> to_vector(const Eigen::RowVectorXd& v) {
  return std::vector<double>(v.data(), v.data() + v.size());
}

Eigen::RowVectorXd to_row(const std::vector<double>& v) {
  return Eigen::Map<const Eigen::RowVectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

// The map fitted on the (scaled) rows p [n x d_s] and q [n x d_t]:
// y = (x - in) w + out, with the orthogonal factor and its singular values for
// procrustes and orthogonal_lstsq.
struct FittedMap {
  Eigen::RowVectorXd in, out;
  RowMatrixd w;
  RowMatrixd rotation;
  std::vector<double> singular_values;
};

FittedMap fit_map(const TranslationOptions& options, const RowMatrixd& p, const RowMatrixd& q, const char* function) {
  const std::int64_t n = p.rows(), ds = p.cols(), dt = q.cols();
  FittedMap map;
  map.in = Eigen::RowVectorXd::Zero(ds);
  map.out = Eigen::RowVectorXd::Zero(dt);
  switch (options.method) {
    case TranslationMethod::procrustes: {
      map.in = p.colwise().mean();
      map.out = q.colwise().mean();
      const RowMatrixd pc = p.rowwise() - map.in, qc = q.rowwise() - map.out;
      const double sp = pc.norm(), sq = qc.norm();
      if (!(sp > 0) || !(sq > 0))
        raise<NumericalError>(function, sp > 0 ? "target" : "source", "rows are all equal: no Procrustes scale");
      const std::int64_t dim = std::max(ds, dt);  // zero padding when the dimensions differ
      // (pc / sp)^T (qc / sq) on the kernel layer's f64 GEMM path: inner
      // products of the columns, over the n rows.
      const RowMatrixd pt = (pc / sp).transpose(), qt = (qc / sq).transpose();
      RowMatrixd cross = RowMatrixd::Zero(dim, dim);
      kernels::similarity_f64(Metric::ip, MatrixView<double>(pt), MatrixView<double>(qt), cross.data(), dim,
                              kernels::BlockOptions{options.parallel});
      map.rotation = detail::svd_orthogonal_factor(cross, options.proper_rotation, map.singular_values);
      map.w = map.rotation.topLeftCorner(ds, dt) * (options.scale ? sq / sp : 1.0);
      break;
    }
    case TranslationMethod::lstsq:
      map.w = detail::svd_least_squares(p, q, options.rcond);
      break;
    case TranslationMethod::affine: {
      RowMatrixd augmented(n, ds + 1);
      augmented << p, Eigen::VectorXd::Ones(n);
      const RowMatrixd m = detail::svd_least_squares(augmented, q, options.rcond);
      map.w = m.topRows(ds);
      map.out = m.row(ds);
      break;
    }
    case TranslationMethod::ridge: {
      map.in = p.colwise().mean();
      map.out = q.colwise().mean();
      const RowMatrixd pc = p.rowwise() - map.in, qc = q.rowwise() - map.out;
      RowMatrixd gram = pc.transpose() * pc;
      gram.diagonal().array() += options.alpha;
      map.w = gram.ldlt().solve(RowMatrixd(pc.transpose() * qc));
      break;
    }
    case TranslationMethod::orthogonal_lstsq: {
      const std::int64_t dim = std::max(ds, dt);
      RowMatrixd square = RowMatrixd::Zero(dim, dim);
      square.topLeftCorner(ds, dt) = detail::svd_least_squares(p, q, options.rcond);
      map.rotation = detail::svd_orthogonal_factor(square, options.proper_rotation, map.singular_values);
      map.w = map.rotation.topLeftCorner(ds, dt);
      break;
    }
  }
  return map;
}

}  // namespace

std::string_view to_string(TranslationMethod method) { return name_of(kMethodNames, method); }

TranslationMethod parse_translation_method(std::string_view name, std::string_view argument) {
  return parse_name(kMethodNames, name, "parse_translation_method", argument, "method");
}

template <class T>
LatentTranslator<T>::LatentTranslator(const TranslationOptions& options) : options_(options) {
  if (options_.method == TranslationMethod::ridge && !(options_.alpha > 0))
    raise<InvalidArgument>("LatentTranslator", "alpha", "must be > 0 for ridge",
                           "alpha=" + std::to_string(options_.alpha));
  if (!(options_.rcond >= 0)) raise<InvalidArgument>("LatentTranslator", "rcond", "must be >= 0");
}

template <class T>
LatentTranslator<T>& LatentTranslator<T>::fit(const MatrixView<T>& source, const MatrixView<T>& target) {
  const char* function = "LatentTranslator::fit";
  require_non_empty(function, "source", source);
  require_non_empty(function, "target", target);
  require_same_dim(function, "rows of source", source.rows, "rows of target", target.rows);
  require_finite(function, "source", source);
  require_finite(function, "target", target);
  const std::int64_t n = source.rows, ds = source.cols, dt = target.cols;
  const TranslationMethod method = options_.method;
  const bool needs_two =
      method == TranslationMethod::procrustes || method == TranslationMethod::ridge || options_.standardize;
  if (needs_two && n < 2)
    raise<InvalidArgument>(function, "source", "fewer pairs than needed (at least 2)", "rows=" + std::to_string(n));

  RowMatrixd p = source.map().template cast<double>();
  RowMatrixd q = target.map().template cast<double>();
  std::vector<double> source_mean(static_cast<std::size_t>(ds), 0.0), source_scale(static_cast<std::size_t>(ds), 1.0);
  std::vector<double> target_mean(static_cast<std::size_t>(dt), 0.0), target_scale(static_cast<std::size_t>(dt), 1.0);
  if (options_.standardize) {
    Standardizer<double> scale_source, scale_target;
    p = scale_source.fit_transform(MatrixView<double>(p));
    q = scale_target.fit_transform(MatrixView<double>(q));
    source_mean = scale_source.mean(), source_scale = scale_source.scale();
    target_mean = scale_target.mean(), target_scale = scale_target.scale();
  }

  FittedMap map = fit_map(options_, p, q, function);
  if (!map.w.allFinite()) raise<NumericalError>(function, "source", "the fitted map is not finite");
  LatentTranslator fitted(options_);
  fitted.rotation_ = std::move(map.rotation);
  fitted.singular_values_ = std::move(map.singular_values);
  // Fold the standard scaling in: y = (((x - ms) / ss - in) W + out) st + mt.
  const Eigen::RowVectorXd ms = to_row(source_mean), ss = to_row(source_scale);
  const Eigen::RowVectorXd mt = to_row(target_mean), st = to_row(target_scale);
  fitted.matrix_ = ss.cwiseInverse().asDiagonal() * map.w * st.asDiagonal();
  fitted.input_shift_ = to_vector(ms + map.in.cwiseProduct(ss));
  fitted.output_shift_ = to_vector(map.out.cwiseProduct(st) + mt);
  *this = std::move(fitted);
  return *this;
}

template <class T>
LatentTranslator<T>& LatentTranslator<T>::fit(const MatrixView<T>& source, const MatrixView<T>& target,
                                              const std::vector<std::int64_t>& ids) {
  const RowMatrix<T> p = gather_rows(source, ids), q = gather_rows(target, ids);
  return fit(MatrixView<T>(p), MatrixView<T>(q));
}

template <class T>
RowMatrix<T> LatentTranslator<T>::transform(const MatrixView<T>& x) const {
  const char* function = "LatentTranslator::transform";
  detail::require_fitted(function, is_fitted());
  detail::check_rows(function, "x", x, source_dim());
  RowMatrix<T> y = detail::project(x, input_shift_, matrix_, options_.parallel);
  const Eigen::Matrix<T, 1, Eigen::Dynamic> shift = to_row(output_shift_).cast<T>();
  y.rowwise() += shift;
  return y;
}

template <class T>
void LatentTranslator<T>::save(const std::string& path) const {
  detail::require_fitted("LatentTranslator::save", is_fitted());
  ModelWriter writer("latent-translation", kTranslationVersion);
  writer.put("method", static_cast<std::int64_t>(options_.method));
  writer.put("scale", static_cast<std::int64_t>(options_.scale));
  writer.put("proper_rotation", static_cast<std::int64_t>(options_.proper_rotation));
  writer.put("alpha", options_.alpha);
  writer.put("standardize", static_cast<std::int64_t>(options_.standardize));
  writer.put("rcond", options_.rcond);
  writer.put("matrix", MatrixView<double>(matrix_));
  writer.put("input_shift", input_shift_);
  writer.put("output_shift", output_shift_);
  if (rotation_.size() != 0) {
    writer.put("rotation", MatrixView<double>(rotation_));
    writer.put("singular_values", singular_values_);
  }
  writer.save(path);
}

template <class T>
LatentTranslator<T> LatentTranslator<T>::load(const std::string& path) {
  const ModelReader reader(path, "latent-translation", kTranslationVersion);
  const auto bad = [&](const std::string& what) {
    raise<IoError>("LatentTranslator::load", path, "holds an inconsistent model", what);
  };
  TranslationOptions options;
  const std::int64_t method = reader.get_int("method");
  if (method < 0 || method > 4) bad("method=" + std::to_string(method));
  options.method = static_cast<TranslationMethod>(method);
  options.scale = reader.get_int("scale") != 0;
  options.proper_rotation = reader.get_int("proper_rotation") != 0;
  options.alpha = reader.get_double("alpha");
  options.standardize = reader.get_int("standardize") != 0;
  options.rcond = reader.get_double("rcond");
  LatentTranslator out(TranslationOptions{});
  out.options_ = options;
  out.matrix_ = reader.get_matrix("matrix");
  out.input_shift_ = reader.get_doubles("input_shift");
  out.output_shift_ = reader.get_doubles("output_shift");
  if (reader.has("rotation")) {
    out.rotation_ = reader.get_matrix("rotation");
    out.singular_values_ = reader.get_doubles("singular_values");
  }
  if (out.matrix_.size() == 0 || !out.matrix_.allFinite()) bad("matrix");
  if (static_cast<std::int64_t>(out.input_shift_.size()) != out.matrix_.rows() ||
      static_cast<std::int64_t>(out.output_shift_.size()) != out.matrix_.cols())
    bad("shifts do not match the matrix");
  for (const double value : out.input_shift_)
    if (!std::isfinite(value)) bad("input_shift");
  for (const double value : out.output_shift_)
    if (!std::isfinite(value)) bad("output_shift");
  return out;
}

template <class T>
LinearMap<T> LatentTranslator<T>::linear_map() const {
  detail::require_fitted("LatentTranslator::linear_map", is_fitted());
  const Eigen::RowVectorXd bias = to_row(output_shift_) - to_row(input_shift_) * matrix_;
  return LinearMap<T>(MatrixView<double>(matrix_), to_vector(bias), options_.parallel);
}

template class LatentTranslator<float>;
template class LatentTranslator<double>;

// ---------------------------------------------------------------- LinearMap

namespace {

// A finite, non-empty W and a finite bias of W's width (or none).
void check_linear_map(const RowMatrixd& matrix, const std::vector<double>& bias) {
  constexpr std::string_view kFunction = "LinearMap";
  if (matrix.size() == 0) raise<EmptyInput>(kFunction, "matrix", "is empty");
  if (!matrix.allFinite()) raise<NonFiniteValue>(kFunction, "matrix", "holds NaN or Inf");
  if (!bias.empty() && static_cast<std::int64_t>(bias.size()) != matrix.cols())
    raise<DimensionMismatch>(kFunction, "bias", "has another length than the matrix has columns",
                             std::to_string(bias.size()) + " values, " + std::to_string(matrix.cols()) + " columns");
  for (const double value : bias)
    if (!std::isfinite(value)) raise<NonFiniteValue>(kFunction, "bias", "holds NaN or Inf");
}

}  // namespace

template <class T>
LinearMap<T>::LinearMap(const MatrixView<double>& matrix, const std::vector<double>& bias, const Parallel& parallel)
    : matrix_(matrix.map()), bias_(bias), parallel_(parallel) {
  check_linear_map(matrix_, bias_);
  if (bias_.empty()) bias_.assign(static_cast<std::size_t>(matrix_.cols()), 0.0);
}

template <class T>
RowMatrix<T> LinearMap<T>::transform(const MatrixView<T>& x) const {
  const char* function = "LinearMap::transform";
  detail::require_fitted(function, is_fitted());
  require_non_empty(function, "x", x);
  detail::check_rows(function, "x", x, input_dim());
  RowMatrix<T> y =
      detail::project(x, std::vector<double>(static_cast<std::size_t>(input_dim()), 0.0), matrix_, parallel_);
  y.rowwise() += to_row(bias_).cast<T>();
  return y;
}

template <class T>
void LinearMap<T>::save(const std::string& path) const {
  detail::require_fitted("LinearMap::save", is_fitted());
  ModelWriter writer("linear-map", kLinearMapVersion);
  writer.put("matrix", MatrixView<double>(matrix_));
  writer.put("bias", bias_);
  writer.save(path);
}

template <class T>
LinearMap<T> LinearMap<T>::load(const std::string& path, const Parallel& parallel) {
  const ModelReader reader(path, "linear-map", kLinearMapVersion);
  LinearMap out;
  out.matrix_ = reader.get_matrix("matrix");
  out.bias_ = reader.get_doubles("bias");
  out.parallel_ = parallel;
  try {
    check_linear_map(out.matrix_, out.bias_);
  } catch (const Error& e) {
    raise<IoError>("LinearMap::load", path, "holds an inconsistent model", e.what());
  }
  if (out.bias_.empty()) raise<IoError>("LinearMap::load", path, "holds an inconsistent model", "bias is missing");
  return out;
}

template class LinearMap<float>;
template class LinearMap<double>;

}  // namespace latent
