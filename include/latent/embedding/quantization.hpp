// latent/embedding/quantization.hpp - compressed embeddings: f16, bf16, int8 with
// per-dimension calibrated ranges, and binary sign codes; their search through the
// kernel layer (bf16 and int8 on the CPU's low-precision dot-product
// instructions), exact float re-scoring of candidates, and float search computed
// in bf16 or int8.
//
// Codes (row-major, one code row per input row):
// - f16 / bf16: 2 bytes per value, round to nearest even (kernels::to_float16 /
//   to_bfloat16); decoding is exact widening.
// - int8: per dimension j a calibrated range [low_j, high_j] (from calibration rows:
//   min and max, or quantiles), step_j = (high_j - low_j) / 255,
//   q = round((x - low_j) / step_j) - 128 clipped to [-128, 127] (values outside
//   the range are clipped, never wrapped); decode low_j + (q + 128) step_j, so the
//   round-trip error inside the range is <= step_j / 2. A zero-width range is
//   refused (InvalidArgument naming the dimension).
// - int4: the int8 scheme with 16 levels: step_j = (high_j - low_j) / 15,
//   q = round((x - low_j) / step_j) clipped to [0, 15], two codes per byte (even
//   dimensions in the low nibble, as FAISS's 4-bit scalar quantizer packs them);
//   decode low_j + q step_j, error <= step_j / 2 inside the range. Searched by
//   decoding into the float path.
// - binary: bit j = x_j > threshold_j (threshold 0, or the calibration mean per
//   dimension), packed 8 per byte with the first dimension in the most
//   significant bit (numpy.packbits(x > t, axis=1)); no decoding.
// A fitted Quantizer saves its calibration (kind "quantizer") with core/io's
// ModelWriter. Memory of codes: d * 2, d, ceil(d / 2), ceil(d / 8) bytes per row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

enum class QuantizationType { f16, bf16, int8, binary, int4 };

/// "f16", "bf16", "int8", "int4", "binary"; parse throws InvalidArgument naming `argument`.
const char* to_string(QuantizationType type);
QuantizationType parse_quantization_type(const std::string& name, const std::string& argument = "type");

/// Encoded rows: `rows` code rows of `bytes_per_row` bytes in `codes`.
struct QuantizedMatrix {
  QuantizationType type = QuantizationType::f16;
  std::int64_t rows = 0;
  std::int64_t dim = 0;            ///< dimension of the float rows encoded
  std::int64_t bytes_per_row = 0;  ///< 2 dim, dim, ceil(dim / 2) or ceil(dim / 8)
  std::vector<std::uint8_t> codes;

  const std::uint8_t* row(std::int64_t i) const { return codes.data() + i * bytes_per_row; }
  /// Bytes of the codes (the memory ratio against float32 is 4 dim rows / bytes()).
  std::int64_t bytes() const { return rows * bytes_per_row; }
  /// The codes as a [rows x bytes_per_row] byte matrix (no copy), e.g. for a
  /// binary FAISS index (`FaissBinaryIndex::add(codes.view())`).
  MatrixView<std::uint8_t> view() const { return {codes.data(), rows, bytes_per_row}; }
};

struct QuantizerOptions {
  QuantizationType type = QuantizationType::int8;
  /// int8 / int4 ranges: the `range_quantile` and 1 - range_quantile quantiles of
  /// each calibration column (0: min and max). In [0, 0.5).
  double range_quantile = 0.0;
  /// binary thresholds: the calibration column means (true) or 0 (false, the
  /// sign as in sentence-transformers' quantize_embeddings).
  bool binary_center = false;
  /// int8 / int4: a constant calibration column c gets the range [c, c + max(1, |c|)],
  /// in which c encodes and decodes exactly (true), instead of the zero-width
  /// range error (false, the default: a constant column is usually a mistake).
  bool widen_constant_dimensions = false;
};

