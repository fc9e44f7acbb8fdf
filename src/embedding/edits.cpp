// Edits of an embedding space (see embedding/edits.hpp): subspace removal,
// concept directions and steering, random projections, fusion of several
// models' embeddings, sentence-pair features.
#include <algorithm>
#include <cmath>
#include <string>

#include "../core/linalg.hpp"
#include "../core/random.hpp"
#include "../core/row_norms.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"
#include "latent/embedding.hpp"
#include "latent/kernels/batched.hpp"

namespace latent {
namespace {

constexpr NamedValue<RandomProjection> kProjectionNames[] = {{"gaussian", RandomProjection::gaussian},
                                                             {"sign", RandomProjection::sign},
                                                             {"count-sketch", RandomProjection::count_sketch}};

template <class T>
void check_rows(const char* function, const char* argument, const MatrixView<T>& x) {
  require_non_empty(function, argument, x);
  require_finite(function, argument, x);
}

void check_direction(const char* function, const std::vector<double>& direction, std::int64_t d) {
  require_same_dim(function, "direction", static_cast<std::int64_t>(direction.size()), "columns of x", d);
  for (std::size_t j = 0; j < direction.size(); ++j)
    if (!std::isfinite(direction[j]))
      raise<NonFiniteValue>(function, "direction", "holds NaN or Inf", "index " + std::to_string(j));
}

template <class T>
RowMatrix<T> remove_impl(const MatrixView<T>& x, const MatrixView<double>& directions, double strength) {
  constexpr const char* kFunction = "remove_subspace";
  check_rows(kFunction, "x", x);
  check_rows(kFunction, "directions", directions);
  require_same_dim(kFunction, "columns of directions", directions.cols, "columns of x", x.cols);
  if (!(strength >= 0 && strength <= 1))
    raise<InvalidArgument>(kFunction, "strength", "must be in [0, 1]", std::to_string(strength));
  const detail::SvdFactors svd = detail::svd_factors(Eigen::MatrixXd(directions.map()), Eigen::ComputeThinV);
  const Eigen::VectorXd& sigma = svd.values;
  if (!(sigma(0) > 0)) raise<InvalidArgument>(kFunction, "directions", "are all 0: no subspace to remove");
  Eigen::Index rank = 0;
  while (rank < sigma.size() && sigma(rank) > 1e-12 * sigma(0)) ++rank;
  const Eigen::MatrixXd q = svd.v.leftCols(rank);  // [d x r']
  const RowMatrixd rows = x.map().template cast<double>();
  const RowMatrixd out = rows - strength * (rows * q) * q.transpose();
  return out.template cast<T>();
}

template <class T>
std::vector<double> direction_impl(const MatrixView<T>& x, const std::vector<std::int64_t>& labels,
                                   std::int64_t positive, std::int64_t negative, bool normalize) {
  constexpr const char* kFunction = "concept_direction";
  check_rows(kFunction, "x", x);
  require_same_dim(kFunction, "labels", static_cast<std::int64_t>(labels.size()), "rows of x", x.rows);
  Eigen::VectorXd sum_positive = Eigen::VectorXd::Zero(x.cols), sum_negative = Eigen::VectorXd::Zero(x.cols);
  double count_positive = 0, count_negative = 0;
  for (std::int64_t i = 0; i < x.rows; ++i) {
    const auto label = labels[static_cast<std::size_t>(i)];
    if (label != positive && label != negative) continue;
    const Eigen::VectorXd row =
        Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(x.row(i), x.cols).template cast<double>();
    if (label == positive)
      sum_positive += row, ++count_positive;
    else
      sum_negative += row, ++count_negative;
  }
  if (count_positive == 0 || count_negative == 0)
    raise<InvalidArgument>(kFunction, "labels", "has no row of the label",
                           std::to_string(count_positive == 0 ? positive : negative));
  Eigen::VectorXd direction = sum_positive / count_positive - sum_negative / count_negative;
  if (normalize) {
    const double norm = direction.norm();
    if (!(norm > 0)) raise<InvalidArgument>(kFunction, "x", "has equal means of the two labels: no direction");
    direction /= norm;
  }
  return std::vector<double>(direction.data(), direction.data() + direction.size());
}

template <class T>
RowMatrix<T> replace_impl(const MatrixView<T>& x, const MatrixView<double>& m, const MatrixView<double>& coordinates) {
  constexpr const char* kFunction = "replace_subspace";
  check_rows(kFunction, "x", x);
  check_rows(kFunction, "m", m);
  check_rows(kFunction, "coordinates", coordinates);
  require_same_dim(kFunction, "columns of m", m.cols, "columns of x", x.cols);
  require_same_dim(kFunction, "columns of coordinates", coordinates.cols, "rows of m", m.rows);
  if (coordinates.rows != 1)
    require_same_dim(kFunction, "rows of coordinates", coordinates.rows, "rows of x (or 1)", x.rows);
  const RowMatrixd rows = x.map().template cast<double>();
  RowMatrixd out = rows - (rows * m.map().transpose()) * m.map();
  if (coordinates.rows == 1)
    out.rowwise() += coordinates.map().row(0) * m.map();
  else
    out += coordinates.map() * m.map();
  return out.template cast<T>();
}

template <class T>
std::vector<double> scores_impl(const MatrixView<T>& x, const std::vector<double>& direction) {
  check_rows("projection_scores", "x", x);
  check_direction("projection_scores", direction, x.cols);
  const Eigen::Map<const Eigen::VectorXd> d(direction.data(), x.cols);
  const double norm = d.norm();
  if (!(norm > 0)) raise<InvalidArgument>("projection_scores", "direction", "is 0");
  const Eigen::VectorXd scores = x.map().template cast<double>() * (d / norm);
  return std::vector<double>(scores.data(), scores.data() + scores.size());
}

template <class T>
RowMatrix<T> steer_impl(const MatrixView<T>& x, const std::vector<double>& direction, double alpha) {
  check_rows("steer", "x", x);
  check_direction("steer", direction, x.cols);
  if (!std::isfinite(alpha)) raise<NonFiniteValue>("steer", "alpha", "is NaN or Inf");
  const Eigen::RowVectorXd shift = alpha * Eigen::Map<const Eigen::RowVectorXd>(direction.data(), x.cols);
  RowMatrixd out = x.map().template cast<double>();
  out.rowwise() += shift;
  return out.template cast<T>();
}

void check_projection(std::int64_t d_in, std::int64_t d_out) {
  if (d_in < 1) raise<InvalidArgument>("random_projection_matrix", "d_in", "must be >= 1", std::to_string(d_in));
  if (d_out < 1) raise<InvalidArgument>("random_projection_matrix", "d_out", "must be >= 1", std::to_string(d_out));
}

// Count-sketch: for input dimension j, its output bucket and sign, drawn in order of j.
void sketch_of(std::int64_t d_in, std::int64_t d_out, std::uint64_t seed, std::vector<std::int64_t>& bucket,
               std::vector<double>& sign) {
  detail::SplitMix64 random{seed};
  bucket.resize(static_cast<std::size_t>(d_in));
  sign.resize(static_cast<std::size_t>(d_in));
  for (std::size_t j = 0; j < bucket.size(); ++j) {
    bucket[j] = random.below(d_out);
    sign[j] = (random.next() >> 63) != 0 ? 1.0 : -1.0;
  }
}

template <class T>
RowMatrix<T> project_impl(const MatrixView<T>& x, std::int64_t d_out, RandomProjection kind, std::uint64_t seed) {
  check_rows("random_project", "x", x);
  check_projection(x.cols, d_out);
  if (kind == RandomProjection::count_sketch) {
    std::vector<std::int64_t> bucket;
    std::vector<double> sign;
    sketch_of(x.cols, d_out, seed, bucket, sign);
    RowMatrix<T> out = RowMatrix<T>::Zero(x.rows, d_out);
    for (std::int64_t i = 0; i < x.rows; ++i) {
      Eigen::VectorXd sums = Eigen::VectorXd::Zero(d_out);
      for (std::int64_t j = 0; j < x.cols; ++j)
        sums(bucket[static_cast<std::size_t>(j)]) +=
            sign[static_cast<std::size_t>(j)] * static_cast<double>(x.row(i)[j]);
      out.row(i) = sums.transpose().template cast<T>();
    }
    return out;
  }
  const RowMatrixd r = random_projection_matrix(x.cols, d_out, kind, seed);
  if constexpr (std::is_same_v<T, float>) {
    // The kernel layer's GEMM path: out = x R = x (R^T)^T.
    const RowMatrixf r_t = r.transpose().cast<float>();
    RowMatrixf out(x.rows, d_out);
    kernels::gemm_nt_f32(x, r_t, out.data(), d_out);
    return out;
  } else {
    return x.map() * r;
  }
}

template <class T>
RowMatrix<T> pair_impl(const MatrixView<T>& u, const MatrixView<T>& v) {
  check_rows("pair_features", "u", u);
  check_rows("pair_features", "v", v);
  require_same_dim("pair_features", "rows of v", v.rows, "rows of u", u.rows);
  require_same_dim("pair_features", "columns of v", v.cols, "columns of u", u.cols);
  const std::int64_t d = u.cols;
  RowMatrix<T> out(u.rows, 4 * d);
  out.leftCols(d) = u.map();
  out.middleCols(d, d) = v.map();
  out.middleCols(2 * d, d) = (u.map() - v.map()).cwiseAbs();
  out.rightCols(d) = u.map().cwiseProduct(v.map());
  return out;
}

// The blocks checked, each as a float matrix, L2-normalised per row when asked;
// with `available`, only the rows a block covers are checked for a zero norm.
std::vector<RowMatrixf> prepared_blocks(const char* function, const std::vector<MatrixView<float>>& blocks,
                                        bool normalize, const std::vector<std::vector<std::uint8_t>>& available = {}) {
  if (blocks.empty()) raise<EmptyInput>(function, "blocks", "is empty");
  std::vector<RowMatrixf> out;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const std::string name = "blocks[" + std::to_string(b) + "]";
    check_rows(function, name.c_str(), blocks[b]);
    require_same_dim(function, ("rows of " + name).c_str(), blocks[b].rows, "rows of blocks[0]", blocks[0].rows);
    RowMatrixf block = blocks[b].map();
    if (normalize) {
      if (!available.empty()) {
        require_same_dim(function, "available", static_cast<std::int64_t>(available.size()), "blocks",
                         static_cast<std::int64_t>(blocks.size()));
        require_same_dim(function, ("available[" + std::to_string(b) + "]").c_str(),
                         static_cast<std::int64_t>(available[b].size()), "rows", block.rows());
      }
      // Rows the block does not cover may be anything finite, zeros included.
      for (Eigen::Index i = 0; i < block.rows(); ++i)
        if ((available.empty() || available[b][static_cast<std::size_t>(i)] != 0) && block.row(i).isZero(0.0f))
          raise<NumericalError>(function, name.c_str(), "has a zero row, which cannot be normalised",
                                "row " + std::to_string(i));
      detail::normalize_rows(block, ZeroNormPolicy::zero, function, name.c_str(), Parallel{1});
    }
    out.push_back(std::move(block));
  }
  return out;
}

}  // namespace

