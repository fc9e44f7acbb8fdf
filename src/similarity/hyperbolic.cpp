// Hyperbolic geometry (Poincaré ball, Lorentz model): validation at the boundary,
// then double-precision kernels shared by the pair and the matrix forms, so that a
// matrix entry is computed by the same code, in the same order, as the pair form.
//
// Derivations behind the formulas (curvature -c, a = 1 + sqrt(1 + c||x||^2)):
// - Lorentz -> Poincaré is the stereographic projection from (-1/sqrt(c), 0):
//   p = x / (1 + sqrt(c) x_time) = x / a. Then 1 - c||p||^2 = 2 / a, so the
//   inverse is x = 2p / (1 - c||p||^2) and a = 2 / (1 - c||p||^2).
// - Poincaré: cosh(sqrt(c) d) = 1 + 2c||p - q||^2 / ((1 - c||p||^2)(1 - c||q||^2)).
// - Lorentz: substituting p = x / a_x, q = y / a_y into the Poincaré delta gives
//   delta = (c/2) a_x a_y ||x/a_x - y/a_y||^2 = (c/2) ||x sqrt(a_y/a_x) - y sqrt(a_x/a_y)||^2,
//   and c (x_time y_time - <x, y>) = 1 + delta (MERU's argument; check at x = 0:
//   sqrt(c) y_time - 1 = c||y||^2 / (1 + sqrt(c) y_time)).
// - From the origin: Poincaré d = (2/sqrt(c)) artanh(sqrt(c)||x||), Lorentz
//   d = (1/sqrt(c)) asinh(sqrt(c)||x||) (cosh(asinh w) = sqrt(1 + w^2) = sqrt(c) y_time).
//   Hence d(0, poincare_expmap0(v)) = 2||v|| (conformal factor 2 at the origin) and
//   d(0, lorentz_expmap0(v)) = ||v||.
#include "latent/similarity/hyperbolic.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "certified_top_k.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"

namespace latent {
namespace {

using Index = std::int64_t;

// ------------------------------------------------------------------ messages ----

// The shortest "%g" text that reads back as `value` (so 0.1 prints as 0.1 and a
// norm 1e-12 below the boundary is not printed as the boundary).
std::string format_number(double value) {
  char buffer[40];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

std::string where(Index row) { return row < 0 ? std::string() : "row " + std::to_string(row) + ", "; }

template <class T>
constexpr const char* type_name() {
  return std::is_same_v<T, float> ? "float" : "double";
}

// ---------------------------------------------------------------- validation ----

enum class Domain { any, ball };

void require_curvature(std::string_view function, double c) {
  if (!(std::isfinite(c) && c > 0.0)) {
    raise<InvalidArgument>(function, "c", "must be finite and > 0 (the space has curvature -c)",
                           "c=" + format_number(c));
  }
}

void require_eps(std::string_view function, double eps) {
  if (!(eps > 0.0 && eps < 1.0)) {
    raise<InvalidArgument>(function, "eps", "must be in (0, 1): points are kept at norm <= (1 - eps)/sqrt(c)",
                           "eps=" + format_number(eps));
  }
}

// One point of a pair form: a non-empty view of exactly one row.
template <class T>
void require_point(std::string_view function, std::string_view argument, const MatrixView<T>& point) {
  require_non_empty(function, argument, point);
  if (point.rows != 1) {
    raise<InvalidArgument>(function, argument,
                           "must be one point (a [1 x dim] view); for many rows use the matrix form",
                           "rows=" + std::to_string(point.rows));
  }
}

// A point whose squared norm the caller computed: NaN / Inf, a squared norm beyond
// double, and for a Poincaré point the open ball, tested as the margin 1 - c||x||^2
// > 0 that the formulas divide by or take the logarithm of. `row` < 0: one point.
template <class T>
void check_point(std::string_view function, std::string_view argument, const T* x, Index dim, Index row,
                 double squared_norm, double c, Domain domain) {
  if (!std::isfinite(squared_norm)) {
    for (Index j = 0; j < dim; ++j) {
      if (!std::isfinite(x[j])) {
        detail::raise_non_finite(function, argument, static_cast<double>(x[j]), std::max<Index>(row, 0), j);
      }
    }
    raise<NumericalError>(function, argument, "its squared norm overflows double",
                          where(row) + "values must stay below ~1e154 in magnitude");
  }
  if (domain == Domain::ball && !(1.0 - c * squared_norm > 0.0)) {
    raise<InvalidArgument>(function, argument,
                           "is not inside the open Poincare ball of curvature -c; map it inside with "
                           "latent::poincare_project",
                           where(row) + "norm=" + format_number(std::sqrt(squared_norm)) +
                               ", 1/sqrt(c)=" + format_number(1.0 / std::sqrt(c)));
  }
}

template <class T>
[[noreturn]] void raise_unrepresentable(std::string_view function, std::string_view argument, Index row) {
  raise<NumericalError>(
      function, argument, std::string("is mapped beyond the range of ") + type_name<T>(),
      where(row) + "largest finite value=" + format_number(static_cast<double>(std::numeric_limits<T>::max())));
}

// ------------------------------------------------------------------- kernels ----
// Four accumulators in a fixed order, in double. Products of two floats are exact
// in double, so for float input only the additions round.

template <class T>
double squared_norm(const T* x, Index dim) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  Index j = 0;
  for (; j + 4 <= dim; j += 4) {
    const double x0 = x[j], x1 = x[j + 1], x2 = x[j + 2], x3 = x[j + 3];
    s0 += x0 * x0;
    s1 += x1 * x1;
    s2 += x2 * x2;
    s3 += x3 * x3;
  }
  for (; j < dim; ++j) {
    const double xj = x[j];
    s0 += xj * xj;
  }
  return (s0 + s1) + (s2 + s3);
}

// ||x - y||^2 from the differences: exact 0 for x == y, symmetric bit for bit.
template <class T>
double squared_distance(const T* x, const T* y, Index dim) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  Index j = 0;
  for (; j + 4 <= dim; j += 4) {
    const double d0 = static_cast<double>(x[j]) - static_cast<double>(y[j]);
    const double d1 = static_cast<double>(x[j + 1]) - static_cast<double>(y[j + 1]);
    const double d2 = static_cast<double>(x[j + 2]) - static_cast<double>(y[j + 2]);
    const double d3 = static_cast<double>(x[j + 3]) - static_cast<double>(y[j + 3]);
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; j < dim; ++j) {
    const double dj = static_cast<double>(x[j]) - static_cast<double>(y[j]);
    s0 += dj * dj;
  }
  return (s0 + s1) + (s2 + s3);
}

// ||scale_x x - scale_y y||^2; swapping (x, scale_x) with (y, scale_y) only negates
// each difference, so the result is symmetric bit for bit.
template <class T>
double scaled_squared_distance(const T* x, double scale_x, const T* y, double scale_y, Index dim) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  Index j = 0;
  for (; j + 4 <= dim; j += 4) {
    const double d0 = static_cast<double>(x[j]) * scale_x - static_cast<double>(y[j]) * scale_y;
    const double d1 = static_cast<double>(x[j + 1]) * scale_x - static_cast<double>(y[j + 1]) * scale_y;
    const double d2 = static_cast<double>(x[j + 2]) * scale_x - static_cast<double>(y[j + 2]) * scale_y;
    const double d3 = static_cast<double>(x[j + 3]) * scale_x - static_cast<double>(y[j + 3]) * scale_y;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; j < dim; ++j) {
    const double dj = static_cast<double>(x[j]) * scale_x - static_cast<double>(y[j]) * scale_y;
    s0 += dj * dj;
  }
  return (s0 + s1) + (s2 + s3);
}

