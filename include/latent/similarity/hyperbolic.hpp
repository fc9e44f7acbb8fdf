// latent/similarity/hyperbolic.hpp - hyperbolic geometry of embeddings: distances,
// exponential / logarithmic maps at the origin and conversions between the Poincaré
// ball (Nickel & Kiela 2017) and the Lorentz model as MERU parameterises it (Desai
// et al. 2023). `c > 0` is the curvature magnitude: the space has curvature -c. A
// Lorentz point is stored by its space components x in R^d; its time component is
// implied, x_time = sqrt(1/c + ||x||^2). Poincaré points must lie in the open ball
// ||x|| < 1/sqrt(c), checked as 1 - c ||x||^2 > 0 in double (else InvalidArgument:
// poincare_project is the guard the papers use).
//
// Numerical policy: float and double; every norm, difference and dot product is
// accumulated in double (four accumulators, fixed order), results are rounded to T
// once, so a float result is the double result of the same inputs, rounded. Both
// distances are acosh(1 + delta) evaluated as log1p(delta + sqrt(delta (delta + 2)))
// with delta >= 0 a sum of squares of differences (see the functions): d(x, x) is
// exactly 0, nearby points keep their relative accuracy, and the arcosh argument
// can never dip below 1, so no clamp is needed. Deterministic (bitwise, whatever the
// thread count), thread-safe, no state.
#pragma once

#include <cstdint>
#include <type_traits>

#include "latent/core/errors.hpp"
#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

/// Default margin of poincare_project: points are kept at norm <= (1 - eps) / sqrt(c).
inline constexpr double kPoincareProjectEps = 1e-5;

// ---------------------------------------------------------------------------------
// One point or one pair, raw pointers. Every pointer addresses `dim` values of T
// (float or double; explicitly instantiated for both). `out` may alias the input.
// Throws InvalidArgument (c not finite or <= 0, dim < 0, null pointer, a Poincaré
// point outside the open ball), EmptyInput (dim == 0), NonFiniteValue (NaN or Inf),
// NumericalError (a squared norm overflows double, or a mapped point is not
// representable in T; `out` is then unspecified). Cost O(dim), no allocation.

/// Poincaré distance d_c(x, y) = (1/sqrt(c)) arcosh(1 + delta),
/// delta = 2c ||x - y||^2 / ((1 - c||x||^2)(1 - c||y||^2)).
/// This arcosh form, not (2/sqrt(c)) artanh(sqrt(c) ||(-x) (+)_c y||): Möbius
/// addition cancels to ~1e-16 absolute for nearby points, and near the boundary
/// artanh needs 1 - sqrt(c)||.||, a product of two small margins formed by
/// cancellation (two points at norm 1 - 1e-7, c = 1: artanh errs by ~1e-2 in
/// double, this form by ~1e-10). Here ||x - y|| comes from the difference itself
/// and each margin 1 - c||x||^2 is kept as a separate factor.
template <class T>
T poincare_distance(const T* x, const T* y, std::int64_t dim, double c);

/// Lorentz distance, equal to MERU's (1/sqrt(c)) arcosh(c (x_time y_time - <x, y>)).
/// With a_x = 1 + sqrt(1 + c||x||^2) (= 1 + sqrt(c) x_time), the argument equals
/// 1 + delta, delta = (c/2) || x sqrt(a_y/a_x) - y sqrt(a_x/a_y) ||^2 >= 0 (the
/// Poincaré delta of the images). MERU's form subtracts two terms ~c x_time y_time
/// and loses all digits for nearby points far from the origin; this one does not,
/// and the clamp of the argument to >= 1 is structural.
template <class T>
T lorentz_distance(const T* x_space, const T* y_space, std::int64_t dim, double c);

/// Poincaré exponential map at 0: tanh(sqrt(c)||v||) / (sqrt(c)||v||) * v (limit v
/// at v = 0). The ball's metric has conformal factor 2/(1 - c||x||^2), 2 at 0, so
/// d(0, expmap0(v)) = 2||v|| (Lorentz: ||v||; poincare_to_lorentz(poincare_expmap0(v))
/// = lorentz_expmap0(2v)). For sqrt(c)||v|| beyond ~9 (float) or ~19 (double) the
/// image rounds onto the boundary: follow with poincare_project, as HNN does.
template <class T>
void poincare_expmap0(const T* v, std::int64_t dim, double c, T* out);

/// Poincaré logarithmic map at 0: artanh(sqrt(c)||x||) / (sqrt(c)||x||) * x.
template <class T>
void poincare_logmap0(const T* x, std::int64_t dim, double c, T* out);

/// Copies x, scaled radially to norm (1 - eps)/sqrt(c) when it is longer. The
/// stored T values are guaranteed to have norm <= (1 - eps)/sqrt(c), however the
/// norm is summed in double, and to pass the open-ball check; a clamped row lands
/// within a few ulps of T below the bound. eps in (0, 1), else InvalidArgument.
template <class T>
void poincare_project(const T* x, std::int64_t dim, double c, double eps, T* out);