/// Quantization with a saved calibration. f16 / bf16 (and binary without
/// centering) need no calibration: fit only records the dimension. int8 and int4 need
/// calibration rows (n >= 1). encode / decode are thread-safe once fitted.
class Quantizer {
 public:
  /// Throws InvalidArgument (range_quantile outside [0, 0.5)).
  explicit Quantizer(const QuantizerOptions& options = {});

  /// Learns ranges / thresholds from `calibration` ([n x d]). Throws EmptyInput,
  /// NonFiniteValue, InvalidArgument (int8: a zero-width range, naming the dimension).
  Quantizer& fit(const MatrixView<float>& calibration);
  /// Fits without data where none is needed (f16, bf16, binary without centering).
  /// Throws InvalidArgument for int8 or centred binary, dim < 1.
  Quantizer& fit_dim(std::int64_t dim);

  /// Encodes [n x d] rows. Throws NotFitted, DimensionMismatch, NonFiniteValue.
  QuantizedMatrix encode(const MatrixView<float>& x, const Parallel& parallel = {}) const;
  /// Decodes to float ([rows x d]). Throws NotFitted, DimensionMismatch (other
  /// dim or type), InvalidArgument for binary (no decoding is defined).
  RowMatrixf decode(const QuantizedMatrix& codes, const Parallel& parallel = {}) const;

  /// Saves the calibration (kind "quantizer"); throws NotFitted, IoError.
  void save(const std::string& path) const;
  /// Loads it; IoError on a corrupt or foreign file.
  static Quantizer load(const std::string& path);

  bool is_fitted() const { return dim_ > 0; }
  const QuantizerOptions& options() const { return options_; }
  std::int64_t dim() const { return dim_; }
  /// int8 / int4 ranges, binary thresholds ([d]; empty otherwise).
  const std::vector<float>& low() const { return low_; }
  const std::vector<float>& high() const { return high_; }
  const std::vector<float>& thresholds() const { return thresholds_; }
  std::int64_t bytes_per_row() const;

 private:
  void require_fitted(const char* function) const;
  QuantizerOptions options_;
  std::int64_t dim_ = 0;
  std::vector<float> low_, high_, step_, thresholds_;
};

/// k-NN of float queries in quantized base rows, nearest first, ties to the
/// smaller id, scores in the metric's units (ip, cosine, l2, sqeuclidean, angular).
/// bf16: the queries are rounded to bf16 and both sides searched on the kernel
/// layer's bf16 tiles (kernels::knn_bf16: VDPBF16PS where the CPU has it).
/// int8: the base codes v stay 8-bit (x_hat_j = mid_j + v_j step_j, mid_j =
/// low_j + 128 step_j). The scales fold into the query, y'_j = y_j step_j, and y'
/// is quantized per query to u_j = round((y'_j - lo) / alpha) in [0, 255] (lo, hi
/// the extremes of y', alpha = (hi - lo) / 255), so the inner loop is an exact
/// integer dot product on the int8 tiles (kernels::knn_int8: VPDPBUSD where the
/// CPU has it): <y, x_hat> ~= sum_j y_j mid_j + lo sum_j v_j + alpha sum_j u_j v_j,
/// off from the float product with the decoded row by at most alpha / 2 sum_j |v_j|
/// (plus float rounding); cosine and l2 then use |y| and |x_hat|. f16: base codes
/// decoded exactly to float block by block (bounded scratch) and searched
/// with the float GEMM path. binary: asymmetric, float query
/// against the sign vector s of each code (s_j = +1 where bit j is set, -1
/// where it is clear), so ip is <q, s> = 2 sum_{bits set} q_j - sum_j q_j, the
/// float-query x binary-document score used to re-rank binary candidates
/// without the float base; cosine is <q, s> / (|q| sqrt(dim)). Binary queries
/// against binary codes: binary_knn. Throws InvalidK, DimensionMismatch,
/// InvalidArgument (l1, linf).
KnnGraph quantized_knn(const Quantizer& quantizer, const QuantizedMatrix& base, const MatrixView<float>& queries,
                       std::int64_t k, Metric metric, const Parallel& parallel = {});