// acosh(1 + delta), delta >= 0. Forming 1 + delta first would drop the low bits of
// a small delta (relative error eps/delta, then halved by the square root: two
// points at distance 1e-8 would get no correct digit); log1p keeps them.
// Above 1 the sum is harmless and std::acosh does not overflow for huge delta.
double acosh1p(double delta) {
  if (delta <= 1.0) return std::log1p(delta + std::sqrt(delta * (delta + 2.0)));
  return std::acosh(1.0 + delta);
}

// 1 - c||x||^2: the conformal margin of a Poincaré point (> 0 inside the ball).
double poincare_margin(double squared_norm, double c) { return 1.0 - c * squared_norm; }

// delta = 2c ||x - y||^2 / ((1 - c||x||^2)(1 - c||y||^2)).
double poincare_delta(double squared_difference, double margin_x, double margin_y, double c) {
  return 2.0 * c * squared_difference / (margin_x * margin_y);
}

double poincare_from_parts(double squared_difference, double margin_x, double margin_y, double c, double sqrt_c) {
  return acosh1p(poincare_delta(squared_difference, margin_x, margin_y, c)) / sqrt_c;
}

// a = 1 + sqrt(c) x_time = 1 + sqrt(1 + c||x||^2), >= 2.
double lorentz_a(double squared_norm, double c) { return 1.0 + std::sqrt(1.0 + c * squared_norm); }

// delta = c (x_time y_time - <x, y>) - 1 >= 0 (see the derivations at the top).
template <class T>
double lorentz_delta(const T* x, double a_x, const T* y, double a_y, Index dim, double c) {
  return 0.5 * c * scaled_squared_distance(x, std::sqrt(a_y / a_x), y, std::sqrt(a_x / a_y), dim);
}

template <class T>
double lorentz_from_parts(const T* x, double a_x, const T* y, double a_y, Index dim, double c, double sqrt_c) {
  return acosh1p(lorentz_delta(x, a_x, y, a_y, dim, c)) / sqrt_c;
}

// ---------------------------------------------------------------------- maps ----
// Every map at the origin and both conversions are radial, out = scale(||x||) x.

enum class MapKind {
  poincare_expmap0,
  poincare_logmap0,
  lorentz_expmap0,
  lorentz_logmap0,
  poincare_to_lorentz,
  lorentz_to_poincare
};

struct MapInfo {
  const char* function;
  const char* argument;
  Domain domain;
};

