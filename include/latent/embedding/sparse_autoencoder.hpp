// latent/embedding/sparse_autoencoder.hpp - inference with a trained sparse
// autoencoder (SAE) over embeddings: sparse codes, reconstructions, their
// statistics and steering by feature edits.
//
// Weights: W_enc [d x m], b_enc [m], W_dec [m x d], b_dec [d] (float32), for
// inputs of dim d and m features. Encoding computes the pre-activations
//   pre = (x - b_dec) W_enc + b_enc
// and keeps, per row:
//   topk      the k largest entries of pre (equal values: the smaller feature
//             index first), negative kept values set to 0;
//   relu      max(pre, 0);
//   jumprelu  pre where pre > threshold, else 0;
// as a SparseMatrix [n x m] with the zeros dropped (so a topk row holds at most k
// entries, exactly k when its k-th largest pre-activation is positive). Decoding
// is x_hat = z W_dec + b_dec.
//
// topk runs on the GEMM path with its fused top-k (the pre-activations are the
// inner products of [x - b_dec, 1] with the rows [W_enc column j, b_enc j]), so
// the dense [n x m] matrix never exists; relu and jumprelu compute it in blocks of
// rows. Both in float: a pre-activation is exact to float rounding (as any float
// GEMM), so two features within rounding of each other at the k-th place may
// swap. Memory: the codes, plus a block of rows (relu, jumprelu: [rows x m]).
//
// Errors: IoError naming the file (a weight missing or unreadable),
// DimensionMismatch naming the weight or input whose shape disagrees,
// NonFiniteValue, InvalidArgument (k outside 1..m, a non-finite threshold, a
// feature of an edit outside [0, m)), EmptyInput.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/sparse.hpp"
#include "latent/core/types.hpp"
#include "latent/similarity/search.hpp"

namespace latent {

enum class SaeActivation { topk, relu, jumprelu };

/// "topk", "relu", "jumprelu"; parse throws InvalidArgument naming `argument`.
std::string_view to_string(SaeActivation activation);
SaeActivation parse_sae_activation(std::string_view name, std::string_view argument = "activation");

struct SaeEncodeOptions {
  SaeActivation activation = SaeActivation::topk;
  std::int64_t k = 32;     ///< topk: entries kept per row, 1..m
  double threshold = 0.0;  ///< jumprelu: pre is kept where pre > threshold
  Parallel parallel;
};

/// What sae_stats reports over a set of rows.
struct SaeStats {
  std::int64_t rows = 0;
  std::int64_t features = 0;
  double mse = 0;                 ///< mean over rows and dims of (x - x_hat)^2
  double explained_variance = 0;  ///< 1 - sum ||x - x_hat||^2 / sum ||x - mean(x)||^2
  double dead_fraction = 0;       ///< share of the features active in no row
  double mean_active = 0;         ///< mean non-zeros per row (L0)
};

/// One edit of a feature's activation in steering: scale multiplies it, add adds
/// to it (a feature that was off turns on).
struct FeatureEdit {
  enum class Kind { scale, add };
  std::int64_t feature = 0;
  Kind kind = Kind::scale;
  float value = 1.0f;
};

class SparseAutoencoder {
 public:
  /// Takes the weights (shapes as above; DimensionMismatch naming the weight).
  SparseAutoencoder(const MatrixView<float>& w_enc, std::vector<float> b_enc, RowMatrixf w_dec,
                    std::vector<float> b_dec);

  /// Reads DIR/W_enc.npy, DIR/b_enc.npy, DIR/W_dec.npy and DIR/b_dec.npy (float32).
  static SparseAutoencoder load(const std::string& dir);

  std::int64_t dim() const { return w_dec_.cols(); }
  std::int64_t features() const { return w_dec_.rows(); }
  const RowMatrixf& decoder() const { return w_dec_; }
  const std::vector<float>& decoder_bias() const { return b_dec_; }

  /// The dense pre-activations (x - b_dec) W_enc + b_enc, [n x m].
  RowMatrixf pre_activations(const MatrixView<float>& x, const Parallel& parallel = {}) const;

  /// Sparse codes [n x m] of the rows of x (see the file comment).
  SparseMatrix encode(const MatrixView<float>& x, const SaeEncodeOptions& options = {}) const;

  /// Reconstructions z W_dec + b_dec, [n x d]; codes must have m columns.
  RowMatrixf decode(const SparseMatrix& codes, const Parallel& parallel = {}) const;

 private:
  RowMatrixf encoder_rows_;  // [m x (d + 1)]: column j of W_enc, then b_enc[j]
  RowMatrixf w_dec_;
  std::vector<float> b_dec_;
};

/// Encodes and decodes x and reports the reconstruction and activation statistics.
SaeStats sae_stats(const SparseAutoencoder& sae, const MatrixView<float>& x, const SaeEncodeOptions& options = {});

/// The codes with the edits applied in order (zeros dropped, rows stay canonical).
SparseMatrix edit_features(const SparseMatrix& codes, const std::vector<FeatureEdit>& edits);

/// Steered rows: x + (z' - z) W_dec, where z are the codes of x and z' the edited
/// codes. The part of x the autoencoder does not reconstruct is kept (adding the
/// change of the reconstruction, not replacing x by it).
RowMatrixf steer(const SparseAutoencoder& sae, const MatrixView<float>& x, const std::vector<FeatureEdit>& edits,
                 const SaeEncodeOptions& options = {});

/// SAE-steered search: the k nearest base rows of each steered query
/// (steer(queries), then knn under `metric`).
KnnGraph steered_knn(const SparseAutoencoder& sae, const MatrixView<float>& queries, const MatrixView<float>& base,
                     std::int64_t k, Metric metric, const std::vector<FeatureEdit>& edits,
                     const SaeEncodeOptions& encode = {}, const SearchOptions& search = {});

}  // namespace latent
