// Hyperbolic geometry (Poincaré ball, Lorentz model): closed forms from the origin
// against long double, MERU's arcosh formula, symmetry and d(x, x) = 0, the metric
// tensor for nearby points, the triangle inequality, exp/log round trips, agreement
// of the two models, matrix forms equal to the pair forms and to one-row maps and
// independent of the thread count, near-boundary points, the projection guarantee,
// and one error-path test per exception (each message names the argument).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/similarity/hyperbolic.hpp"
#include "support/ball_points.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using Index = std::int64_t;
using Long = long double;

const double kCurvatures[] = {0.1, 1.0, 2.5, 10.0};

// One point: a row vector is a one-row view.
template <class T>
using Point = Eigen::Matrix<T, 1, Eigen::Dynamic>;

// The point of `dim` values at `values`, as a one-row view.
template <class T>
MatrixView<T> point(const T* values, Index dim) {
  return MatrixView<T>(values, 1, dim);
}

template <class T>
constexpr double tolerance() {
  return std::is_same_v<T, float> ? 1e-6 : 1e-12;
}

using testing::ball_points;

// Gaussian rows times `scale` (Lorentz space components, tangent vectors).
template <class T>
RowMatrix<T> gaussian_points(Index rows, Index dim, double scale, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  RowMatrix<T> points(rows, dim);
  for (Index i = 0; i < points.size(); ++i) points.data()[i] = static_cast<T>(scale * normal(rng));
  return points;
}

template <class T>
Long norm_long(const T* x, Index dim) {
  Long s = 0;
  for (Index j = 0; j < dim; ++j) s += static_cast<Long>(x[j]) * static_cast<Long>(x[j]);
  return std::sqrt(s);
}

double relative_error(double value, double reference) {
  return std::abs(value - reference) / std::max(std::abs(reference), 1e-300);
}

using testing::message_of;

// ------------------------------------------------------------------ closed forms ----

template <class T>
void check_poincare_from_origin() {
  for (const double c : kCurvatures) {
    for (const Index dim : {1, 3, 17, 128}) {
      const RowMatrix<T> x = ball_points<T>(20, dim, c, 0.999, 11);
      const Point<T> origin = Point<T>::Zero(dim);
      for (Index i = 0; i < x.rows(); ++i) {
        const Long sqrt_c = std::sqrt(static_cast<Long>(c));
        const Long expected = 2 / sqrt_c * std::atanh(sqrt_c * norm_long(x.row(i).data(), dim));
        const T d = poincare_distance(origin, x.row(i), c);
        EXPECT_LT(relative_error(d, static_cast<double>(expected)), 1e3 * tolerance<T>())
            << "c=" << c << " dim=" << dim << " row " << i;
      }
    }
  }
}
TEST(PoincareDistance, FromOriginIsTwoArtanhOverSqrtC) {
  check_poincare_from_origin<double>();
  check_poincare_from_origin<float>();
}

template <class T>
void check_lorentz_from_origin() {
  for (const double c : kCurvatures) {
    for (const Index dim : {1, 3, 17, 128}) {
      const RowMatrix<T> y = gaussian_points<T>(20, dim, 3.0, 12);
      const Point<T> origin = Point<T>::Zero(dim);
      for (Index i = 0; i < y.rows(); ++i) {
        const Long sqrt_c = std::sqrt(static_cast<Long>(c));
        const Long expected = std::asinh(sqrt_c * norm_long(y.row(i).data(), dim)) / sqrt_c;
        EXPECT_LT(relative_error(lorentz_distance(origin, y.row(i), c), static_cast<double>(expected)),
                  10 * tolerance<T>())
            << "c=" << c << " dim=" << dim;
        // The same, from the other side.
        EXPECT_LT(relative_error(lorentz_distance(y.row(i), origin, c), static_cast<double>(expected)),
                  10 * tolerance<T>());
      }
    }
  }
}
TEST(LorentzDistance, FromOriginIsAsinhOverSqrtC) {
  check_lorentz_from_origin<double>();
  check_lorentz_from_origin<float>();
}

// MERU's formula in long double, on points where its cancellation is harmless.
TEST(LorentzDistance, EqualsMeruArcoshFormula) {
  for (const double c : kCurvatures) {
    const Index dim = 9;
    const RowMatrixd x = gaussian_points<double>(50, dim, 1.0 / std::sqrt(c), 13);
    const RowMatrixd y = gaussian_points<double>(50, dim, 1.0 / std::sqrt(c), 14);
    for (Index i = 0; i < x.rows(); ++i) {
      const Long cl = c;
      Long nx = 0, ny = 0, dot = 0;
      for (Index j = 0; j < dim; ++j) {
        nx += static_cast<Long>(x(i, j)) * x(i, j);
        ny += static_cast<Long>(y(i, j)) * y(i, j);
        dot += static_cast<Long>(x(i, j)) * y(i, j);
      }
      const Long argument = cl * (std::sqrt(1 / cl + nx) * std::sqrt(1 / cl + ny) - dot);
      const Long expected = std::acosh(std::max<Long>(argument, 1)) / std::sqrt(cl);
      EXPECT_LT(relative_error(lorentz_distance(x.row(i), y.row(i), c), static_cast<double>(expected)), 1e-12);
    }
  }
}