MapInfo info_of(MapKind kind) {
  switch (kind) {
    case MapKind::poincare_expmap0:
      return {"poincare_expmap0", "v", Domain::any};
    case MapKind::poincare_logmap0:
      return {"poincare_logmap0", "x", Domain::ball};
    case MapKind::lorentz_expmap0:
      return {"lorentz_expmap0", "v", Domain::any};
    case MapKind::lorentz_logmap0:
      return {"lorentz_logmap0", "x_space", Domain::any};
    case MapKind::poincare_to_lorentz:
      return {"poincare_to_lorentz", "p", Domain::ball};
    case MapKind::lorentz_to_poincare:
      return {"lorentz_to_poincare", "x_space", Domain::any};
  }
  return {"", "", Domain::any};
}

// The radial factor of each map. z = sqrt(c||x||^2); at z = 0 every factor takes
// its limit 1 (tanh z / z, artanh z / z, sinh z / z, asinh z / z -> 1).
double map_scale(MapKind kind, double squared_norm, double c) {
  const double cn2 = c * squared_norm;
  const double z = std::sqrt(cn2);
  switch (kind) {
    case MapKind::poincare_expmap0:
      return z > 0.0 ? std::tanh(z) / z : 1.0;
    case MapKind::poincare_logmap0:
      // artanh z = log1p(z) - log1p(-z^2)/2: finite whenever the margin 1 - c||x||^2
      // is > 0, even when sqrt rounds z up to 1 (std::atanh(1) is +Inf).
      return z > 0.0 ? (std::log1p(z) - 0.5 * std::log1p(-cn2)) / z : 1.0;
    case MapKind::lorentz_expmap0:
      return z > 0.0 ? std::sinh(z) / z : 1.0;
    case MapKind::lorentz_logmap0:
      return z > 0.0 ? std::asinh(z) / z : 1.0;
    case MapKind::poincare_to_lorentz:
      return 2.0 / poincare_margin(squared_norm, c);
    case MapKind::lorentz_to_poincare:
      return 1.0 / lorentz_a(squared_norm, c);
  }
  return 1.0;
}

// out = scale x, rounded to T once; false when a value is not finite in T. Reads
// x[j] before writing out[j], so out may be x.
template <class T>
bool scale_into(const T* x, Index dim, double scale, T* out) {
  bool finite = true;
  for (Index j = 0; j < dim; ++j) {
    out[j] = static_cast<T>(scale * static_cast<double>(x[j]));
    finite = finite && std::isfinite(out[j]);
  }
  return finite;
}

// Radial clamp to (1 - eps)/sqrt(c). The target is lowered by the relative error
// of a norm summed in double in any order (< dim ulps), so the guarantee holds for
// the caller's own sum too. Rounding the scaled values to T can leave the norm an
// ulp of T above the target (or, for eps below double's resolution, on the
// boundary): shrink by an ulp of T, doubling the step, until both hold.
template <class T>
void project_into(const T* x, Index dim, double squared_norm_x, double c, double eps, T* out) {
  constexpr double kUlp = std::numeric_limits<double>::epsilon();
  const double max_norm = (1.0 - eps) / std::sqrt(c) * (1.0 - 2.0 * static_cast<double>(dim + 2) * kUlp);
  const auto inside = [&](double s) { return std::sqrt(s) <= max_norm && poincare_margin(s, c) > 0.0; };
  if (inside(squared_norm_x)) {
    if (out != x) std::copy(x, x + dim, out);
    return;
  }
  scale_into(x, dim, max_norm / std::sqrt(squared_norm_x), out);
  double step = 0.5 * static_cast<double>(std::numeric_limits<T>::epsilon());
  for (double s = squared_norm(out, dim); !inside(s); s = squared_norm(out, dim), step *= 2.0) {
    scale_into(out, dim, 1.0 - step, out);
  }
}

// ------------------------------------------------------------ matrix helpers ----

// Squared norms of the rows of `x`, in parallel over fixed chunks, then checked in
// row order: the error reported is the one of the first bad row, whatever the
// thread count.
template <class T>
std::vector<double> checked_squared_norms(std::string_view function, std::string_view argument, const MatrixView<T>& x,
                                          double c, Domain domain, const Parallel& parallel) {
  require_non_empty(function, argument, x);
  std::vector<double> norms(static_cast<std::size_t>(x.rows));
  parallel_for(x.rows, 1024, parallel, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) norms[static_cast<std::size_t>(i)] = squared_norm(x.row(i), x.cols);
  });
  for (Index i = 0; i < x.rows; ++i) {
    check_point(function, argument, x.row(i), x.cols, i, norms[static_cast<std::size_t>(i)], c, domain);
  }
  return norms;
}

template <class T>
void check_pair_views(std::string_view function, const MatrixView<T>& queries, const MatrixView<T>& base, double c) {
  require_curvature(function, c);
  require_non_empty(function, "queries", queries);
  require_non_empty(function, "base", base);
  require_same_dim(function, "queries", queries.cols, "base", base.cols);
}