/// Lorentz exponential map at the origin (space components):
/// sinh(sqrt(c)||v||) / (sqrt(c)||v||) * v; the implied time is cosh(sqrt(c)||v||)/sqrt(c).
/// NumericalError when a component overflows T (sqrt(c)||v|| beyond ~89 in float,
/// ~710 in double, at c = 1).
template <class T>
void lorentz_expmap0(const T* v, std::int64_t dim, double c, T* out);

/// Lorentz logarithmic map at the origin: asinh(sqrt(c)||x||) / (sqrt(c)||x||) * x.
template <class T>
void lorentz_logmap0(const T* x_space, std::int64_t dim, double c, T* out);

/// Poincaré p -> Lorentz space components x = 2p / (1 - c||p||^2); the implied time
/// is x_time = (1 + c||p||^2) / (sqrt(c) (1 - c||p||^2)). (Inverse stereographic
/// projection from (-1/sqrt(c), 0): x_time^2 - ||x||^2 = 1/c holds.)
template <class T>
void poincare_to_lorentz(const T* p, std::int64_t dim, double c, T* out);

/// Lorentz space components x -> Poincaré p = x / (1 + sqrt(c) x_time)
/// = x / (1 + sqrt(1 + c||x||^2)); the denominator is >= 2, no cancellation.
/// Points with sqrt(c)||x|| beyond ~1e7 (float) or ~1e15 (double) round onto the
/// boundary: follow with poincare_project.
template <class T>
void lorentz_to_poincare(const T* x_space, std::int64_t dim, double c, T* out);

// ---------------------------------------------------------------------------------
// One point or one pair, Eigen vectors (VectorX, RowVectorX, a row or a column of a
// matrix, a Map, an expression). Same maths, errors and cost as above; x and y of
// different sizes throw DimensionMismatch. A map returns the input's plain type.

namespace detail {
template <class Derived>
using EnableIfHyperbolicVector =
    std::enable_if_t<Derived::IsVectorAtCompileTime != 0 && (std::is_same_v<typename Derived::Scalar, float> ||
                                                             std::is_same_v<typename Derived::Scalar, double>)>;

/// The contiguous values of `v`: its own memory, or a copy in `scratch` when v is
/// an expression or strided.
template <class Derived>
const typename Derived::Scalar* contiguous(const Eigen::MatrixBase<Derived>& v,
                                           typename Derived::PlainObject& scratch) {
  if constexpr ((Derived::Flags & Eigen::DirectAccessBit) != 0 && Derived::InnerStrideAtCompileTime == 1) {
    return v.derived().data();
  } else {
    scratch = v;
    return scratch.data();
  }
}

template <class DX, class DY, class Kernel>
typename DX::Scalar pair_vectors(const char* function, const char* name_x, const Eigen::MatrixBase<DX>& x,
                                 const char* name_y, const Eigen::MatrixBase<DY>& y, const Kernel& kernel) {
  static_assert(std::is_same_v<typename DX::Scalar, typename DY::Scalar>,
                "latent: the two points must have the same scalar type");
  require_same_dim(function, name_x, static_cast<std::int64_t>(x.size()), name_y, static_cast<std::int64_t>(y.size()));
  typename DX::PlainObject scratch_x;
  typename DY::PlainObject scratch_y;
  return kernel(contiguous(x, scratch_x), contiguous(y, scratch_y), static_cast<std::int64_t>(x.size()));
}

template <class Derived, class Kernel>
typename Derived::PlainObject map_vector(const Eigen::MatrixBase<Derived>& v, const Kernel& kernel) {
  typename Derived::PlainObject scratch;
  const typename Derived::Scalar* values = contiguous(v, scratch);
  typename Derived::PlainObject out;
  out.resize(v.rows(), v.cols());
  kernel(values, static_cast<std::int64_t>(v.size()), out.data());
  return out;
}
}  // namespace detail

template <class DX, class DY, class = detail::EnableIfHyperbolicVector<DX>,
          class = detail::EnableIfHyperbolicVector<DY>>
typename DX::Scalar poincare_distance(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y, double c) {
  return detail::pair_vectors("poincare_distance", "x", x, "y", y, [c](const auto* a, const auto* b, std::int64_t dim) {
    return poincare_distance(a, b, dim, c);
  });
}
template <class DX, class DY, class = detail::EnableIfHyperbolicVector<DX>,
          class = detail::EnableIfHyperbolicVector<DY>>
typename DX::Scalar lorentz_distance(const Eigen::MatrixBase<DX>& x_space, const Eigen::MatrixBase<DY>& y_space,
                                     double c) {
  return detail::pair_vectors(
      "lorentz_distance", "x_space", x_space, "y_space", y_space,
      [c](const auto* a, const auto* b, std::int64_t dim) { return lorentz_distance(a, b, dim, c); });
}