// ------------------------------------------------------- symmetry, d(x, x), tensor ----

template <class T>
void check_symmetry_and_zero() {
  for (const double c : kCurvatures) {
    const Index dim = 33;
    const RowMatrix<T> p = ball_points<T>(30, dim, c, 0.999999, 15);
    const RowMatrix<T> x = gaussian_points<T>(30, dim, 1e3 / std::sqrt(c), 16);  // far from the origin
    for (Index i = 0; i + 1 < p.rows(); ++i) {
      const MatrixView<T> a = p.row(i);
      const MatrixView<T> b = p.row(i + 1);
      EXPECT_EQ(poincare_distance(a, b, c), poincare_distance(b, a, c));
      EXPECT_EQ(poincare_distance(a, a, c), T(0));
      const MatrixView<T> u = x.row(i);
      const MatrixView<T> w = x.row(i + 1);
      EXPECT_EQ(lorentz_distance(u, w, c), lorentz_distance(w, u, c));
      EXPECT_EQ(lorentz_distance(u, u, c), T(0));  // MERU's form: acosh of a rounded 1 +- 1e-10
    }
  }
}
TEST(Hyperbolic, DistancesAreSymmetricAndZeroOnTheDiagonal) {
  check_symmetry_and_zero<double>();
  check_symmetry_and_zero<float>();
}

// For y = x + h with tiny h, d(x, y) ~ sqrt(g_x(h, h)): Poincaré 2||h|| / (1 - c||x||^2),
// Lorentz sqrt(||h||^2 - (<x, h> / x_time)^2). MERU's Lorentz form would subtract two
// terms ~1e6 here and keep no digit of a 1e-5 distance.
TEST(Hyperbolic, NearbyPointsFollowTheMetricTensor) {
  for (const double c : kCurvatures) {
    const Index dim = 16;
    const RowMatrixd p = ball_points<double>(10, dim, c, 0.99, 17);
    const RowMatrixd x = gaussian_points<double>(10, dim, 300.0 / std::sqrt(c), 18);
    const RowMatrixd h = gaussian_points<double>(10, dim, 1e-8 / std::sqrt(c), 19);
    for (Index i = 0; i < p.rows(); ++i) {
      const Point<double> pi = p.row(i), hi = h.row(i);
      const Point<double> q = pi + hi;
      const double expected_p = 2 * (q - pi).norm() / (1 - c * pi.squaredNorm());
      EXPECT_LT(relative_error(poincare_distance(pi, q, c), expected_p), 1e-6);

      const Point<double> xi = x.row(i);
      const Point<double> y = xi + hi;
      const Point<double> step = y - xi;
      const double x_time = std::sqrt(1 / c + xi.squaredNorm());
      const double time_step = xi.dot(step) / x_time;
      const double expected_l = std::sqrt(step.squaredNorm() - time_step * time_step);
      EXPECT_LT(relative_error(lorentz_distance(xi, y, c), expected_l), 1e-5) << "c=" << c;
    }
  }
}

TEST(Hyperbolic, TriangleInequalityOnRandomPoints) {
  for (const double c : kCurvatures) {
    const Index dim = 5;
    const RowMatrixd p = ball_points<double>(300, dim, c, 0.999, 20);
    const RowMatrixd x = gaussian_points<double>(300, dim, 5.0 / std::sqrt(c), 21);
    for (Index i = 0; i + 2 < p.rows(); i += 3) {
      const MatrixView<double> a = p.row(i), b = p.row(i + 1), e = p.row(i + 2);
      EXPECT_LE(poincare_distance(a, e, c), poincare_distance(a, b, c) + poincare_distance(b, e, c) + 1e-12);
      const MatrixView<double> u = x.row(i), v = x.row(i + 1), w = x.row(i + 2);
      EXPECT_LE(lorentz_distance(u, w, c), lorentz_distance(u, v, c) + lorentz_distance(v, w, c) + 1e-12);
    }
  }
}

// ------------------------------------------------------------ maps and conversions ----

