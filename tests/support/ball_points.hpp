// Points of the Poincaré ball for the hyperbolic tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

#include "latent/core/types.hpp"

namespace latent::testing {

/// Gaussian rows rescaled to norms drawn uniformly from [0, max_fraction / sqrt(c)).
template <class T>
RowMatrix<T> ball_points(std::int64_t rows, std::int64_t dim, double c, double max_fraction, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.0, max_fraction);
  RowMatrix<T> points(rows, dim);
  for (std::int64_t i = 0; i < rows; ++i) {
    Eigen::Matrix<double, 1, Eigen::Dynamic> v(dim);
    for (std::int64_t j = 0; j < dim; ++j) v(j) = normal(rng);
    v *= uniform(rng) / (std::sqrt(c) * v.norm());
    points.row(i) = v.cast<T>();
  }
  return points;
}

}  // namespace latent::testing
