// latent/embedding.hpp - operations on the vectors a model produced: row
// normalization, pooling of token embeddings into one vector (mean, max, first,
// last, sum, weighted mean; ragged batches, spans, layer mixing), Matryoshka
// truncation, 2D Matryoshka selection and sweeps, and funnel retrieval.
// Quantization, multi-vector sets (Chamfer, MUVERA), edits and hashed embedding
// tables (MurmurHash3, multi-hash and quotient-remainder
// tables) and sparse autoencoders (codes, reconstructions, steering) live in
// embedding/quantization.hpp, multivector.hpp, edits.hpp, hashing.hpp and
// sparse_autoencoder.hpp, included below.
//
// Every function comes as a float and a double overload taking MatrixView, so a
// RowMatrix, an Eigen::Map, a block or a memory-mapped .npy of that scalar is
// passed as it is (no copy).
//
// Numerical policy: norms and pooled sums accumulate in double and are rounded
// once to the input's scalar; a zero row under L2 normalization follows an
// explicit ZeroNormPolicy (raise by default). Centering and z-scores are
// whitening.hpp's Centering and Standardizer (one implementation); center_rows /
// standardize_rows are the one-call forms. Every function validates at the
// boundary (EmptyInput, DimensionMismatch, InvalidArgument, NonFiniteValue) and
// is thread-safe and deterministic (results do not depend on the thread count).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

// ---------------------------------------------------------------- normalization

/// Rows divided by their Euclidean norm ([n x d] -> [n x d]); each norm is summed
/// in double and each value multiplied by 1/norm in double, rounded once. A zero
/// row follows `zero` (ZeroNormPolicy::zero leaves it all zeros). Throws
/// NonFiniteValue, NumericalError (a zero row under ZeroNormPolicy::raise, naming
/// it). Cost: 3 n d flops.
RowMatrixf l2_normalize(const MatrixView<float>& x, ZeroNormPolicy zero = ZeroNormPolicy::raise);
RowMatrixd l2_normalize(const MatrixView<double>& x, ZeroNormPolicy zero = ZeroNormPolicy::raise);

/// x - column mean of x (whitening.hpp's Centering fitted on x). Throws EmptyInput, NonFiniteValue.
RowMatrixf center_rows(const MatrixView<float>& x);
RowMatrixd center_rows(const MatrixView<double>& x);
/// (x - mean) / sd per column, sd with 1/n (whitening.hpp's Standardizer; a
/// constant column is only centred). Needs n >= 2.
RowMatrixf standardize_rows(const MatrixView<float>& x);
RowMatrixd standardize_rows(const MatrixView<double>& x);

// ---------------------------------------------------------------- pooling

enum class Pooling {
  mean,           ///< mean of the unmasked tokens (WhiteningBERT: beats CLS)
  max,            ///< per-dimension maximum of the unmasked tokens
  min,            ///< per-dimension minimum of the unmasked tokens
  mean_max,       ///< [mean ‖ max]: the mean, then the maximum (2d values; InferSent, SBERT's concatenated modes)
  first,          ///< the first unmasked token (CLS)
  last,           ///< the last unmasked token (EOS; right- or left-padded alike)
  sum,            ///< sum of the unmasked tokens
  weighted_mean,  ///< sum w_t x_t / sum w_t over unmasked tokens; w given, or t + 1 (SGPT position weights)
};

/// How the attention mask of a padded sequence must look; `any` checks nothing.
/// right: ones then zeros; left: zeros then ones (decoder models).
enum class Padding { any, right, left };

/// "mean", "max", "min", "mean-max", "first", "last", "sum", "weighted-mean" (Pooling) and "any",
/// "right", "left" (Padding); the parsers throw InvalidArgument naming `argument`
/// and the accepted names.
std::string_view to_string(Pooling method);
Pooling parse_pooling(std::string_view name, std::string_view argument = "method");
std::string_view to_string(Padding padding);
Padding parse_padding(std::string_view name, std::string_view argument = "padding");

/// The width of a pooled vector of d-dimensional tokens: 2d for mean_max, d otherwise.
std::int64_t pooled_dim(Pooling method, std::int64_t d);

struct PoolingOptions {
  Pooling method = Pooling::mean;
  Padding padding = Padding::any;
  /// Token weights for weighted_mean ([n_tokens] per sequence, or [seq_len] for a
  /// padded batch); empty: position weights 1, 2, ..., counted over all positions.
  std::vector<double> weights;
};