template <class T>
void check_round_trips() {
  for (const double c : kCurvatures) {
    const Index dim = 7;
    // Poincaré exp saturates (tanh -> 1) past sqrt(c)||v|| ~ 8 in float: stay below 3.
    const RowMatrix<T> v = gaussian_points<T>(40, dim, 1.0 / std::sqrt(c), 22);
    const Point<T> origin = Point<T>::Zero(dim);
    for (Index i = 0; i < v.rows(); ++i) {
      const Point<T> vi = v.row(i);
      const double norm = static_cast<double>(norm_long(vi.data(), dim));
      const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;

      const Point<T> p = poincare_expmap0(vi, c);
      // d(0, exp0(v)) = 2||v||: the ball's conformal factor is 2 at the origin.
      EXPECT_LT(relative_error(poincare_distance(origin, p, c), 2 * norm), 10 * tol);
      EXPECT_LT((poincare_logmap0(p, c) - vi).norm(), tol * norm + 1e-30);
      EXPECT_LT((poincare_expmap0(poincare_logmap0(p, c), c) - p).norm(), tol * p.norm());

      const Point<T> x = lorentz_expmap0(vi, c);
      EXPECT_LT(relative_error(lorentz_distance(origin, x, c), norm), 10 * tol);  // d(0, exp0(v)) = ||v||
      EXPECT_LT((lorentz_logmap0(x, c) - vi).norm(), tol * norm);
      EXPECT_LT((lorentz_expmap0(lorentz_logmap0(x, c), c) - x).norm(), tol * x.norm());
    }
    // The limit at 0: zero maps to zero, no NaN.
    for (const RowMatrix<T>& zero :
         {poincare_expmap0(origin, c), poincare_logmap0(origin, c), lorentz_expmap0(origin, c),
          lorentz_logmap0(origin, c), poincare_to_lorentz(origin, c), lorentz_to_poincare(origin, c)}) {
      EXPECT_TRUE(zero.isZero(0)) << zero;
    }
    // Tiny vectors: the factors are ~1, no 0/0.
    const Point<T> tiny = Point<T>::Constant(dim, T(1e-30));
    EXPECT_EQ(poincare_expmap0(tiny, c), tiny);
    EXPECT_EQ(lorentz_logmap0(tiny, c), tiny);
  }
}
TEST(Hyperbolic, ExpLogRoundTripsAtSeveralCurvatures) {
  check_round_trips<double>();
  check_round_trips<float>();
}

TEST(Hyperbolic, PoincareAndLorentzModelsAgree) {
  for (const double c : kCurvatures) {
    const Index dim = 12;
    const RowMatrixd p = ball_points<double>(60, dim, c, 0.9999, 23);
    const RowMatrixd x = poincare_to_lorentz(p, c);
    for (Index i = 0; i + 1 < p.rows(); ++i) {
      const double dp = poincare_distance(p.row(i), p.row(i + 1), c);
      const double dl = lorentz_distance(x.row(i), x.row(i + 1), c);
      EXPECT_LT(relative_error(dl, dp), 1e-9) << "c=" << c << " row " << i;
    }
    const RowMatrixd back = lorentz_to_poincare(x, c);
    EXPECT_LT((back - p).cwiseAbs().maxCoeff(), 1e-12 / std::sqrt(c));
    // The maps at the origin commute with the isometry between the models, up to the
    // factor 2 of the ball's metric at the origin.
    const RowMatrixd v = gaussian_points<double>(20, dim, 0.5 / std::sqrt(c), 24);
    const RowMatrixd via_poincare = poincare_to_lorentz(poincare_expmap0(v, c), c);
    const RowMatrixd direct = lorentz_expmap0(RowMatrixd(2.0 * v), c);
    EXPECT_LT((via_poincare - direct).norm(), 1e-12 * direct.norm());
    EXPECT_LT((lorentz_logmap0(direct, c) - 2.0 * poincare_logmap0(lorentz_to_poincare(direct, c), c)).norm(),
              1e-12 * v.norm());
  }
}

// Inputs are widened to double once: a float result is the double result of the same
// values, rounded once.
TEST(Hyperbolic, FloatInputsAreComputedInDouble) {
  const double c = 1.7;
  const Index dim = 31;
  const RowMatrixf p = ball_points<float>(2, dim, c, 0.99, 25);
  const RowMatrixd pd = p.cast<double>();
  EXPECT_EQ(poincare_distance(p.row(0), p.row(1), c), static_cast<float>(poincare_distance(pd.row(0), pd.row(1), c)));
  EXPECT_EQ(lorentz_distance(p.row(0), p.row(1), c), static_cast<float>(lorentz_distance(pd.row(0), pd.row(1), c)));
  EXPECT_EQ(RowMatrixf(poincare_to_lorentz(pd, c).cast<float>()), poincare_to_lorentz(p, c));
  EXPECT_EQ(RowMatrixf(lorentz_expmap0(pd, c).cast<float>()), lorentz_expmap0(p, c));
}

// ------------------------------------------------------------------- matrix forms ----

