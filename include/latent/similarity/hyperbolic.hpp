// latent/similarity/hyperbolic.hpp - hyperbolic geometry of embeddings: distances,
// exponential / logarithmic maps at the origin and conversions between the Poincaré
// ball (Nickel & Kiela 2017) and the Lorentz model as MERU parameterises it (Desai
// et al. 2023); exact kNN search, hyperbolic norms (generality) and HiT's
// subsumption score over a HyperbolicEmbedding (model + curvature). `c > 0` is the curvature magnitude: the space has
// curvature -c. A Lorentz point is stored by its space components x in R^d; its time component is implied, x_time =
// sqrt(1/c + ||x||^2). Poincaré points must lie in the open ball
// ||x|| < 1/sqrt(c), checked as 1 - c ||x||^2 > 0 in double (else InvalidArgument:
// poincare_project is the guard the papers use).
//
// Every operation takes row-major [rows x dim] views, float or double (a
// RowMatrix, an Eigen::Map, a block, a RowVector or a memory-mapped .npy converts
// implicitly); rows are points. A single point is a one-row view: a RowVectorXf,
// `m.row(i)` of a RowMatrix, or MatrixView<float>(pointer, 1, dim).
//
// Numerical policy: every norm, difference and dot product is accumulated in
// double (four accumulators, fixed order), results are rounded to the input's
// scalar once, so a float result is the double result of the same inputs,
// rounded. Both distances are acosh(1 + delta) evaluated as
// log1p(delta + sqrt(delta (delta + 2))) with delta >= 0 a sum of squares of
// differences (see the functions): d(x, x) is exactly 0, nearby points keep their
// relative accuracy, and the arcosh argument can never dip below 1, so no clamp is
// needed. Deterministic (bitwise, whatever the thread count), thread-safe, no state.
//
// Errors name the argument and, for matrices, the row (the first bad row, whatever
// the thread count): InvalidArgument (c not finite or <= 0, a Poincaré point
// outside the open ball, a pair argument that is not one row), EmptyInput (no
// rows or no columns), DimensionMismatch (different dims), NonFiniteValue (NaN or
// Inf), NumericalError (a squared norm overflows double, or a mapped point is not
// representable in the scalar type).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"
#include "latent/similarity/search.hpp"