/// Pools one sequence: tokens [n_tokens x d], mask [n_tokens] (nonzero = a real
/// token; empty: all real). Masked tokens never contribute, whatever they hold
/// (no up-front NaN scan: a NaN or Inf among the real tokens makes the pooled
/// vector non-finite and raises NonFiniteValue; max pooling cannot see a -Inf
/// that never wins). Returns [1 x pooled_dim(method, d)].
/// Throws EmptyInput (no tokens, or all masked), DimensionMismatch (mask or
/// weights length), InvalidArgument (a mask that breaks `padding`, negative or
/// all-zero weights), NonFiniteValue. Cost: n_tokens d.
RowMatrixf pool(const MatrixView<float>& tokens, const std::vector<std::uint8_t>& mask,
                const PoolingOptions& options = {});
RowMatrixd pool(const MatrixView<double>& tokens, const std::vector<std::uint8_t>& mask,
                const PoolingOptions& options = {});

/// Pools a padded batch: tokens [batch * seq_len x d] (sequence b holds rows
/// b * seq_len .. (b + 1) * seq_len - 1, as a [batch, seq_len, d] tensor in C
/// order), mask [batch x seq_len]. Returns [batch x pooled_dim]; errors as `pool`, naming the sequence.
RowMatrixf pool_padded(const MatrixView<float>& tokens, const RowMatrix<std::uint8_t>& mask,
                       const PoolingOptions& options = {}, const Parallel& parallel = {});
RowMatrixd pool_padded(const MatrixView<double>& tokens, const RowMatrix<std::uint8_t>& mask,
                       const PoolingOptions& options = {}, const Parallel& parallel = {});

/// Pools a ragged batch: tokens of all sequences stacked ([total x d]), sequence i
/// = rows offsets[i] .. offsets[i + 1] - 1 (offsets non-decreasing, offsets[0] = 0,
/// back() = total; InvalidArgument otherwise). No mask (every row is a real
/// token); an empty sequence throws EmptyInput. Returns [n_sequences x pooled_dim].
/// With weighted_mean and no weights: position weights within each sequence.
RowMatrixf pool_ragged(const MatrixView<float>& tokens, const std::vector<std::int64_t>& offsets,
                       const PoolingOptions& options = {}, const Parallel& parallel = {});
RowMatrixd pool_ragged(const MatrixView<double>& tokens, const std::vector<std::int64_t>& offsets,
                       const PoolingOptions& options = {}, const Parallel& parallel = {});

/// Late chunking: pools token spans [begin, end) of one long sequence (tokens
/// [n_tokens x d], optional mask as in `pool`). Returns [n_spans x pooled_dim]. One span
/// over the whole sequence equals `pool`. Throws InvalidArgument (a span out of
/// range or empty), EmptyInput (a span whose tokens are all masked).
RowMatrixf pool_spans(const MatrixView<float>& tokens, const std::vector<std::pair<std::int64_t, std::int64_t>>& spans,
                      const PoolingOptions& options = {}, const std::vector<std::uint8_t>& mask = {});
RowMatrixd pool_spans(const MatrixView<double>& tokens, const std::vector<std::pair<std::int64_t, std::int64_t>>& spans,
                      const PoolingOptions& options = {}, const std::vector<std::uint8_t>& mask = {});

/// Layer mixing: sum_l weights[l] * layers[l] (all [n x d]); the weights are used
/// as given (pass softmax-normalised weights times a gamma for ELMo's scalar mix).
/// Throws EmptyInput (no layers), DimensionMismatch (shapes, weights count), NonFiniteValue.
RowMatrixf mix_layers(const std::vector<MatrixView<float>>& layers, const std::vector<double>& weights);
RowMatrixd mix_layers(const std::vector<MatrixView<double>>& layers, const std::vector<double>& weights);

// ---------------------------------------------------------------- Matryoshka

/// The first m columns of x ([n x d] -> [n x m], 1 <= m <= d else InvalidArgument),
/// L2-normalised when `renormalize` (then m = d equals l2_normalize(x)).
RowMatrixf truncate_dims(const MatrixView<float>& x, std::int64_t m, bool renormalize = true,
                         ZeroNormPolicy zero = ZeroNormPolicy::raise);
RowMatrixd truncate_dims(const MatrixView<double>& x, std::int64_t m, bool renormalize = true,
                         ZeroNormPolicy zero = ZeroNormPolicy::raise);