template <class T>
void check_matrix_forms() {
  const double c = 0.7;
  const Index dim = 19, stride = 23;
  // Padded rows (row_stride > cols); base larger than one block of the tiling.
  const RowMatrix<T> q_storage = ball_points<T>(37, stride, c, 0.2, 26);
  const RowMatrix<T> b_storage = ball_points<T>(301, stride, c, 0.2, 27);
  RowMatrix<T> q_ball = q_storage, b_ball = b_storage;
  q_ball.leftCols(dim) = poincare_project(RowMatrix<T>(ball_points<T>(37, dim, c, 0.99999, 28)), c);
  b_ball.leftCols(dim) = ball_points<T>(301, dim, c, 0.99999, 29);
  const MatrixView<T> queries(q_ball.data(), q_ball.rows(), dim, stride);
  const MatrixView<T> base(b_ball.data(), b_ball.rows(), dim, stride);

  const RowMatrix<T> dp1 = poincare_distances(queries, base, c, Parallel{1});
  const RowMatrix<T> dp2 = poincare_distances(queries, base, c, Parallel{2});
  const RowMatrix<T> dl1 = lorentz_distances(queries, base, c, Parallel{1});
  const RowMatrix<T> dl2 = lorentz_distances(queries, base, c, Parallel{2});
  ASSERT_EQ(dp1.rows(), 37);
  ASSERT_EQ(dp1.cols(), 301);
  EXPECT_EQ(dp1, dp2);
  EXPECT_EQ(dl1, dl2);
  for (Index i = 0; i < queries.rows; ++i) {
    for (Index j = 0; j < base.rows; ++j) {
      ASSERT_EQ(dp1(i, j), poincare_distance(point(queries.row(i), dim), point(base.row(j), dim), c)) << i << "," << j;
      ASSERT_EQ(dl1(i, j), lorentz_distance(point(queries.row(i), dim), point(base.row(j), dim), c)) << i << "," << j;
    }
  }

  // Row-wise maps: 301 rows span two chunks; each row equals the map of that row alone.
  using MatrixMap = RowMatrix<T> (*)(const MatrixView<T>&, double, const Parallel&);
  const MatrixMap maps[] = {&poincare_expmap0, &poincare_logmap0,    &lorentz_expmap0,
                            &lorentz_logmap0,  &poincare_to_lorentz, &lorentz_to_poincare};
  for (const MatrixMap matrix_map : maps) {
    const RowMatrix<T> one = matrix_map(base, c, Parallel{1});
    EXPECT_EQ(one, matrix_map(base, c, Parallel{2}));
    for (Index i = 0; i < base.rows; ++i) {
      const RowMatrix<T> expected = matrix_map(point(base.row(i), dim), c, Parallel{1});
      ASSERT_EQ(RowMatrix<T>(one.row(i)), expected) << "row " << i;
    }
  }
  const RowMatrix<T> far = gaussian_points<T>(300, dim, 10.0, 30);
  const RowMatrix<T> projected = poincare_project(far, c, 1e-3, Parallel{1});
  EXPECT_EQ(projected, poincare_project(far, c, 1e-3, Parallel{2}));
  for (Index i = 0; i < far.rows(); ++i) {
    ASSERT_EQ(RowMatrix<T>(projected.row(i)), poincare_project(far.row(i), c, 1e-3, Parallel{1}));
  }
}
TEST(Hyperbolic, MatrixFormsEqualPairFormsForAnyThreadCount) {
  check_matrix_forms<double>();
  check_matrix_forms<float>();
}

// A point is any one-row view: a row of a matrix, a RowVectorXd, a fixed-size row
// vector, a Map or a view over a pointer. Each gives the matrix forms' values.
TEST(Hyperbolic, OneRowViewsMatchTheMatrixForms) {
  const double c = 2.0;
  const RowMatrixd m = ball_points<double>(4, 4, c, 0.9, 31);
  const Eigen::RowVectorXd row = m.row(1);
  const Eigen::RowVectorXd column = m.col(2).transpose();  // values of a strided column, copied
  const double matrix_form = poincare_distances(m.row(1), column, c)(0, 0);
  EXPECT_EQ(poincare_distance(m.row(1), column, c), matrix_form);
  EXPECT_EQ(poincare_distance(row, Eigen::Map<const Eigen::RowVectorXd>(column.data(), 4), c), matrix_form);
  EXPECT_EQ(poincare_distance(point(m.row(1).data(), 4), point(column.data(), 4), c), matrix_form);
  const RowMatrixd doubled = 2.0 * m;
  EXPECT_EQ(lorentz_distance(doubled.row(0), m.row(3), c), lorentz_distances(doubled, m, c)(0, 3));
  const Eigen::RowVectorXd mapped = poincare_logmap0(m.row(1), c);
  EXPECT_EQ(RowMatrixd(mapped), RowMatrixd(poincare_logmap0(m, c).row(1)));
  const Eigen::RowVector3f fixed(0.1f, 0.2f, 0.3f);
  const Eigen::RowVector3f lifted = poincare_to_lorentz(fixed, c);
  EXPECT_EQ(lorentz_to_poincare(lifted, c).size(), 3);
  EXPECT_NEAR((lorentz_to_poincare(lifted, c) - fixed).norm(), 0.0f, 1e-6f);
}

// ------------------------------------------------------------------ the boundary ----