RowMatrixf remove_subspace(const MatrixView<float>& x, const MatrixView<double>& directions, double strength) {
  return remove_impl(x, directions, strength);
}
RowMatrixd remove_subspace(const MatrixView<double>& x, const MatrixView<double>& directions, double strength) {
  return remove_impl(x, directions, strength);
}

std::vector<double> concept_direction(const MatrixView<float>& x, const std::vector<std::int64_t>& labels,
                                      std::int64_t positive, std::int64_t negative, bool normalize) {
  return direction_impl(x, labels, positive, negative, normalize);
}
std::vector<double> concept_direction(const MatrixView<double>& x, const std::vector<std::int64_t>& labels,
                                      std::int64_t positive, std::int64_t negative, bool normalize) {
  return direction_impl(x, labels, positive, negative, normalize);
}

RowMatrixf replace_subspace(const MatrixView<float>& x, const MatrixView<double>& m,
                            const MatrixView<double>& coordinates) {
  return replace_impl(x, m, coordinates);
}
RowMatrixd replace_subspace(const MatrixView<double>& x, const MatrixView<double>& m,
                            const MatrixView<double>& coordinates) {
  return replace_impl(x, m, coordinates);
}

std::vector<double> projection_scores(const MatrixView<float>& x, const std::vector<double>& direction) {
  return scores_impl(x, direction);
}
std::vector<double> projection_scores(const MatrixView<double>& x, const std::vector<double>& direction) {
  return scores_impl(x, direction);
}