// The maps: `kernel(in, dim, out)` runs the pointer form on the vector's values.
#define LATENT_HYPERBOLIC_VECTOR_MAP(name)                                                                     \
  template <class D, class = detail::EnableIfHyperbolicVector<D>>                                              \
  typename D::PlainObject name(const Eigen::MatrixBase<D>& x, double c) {                                      \
    return detail::map_vector(x, [c](const auto* in, std::int64_t dim, auto* out) { name(in, dim, c, out); }); \
  }
LATENT_HYPERBOLIC_VECTOR_MAP(poincare_expmap0)
LATENT_HYPERBOLIC_VECTOR_MAP(poincare_logmap0)
LATENT_HYPERBOLIC_VECTOR_MAP(lorentz_expmap0)
LATENT_HYPERBOLIC_VECTOR_MAP(lorentz_logmap0)
LATENT_HYPERBOLIC_VECTOR_MAP(poincare_to_lorentz)
LATENT_HYPERBOLIC_VECTOR_MAP(lorentz_to_poincare)
#undef LATENT_HYPERBOLIC_VECTOR_MAP

template <class D, class = detail::EnableIfHyperbolicVector<D>>
typename D::PlainObject poincare_project(const Eigen::MatrixBase<D>& x, double c, double eps = kPoincareProjectEps) {
  return detail::map_vector(
      x, [c, eps](const auto* in, std::int64_t dim, auto* out) { poincare_project(in, dim, c, eps, out); });
}

// ---------------------------------------------------------------------------------
// Matrices: rows are points, [rows x dim] row-major views (a RowMatrix, Map, block
// or memory-mapped .npy converts implicitly). Same maths and errors as the pair
// forms; errors name the argument and the row (the first bad row, whatever the
// thread count). Parallel over fixed row chunks with parallel_for; each value is
// bitwise equal to the pair form's. Thread-safe and deterministic.

/// [n_queries x n_base] Poincaré distances d_c(queries_i, base_j). Cost
/// O(n_queries n_base dim): each pair uses the difference of the two rows, not the
/// GEMM expansion ||q||^2 + ||b||^2 - 2<q, b>, whose cancellation the hyperbolic
/// factor 1/((1 - c||q||^2)(1 - c||b||^2)) would magnify. Memory: the output.
RowMatrixf poincare_distances(const MatrixView<float>& queries, const MatrixView<float>& base, double c,
                              const Parallel& parallel = {});
RowMatrixd poincare_distances(const MatrixView<double>& queries, const MatrixView<double>& base, double c,
                              const Parallel& parallel = {});

/// [n_queries x n_base] Lorentz distances of space components. Cost and memory as
/// poincare_distances.
RowMatrixf lorentz_distances(const MatrixView<float>& queries, const MatrixView<float>& base, double c,
                             const Parallel& parallel = {});
RowMatrixd lorentz_distances(const MatrixView<double>& queries, const MatrixView<double>& base, double c,
                             const Parallel& parallel = {});

/// Row-wise maps, [rows x dim] -> [rows x dim]. Cost O(rows dim).
RowMatrixf poincare_expmap0(const MatrixView<float>& v, double c, const Parallel& parallel = {});
RowMatrixd poincare_expmap0(const MatrixView<double>& v, double c, const Parallel& parallel = {});
RowMatrixf poincare_logmap0(const MatrixView<float>& x, double c, const Parallel& parallel = {});
RowMatrixd poincare_logmap0(const MatrixView<double>& x, double c, const Parallel& parallel = {});
RowMatrixf poincare_project(const MatrixView<float>& x, double c, double eps = kPoincareProjectEps,
                            const Parallel& parallel = {});
RowMatrixd poincare_project(const MatrixView<double>& x, double c, double eps = kPoincareProjectEps,
                            const Parallel& parallel = {});
RowMatrixf lorentz_expmap0(const MatrixView<float>& v, double c, const Parallel& parallel = {});
RowMatrixd lorentz_expmap0(const MatrixView<double>& v, double c, const Parallel& parallel = {});
RowMatrixf lorentz_logmap0(const MatrixView<float>& x_space, double c, const Parallel& parallel = {});
RowMatrixd lorentz_logmap0(const MatrixView<double>& x_space, double c, const Parallel& parallel = {});
RowMatrixf poincare_to_lorentz(const MatrixView<float>& p, double c, const Parallel& parallel = {});
RowMatrixd poincare_to_lorentz(const MatrixView<double>& p, double c, const Parallel& parallel = {});
RowMatrixf lorentz_to_poincare(const MatrixView<float>& x_space, double c, const Parallel& parallel = {});
RowMatrixd lorentz_to_poincare(const MatrixView<double>& x_space, double c, const Parallel& parallel = {});

}  // namespace latent