TEST(Hyperbolic, NearBoundaryPointsGiveFiniteResults) {
  for (const double c : kCurvatures) {
    const Index dim = 8;
    const double margin = 1e-7;
    // double: rows at norm exactly (1 - 1e-7) / sqrt(c), up to rounding.
    RowMatrixd p = ball_points<double>(6, dim, c, 0.5, 32);
    p.rowwise().normalize();
    p *= (1 - margin) / std::sqrt(c);
    // float: poincare_project is what guarantees a float row stays inside.
    const RowMatrixf pf = poincare_project(RowMatrixf(p.cast<float>() * 2.0f), c, margin);
    for (Index i = 0; i < p.rows(); ++i) {
      EXPECT_LE(static_cast<double>(norm_long(pf.row(i).data(), dim)), (1 - margin) / std::sqrt(c) * (1 + 1e-15));
      // Within a few float ulps below the bound.
      EXPECT_GE(static_cast<double>(norm_long(pf.row(i).data(), dim)), (1 - margin) / std::sqrt(c) * (1 - 4e-7));
    }
    const Point<double> origin = Point<double>::Zero(dim);
    const double from_origin = 2 / std::sqrt(c) * std::atanh(1 - margin);
    EXPECT_LT(relative_error(poincare_distance(origin, p.row(0), c), from_origin), 1e-8);

    const RowMatrixd dd = poincare_distances(p, p, c);
    const RowMatrixf df = poincare_distances(pf, pf, c);
    EXPECT_TRUE(dd.allFinite());
    EXPECT_TRUE(df.allFinite());
    for (Index i = 0; i < p.rows(); ++i) {
      EXPECT_EQ(dd(i, i), 0.0);
      EXPECT_EQ(df(i, i), 0.0f);
      for (Index j = 0; j < p.rows(); ++j) {
        if (i != j) {
          EXPECT_GT(df(i, j), 0.0f);
        }
      }
    }
    // Two boundary points: against the arcosh formula in long double.
    const Long cl = c, sq = static_cast<Long>((p.row(0) - p.row(1)).squaredNorm());
    const Long m0 = 1 - cl * static_cast<Long>(p.row(0).squaredNorm()),
               m1 = 1 - cl * static_cast<Long>(p.row(1).squaredNorm());
    const Long expected = std::acosh(1 + 2 * cl * sq / (m0 * m1)) / std::sqrt(cl);
    EXPECT_LT(relative_error(dd(0, 1), static_cast<double>(expected)), 1e-8);

    for (const RowMatrixf& image : {poincare_logmap0(pf, c), poincare_to_lorentz(pf, c)})
      EXPECT_TRUE(image.allFinite());
    EXPECT_TRUE(poincare_logmap0(p, c).allFinite());
    const RowMatrixd lifted = poincare_to_lorentz(p, c);
    EXPECT_TRUE(lifted.allFinite());
    EXPECT_LT((lorentz_to_poincare(lifted, c) - p).cwiseAbs().maxCoeff(), 1e-14 / std::sqrt(c));
    EXPECT_LT(relative_error(lorentz_distances(lifted, lifted, c)(0, 1), dd(0, 1)), 1e-8);
  }
}

template <class T>
void check_project() {
  for (const double c : kCurvatures) {
    for (const double eps : {1e-3, 1e-5, 1e-7, 1e-17}) {
      for (const Index dim : {1, 2, 7, 64, 769}) {
        const RowMatrix<T> x = gaussian_points<T>(10, dim, 10.0 / std::sqrt(c), 33);
        const RowMatrix<T> projected = poincare_project(x, c, eps);
        const double bound = (1 - eps) / std::sqrt(c);
        for (Index i = 0; i < x.rows(); ++i) {
          double norm2 = 0;
          for (Index j = 0; j < dim; ++j)
            norm2 += static_cast<double>(projected(i, j)) * static_cast<double>(projected(i, j));
          ASSERT_LE(std::sqrt(norm2), bound) << "c=" << c << " eps=" << eps << " dim=" << dim;
          const double input_norm = static_cast<double>(norm_long(x.row(i).data(), dim));
          if (input_norm > bound) {  // clamped: within a few ulps of T below the bound
            const double ulps = 8 * std::numeric_limits<T>::epsilon() +
                                4 * static_cast<double>(dim + 2) * std::numeric_limits<double>::epsilon();
            EXPECT_GE(std::sqrt(norm2), bound * (1 - ulps));
          } else {
            EXPECT_EQ(projected.row(i), x.row(i));
          }
          // Accepted by every Poincaré function, whatever eps.
          EXPECT_NO_THROW(poincare_logmap0(projected.row(i), c));
          // Same direction.
          const double cosine = static_cast<double>(
              projected.row(i).template cast<double>().normalized().dot(x.row(i).template cast<double>().normalized()));
          EXPECT_NEAR(cosine, 1.0, 1e-6);
        }
      }
    }
    // Points inside are copied bit for bit; assigning the result to its input works.
    const RowMatrix<T> inside = ball_points<T>(5, 6, c, 0.9, 34);
    EXPECT_EQ(poincare_project(inside, c, 1e-5), inside);
    RowMatrix<T> in_place = gaussian_points<T>(1, 6, 100.0, 35);
    const RowMatrix<T> copy = poincare_project(in_place, c, 1e-5);
    in_place = poincare_project(in_place, c, 1e-5);
    EXPECT_EQ(in_place, copy);
  }
}
// ------------------------------------------------- Möbius addition, Lorentz form ----

