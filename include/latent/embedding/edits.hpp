// latent/embedding/edits.hpp - edits of an embedding space: removing or
// shrinking a subspace (concept erasure), concept directions by difference of
// class means and steering along them, seeded random projections (Gaussian,
// sign, count-sketch), the fusion of several models' embeddings of the same
// items (concatenation or average: meta-embeddings) and sentence-pair features.
// Included by latent/embedding.hpp.
//
// Float and double overloads; directions, means and projection matrices are
// kept in double. Every function validates at the boundary (EmptyInput,
// DimensionMismatch, InvalidArgument, NonFiniteValue) and is deterministic.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

// ---------------------------------------------------------------- subspace removal, concept directions

/// Removes (strength 1) or shrinks (0 < strength < 1) the rows' components in
/// the span of `directions` ([r x d], one direction per row, any scale): x' = x
/// - strength (x Q) Q^T, Q an orthonormal basis [d x r'] of that span (from an
/// SVD; directions below 1e-12 of the largest singular value do not count, so
/// dependent directions are allowed). strength 1 is the projection of concept
/// erasure by nullspace projection (Ravfogel et al. 2020; Bolukbasi et al.'s
/// "neutralize" for one direction); strength 0 leaves x. Throws EmptyInput,
/// DimensionMismatch, NonFiniteValue, InvalidArgument (strength outside [0, 1],
/// all directions 0). Cost 4 n d r'.
RowMatrixf remove_subspace(const MatrixView<float>& x, const MatrixView<double>& directions, double strength = 1.0);
RowMatrixd remove_subspace(const MatrixView<double>& x, const MatrixView<double>& directions, double strength = 1.0);

/// Subspace replacement (matrix subspace projection, Li et al. 2020): x' = x -
/// (x M^T) M + y M for M [r x d] (rows orthonormal for the usual reading: the
/// coordinates of x along M's rows become y) and y the new coordinates, [n x r]
/// or one row [1 x r] for every row. Throws EmptyInput, DimensionMismatch,
/// NonFiniteValue.
RowMatrixf replace_subspace(const MatrixView<float>& x, const MatrixView<double>& m,
                            const MatrixView<double>& coordinates);
RowMatrixd replace_subspace(const MatrixView<double>& x, const MatrixView<double>& m,
                            const MatrixView<double>& coordinates);

/// A concept direction by difference of means (Bolukbasi et al. 2016; the
/// steering vectors of activation addition): the mean of the rows labelled
/// `positive` minus the mean of those labelled `negative` ([d], in double),
/// scaled to unit length when `normalize`. Throws EmptyInput, NonFiniteValue,
/// DimensionMismatch (labels), InvalidArgument (a label without rows, or equal
/// means under `normalize`).
std::vector<double> concept_direction(const MatrixView<float>& x, const std::vector<std::int64_t>& labels,
                                      std::int64_t positive, std::int64_t negative, bool normalize = true);
std::vector<double> concept_direction(const MatrixView<double>& x, const std::vector<std::int64_t>& labels,
                                      std::int64_t positive, std::int64_t negative, bool normalize = true);

/// Projection scores on a concept direction: s(x) = <x, d> / |d| per row, in
/// double. Throws EmptyInput, DimensionMismatch, NonFiniteValue,
/// InvalidArgument (d = 0).
std::vector<double> projection_scores(const MatrixView<float>& x, const std::vector<double>& direction);
std::vector<double> projection_scores(const MatrixView<double>& x, const std::vector<double>& direction);

/// Steering: x + alpha * direction on every row ([d] direction, any alpha).
/// Throws EmptyInput, DimensionMismatch, NonFiniteValue.
RowMatrixf steer(const MatrixView<float>& x, const std::vector<double>& direction, double alpha);
RowMatrixd steer(const MatrixView<double>& x, const std::vector<double>& direction, double alpha);

// ---------------------------------------------------------------- random projections

enum class RandomProjection {
  gaussian,      ///< entries N(0, 1 / d_out) (Johnson-Lindenstrauss)
  sign,          ///< entries +-1 / sqrt(d_out), equally likely (Achlioptas 2003)
  count_sketch,  ///< input dimension j adds s(j) x_j to output h(j), s = +-1 (Charikar et al. 2002; feature hashing)
};
std::string_view to_string(RandomProjection kind);
/// "gaussian", "sign", "count-sketch"; InvalidArgument otherwise.
RandomProjection parse_random_projection(std::string_view name, std::string_view argument = "kind");

/// The projection matrix R [d_in x d_out] of `kind`, drawn from the seed with the
/// project's SplitMix64 stream (Gaussians by Box-Muller), so a seed gives the
/// same matrix on every platform. E|x R|^2 = |x|^2 for every kind. Throws
/// InvalidArgument (a dimension < 1).
RowMatrixd random_projection_matrix(std::int64_t d_in, std::int64_t d_out, RandomProjection kind,
                                    std::uint64_t seed = 0);
/// x R ([n x d_out]) with R = random_projection_matrix(x.cols, d_out, kind,
/// seed); count-sketch in O(n d_in) without forming R. Throws EmptyInput,
/// NonFiniteValue, InvalidArgument.
RowMatrixf random_project(const MatrixView<float>& x, std::int64_t d_out, RandomProjection kind,
                          std::uint64_t seed = 0);
RowMatrixd random_project(const MatrixView<double>& x, std::int64_t d_out, RandomProjection kind,
                          std::uint64_t seed = 0);

// ---------------------------------------------------------------- fusion, pair features

/// Several models' embeddings of the same n items as one ([n x sum d_i]): block
/// i is L2-normalised per row when `normalize` (so no model dominates by its
/// scale), multiplied by weights[i] (empty: all 1) and placed after block i - 1
/// (concatenated meta-embeddings, Yin & Schutze 2016). Throws EmptyInput (no
/// blocks or rows), DimensionMismatch (rows or weights differ),
/// NonFiniteValue, NumericalError (a zero row under normalize).
RowMatrixf concatenate_embeddings(const std::vector<MatrixView<float>>& blocks, const std::vector<double>& weights = {},
                                  bool normalize = true);
/// The averaged meta-embedding (Coates & Bollegala 2018): every block
/// L2-normalised per row when `normalize`, zero-padded to the widest block, and
/// averaged over the blocks available for that row ([n x max d_i]). Blocks are
/// usually first mapped to a common space (a LinearMap per source, as in
/// Garcia-Ferrero et al.'s common-space meta-embeddings). `available` (empty:
/// every block everywhere) holds one flag per block and row: 0 marks a row the
/// block does not cover (an out-of-vocabulary word), whose values are ignored.
/// Throws as concatenate_embeddings, InvalidArgument (a row no block covers),
/// DimensionMismatch (available's shape).
RowMatrixf average_embeddings(const std::vector<MatrixView<float>>& blocks, bool normalize = true,
                              const std::vector<std::vector<std::uint8_t>>& available = {});

/// Sentence-pair features for a classifier over pairs (InferSent; Sentence-BERT's
/// classification objective): row i is [u_i, v_i, |u_i - v_i|, u_i * v_i]
/// ([n x 4d]). Throws EmptyInput, DimensionMismatch, NonFiniteValue.
RowMatrixf pair_features(const MatrixView<float>& u, const MatrixView<float>& v);
RowMatrixd pair_features(const MatrixView<double>& u, const MatrixView<double>& v);

}  // namespace latent