// Fills out(i, j) = pair(i, j) over fixed chunks of query rows; the base is walked
// in blocks so a block stays in cache across the chunk's queries.
template <class T, class Pair>
RowMatrix<T> fill_distances(Index n_queries, Index n_base, const Parallel& parallel, const Pair& pair) {
  constexpr Index kQueryChunk = 8;
  constexpr Index kBaseBlock = 256;
  RowMatrix<T> out(n_queries, n_base);
  T* values = out.data();
  parallel_for(n_queries, kQueryChunk, parallel, [&](Index begin, Index end) {
    for (Index block = 0; block < n_base; block += kBaseBlock) {
      const Index block_end = std::min(n_base, block + kBaseBlock);
      for (Index i = begin; i < end; ++i) {
        for (Index j = block; j < block_end; ++j) values[i * n_base + j] = static_cast<T>(pair(i, j));
      }
    }
  });
  return out;
}

template <class T>
RowMatrix<T> poincare_distances_impl(const MatrixView<T>& queries, const MatrixView<T>& base, double c,
                                     const Parallel& parallel) {
  const char* function = "poincare_distances";
  check_pair_views(function, queries, base, c);
  std::vector<double> margin_q = checked_squared_norms(function, "queries", queries, c, Domain::ball, parallel);
  std::vector<double> margin_b = checked_squared_norms(function, "base", base, c, Domain::ball, parallel);
  for (double& m : margin_q) m = poincare_margin(m, c);
  for (double& m : margin_b) m = poincare_margin(m, c);
  const double sqrt_c = std::sqrt(c);
  return fill_distances<T>(queries.rows, base.rows, parallel, [&](Index i, Index j) {
    return poincare_from_parts(squared_distance(queries.row(i), base.row(j), queries.cols),
                               margin_q[static_cast<std::size_t>(i)], margin_b[static_cast<std::size_t>(j)], c, sqrt_c);
  });
}

// out(i, j) = of_delta(Lorentz delta of queries_i and base_j): the distance
// acosh(1 + delta) / sqrt(c) or the inner product -(1 + delta) / c.
template <class T, class OfDelta>
RowMatrix<T> lorentz_pairs(const char* function, const MatrixView<T>& queries, const MatrixView<T>& base, double c,
                           const Parallel& parallel, const OfDelta& of_delta) {
  check_pair_views(function, queries, base, c);
  std::vector<double> a_q = checked_squared_norms(function, "queries", queries, c, Domain::any, parallel);
  std::vector<double> a_b = checked_squared_norms(function, "base", base, c, Domain::any, parallel);
  for (double& a : a_q) a = lorentz_a(a, c);
  for (double& a : a_b) a = lorentz_a(a, c);
  return fill_distances<T>(queries.rows, base.rows, parallel, [&](Index i, Index j) {
    return of_delta(lorentz_delta(queries.row(i), a_q[static_cast<std::size_t>(i)], base.row(j),
                                  a_b[static_cast<std::size_t>(j)], queries.cols, c));
  });
}

template <class T>
RowMatrix<T> lorentz_distances_impl(const MatrixView<T>& queries, const MatrixView<T>& base, double c,
                                    const Parallel& parallel) {
  const double sqrt_c = std::sqrt(c);
  return lorentz_pairs("lorentz_distances", queries, base, c, parallel,
                       [&](double delta) { return acosh1p(delta) / sqrt_c; });
}

template <class T>
RowMatrix<T> lorentz_inner_products_impl(const MatrixView<T>& queries, const MatrixView<T>& base, double c,
                                         const Parallel& parallel) {
  return lorentz_pairs("lorentz_inner_products", queries, base, c, parallel,
                       [&](double delta) { return -(1.0 + delta) / c; });
}

// <x, y> in double, four accumulators as squared_norm.
template <class T>
double dot(const T* x, const T* y, Index dim) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  Index j = 0;
  for (; j + 4 <= dim; j += 4) {
    s0 += static_cast<double>(x[j]) * static_cast<double>(y[j]);
    s1 += static_cast<double>(x[j + 1]) * static_cast<double>(y[j + 1]);
    s2 += static_cast<double>(x[j + 2]) * static_cast<double>(y[j + 2]);
    s3 += static_cast<double>(x[j + 3]) * static_cast<double>(y[j + 3]);
  }
  for (; j < dim; ++j) s0 += static_cast<double>(x[j]) * static_cast<double>(y[j]);
  return (s0 + s1) + (s2 + s3);
}