// x (+)_c y from the formula in long double.
template <class T>
Point<Long> mobius_reference(const T* x, const T* y, Index dim, double c) {
  Long xy = 0, xx = 0, yy = 0;
  for (Index j = 0; j < dim; ++j) {
    xy += static_cast<Long>(x[j]) * y[j];
    xx += static_cast<Long>(x[j]) * x[j];
    yy += static_cast<Long>(y[j]) * y[j];
  }
  const Long cl = c;
  Point<Long> out(dim);
  for (Index j = 0; j < dim; ++j)
    out(j) = ((1 + 2 * cl * xy + cl * yy) * x[j] + (1 - cl * xx) * y[j]) / (1 + 2 * cl * xy + cl * cl * xx * yy);
  return out;
}

template <class T>
void check_mobius_add() {
  for (const double c : kCurvatures) {
    const RowMatrix<T> x = ball_points<T>(30, 9, c, 0.99, 41), y = ball_points<T>(30, 9, c, 0.99, 42);
    const RowMatrix<T> sum = mobius_add(x, y, c, Parallel{2});
    const RowMatrix<T> negated = -x;
    const RowMatrix<T> difference = mobius_add(negated, y, c);
    const RowMatrix<T> zero = mobius_add(negated, x, c);
    const RowMatrix<T> origin = RowMatrix<T>::Zero(1, 9);
    EXPECT_EQ(mobius_add(x, origin, c), x) << "x (+) 0 = x";
    for (Index i = 0; i < x.rows(); ++i) {
      const Point<Long> expected = mobius_reference(x.row(i).data(), y.row(i).data(), 9, c);
      for (Index j = 0; j < 9; ++j)
        EXPECT_NEAR(sum(i, j), static_cast<double>(expected(j)), 10 * tolerance<T>()) << "c=" << c << " row " << i;
      EXPECT_EQ(mobius_add(RowMatrix<T>(origin), RowMatrix<T>(x.row(i)), c), RowMatrix<T>(x.row(i))) << "0 (+) x = x";
      EXPECT_LT(static_cast<double>(norm_long(zero.row(i).data(), 9)), 10 * tolerance<T>()) << "(-x) (+) x = 0";
      // The distance through Möbius addition, (2 / sqrt(c)) artanh(sqrt(c) ||(-x) (+) y||).
      const Long sqrt_c = std::sqrt(static_cast<Long>(c));
      const double through_addition =
          static_cast<double>(2 / sqrt_c * std::atanh(sqrt_c * norm_long(difference.row(i).data(), 9)));
      EXPECT_LT(relative_error(poincare_distance(x.row(i), y.row(i), c), through_addition), 1e3 * tolerance<T>())
          << "c=" << c << " row " << i;
    }
  }
}

TEST(MobiusAdd, MatchesTheFormulaAndTheDistance) {
  check_mobius_add<float>();
  check_mobius_add<double>();
}

TEST(MobiusAdd, OneRowIsAddedToEveryRowAndPointsMustBeInsideTheBall) {
  const RowMatrixd x = ball_points<double>(5, 4, 1.0, 0.9, 43), y = ball_points<double>(1, 4, 1.0, 0.9, 44);
  const RowMatrixd sum = mobius_add(x, y, 1.0);
  for (Index i = 0; i < 5; ++i) EXPECT_EQ(RowMatrixd(sum.row(i)), mobius_add(RowMatrixd(x.row(i)), y, 1.0));
  RowMatrixd outside = x;
  outside.row(3) *= 2.0 / outside.row(3).norm();
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { mobius_add(x, outside, 1.0); }), "row 3");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { mobius_add(x, RowMatrixd(x.topRows(2)), 1.0); }), "y");
  EXPECT_THROW(mobius_add(x, y, -1.0), InvalidArgument);
}