RowMatrixf steer(const MatrixView<float>& x, const std::vector<double>& direction, double alpha) {
  return steer_impl(x, direction, alpha);
}
RowMatrixd steer(const MatrixView<double>& x, const std::vector<double>& direction, double alpha) {
  return steer_impl(x, direction, alpha);
}

std::string_view to_string(RandomProjection kind) { return name_of(kProjectionNames, kind); }

RandomProjection parse_random_projection(std::string_view name, std::string_view argument) {
  return parse_name(kProjectionNames, name, "parse_random_projection", argument, "random projection");
}

RowMatrixd random_projection_matrix(std::int64_t d_in, std::int64_t d_out, RandomProjection kind, std::uint64_t seed) {
  check_projection(d_in, d_out);
  RowMatrixd r = RowMatrixd::Zero(d_in, d_out);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d_out));
  if (kind == RandomProjection::count_sketch) {
    std::vector<std::int64_t> bucket;
    std::vector<double> sign;
    sketch_of(d_in, d_out, seed, bucket, sign);
    for (std::int64_t j = 0; j < d_in; ++j)
      r(j, bucket[static_cast<std::size_t>(j)]) = sign[static_cast<std::size_t>(j)];
    return r;
  }
  detail::SplitMix64 random{seed};
  for (std::int64_t i = 0; i < d_in; ++i)
    for (std::int64_t j = 0; j < d_out; ++j)
      r(i, j) =
          kind == RandomProjection::gaussian ? scale * random.normal() : ((random.next() >> 63) != 0 ? scale : -scale);
  return r;
}