template <class T>
RowMatrix<T> mobius_add_impl(const MatrixView<T>& x, const MatrixView<T>& y, double c, const Parallel& parallel) {
  const char* function = "mobius_add";
  require_curvature(function, c);
  require_non_empty(function, "x", x);
  require_non_empty(function, "y", y);
  require_same_dim(function, "x", x.cols, "y", y.cols);
  if (y.rows != 1 && y.rows != x.rows) {
    raise<DimensionMismatch>(function, "y", "must have the rows of x or one row",
                             "x rows=" + std::to_string(x.rows) + ", y rows=" + std::to_string(y.rows));
  }
  const std::vector<double> norms_x = checked_squared_norms(function, "x", x, c, Domain::ball, parallel);
  const std::vector<double> norms_y = checked_squared_norms(function, "y", y, c, Domain::ball, parallel);
  RowMatrix<T> out(x.rows, x.cols);
  parallel_for(x.rows, 256, parallel, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      const Index iy = y.rows == 1 ? 0 : i;
      const T* xi = x.row(i);
      const T* yi = y.row(iy);
      const double xx = norms_x[static_cast<std::size_t>(i)], yy = norms_y[static_cast<std::size_t>(iy)];
      const double xy = dot(xi, yi, x.cols);
      const double scale_x = 1.0 + 2.0 * c * xy + c * yy;
      const double scale_y = 1.0 - c * xx;
      const double denominator = 1.0 + 2.0 * c * xy + c * c * xx * yy;
      T* row = out.data() + i * x.cols;
      for (Index j = 0; j < x.cols; ++j)
        row[j] =
            static_cast<T>((scale_x * static_cast<double>(xi[j]) + scale_y * static_cast<double>(yi[j])) / denominator);
    }
  });
  return out;
}

constexpr Index kMapChunk = 256;

template <class T>
RowMatrix<T> map_rows(MapKind kind, const MatrixView<T>& x, double c, const Parallel& parallel) {
  const MapInfo info = info_of(kind);
  require_curvature(info.function, c);
  const std::vector<double> norms = checked_squared_norms(info.function, info.argument, x, c, info.domain, parallel);
  RowMatrix<T> out(x.rows, x.cols);
  // First row per chunk whose image overflows T, reported after the loop in row order.
  std::vector<Index> first_bad(static_cast<std::size_t>((x.rows + kMapChunk - 1) / kMapChunk), -1);
  parallel_for(x.rows, kMapChunk, parallel, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      const double scale = map_scale(kind, norms[static_cast<std::size_t>(i)], c);
      if (!scale_into(x.row(i), x.cols, scale, out.data() + i * x.cols)) {
        first_bad[static_cast<std::size_t>(begin / kMapChunk)] = i;
        return;
      }
    }
  });
  for (const Index row : first_bad) {
    if (row >= 0) raise_unrepresentable<T>(info.function, info.argument, row);
  }
  return out;
}

template <class T>
RowMatrix<T> project_rows(const MatrixView<T>& x, double c, double eps, const Parallel& parallel) {
  const char* function = "poincare_project";
  require_curvature(function, c);
  require_eps(function, eps);
  const std::vector<double> norms = checked_squared_norms(function, "x", x, c, Domain::any, parallel);
  RowMatrix<T> out(x.rows, x.cols);
  parallel_for(x.rows, kMapChunk, parallel, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      project_into(x.row(i), x.cols, norms[static_cast<std::size_t>(i)], c, eps, out.data() + i * x.cols);
    }
  });
  return out;
}

// The squared norms of the two points of a pair form, after its validation: c, one
// point each, the same dim, then each point checked (NaN / Inf, overflow, the ball).
struct PairNorms {
  double x;
  double y;
};

template <class T>
PairNorms checked_pair(std::string_view function, std::string_view name_x, const MatrixView<T>& x,
                       std::string_view name_y, const MatrixView<T>& y, double c, Domain domain) {
  require_curvature(function, c);
  require_point(function, name_x, x);
  require_point(function, name_y, y);
  require_same_dim(function, name_x, x.cols, name_y, y.cols);
  const PairNorms norms{squared_norm(x.data, x.cols), squared_norm(y.data, y.cols)};
  check_point(function, name_x, x.data, x.cols, -1, norms.x, c, domain);
  check_point(function, name_y, y.data, y.cols, -1, norms.y, c, domain);
  return norms;
}

template <class T>
T poincare_distance_impl(const MatrixView<T>& x, const MatrixView<T>& y, double c) {
  const PairNorms norms = checked_pair("poincare_distance", "x", x, "y", y, c, Domain::ball);
  return static_cast<T>(poincare_from_parts(squared_distance(x.data, y.data, x.cols), poincare_margin(norms.x, c),
                                            poincare_margin(norms.y, c), c, std::sqrt(c)));
}

template <class T>
T lorentz_distance_impl(const MatrixView<T>& x_space, const MatrixView<T>& y_space, double c) {
  const PairNorms norms = checked_pair("lorentz_distance", "x_space", x_space, "y_space", y_space, c, Domain::any);
  return static_cast<T>(lorentz_from_parts(x_space.data, lorentz_a(norms.x, c), y_space.data, lorentz_a(norms.y, c),
                                           x_space.cols, c, std::sqrt(c)));
}

// ------------------------------------------------------- hyperbolic embeddings ----

constexpr NamedValue<HyperbolicModel> kModelNames[] = {{"poincare", HyperbolicModel::poincare},
                                                       {"lorentz", HyperbolicModel::lorentz}};

Domain domain_of(HyperbolicModel model) { return model == HyperbolicModel::poincare ? Domain::ball : Domain::any; }