// The Lorentz form against the direct x . y - x_time y_time in long double, at
// norms where the direct form keeps its digits.
template <class T>
void check_lorentz_inner() {
  for (const double c : kCurvatures) {
    const RowMatrix<T> x = gaussian_points<T>(12, 6, 0.7, 45), y = gaussian_points<T>(9, 6, 0.7, 46);
    const RowMatrix<T> inner = lorentz_inner_products(x, y, c, Parallel{2});
    const RowMatrix<T> diagonal = lorentz_inner_products(x, x, c);
    for (Index i = 0; i < x.rows(); ++i) {
      const Long x_time = std::sqrt(1 / static_cast<Long>(c) + std::pow(norm_long(x.row(i).data(), 6), 2));
      EXPECT_LT(relative_error(diagonal(i, i), -1.0 / c), 10 * tolerance<T>());
      for (Index j = 0; j < y.rows(); ++j) {
        const Long y_time = std::sqrt(1 / static_cast<Long>(c) + std::pow(norm_long(y.row(j).data(), 6), 2));
        Long space = 0;
        for (Index p = 0; p < 6; ++p) space += static_cast<Long>(x(i, p)) * y(j, p);
        const double expected = static_cast<double>(space - x_time * y_time);
        EXPECT_LT(relative_error(inner(i, j), expected), 100 * tolerance<T>()) << "c=" << c << " " << i << "," << j;
        EXPECT_LE(inner(i, j), -1.0 / c * (1 - tolerance<T>()));
      }
    }
  }
}

TEST(LorentzInnerProducts, MatchTheBilinearForm) {
  check_lorentz_inner<float>();
  check_lorentz_inner<double>();
}

TEST(PoincareProject, ClampsToTheMarginAndKeepsInsidePoints) {
  check_project<double>();
  check_project<float>();
}

// Large tangent vectors land on the boundary in float (tanh rounds to 1); projecting
// makes them usable, as in HNN.
TEST(PoincareProject, RepairsSaturatedExpmap) {
  const Point<float> v = Point<float>::Constant(4, 20.0f);
  const Point<float> saturated = poincare_expmap0(v, 1.0);
  EXPECT_TRUE(saturated.allFinite());
  EXPECT_THROW(poincare_logmap0(saturated, 1.0), InvalidArgument);
  const Point<float> inside = poincare_project(saturated, 1.0);
  EXPECT_TRUE(poincare_logmap0(inside, 1.0).allFinite());
}

// ----------------------------------------------------------------------- errors ----

TEST(HyperbolicErrors, CurvatureMustBeFiniteAndPositive) {
  const RowMatrixd x = ball_points<double>(3, 4, 1.0, 0.5, 36);
  for (const double c :
       {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    EXPECT_CONTAINS(message_of<InvalidArgument>([&] { poincare_distance(x.row(0), x.row(1), c); }),
                    "latent::poincare_distance: c: must be finite and > 0");
    EXPECT_CONTAINS(message_of<InvalidArgument>([&] { lorentz_distance(x.row(0), x.row(1), c); }),
                    "latent::lorentz_distance: c:");
    EXPECT_CONTAINS(message_of<InvalidArgument>([&] { poincare_distances(x, x, c); }),
                    "latent::poincare_distances: c:");
    EXPECT_CONTAINS(message_of<InvalidArgument>([&] { lorentz_distances(x, x, c); }), "latent::lorentz_distances: c:");
    EXPECT_CONTAINS(message_of<InvalidArgument>([&] { lorentz_expmap0(x, c); }), "latent::lorentz_expmap0: c:");
    EXPECT_CONTAINS(message_of<InvalidArgument>([&] { poincare_project(x.row(0), c, 1e-5); }),
                    "latent::poincare_project: c:");
  }
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { poincare_expmap0(x, -2.5); }), "(c=-2.5)");
}

TEST(HyperbolicErrors, PoincarePointOutsideTheBallNamesArgumentAndRow) {
  const double c = 4.0;  // radius 0.5
  RowMatrixd x = ball_points<double>(4, 3, c, 0.9, 37);
  x.row(2) << 0.5, 0.0, 0.0;  // on the boundary
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { poincare_distances(RowMatrixd(x.topRows(2)), x, c); }),
                  "latent::poincare_distances: base: is not inside the open Poincare ball");
  const std::string message = message_of<InvalidArgument>([&] { poincare_logmap0(x, c); });
  EXPECT_CONTAINS(message, "latent::poincare_logmap0: x:");
  EXPECT_CONTAINS(message, "poincare_project");
  EXPECT_CONTAINS(message, "(row 2, norm=0.5, 1/sqrt(c)=0.5)");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { poincare_distance(x.row(0), x.row(2), c); }),
                  "latent::poincare_distance: y: is not inside");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { poincare_to_lorentz(x, c); }), "latent::poincare_to_lorentz: p:");
  // The same point is fine for a flatter space, and any finite point is a Lorentz point.
  EXPECT_NO_THROW(poincare_logmap0(x, 1.0));
  EXPECT_NO_THROW(lorentz_distances(x, x, c));
  // The first bad row is reported whatever the thread count.
  RowMatrixf many = ball_points<float>(5000, 2, 1.0, 0.5, 38);
  many.row(4100) << 3.0f, 0.0f;
  many.row(1200) << 2.0f, 0.0f;
  for (const int threads : {1, 3}) {
    EXPECT_NO_THROW(poincare_expmap0(many, 1.0, Parallel{threads}));  // a tangent vector may be long
    EXPECT_CONTAINS(message_of<InvalidArgument>([&] { poincare_logmap0(many, 1.0, Parallel{threads}); }), "row 1200,");
  }
}