/// Hamming k-NN of binary query codes in binary base codes through the kernel
/// layer's batched Hamming top-k (exact counts; the graph's metric is l1, the
/// Hamming distance on bits). Throws InvalidK, DimensionMismatch, InvalidArgument (not binary).
KnnGraph binary_knn(const QuantizedMatrix& base, const QuantizedMatrix& queries, std::int64_t k,
                    const Parallel& parallel = {});

/// Exact re-scoring: for each query, the candidate ids of `candidates` (row i of
/// an [n_queries x c] id matrix; -1 ignored) are scored exactly in float against
/// `base` ([n x d]) and the best k kept (ties to the smaller id; fewer valid
/// candidates give trailing -1). Throws InvalidK (k > c), DimensionMismatch,
/// InvalidArgument (an id outside base). Cost: n_queries c d.
KnnGraph rescore(const MatrixView<float>& queries, const MatrixView<float>& base, const IdMatrix& candidates,
                 std::int64_t k, Metric metric, const Parallel& parallel = {});

/// The binary pipeline: Hamming top-(rescore_factor k) of the encoded queries,
/// then exact re-scoring in `base`. Throws as binary_knn and rescore.
KnnGraph binary_search_rescored(const Quantizer& binary, const QuantizedMatrix& base_codes,
                                const MatrixView<float>& base, const MatrixView<float>& queries, std::int64_t k,
                                std::int64_t rescore_factor, Metric metric, const Parallel& parallel = {});

/// The precision a search of float rows computes its inner products in.
enum class ComputePrecision { f32, bf16, int8 };

/// "f32", "bf16", "int8"; parse throws InvalidArgument naming `argument`.
const char* to_string(ComputePrecision precision);
ComputePrecision parse_compute_precision(const std::string& name, const std::string& argument = "compute");

struct LowPrecisionOptions {
  ComputePrecision compute = ComputePrecision::bf16;
  /// Candidates per query found in `compute` and re-scored exactly in f32 from
  /// the float rows, keeping the best k (0: none; otherwise >= k; more than the
  /// rows available means all of them). No effect with f32, which is exact.
  std::int64_t rescore = 0;
  Parallel parallel;
  /// cosine / angular of a zero row: NumericalError (raise) or similarity 0.
  ZeroNormPolicy zero_norm = ZeroNormPolicy::raise;
};

/// k-NN of float rows searched in lower precision: the base and the queries are
/// converted once (for cosine and angular their unit rows, whose inner product
/// is the cosine; bf16: rounded to nearest even; int8: a Quantizer calibrated on
/// the base's per-dimension min and max, as `latent quantize --type int8` does,
/// a constant column given a range of its own) and searched with quantized_knn
/// on the bf16 / int8 tiles; f32 is the exact search (knn / knn_graph of
/// similarity.hpp). Metrics: cosine, ip, l2, sqeuclidean, angular. With
/// options.rescore = C, the C best candidates are re-scored exactly (rescore)
/// and the scores are then f32's. Cost: bf16 about half and int8 about a
/// quarter of the f32 time where the CPU has the instructions, plus C d per
/// query to re-score. Throws InvalidK, DimensionMismatch, EmptyInput,
/// NonFiniteValue, NumericalError (a zero row under cosine / angular, unless
/// options.zero_norm is zero), InvalidArgument (l1, linf, 0 < rescore < k).
KnnGraph low_precision_knn(const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k,
                           Metric metric, const LowPrecisionOptions& options = {});
/// The kNN graph of x in lower precision: each row's k nearest other rows
/// (self excluded), as low_precision_knn(x, x, ...) with the row's own id left out.
KnnGraph low_precision_knn_graph(const MatrixView<float>& x, std::int64_t k, Metric metric,
                                 const LowPrecisionOptions& options = {});

}  // namespace latent