// The rows of one side of a search, prepared once. `part` is what the stable
// distance needs of each row (Poincaré: the margin 1 - c||x||^2; Lorentz: a =
// 1 + sqrt(1 + c||x||^2)); `time` is the hyperboloid time t = sqrt(1/c +
// ||x_space||^2) of the row (of its Lorentz image for a Poincaré row); `augmented`
// holds [time_sign * t, x_space] in double, the MIPS form of the reduction.
struct SearchSide {
  std::vector<double> part;
  std::vector<double> time;
  RowMatrixd augmented;
};

template <class T>
SearchSide prepare_side(std::string_view function, std::string_view argument, const MatrixView<T>& x,
                        const HyperbolicEmbedding& space, double time_sign, const Parallel& parallel) {
  const double c = space.curvature, sqrt_c = std::sqrt(c);
  const bool poincare = space.model == HyperbolicModel::poincare;
  const std::vector<double> norms = checked_squared_norms(function, argument, x, c, domain_of(space.model), parallel);
  SearchSide side;
  side.part.resize(norms.size());
  side.time.resize(norms.size());
  side.augmented.resize(x.rows, x.cols + 1);
  parallel_for(x.rows, kMapChunk, parallel, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      const auto r = static_cast<std::size_t>(i);
      const double n2 = norms[r];
      double scale = 1.0;  // x_space = scale x
      if (poincare) {
        // The image 2p / m on the hyperboloid (poincare_to_lorentz), time (1 + c||p||^2) / (sqrt(c) m).
        side.part[r] = poincare_margin(n2, c);
        scale = 2.0 / side.part[r];
        side.time[r] = (1.0 + c * n2) / (sqrt_c * side.part[r]);
      } else {
        side.part[r] = lorentz_a(n2, c);
        side.time[r] = std::sqrt(1.0 / c + n2);
      }
      double* row = side.augmented.data() + i * (x.cols + 1);
      row[0] = time_sign * side.time[r];
      const T* xi = x.row(i);
      for (Index j = 0; j < x.cols; ++j) row[j + 1] = scale * static_cast<double>(xi[j]);
    }
  });
  return side;
}

// The stable delta of a query row and a base row: the distance is acosh1p(delta) /
// sqrt(c), the hyperboloid inner product -(1 + delta) / c.
template <class T>
double pair_delta(HyperbolicModel model, const T* q, double part_q, const T* b, double part_b, Index dim, double c) {
  if (model == HyperbolicModel::poincare) return poincare_delta(squared_distance(q, b, dim), part_q, part_b, c);
  return lorentz_delta(q, part_q, b, part_b, dim, c);
}

// The exact k nearest of `base` for each query (nullptr: each base row, itself
// left out). See hyperbolic_knn in the header for the reduction and the bound.
template <class T>
KnnGraph hyperbolic_search(const char* function, const MatrixView<T>* queries, const MatrixView<T>& base, Index k,
                           const HyperbolicEmbedding& space, const SearchOptions& options) {
  const bool self = queries == nullptr;
  const double c = space.curvature, sqrt_c = std::sqrt(c);
  require_curvature(function, c);
  require_non_empty(function, "base", base);
  if (!self) {
    require_non_empty(function, "queries", *queries);
    require_same_dim(function, "queries", queries->cols, "base", base.cols);
  }
  require_k(function, k, self ? base.rows - 1 : base.rows, "base");
  const MatrixView<T>& rows = self ? base : *queries;
  const SearchSide b = prepare_side(function, "base", base, space, 1.0, options.parallel);
  SearchSide q;
  if (self) {
    q = b;
    q.augmented.col(0) = -q.augmented.col(0);
  } else {
    q = prepare_side(function, "queries", rows, space, -1.0, options.parallel);
  }

  // Candidates by the inner product of [-t_q, q] with [t_x, x] on the double GEMM path.
  const Index wanted = detail::reduced_candidates(k, base.rows, self);
  SearchOptions inner = options;
  inner.validate_finite = false;  // finite by construction: every row's norm was checked
  const KnnGraph candidates =
      knn(MatrixView<double>(q.augmented), MatrixView<double>(b.augmented), wanted, Metric::ip, inner);

  // |GEMM score - exact score| <= kSafety u t_q t_max (dim + 2 [+ sqrt(c)(t_q + t_max)]):
  // (dim + 1) products summed in any order, each |term| <= t_q t_x (as ||x|| < t_x),
  // the rounding of the augmented rows, the stable delta's own (dim + 8) u (1 + delta)
  // with 1 + delta <= 2c t_q t_x, and for Poincaré rows the margins, whose absolute
  // error u becomes a relative error u / m ~ u sqrt(c) t / 2 of the image. A score s
  // is the delta -(c s + 1), so the slack in delta is 2 c times the bound.
  constexpr double kSafety = 16.0;
  constexpr double kUnit = 0.5 * std::numeric_limits<double>::epsilon();
  const double t_max = *std::max_element(b.time.begin(), b.time.end());
  const bool poincare = space.model == HyperbolicModel::poincare;
  const auto delta = [&](Index i, Index j) {
    return pair_delta(space.model, rows.row(i), q.part[static_cast<std::size_t>(i)], base.row(j),
                      b.part[static_cast<std::size_t>(j)], base.cols, c);
  };
  const auto slack = [&](Index i) {
    const double t_q = q.time[static_cast<std::size_t>(i)];
    return 2.0 * c * kSafety * kUnit * t_q * t_max *
           (static_cast<double>(base.cols) + 2.0 + (poincare ? sqrt_c * (t_q + t_max) : 0.0));
  };
  const auto distance = [&](double d) { return static_cast<float>(acosh1p(d) / sqrt_c); };
  return detail::certified_top_k(candidates, base.rows, k, self, Metric::l2, options.parallel, delta, slack, distance);
}