TEST(HyperbolicErrors, EpsMustBeInTheOpenUnitInterval) {
  const RowMatrixd x = gaussian_points<double>(2, 3, 1.0, 39);
  for (const double eps : {0.0, 1.0, -1e-5, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_CONTAINS(message_of<InvalidArgument>([&] { poincare_project(x, 1.0, eps); }),
                    "latent::poincare_project: eps:");
  }
}

TEST(HyperbolicErrors, DimensionMismatchNamesTheArgument) {
  const RowMatrixd a = ball_points<double>(3, 4, 1.0, 0.5, 40), b = ball_points<double>(3, 5, 1.0, 0.5, 41);
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { poincare_distances(a, b, 1.0); }),
                  "latent::poincare_distances: base: has 5 columns but queries has 4");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { lorentz_distances(a, b, 1.0); }),
                  "latent::lorentz_distances: base:");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { poincare_distance(a.row(0), b.row(0), 1.0); }),
                  "latent::poincare_distance: y:");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { lorentz_distance(a.row(0), b.row(0), 1.0); }),
                  "latent::lorentz_distance: y_space:");
}

TEST(HyperbolicErrors, NonFiniteValueNamesArgumentRowAndColumn) {
  RowMatrixf x = ball_points<float>(4, 3, 1.0, 0.5, 42);
  x(3, 1) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { lorentz_distances(x, x, 1.0); }),
                  "latent::lorentz_distances: queries: contains a non-finite value (NaN at row 3, column 1)");
  EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { poincare_to_lorentz(x, 1.0); }), "latent::poincare_to_lorentz: p:");
  x(3, 1) = std::numeric_limits<float>::infinity();
  EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { poincare_distance(x.row(0), x.row(3), 1.0); }),
                  "latent::poincare_distance: y: contains a non-finite value (+Inf at row 0, column 1)");
  EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { poincare_project(x, 1.0); }), "latent::poincare_project: x:");
}

TEST(HyperbolicErrors, EmptyInputNamesTheArgument) {
  const RowMatrixd empty(0, 3), x = ball_points<double>(2, 3, 1.0, 0.5, 43), no_columns(2, 0);
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { poincare_distances(empty, x, 1.0); }),
                  "latent::poincare_distances: queries: is empty");
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { lorentz_distances(x, empty, 1.0); }),
                  "latent::lorentz_distances: base: is empty");
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { lorentz_logmap0(no_columns, 1.0); }),
                  "latent::lorentz_logmap0: x_space: is empty");
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { poincare_distance(Point<double>(), Point<double>(), 1.0); }),
                  "latent::poincare_distance: x: is empty");
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { lorentz_expmap0(point(x.data(), 0), 1.0); }),
                  "latent::lorentz_expmap0: v:");
}

// The pair forms take one point each; a matrix goes to the matrix form.
TEST(HyperbolicErrors, PairArgumentsMustBeOnePoint) {
  const RowMatrixd x = ball_points<double>(2, 3, 1.0, 0.5, 44);
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { poincare_distance(x, x.row(0), 1.0); }),
                  "latent::poincare_distance: x: must be one point (a [1 x dim] view); for many rows use the "
                  "matrix form (rows=2)");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { lorentz_distance(x.row(0), x, 1.0); }),
                  "latent::lorentz_distance: y_space: must be one point");
  EXPECT_NO_THROW(poincare_distance(x.row(0), x.row(1), 1.0));
}

TEST(HyperbolicErrors, NumericalErrorWhenAResultLeavesTheRangeOfT) {
  // sinh(sqrt(c)||v||) beyond FLT_MAX: the float image does not exist.
  RowMatrixf v = gaussian_points<float>(600, 3, 1.0, 45);
  v.row(555) << 100.0f, 0.0f, 0.0f;
  for (const int threads : {1, 2}) {
    EXPECT_CONTAINS(message_of<NumericalError>([&] { lorentz_expmap0(v, 1.0, Parallel{threads}); }),
                    "latent::lorentz_expmap0: v: is mapped beyond the range of float (row 555,");
  }
  EXPECT_NO_THROW(lorentz_expmap0(RowMatrixd(v.cast<double>()), 1.0));  // fine in double
  const Point<float> far = v.row(555);
  EXPECT_CONTAINS(message_of<NumericalError>([&] { lorentz_expmap0(far, 1.0); }), "latent::lorentz_expmap0: v:");
  // A double squared norm beyond DBL_MAX.
  const Point<double> huge = Point<double>::Constant(3, 1e200);
  EXPECT_CONTAINS(message_of<NumericalError>([&] { lorentz_distance(huge, huge, 1.0); }),
                  "latent::lorentz_distance: x_space: its squared norm overflows double");
}

}  // namespace
}  // namespace latent