RowMatrixf random_project(const MatrixView<float>& x, std::int64_t d_out, RandomProjection kind, std::uint64_t seed) {
  return project_impl(x, d_out, kind, seed);
}
RowMatrixd random_project(const MatrixView<double>& x, std::int64_t d_out, RandomProjection kind, std::uint64_t seed) {
  return project_impl(x, d_out, kind, seed);
}

RowMatrixf concatenate_embeddings(const std::vector<MatrixView<float>>& blocks, const std::vector<double>& weights,
                                  bool normalize) {
  constexpr const char* kFunction = "concatenate_embeddings";
  const std::vector<RowMatrixf> prepared = prepared_blocks(kFunction, blocks, normalize);
  if (!weights.empty())
    require_same_dim(kFunction, "weights", static_cast<std::int64_t>(weights.size()), "blocks",
                     static_cast<std::int64_t>(blocks.size()));
  for (const double w : weights)
    if (!std::isfinite(w)) raise<NonFiniteValue>(kFunction, "weights", "holds NaN or Inf");
  std::int64_t width = 0;
  for (const RowMatrixf& block : prepared) width += block.cols();
  RowMatrixf out(prepared[0].rows(), width);
  std::int64_t column = 0;
  for (std::size_t b = 0; b < prepared.size(); ++b) {
    const float w = weights.empty() ? 1.0f : static_cast<float>(weights[b]);
    out.middleCols(column, prepared[b].cols()) = w * prepared[b];
    column += prepared[b].cols();
  }
  return out;
}

RowMatrixf average_embeddings(const std::vector<MatrixView<float>>& blocks, bool normalize,
                              const std::vector<std::vector<std::uint8_t>>& available) {
  constexpr const char* kFunction = "average_embeddings";
  if (!available.empty()) {
    require_same_dim(kFunction, "available", static_cast<std::int64_t>(available.size()), "blocks",
                     static_cast<std::int64_t>(blocks.size()));
    for (std::size_t b = 0; b < available.size() && b < blocks.size(); ++b)
      require_same_dim(kFunction, ("available[" + std::to_string(b) + "]").c_str(),
                       static_cast<std::int64_t>(available[b].size()), "rows", blocks[b].rows);
  }
  const std::vector<RowMatrixf> prepared = prepared_blocks(kFunction, blocks, normalize, available);
  const Eigen::Index n = prepared[0].rows();
  std::int64_t width = 0;
  for (const RowMatrixf& block : prepared) width = std::max<std::int64_t>(width, block.cols());
  RowMatrixd sum = RowMatrixd::Zero(n, width);
  Eigen::VectorXd count = Eigen::VectorXd::Zero(n);
  for (std::size_t b = 0; b < prepared.size(); ++b)
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!available.empty() && available[b][static_cast<std::size_t>(i)] == 0) continue;
      sum.row(i).head(prepared[b].cols()) += prepared[b].row(i).cast<double>();
      count(i) += 1;
    }
  for (Eigen::Index i = 0; i < n; ++i)
    if (count(i) == 0)
      raise<InvalidArgument>(kFunction, "available", "leaves a row without any block", "row " + std::to_string(i));
  return (sum.array().colwise() / count.array()).matrix().cast<float>();
}

RowMatrixf pair_features(const MatrixView<float>& u, const MatrixView<float>& v) { return pair_impl(u, v); }
RowMatrixd pair_features(const MatrixView<double>& u, const MatrixView<double>& v) { return pair_impl(u, v); }

}  // namespace latent