template <class T>
RowMatrix<T> hyperbolic_distances_impl(const MatrixView<T>& queries, const MatrixView<T>& base,
                                       const HyperbolicEmbedding& space, const Parallel& parallel) {
  if (space.model == HyperbolicModel::poincare)
    return poincare_distances_impl(queries, base, space.curvature, parallel);
  return lorentz_distances_impl(queries, base, space.curvature, parallel);
}

// d_c(x, 0) from a row's squared norm: Poincaré acosh1p(2c||x||^2 / m) / sqrt(c)
// (the distance's own form, so bitwise poincare_distance(x, 0)), Lorentz
// asinh(sqrt(c)||x||) / sqrt(c).
double norm_from_squared(HyperbolicModel model, double squared_norm, double c) {
  const double sqrt_c = std::sqrt(c);
  if (model == HyperbolicModel::poincare)
    return poincare_from_parts(squared_norm, poincare_margin(squared_norm, c), 1.0, c, sqrt_c);
  return std::asinh(std::sqrt(c * squared_norm)) / sqrt_c;
}

template <class T>
std::vector<T> hyperbolic_norms_impl(const MatrixView<T>& x, const HyperbolicEmbedding& space,
                                     const Parallel& parallel) {
  const char* function = "hyperbolic_norms";
  require_curvature(function, space.curvature);
  const std::vector<double> norms =
      checked_squared_norms(function, "x", x, space.curvature, domain_of(space.model), parallel);
  std::vector<T> out(norms.size());
  for (std::size_t i = 0; i < norms.size(); ++i)
    out[i] = static_cast<T>(norm_from_squared(space.model, norms[i], space.curvature));
  return out;
}

template <class T>
std::vector<T> subsumption_scores_impl(const MatrixView<T>& children, const MatrixView<T>& parents,
                                       const HyperbolicEmbedding& space, double lambda, const Parallel& parallel) {
  const char* function = "subsumption_scores";
  const double c = space.curvature, sqrt_c = std::sqrt(c);
  require_curvature(function, c);
  if (!(std::isfinite(lambda) && lambda >= 0.0))
    raise<InvalidArgument>(function, "lambda", "must be finite and >= 0", "lambda=" + format_number(lambda));
  require_non_empty(function, "children", children);
  require_non_empty(function, "parents", parents);
  require_same_dim(function, "children", children.cols, "parents", parents.cols);
  if (parents.rows != 1 && parents.rows != children.rows) {
    raise<DimensionMismatch>(
        function, "parents", "must have the rows of children or one row",
        "children rows=" + std::to_string(children.rows) + ", parents rows=" + std::to_string(parents.rows));
  }
  const Domain domain = domain_of(space.model);
  const std::vector<double> nc = checked_squared_norms(function, "children", children, c, domain, parallel);
  const std::vector<double> np = checked_squared_norms(function, "parents", parents, c, domain, parallel);
  std::vector<T> out(nc.size());
  parallel_for(children.rows, kMapChunk, parallel, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      const Index ip = parents.rows == 1 ? 0 : i;
      const double n_child = nc[static_cast<std::size_t>(i)], n_parent = np[static_cast<std::size_t>(ip)];
      const double distance =
          space.model == HyperbolicModel::poincare
              ? poincare_from_parts(squared_distance(children.row(i), parents.row(ip), children.cols),
                                    poincare_margin(n_child, c), poincare_margin(n_parent, c), c, sqrt_c)
              : lorentz_from_parts(children.row(i), lorentz_a(n_child, c), parents.row(ip), lorentz_a(n_parent, c),
                                   children.cols, c, sqrt_c);
      const double depth_gap = norm_from_squared(space.model, n_parent, c) - norm_from_squared(space.model, n_child, c);
      out[static_cast<std::size_t>(i)] = static_cast<T>(-(distance + lambda * depth_gap));
    }
  });
  return out;
}

}  // namespace

// ------------------------------------------------------------------- pair forms ----

float poincare_distance(const MatrixView<float>& x, const MatrixView<float>& y, double c) {
  return poincare_distance_impl(x, y, c);
}
double poincare_distance(const MatrixView<double>& x, const MatrixView<double>& y, double c) {
  return poincare_distance_impl(x, y, c);
}
float lorentz_distance(const MatrixView<float>& x_space, const MatrixView<float>& y_space, double c) {
  return lorentz_distance_impl(x_space, y_space, c);
}
double lorentz_distance(const MatrixView<double>& x_space, const MatrixView<double>& y_space, double c) {
  return lorentz_distance_impl(x_space, y_space, c);
}

// --------------------------------------------------------------- matrix forms ----

