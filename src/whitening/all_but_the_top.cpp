// All-but-the-top (see AllButTheTop in whitening.hpp): the top principal
// directions of the fitted rows are projected out through detail::project.
#include "latent/whitening.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "../core/validation.hpp"
#include "../kernels/row_transforms.hpp"
#include "whitening_detail.hpp"

namespace latent {

namespace {

using detail::check_rows;
using detail::require_fitted;
using detail::inconsistent;
using detail::require_moments_like;

}  // namespace

// ---------------------------------------------------------------- all-but-the-top

template <class T>
AllButTheTop<T>::AllButTheTop(const AllButTheTopOptions& options) : options_(options) {
  if (options.components < 0)
    raise<InvalidArgument>("AllButTheTop", "components", "is negative",
                           "components=" + std::to_string(options.components));
}

template <class T>
AllButTheTop<T>& AllButTheTop<T>::fit(const MatrixView<T>& x) {
  if (x.rows < 2) raise<EmptyInput>("AllButTheTop::fit", "x", "needs at least 2 rows", "n=" + std::to_string(x.rows));
  MomentAccumulator fresh = new_moments();
  fresh.add(x, options_.parallel);
  return fit(fresh);
}

template <class T>
MomentAccumulator AllButTheTop<T>::new_moments() const {
  return MomentAccumulator();
}

template <class T>
AllButTheTop<T>& AllButTheTop<T>::fit(const MomentAccumulator& moments) {
  require_moments_like("AllButTheTop::fit", moments, new_moments(), 2);
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
AllButTheTop<T>& AllButTheTop<T>::partial_fit(const MatrixView<T>& batch) {
  moments_.add(batch, options_.parallel);
  if (moments_.count() >= 2) refit();
  return *this;
}

template <class T>
void AllButTheTop<T>::refit() {
  const std::int64_t d = moments_.dim();
  const std::int64_t components =
      options_.components > 0 ? options_.components : std::max<std::int64_t>(1, (d + 50) / 100);
  if (components >= d)
    raise<InvalidArgument>("AllButTheTop::fit", "components", "must be smaller than the dimension",
                           "components=" + std::to_string(components) + ", dim=" + std::to_string(d));
  const Spectrum spectrum = symmetric_spectrum(moments_.covariance());
  mean_ = moments_.mean();
  directions_ = spectrum.vectors.leftCols(components);
  projector_ = RowMatrixd::Identity(d, d) - directions_ * directions_.transpose();
  projector_ = ((projector_ + projector_.transpose()) * 0.5).eval();
}

template <class T>
RowMatrix<T> AllButTheTop<T>::transform(const MatrixView<T>& x) const {
  require_fitted("AllButTheTop::transform", is_fitted());
  check_rows("AllButTheTop::transform", "x", x, static_cast<std::int64_t>(mean_.size()));
  return detail::project(x, mean_, projector_, options_.parallel);
}

template <class T>
RowMatrix<T> AllButTheTop<T>::fit_transform(const MatrixView<T>& x) {
  return fit(x).transform(x);
}

namespace {
constexpr std::uint32_t kAllButTheTopVersion = 1;
}

template <class T>
void AllButTheTop<T>::save(const std::string& path) const {
  require_fitted("AllButTheTop::save", is_fitted());
  ModelWriter writer("all-but-the-top", kAllButTheTopVersion);
  writer.put("components", directions_.cols());
  moments_.write(writer, "moments.");
  writer.save(path);
}

template <class T>
AllButTheTop<T> AllButTheTop<T>::load(const std::string& path) {
  const ModelReader reader(path, "all-but-the-top", kAllButTheTopVersion);
  AllButTheTop out(AllButTheTopOptions{reader.get_int("components"), {}});
  out.moments_ = MomentAccumulator::read(reader, "moments.");
  if (!out.moments_.full() || !out.moments_.centered() || out.moments_.count() < 2 ||
      out.options_.components < 1 || out.options_.components >= out.moments_.dim())
    inconsistent(reader, "moments or components");
  out.refit();
  return out;
}

template class AllButTheTop<float>;
template class AllButTheTop<double>;

}  // namespace latent