namespace latent {

/// Default margin of poincare_project: points are kept at norm <= (1 - eps) / sqrt(c).
inline constexpr double kPoincareProjectEps = 1e-5;

// ---------------------------------------------------------------------------------
// One pair of points: x and y are one-row views of the same dim. Cost O(dim), no
// allocation.

/// Poincaré distance d_c(x, y) = (1/sqrt(c)) arcosh(1 + delta),
/// delta = 2c ||x - y||^2 / ((1 - c||x||^2)(1 - c||y||^2)).
/// This arcosh form, not (2/sqrt(c)) artanh(sqrt(c) ||(-x) (+)_c y||): Möbius
/// addition cancels to ~1e-16 absolute for nearby points, and near the boundary
/// artanh needs 1 - sqrt(c)||.||, a product of two small margins formed by
/// cancellation (two points at norm 1 - 1e-7, c = 1: artanh errs by ~1e-2 in
/// double, this form by ~1e-10). Here ||x - y|| comes from the difference itself
/// and each margin 1 - c||x||^2 is kept as a separate factor.
float poincare_distance(const MatrixView<float>& x, const MatrixView<float>& y, double c);
double poincare_distance(const MatrixView<double>& x, const MatrixView<double>& y, double c);

/// Lorentz distance, equal to MERU's (1/sqrt(c)) arcosh(c (x_time y_time - <x, y>)).
/// With a_x = 1 + sqrt(1 + c||x||^2) (= 1 + sqrt(c) x_time), the argument equals
/// 1 + delta, delta = (c/2) || x sqrt(a_y/a_x) - y sqrt(a_x/a_y) ||^2 >= 0 (the
/// Poincaré delta of the images). MERU's form subtracts two terms ~c x_time y_time
/// and loses all digits for nearby points far from the origin; this one does not,
/// and the clamp of the argument to >= 1 is structural.
float lorentz_distance(const MatrixView<float>& x_space, const MatrixView<float>& y_space, double c);
double lorentz_distance(const MatrixView<double>& x_space, const MatrixView<double>& y_space, double c);

// ---------------------------------------------------------------------------------
// Matrices: rows are points. Parallel over fixed row chunks with parallel_for;
// each distance is bitwise equal to the pair form's, and each mapped row to the
// map of that row alone.

/// [n_queries x n_base] Lorentz inner products <x, y>_L = <x_space, y_space> -
/// x_time y_time of the points whose space components are the rows (MERU's
/// bilinear form; always <= -1/c, equal to -1/c on the diagonal). Computed as
/// -(1 + delta) / c with delta the Lorentz distance's delta, which keeps every
/// digit where the direct form cancels (nearby points far from the origin).
RowMatrixf lorentz_inner_products(const MatrixView<float>& queries, const MatrixView<float>& base, double c,
                                  const Parallel& parallel = {});
RowMatrixd lorentz_inner_products(const MatrixView<double>& queries, const MatrixView<double>& base, double c,
                                  const Parallel& parallel = {});

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

// Row-wise maps, [rows x dim] -> [rows x dim]. Cost O(rows dim).

/// Möbius addition in the Poincaré ball, row by row: out_i = x_i (+)_c y_i with
/// x (+)_c y = ((1 + 2c<x,y> + c||y||^2) x + (1 - c||x||^2) y)
///             / (1 + 2c<x,y> + c^2 ||x||^2 ||y||^2),
/// the ball's translation (gyrovector addition; HNN's bias and the distance
/// d_c(x, y) = (2/sqrt(c)) artanh(sqrt(c) ||(-x) (+)_c y||) use it). `y` has the
/// rows of `x`, or one row added to every row of x. Both must lie in the open
/// ball; the sum does too, though rounding can put it on the boundary when it
/// lies within an ulp of it (follow with poincare_project). Not commutative or
/// associative: x (+) 0 = 0 (+) x = x and (-x) (+) x = 0.
RowMatrixf mobius_add(const MatrixView<float>& x, const MatrixView<float>& y, double c, const Parallel& parallel = {});
RowMatrixd mobius_add(const MatrixView<double>& x, const MatrixView<double>& y, double c,
                      const Parallel& parallel = {});

/// Poincaré exponential map at 0: tanh(sqrt(c)||v||) / (sqrt(c)||v||) * v (limit v
/// at v = 0). The ball's metric has conformal factor 2/(1 - c||x||^2), 2 at 0, so
/// d(0, expmap0(v)) = 2||v|| (Lorentz: ||v||; poincare_to_lorentz(poincare_expmap0(v))
/// = lorentz_expmap0(2v)). For sqrt(c)||v|| beyond ~9 (float) or ~19 (double) the
/// image rounds onto the boundary: follow with poincare_project, as HNN does.
RowMatrixf poincare_expmap0(const MatrixView<float>& v, double c, const Parallel& parallel = {});
RowMatrixd poincare_expmap0(const MatrixView<double>& v, double c, const Parallel& parallel = {});

/// Poincaré logarithmic map at 0: artanh(sqrt(c)||x||) / (sqrt(c)||x||) * x.
RowMatrixf poincare_logmap0(const MatrixView<float>& x, double c, const Parallel& parallel = {});
RowMatrixd poincare_logmap0(const MatrixView<double>& x, double c, const Parallel& parallel = {});

/// Each row of x, scaled radially to norm (1 - eps)/sqrt(c) when it is longer; a
/// row inside is copied bit for bit. The stored values are guaranteed to have norm
/// <= (1 - eps)/sqrt(c), however the norm is summed in double, and to pass the
/// open-ball check; a clamped row lands within a few ulps of the scalar type below
/// the bound. eps in (0, 1), else InvalidArgument.
RowMatrixf poincare_project(const MatrixView<float>& x, double c, double eps = kPoincareProjectEps,
                            const Parallel& parallel = {});
RowMatrixd poincare_project(const MatrixView<double>& x, double c, double eps = kPoincareProjectEps,
                            const Parallel& parallel = {});

/// Lorentz exponential map at the origin (space components):
/// sinh(sqrt(c)||v||) / (sqrt(c)||v||) * v; the implied time is cosh(sqrt(c)||v||)/sqrt(c).
/// NumericalError when a component overflows the scalar type (sqrt(c)||v|| beyond
/// ~89 in float, ~710 in double, at c = 1).
RowMatrixf lorentz_expmap0(const MatrixView<float>& v, double c, const Parallel& parallel = {});
RowMatrixd lorentz_expmap0(const MatrixView<double>& v, double c, const Parallel& parallel = {});

/// Lorentz logarithmic map at the origin: asinh(sqrt(c)||x||) / (sqrt(c)||x||) * x.
RowMatrixf lorentz_logmap0(const MatrixView<float>& x_space, double c, const Parallel& parallel = {});
RowMatrixd lorentz_logmap0(const MatrixView<double>& x_space, double c, const Parallel& parallel = {});

/// Poincaré p -> Lorentz space components x = 2p / (1 - c||p||^2); the implied time
/// is x_time = (1 + c||p||^2) / (sqrt(c) (1 - c||p||^2)). (Inverse stereographic
/// projection from (-1/sqrt(c), 0): x_time^2 - ||x||^2 = 1/c holds.)
RowMatrixf poincare_to_lorentz(const MatrixView<float>& p, double c, const Parallel& parallel = {});
RowMatrixd poincare_to_lorentz(const MatrixView<double>& p, double c, const Parallel& parallel = {});

/// Lorentz space components x -> Poincaré p = x / (1 + sqrt(c) x_time)
/// = x / (1 + sqrt(1 + c||x||^2)); the denominator is >= 2, no cancellation.
/// Points with sqrt(c)||x|| beyond ~1e7 (float) or ~1e15 (double) round onto the
/// boundary: follow with poincare_project.
RowMatrixf lorentz_to_poincare(const MatrixView<float>& x_space, double c, const Parallel& parallel = {});
RowMatrixd lorentz_to_poincare(const MatrixView<double>& x_space, double c, const Parallel& parallel = {});

// ---------------------------------------------------------------------------------
// Embeddings that live in a hyperbolic space: the model of their rows and the
// curvature, carried together through search and scores.

/// How the rows of a hyperbolic embedding are stored.
enum class HyperbolicModel {
  poincare,  ///< points of the open ball ||x|| < 1/sqrt(c)
  lorentz,   ///< space components of hyperboloid points (time implied, as above)
};

/// The model's name as used by the CLI ("poincare", "lorentz").
std::string_view to_string(HyperbolicModel model);

/// Parses a model name; InvalidArgument naming `argument` otherwise.
HyperbolicModel parse_hyperbolic_model(std::string_view name, std::string_view argument = "model");

/// A hyperbolic embedding space: the model of the rows and the curvature
/// magnitude c > 0 (curvature -c).
struct HyperbolicEmbedding {
  HyperbolicModel model = HyperbolicModel::poincare;
  double curvature = 1.0;
};

/// [n_queries x n_base] distances in `space`: poincare_distances or
/// lorentz_distances.
RowMatrixf hyperbolic_distances(const MatrixView<float>& queries, const MatrixView<float>& base,
                                const HyperbolicEmbedding& space, const Parallel& parallel = {});
RowMatrixd hyperbolic_distances(const MatrixView<double>& queries, const MatrixView<double>& base,
                                const HyperbolicEmbedding& space, const Parallel& parallel = {});

/// Hyperbolic norm ||x||_c = d_c(x, 0) of every row, the generality score of the
/// papers (general concepts sit near the origin, specific ones far out; depth in
/// a hierarchy grows with it): Poincaré (2/sqrt(c)) artanh(sqrt(c)||x||),
/// Lorentz asinh(sqrt(c)||x_space||) / sqrt(c). One value per row.
std::vector<float> hyperbolic_norms(const MatrixView<float>& x, const HyperbolicEmbedding& space,
                                    const Parallel& parallel = {});
std::vector<double> hyperbolic_norms(const MatrixView<double>& x, const HyperbolicEmbedding& space,
                                     const Parallel& parallel = {});

/// HiT's subsumption score of row i of `children` under row i of `parents`:
/// s = -(d_c(child, parent) + lambda (||parent||_c - ||child||_c)), higher when
/// the child is near its parent and farther from the origin (more specific).
/// `parents` has the rows of `children`, or one row scored against every child.
/// lambda finite and >= 0 (InvalidArgument). One value per row of `children`.
std::vector<float> subsumption_scores(const MatrixView<float>& children, const MatrixView<float>& parents,
                                      const HyperbolicEmbedding& space, double lambda, const Parallel& parallel = {});
std::vector<double> subsumption_scores(const MatrixView<double>& children, const MatrixView<double>& parents,
                                       const HyperbolicEmbedding& space, double lambda, const Parallel& parallel = {});

/// Exact k nearest base rows of each query under the hyperbolic distance of
/// `space` (1 <= k <= base rows), nearest first, equal distances to the smaller
/// id. Scores are the distances, ascending, rounded to float once (for float
/// rows bitwise the entries of hyperbolic_distances); the graph's metric reads
/// Metric::l2, a distance, so the hubness measures and reductions take it as
/// they take an l2 graph.
///
/// The Lorentz -> MIPS reduction: with time t = sqrt(1/c + ||x||^2) (Poincaré
/// rows mapped to the hyperboloid first, poincare_to_lorentz, an isometry),
/// cosh(sqrt(c) d(q, x)) = c (t_q t_x - <q, x>), so the nearest x maximises the
/// inner product of [-t_q, q] with [t_x, x]. That inner product runs on the
/// double GEMM path with a fused top-k of 2k + 16 candidates, which are
/// re-scored with the distance's stable form. The result is certified exact:
/// the k-th candidate's distance must beat every row left out by more than the
/// GEMM's rounding bound (about (dim + 2) 2^-53 t_q max t_x, plus, for Poincaré
/// rows, the margins' rounding near the boundary); a query that misses the bound
/// is scanned against every base row with the stable form instead (cost
/// O(n_base dim) for that query); the result is exact either way. The bound
/// grows with t_q t_x, so it is tight clusters far from the origin that fall
/// back: rows 1e-7 apart within 1e-6 of the Poincaré boundary all do, rows of
/// norm up to 0.95 (c = 1) none.
///
/// Validation and errors as poincare_distances / lorentz_distances (c, the open
/// ball, NaN / Inf) plus InvalidK. Memory: the rows as double with one more
/// column (both sides), and [n_queries x (2k + 16)] candidates.
KnnGraph hyperbolic_knn(const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k,
                        const HyperbolicEmbedding& space, const SearchOptions& options = {});
KnnGraph hyperbolic_knn(const MatrixView<double>& queries, const MatrixView<double>& base, std::int64_t k,
                        const HyperbolicEmbedding& space, const SearchOptions& options = {});

/// The hyperbolic kNN graph of `base`: each row's k nearest other rows (1 <= k <=
/// rows - 1), as hyperbolic_knn; `self_excluded` is set.
KnnGraph hyperbolic_knn_graph(const MatrixView<float>& base, std::int64_t k, const HyperbolicEmbedding& space,
                              const SearchOptions& options = {});
KnnGraph hyperbolic_knn_graph(const MatrixView<double>& base, std::int64_t k, const HyperbolicEmbedding& space,
                              const SearchOptions& options = {});

}  // namespace latent