/// Retrieval quality as a function of the kept dimension m.
struct MatryoshkaPoint {
  std::int64_t dim = 0;
  double recall = 0;  ///< recall@k of the truncated search against the full-dimension exact neighbours
  double ndcg = 0;    ///< nDCG@k with those neighbours as the relevant set
};

/// For each m in `dims`: exact k-NN of truncate_dims(queries, m) in
/// truncate_dims(base, m) (renormalised for cosine) against the full-dimension
/// exact k-NN. Without queries (empty view) the base's own self-excluded graph is
/// used. Throws as knn, InvalidArgument (an m outside [1, d]). Cost: (|dims| + 1) knn calls.
std::vector<MatryoshkaPoint> matryoshka_curve(const MatrixView<float>& base, const MatrixView<float>& queries,
                                              const std::vector<std::int64_t>& dims, std::int64_t k,
                                              Metric metric = Metric::cosine, const Parallel& parallel = {});

// 2D Matryoshka (2DMSE, Starbucks): embeddings pooled at several layers of a
// model, each truncated to a Matryoshka dimension. `layers` holds the pooled
// outputs of the same rows at each stored layer ([n x d_l] each, any d_l); a
// ladder step names a layer (an index into `layers`) and a dimension.

/// One (layer, dim) step of a 2D Matryoshka ladder.
struct LadderStep {
  std::int64_t layer = 0;
  std::int64_t dim = 0;
};

/// Every (layer, dim) pair, layer-major: the full ladder of 2DMSE (e.g. layers
/// {2, 4, ..., 12} of a 12-layer model x dims {32, 64, ..., 768}).
std::vector<LadderStep> ladder(const std::vector<std::int64_t>& layers, const std::vector<std::int64_t>& dims);

/// The rows of one step: truncate_dims(layers[step.layer], step.dim, renormalize).
/// InvalidArgument for a layer outside [0, layers) or a dim outside [1, d_layer];
/// DimensionMismatch when the layers do not hold the same rows.
RowMatrixf select_2d(const std::vector<MatrixView<float>>& layers, const LadderStep& step, bool renormalize = true);

/// One cell of a sweep: the measure of a step and the seconds it took.
struct SweepCell {
  std::int64_t layer = 0;
  std::int64_t dim = 0;
  double value = 0;
  double seconds = 0;
};

/// The sweep harness: measure(select_2d(layers, step, renormalize)) for every
/// step, in order. `measure` is any function of the rows: a metric of
/// metrics.hpp (kNN accuracy, silhouette, CKA against a reference, recall
/// against the full embedding, ...). Steps are validated before any is measured.
std::vector<SweepCell> sweep_ladder(const std::vector<MatrixView<float>>& layers, const std::vector<LadderStep>& steps,
                                    const std::function<double(const MatrixView<float>&)>& measure,
                                    bool renormalize = true);

/// Matryoshka funnel retrieval: a shortlist by exact search in the first
/// `shortlist_dim` dimensions (renormalised under cosine and angular), re-scored
/// in all d dimensions (latent::rescore), the best k kept.
struct FunnelOptions {
  std::int64_t shortlist_dim = 64;  ///< m, in [1, d]
  std::int64_t shortlist = 100;     ///< candidates per query, in [k, base rows]
  Metric metric = Metric::cosine;
  Parallel parallel;
};

/// The k nearest base rows of each query through the funnel (nearest first, ties
/// to the smaller id, scores the full-dimension scores). With shortlist_dim = d
/// it is the exact search. Throws as knn, InvalidArgument (shortlist_dim or
/// shortlist out of range). Cost: n_q n m + n_q shortlist d.
KnnGraph funnel_knn(const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k,
                    const FunnelOptions& options = {});

/// One point of the funnel's recall / time curve.
struct FunnelPoint {
  std::int64_t dim = 0;
  std::int64_t shortlist = 0;
  double recall = 0;   ///< recall@k against the exact full-dimension search
  double seconds = 0;  ///< of funnel_knn
};

/// funnel_knn for each m in `dims` (shortlist fixed), against the exact search.
std::vector<FunnelPoint> funnel_curve(const MatrixView<float>& base, const MatrixView<float>& queries,
                                      const std::vector<std::int64_t>& dims, std::int64_t k, std::int64_t shortlist,
                                      Metric metric = Metric::cosine, const Parallel& parallel = {});

}  // namespace latent

#include "latent/embedding/edits.hpp"
#include "latent/embedding/hashing.hpp"
#include "latent/embedding/multivector.hpp"
#include "latent/embedding/quantization.hpp"
#include "latent/embedding/sparse_autoencoder.hpp"