#define LATENT_HYPERBOLIC_MATRIX(T)                                                                             \
  RowMatrix<T> poincare_distances(const MatrixView<T>& queries, const MatrixView<T>& base, double c,            \
                                  const Parallel& parallel) {                                                   \
    return poincare_distances_impl(queries, base, c, parallel);                                                 \
  }                                                                                                             \
  RowMatrix<T> lorentz_distances(const MatrixView<T>& queries, const MatrixView<T>& base, double c,             \
                                 const Parallel& parallel) {                                                    \
    return lorentz_distances_impl(queries, base, c, parallel);                                                  \
  }                                                                                                             \
  RowMatrix<T> lorentz_inner_products(const MatrixView<T>& queries, const MatrixView<T>& base, double c,        \
                                      const Parallel& parallel) {                                               \
    return lorentz_inner_products_impl(queries, base, c, parallel);                                             \
  }                                                                                                             \
  RowMatrix<T> mobius_add(const MatrixView<T>& x, const MatrixView<T>& y, double c, const Parallel& parallel) { \
    return mobius_add_impl(x, y, c, parallel);                                                                  \
  }                                                                                                             \
  RowMatrix<T> poincare_expmap0(const MatrixView<T>& v, double c, const Parallel& parallel) {                   \
    return map_rows(MapKind::poincare_expmap0, v, c, parallel);                                                 \
  }                                                                                                             \
  RowMatrix<T> poincare_logmap0(const MatrixView<T>& x, double c, const Parallel& parallel) {                   \
    return map_rows(MapKind::poincare_logmap0, x, c, parallel);                                                 \
  }                                                                                                             \
  RowMatrix<T> poincare_project(const MatrixView<T>& x, double c, double eps, const Parallel& parallel) {       \
    return project_rows(x, c, eps, parallel);                                                                   \
  }                                                                                                             \
  RowMatrix<T> lorentz_expmap0(const MatrixView<T>& v, double c, const Parallel& parallel) {                    \
    return map_rows(MapKind::lorentz_expmap0, v, c, parallel);                                                  \
  }                                                                                                             \
  RowMatrix<T> lorentz_logmap0(const MatrixView<T>& x_space, double c, const Parallel& parallel) {              \
    return map_rows(MapKind::lorentz_logmap0, x_space, c, parallel);                                            \
  }                                                                                                             \
  RowMatrix<T> poincare_to_lorentz(const MatrixView<T>& p, double c, const Parallel& parallel) {                \
    return map_rows(MapKind::poincare_to_lorentz, p, c, parallel);                                              \
  }                                                                                                             \
  RowMatrix<T> lorentz_to_poincare(const MatrixView<T>& x_space, double c, const Parallel& parallel) {          \
    return map_rows(MapKind::lorentz_to_poincare, x_space, c, parallel);                                        \
  }
LATENT_HYPERBOLIC_MATRIX(float)
LATENT_HYPERBOLIC_MATRIX(double)
#undef LATENT_HYPERBOLIC_MATRIX

// ------------------------------------------------------- hyperbolic embeddings ----

std::string_view to_string(HyperbolicModel model) { return name_of(kModelNames, model); }

HyperbolicModel parse_hyperbolic_model(std::string_view name, std::string_view argument) {
  return parse_name(kModelNames, name, "parse_hyperbolic_model", argument, "hyperbolic model");
}

#define LATENT_HYPERBOLIC_SPACE(T)                                                                               \
  RowMatrix<T> hyperbolic_distances(const MatrixView<T>& queries, const MatrixView<T>& base,                     \
                                    const HyperbolicEmbedding& space, const Parallel& parallel) {                \
    return hyperbolic_distances_impl(queries, base, space, parallel);                                            \
  }                                                                                                              \
  std::vector<T> hyperbolic_norms(const MatrixView<T>& x, const HyperbolicEmbedding& space,                      \
                                  const Parallel& parallel) {                                                    \
    return hyperbolic_norms_impl(x, space, parallel);                                                            \
  }                                                                                                              \
  std::vector<T> subsumption_scores(const MatrixView<T>& children, const MatrixView<T>& parents,                 \
                                    const HyperbolicEmbedding& space, double lambda, const Parallel& parallel) { \
    return subsumption_scores_impl(children, parents, space, lambda, parallel);                                  \
  }                                                                                                              \
  KnnGraph hyperbolic_knn(const MatrixView<T>& queries, const MatrixView<T>& base, std::int64_t k,               \
                          const HyperbolicEmbedding& space, const SearchOptions& options) {                      \
    return hyperbolic_search("hyperbolic_knn", &queries, base, k, space, options);                               \
  }                                                                                                              \
  KnnGraph hyperbolic_knn_graph(const MatrixView<T>& base, std::int64_t k, const HyperbolicEmbedding& space,     \
                                const SearchOptions& options) {                                                  \
    return hyperbolic_search<T>("hyperbolic_knn_graph", nullptr, base, k, space, options);                       \
  }
LATENT_HYPERBOLIC_SPACE(float)
LATENT_HYPERBOLIC_SPACE(double)
#undef LATENT_HYPERBOLIC_SPACE

}  // namespace latent
