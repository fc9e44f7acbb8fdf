// Per-column centering and z-scores (Centering, Standardizer in whitening.hpp),
// one affine map per column in double.
#include "latent/whitening.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "../core/validation.hpp"
#include "whitening_detail.hpp"

namespace latent {

namespace {

using detail::check_rows;
using detail::require_fitted;
using detail::inconsistent;
using detail::require_moments_like;

}  // namespace

// ---------------------------------------------------------------- centering, z-scores

namespace {

// out(i, j) = (x(i, j) - shift[j]) * factor[j] (+ offset[j]), in double per value.
template <class T>
RowMatrix<T> affine_columns(const MatrixView<T>& x, const std::vector<double>& shift,
                            const std::vector<double>& factor, const std::vector<double>& offset) {
  RowMatrix<T> out(x.rows, x.cols);
  parallel_for(x.rows, 1024, Parallel{}, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const T* row = x.row(i);
      for (std::int64_t j = 0; j < x.cols; ++j) {
        const auto c = static_cast<std::size_t>(j);
        out(i, j) = static_cast<T>((static_cast<double>(row[j]) - shift[c]) * factor[c] + offset[c]);
      }
    }
  });
  return out;
}

constexpr std::uint32_t kColumnScalingVersion = 1;

}  // namespace

template <class T>
Centering<T>& Centering<T>::fit(const MatrixView<T>& x) {
  require_non_empty("Centering::fit", "x", x);
  MomentAccumulator fresh = new_moments();
  fresh.add(x);
  return fit(fresh);
}

template <class T>
MomentAccumulator Centering<T>::new_moments() const {
  return MomentAccumulator(true, false);
}

template <class T>
Centering<T>& Centering<T>::fit(const MomentAccumulator& moments) {
  require_moments_like("Centering::fit", moments, new_moments(), 1);
  moments_ = moments;
  mean_ = moments_.mean();
  return *this;
}

template <class T>
Centering<T>& Centering<T>::partial_fit(const MatrixView<T>& batch) {
  moments_.add(batch);
  if (moments_.count() > 0) mean_ = moments_.mean();
  return *this;
}

template <class T>
RowMatrix<T> Centering<T>::transform(const MatrixView<T>& x) const {
  require_fitted("Centering::transform", is_fitted());
  check_rows("Centering::transform", "x", x, static_cast<std::int64_t>(mean_.size()));
  const std::vector<double> zeros(mean_.size(), 0.0), ones(mean_.size(), 1.0);
  return affine_columns(x, mean_, ones, zeros);
}

template <class T>
RowMatrix<T> Centering<T>::fit_transform(const MatrixView<T>& x) {
  return fit(x).transform(x);
}

template <class T>
RowMatrix<T> Centering<T>::inverse_transform(const MatrixView<T>& y) const {
  require_fitted("Centering::inverse_transform", is_fitted());
  check_rows("Centering::inverse_transform", "y", y, static_cast<std::int64_t>(mean_.size()));
  const std::vector<double> zeros(mean_.size(), 0.0), ones(mean_.size(), 1.0);
  return affine_columns(y, zeros, ones, mean_);
}

template <class T>
void Centering<T>::save(const std::string& path) const {
  require_fitted("Centering::save", is_fitted());
  ModelWriter writer("centering", kColumnScalingVersion);
  moments_.write(writer, "moments.");
  writer.save(path);
}

template <class T>
Centering<T> Centering<T>::load(const std::string& path) {
  const ModelReader reader(path, "centering", kColumnScalingVersion);
  Centering out;
  out.moments_ = MomentAccumulator::read(reader, "moments.");
  if (out.moments_.full() || !out.moments_.centered() || out.moments_.count() < 1) inconsistent(reader, "moments");
  out.mean_ = out.moments_.mean();
  return out;
}

template <class T>
Standardizer<T>& Standardizer<T>::fit(const MatrixView<T>& x) {
  if (x.rows < 2) raise<EmptyInput>("Standardizer::fit", "x", "needs at least 2 rows", "n=" + std::to_string(x.rows));
  MomentAccumulator fresh = new_moments();
  fresh.add(x);
  return fit(fresh);
}

template <class T>
MomentAccumulator Standardizer<T>::new_moments() const {
  return MomentAccumulator(true, false);
}

template <class T>
Standardizer<T>& Standardizer<T>::fit(const MomentAccumulator& moments) {
  require_moments_like("Standardizer::fit", moments, new_moments(), 2);
  moments_ = moments;
  return partial_fit(MatrixView<T>(nullptr, 0, moments.dim()));
}

template <class T>
Standardizer<T>& Standardizer<T>::partial_fit(const MatrixView<T>& batch) {
  moments_.add(batch);
  if (moments_.count() < 2) return *this;
  mean_ = moments_.mean();
  scale_ = moments_.variances();
  for (double& value : scale_) value = value > 0 ? std::sqrt(value) : 1.0;
  return *this;
}

template <class T>
RowMatrix<T> Standardizer<T>::transform(const MatrixView<T>& x) const {
  require_fitted("Standardizer::transform", is_fitted());
  check_rows("Standardizer::transform", "x", x, static_cast<std::int64_t>(mean_.size()));
  std::vector<double> inverse(scale_.size());
  for (std::size_t j = 0; j < scale_.size(); ++j) inverse[j] = 1.0 / scale_[j];
  return affine_columns(x, mean_, inverse, std::vector<double>(mean_.size(), 0.0));
}

template <class T>
RowMatrix<T> Standardizer<T>::fit_transform(const MatrixView<T>& x) {
  return fit(x).transform(x);
}

template <class T>
RowMatrix<T> Standardizer<T>::inverse_transform(const MatrixView<T>& y) const {
  require_fitted("Standardizer::inverse_transform", is_fitted());
  check_rows("Standardizer::inverse_transform", "y", y, static_cast<std::int64_t>(mean_.size()));
  return affine_columns(y, std::vector<double>(mean_.size(), 0.0), scale_, mean_);
}

template <class T>
void Standardizer<T>::save(const std::string& path) const {
  require_fitted("Standardizer::save", is_fitted());
  ModelWriter writer("standardizer", kColumnScalingVersion);
  moments_.write(writer, "moments.");
  writer.save(path);
}

template <class T>
Standardizer<T> Standardizer<T>::load(const std::string& path) {
  const ModelReader reader(path, "standardizer", kColumnScalingVersion);
  Standardizer out;
  out.moments_ = MomentAccumulator::read(reader, "moments.");
  if (out.moments_.full() || !out.moments_.centered() || out.moments_.count() < 2) inconsistent(reader, "moments");
  return out.partial_fit(MatrixView<T>(static_cast<const T*>(nullptr), 0, out.moments_.dim()));
}

template class Centering<float>;
template class Centering<double>;
template class Standardizer<float>;
template class Standardizer<double>;

}  // namespace latent
