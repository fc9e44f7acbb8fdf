// The free functions are float / double overload pairs taking MatrixView, so a
// RowMatrix, an Eigen::Map and a MatrixView of either scalar are passed as they
// are, with no template argument and no wrap. Compiling this file is half the
// test; the assertions check that each spelling reads the same rows.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "latent/embedding.hpp"
#include "latent/similarity/hyperbolic.hpp"

namespace latent {
namespace {

template <class T>
RowMatrix<T> sample_rows() {
  RowMatrix<T> x(5, 7);
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      x(i, j) = static_cast<T>(0.1 * static_cast<double>(i + 1) - 0.03 * static_cast<double>(j));
  return x;
}

template <class T>
void check_l2_normalize_spellings() {
  const RowMatrix<T> x = sample_rows<T>();
  const Eigen::Map<const RowMatrix<T>> map(x.data(), x.rows(), x.cols());
  const MatrixView<T> view(x.data(), x.rows(), x.cols());

  const RowMatrix<T> from_matrix = l2_normalize(x);
  const RowMatrix<T> from_map = l2_normalize(map);
  const RowMatrix<T> from_view = l2_normalize(view);
  EXPECT_EQ(from_matrix, from_map);
  EXPECT_EQ(from_matrix, from_view);
  for (Eigen::Index i = 0; i < x.rows(); ++i) EXPECT_NEAR(static_cast<double>(from_matrix.row(i).norm()), 1.0, 1e-6);

  // A block of rows and a strided view over padded rows are views too.
  EXPECT_EQ(RowMatrix<T>(from_matrix.topRows(2)), l2_normalize(x.topRows(2)));
  const MatrixView<T> left(x.data(), x.rows(), 3, x.cols());
  EXPECT_EQ(truncate_dims(x, 3), l2_normalize(left));
}

TEST(ScalarOverloads, L2NormalizeTakesAMatrixAMapAndAViewFloat) { check_l2_normalize_spellings<float>(); }
TEST(ScalarOverloads, L2NormalizeTakesAMatrixAMapAndAViewDouble) { check_l2_normalize_spellings<double>(); }

// Every other free function of embedding.hpp and hyperbolic.hpp, called on a map
// and on the matrix itself: the same values.
template <class T>
void check_other_functions() {
  const RowMatrix<T> x = sample_rows<T>();
  const Eigen::Map<const RowMatrix<T>> map(x.data(), x.rows(), x.cols());
  EXPECT_EQ(center_rows(x), center_rows(map));
  EXPECT_EQ(standardize_rows(x), standardize_rows(map));
  EXPECT_EQ(truncate_dims(x, 4), truncate_dims(map, 4));
  EXPECT_EQ(pool(x, {}), pool(map, {}));
  EXPECT_EQ(pool_ragged(x, {0, 2, 5}), pool_ragged(map, {0, 2, 5}));
  EXPECT_EQ(pool_spans(x, {{0, 2}, {2, 5}}), pool_spans(map, {{0, 2}, {2, 5}}));
  EXPECT_EQ(mix_layers({x, map}, {0.5, 0.5}), mix_layers({map, x}, {0.5, 0.5}));
  const RowMatrix<std::uint8_t> mask = RowMatrix<std::uint8_t>::Ones(1, 5);
  EXPECT_EQ(pool_padded(x, mask), pool_padded(map, mask));

  const RowMatrix<T> ball = poincare_project(x, 1.0);
  const Eigen::Map<const RowMatrix<T>> ball_map(ball.data(), ball.rows(), ball.cols());
  EXPECT_EQ(poincare_distances(ball, ball, 1.0), poincare_distances(ball_map, ball_map, 1.0));
  EXPECT_EQ(poincare_distance(ball.row(0), ball.row(1), 1.0), poincare_distances(ball_map, ball, 1.0)(0, 1));
  EXPECT_EQ(lorentz_expmap0(x, 1.0), lorentz_expmap0(map, 1.0));
}

TEST(ScalarOverloads, EveryFreeFunctionTakesAMapFloat) { check_other_functions<float>(); }
TEST(ScalarOverloads, EveryFreeFunctionTakesAMapDouble) { check_other_functions<double>(); }

}  // namespace
}  // namespace latent
