// Search over quantized codes: bf16 and int8 through the kernel layer's
// low-precision tiles (VDPBF16PS, VPDPBUSD or their exact widening), f16 and
// binary (as sign vectors) by block-wise decoding into the float GEMM path,
// binary codes against binary queries through the batched Hamming top-k, and
// exact re-scoring through the kernel layer's metric -> pair-kernel selection
// (`pair_score`); the low-precision search of float rows on top of them.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"
#include "latent/embedding.hpp"
#include "latent/kernels/batched.hpp"
#include "latent/kernels/low_precision.hpp"
#include "latent/kernels/pairwise.hpp"
#include "latent/similarity/search.hpp"

namespace latent {
namespace {

// a nearer than b: better score, then smaller id.
bool nearer(bool larger_is_better, float score_a, std::int64_t id_a, float score_b, std::int64_t id_b) {
  if (score_a != score_b) return larger_is_better ? score_a > score_b : score_a < score_b;
  return id_a < id_b;
}

struct Candidate {
  float score;
  std::int64_t id;
};

// Sorts candidates nearest first and writes the best k into row i of the graph
// (missing: id -1, score NaN).
void keep_best(std::vector<Candidate>& candidates, bool larger_is_better, std::int64_t i, std::int64_t k,
               KnnGraph& graph) {
  std::sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
    return nearer(larger_is_better, a.score, a.id, b.score, b.id);
  });
  for (std::int64_t r = 0; r < k; ++r) {
    const bool have = r < static_cast<std::int64_t>(candidates.size());
    graph.ids(i, r) = have ? candidates[static_cast<std::size_t>(r)].id : -1;
    graph.scores(i, r) = have ? candidates[static_cast<std::size_t>(r)].score : std::numeric_limits<float>::quiet_NaN();
  }
}

KnnGraph empty_graph(std::int64_t n_queries, std::int64_t k, Metric metric) {
  KnnGraph graph;
  graph.ids.resize(n_queries, k);
  graph.scores.resize(n_queries, k);
  graph.metric = metric;
  return graph;
}

void check_codes(const char* function, const QuantizedMatrix& codes, const char* argument) {
  if (static_cast<std::int64_t>(codes.codes.size()) != codes.rows * codes.bytes_per_row)
    raise<DimensionMismatch>(function, argument, "hold the wrong number of bytes",
                             std::to_string(codes.codes.size()) + " bytes for " + std::to_string(codes.rows) +
                                 " rows of " + std::to_string(codes.bytes_per_row));
}

// Angular searches as cosine; the kept scores are then converted in place.
Metric searched_metric(Metric metric) { return metric == Metric::angular ? Metric::cosine : metric; }

void to_angular(KnnGraph& graph) {
  for (Eigen::Index i = 0; i < graph.scores.size(); ++i) {
    float& score = graph.scores.data()[i];
    if (graph.ids.data()[i] >= 0) score = static_cast<float>(angular_from_cosine(score));
  }
}

// bf16 codes against the queries rounded to bf16, on the bf16 tiles.
void bf16_knn(const QuantizedMatrix& base, const MatrixView<float>& queries, std::int64_t self_offset,
              const kernels::BlockOptions& options, KnnGraph& graph) {
  const std::int64_t d = base.dim;
  std::vector<std::uint16_t> query_codes(static_cast<std::size_t>(queries.rows * d));
  parallel_for(queries.rows, 256, options.parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i)
      for (std::int64_t p = 0; p < d; ++p)
        query_codes[static_cast<std::size_t>(i * d + p)] = kernels::to_bfloat16(queries.row(i)[p]).bits;
  });
  const MatrixView<std::uint16_t> base_rows(reinterpret_cast<const std::uint16_t*>(base.codes.data()), base.rows, d);
  kernels::knn_bf16(searched_metric(graph.metric), MatrixView<std::uint16_t>(query_codes.data(), queries.rows, d),
                    base_rows, graph.k(), self_offset, graph.ids.data(), graph.scores.data(), options);
}

// int8 codes v (x_hat_j = low_j + (v_j + 128) step_j = mid_j + v_j step_j) against
// float queries y: the scales fold into the query, y'_j = y_j step_j, which is
// quantized per query to u_j = round((y'_j - lo) / alpha) in [0, 255] (lo, hi the
// extremes of y', alpha = (hi - lo) / 255). Then
//   <y, x_hat> = sum_j y_j mid_j + sum_j y'_j v_j
//             ~= sum_j y_j mid_j + lo sum_j v_j + alpha sum_j u_j v_j,
// an exact integer dot product, with |error| <= alpha / 2 sum_j |v_j|.
void int8_knn(const Quantizer& quantizer, const QuantizedMatrix& base, const MatrixView<float>& queries,
              std::int64_t self_offset, const kernels::BlockOptions& options, KnnGraph& graph) {
  const std::int64_t d = base.dim, m = queries.rows, n = base.rows;
  const Metric metric = searched_metric(graph.metric);
  std::vector<double> step(static_cast<std::size_t>(d)), mid(static_cast<std::size_t>(d));
  for (std::int64_t j = 0; j < d; ++j) {
    const auto u = static_cast<std::size_t>(j);
    step[u] = static_cast<double>((quantizer.high()[u] - quantizer.low()[u]) / 255.0f);
    mid[u] = static_cast<double>(quantizer.low()[u]) + 128.0 * step[u];
  }
  std::vector<std::uint8_t> query_codes(static_cast<std::size_t>(m * d));
  std::vector<float> offset(static_cast<std::size_t>(m)), scale(static_cast<std::size_t>(m)),
      shift(static_cast<std::size_t>(m)), query_squares(static_cast<std::size_t>(m));
  parallel_for(m, 64, options.parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<double> folded(static_cast<std::size_t>(d));
    for (std::int64_t i = begin; i < end; ++i) {
      const float* y = queries.row(i);
      double lo = std::numeric_limits<double>::infinity(), hi = -lo, constant = 0, squares = 0;
      for (std::int64_t j = 0; j < d; ++j) {
        const auto u = static_cast<std::size_t>(j);
        folded[u] = static_cast<double>(y[j]) * step[u];
        lo = std::min(lo, folded[u]);
        hi = std::max(hi, folded[u]);
        constant += static_cast<double>(y[j]) * mid[u];
        squares += static_cast<double>(y[j]) * static_cast<double>(y[j]);
      }
      const double alpha = hi > lo ? (hi - lo) / 255.0 : 1.0;
      for (std::int64_t j = 0; j < d; ++j)
        query_codes[static_cast<std::size_t>(i * d + j)] = static_cast<std::uint8_t>(
            std::clamp(std::nearbyint((folded[static_cast<std::size_t>(j)] - lo) / alpha), 0.0, 255.0));
      const auto at = static_cast<std::size_t>(i);
      offset[at] = static_cast<float>(constant);
      scale[at] = static_cast<float>(alpha);
      shift[at] = static_cast<float>(lo);
      query_squares[at] = static_cast<float>(squares);
    }
  });
  // Per base row: the sum of its codes and (cosine, l2) |x_hat|^2 of the decoded row.
  std::vector<float> code_sums(static_cast<std::size_t>(n)), base_squares;
  for (std::int64_t r = 0; r < n; ++r) {
    std::int64_t sum = 0;
    for (std::int64_t j = 0; j < d; ++j) sum += static_cast<std::int8_t>(base.row(r)[j]);
    code_sums[static_cast<std::size_t>(r)] = static_cast<float>(sum);
  }
  if (metric != Metric::ip) {
    base_squares.resize(static_cast<std::size_t>(n));
    constexpr std::int64_t kBlockRows = 4096;
    for (std::int64_t start = 0; start < n; start += kBlockRows) {
      const std::int64_t rows = std::min(kBlockRows, n - start);
      const QuantizedMatrix block{
          base.type, rows, d, base.bytes_per_row,
          std::vector<std::uint8_t>(base.row(start), base.row(start) + rows * base.bytes_per_row)};
      const RowMatrixf decoded = quantizer.decode(block, options.parallel);
      for (std::int64_t r = 0; r < rows; ++r)
        base_squares[static_cast<std::size_t>(start + r)] =
            static_cast<float>(decoded.row(r).cast<double>().squaredNorm());
    }
  }
  const kernels::Int8Queries int8_queries{MatrixView<std::uint8_t>(query_codes.data(), m, d), offset.data(),
                                          scale.data(), shift.data(), query_squares.data()};
  const kernels::Int8Base int8_base{
      MatrixView<std::int8_t>(reinterpret_cast<const std::int8_t*>(base.codes.data()), n, d), code_sums.data(),
      base_squares.empty() ? nullptr : base_squares.data()};
  kernels::knn_int8(metric, int8_queries, int8_base, graph.k(), self_offset, graph.ids.data(), graph.scores.data(),
                    options);
}

// Binary codes as sign vectors: +1 where the bit is set, -1 where it is clear.
RowMatrixf decode_signs(const QuantizedMatrix& codes) {
  RowMatrixf signs(codes.rows, codes.dim);
  for (std::int64_t i = 0; i < codes.rows; ++i) {
    const std::uint8_t* row = codes.row(i);
    for (std::int64_t j = 0; j < codes.dim; ++j) signs(i, j) = (row[j / 8] >> (7 - j % 8)) & 1 ? 1.0f : -1.0f;
  }
  return signs;
}

}  // namespace

namespace {

// quantized_knn with an optional self exclusion: with self_offset >= 0, query i
// is base row self_offset + i and is left out of its own list.
KnnGraph search_codes(const char* function, const Quantizer& quantizer, const QuantizedMatrix& base,
                      const MatrixView<float>& queries, std::int64_t k, Metric metric, std::int64_t self_offset,
                      const Parallel& parallel) {
  if (!quantizer.is_fitted()) raise<NotFitted>(function, "quantizer", "is not fitted");
  if (base.type != quantizer.options().type)
    raise<InvalidArgument>(function, "base", "was encoded with another quantization type",
                           std::string(to_string(base.type)) + " vs " + to_string(quantizer.options().type));
  if (metric == Metric::l1 || metric == Metric::linf)
    raise<InvalidArgument>(function, "metric", "must be cosine, ip, l2, sqeuclidean or angular",
                           std::string(to_string(metric)));
  check_codes(function, base, "base");
  require_same_dim(function, "queries", queries.cols, "base", base.dim);
  require_k(function, k, base.rows - (self_offset >= 0 ? 1 : 0), self_offset >= 0 ? "base (self excluded)" : "base");
  require_finite(function, "queries", queries);
  kernels::BlockOptions block_options;
  block_options.parallel = parallel;
  KnnGraph graph = empty_graph(queries.rows, k, metric);
  graph.self_excluded = self_offset >= 0;
  if (base.type == QuantizationType::bf16 || base.type == QuantizationType::int8) {
    if (base.type == QuantizationType::bf16) {
      bf16_knn(base, queries, self_offset, block_options, graph);
    } else {
      int8_knn(quantizer, base, queries, self_offset, block_options, graph);
    }
    if (metric == Metric::angular) to_angular(graph);
    return graph;
  }

  // f16 (exact widening) and binary (sign vectors): decode blocks of base rows,
  // search each with the float GEMM path (one more candidate when the query's own
  // row may be among them), merge.
  constexpr std::int64_t kBlockRows = 16384;
  std::vector<std::vector<Candidate>> candidates(static_cast<std::size_t>(queries.rows));
  for (std::int64_t start = 0; start < base.rows; start += kBlockRows) {
    const std::int64_t rows = std::min(kBlockRows, base.rows - start);
    QuantizedMatrix block{base.type, rows, base.dim, base.bytes_per_row,
                          std::vector<std::uint8_t>(base.row(start), base.row(start) + rows * base.bytes_per_row)};
    const RowMatrixf decoded =
        base.type == QuantizationType::binary ? decode_signs(block) : quantizer.decode(block, parallel);
    const std::int64_t kb = std::min(k + (self_offset >= 0 ? 1 : 0), rows);
    IdMatrix ids(queries.rows, kb);
    RowMatrixf scores(queries.rows, kb);
    kernels::knn_f32(metric, queries, MatrixView<float>(decoded), kb, kernels::kNoSelf, ids.data(), scores.data(),
                     block_options);
    for (std::int64_t i = 0; i < queries.rows; ++i)
      for (std::int64_t r = 0; r < kb; ++r)
        if (ids(i, r) >= 0 && (self_offset < 0 || ids(i, r) + start != self_offset + i))
          candidates[static_cast<std::size_t>(i)].push_back({scores(i, r), ids(i, r) + start});
  }
  for (std::int64_t i = 0; i < queries.rows; ++i)
    keep_best(candidates[static_cast<std::size_t>(i)], is_similarity(metric), i, k, graph);
  return graph;
}

}  // namespace

KnnGraph quantized_knn(const Quantizer& quantizer, const QuantizedMatrix& base, const MatrixView<float>& queries,
                       std::int64_t k, Metric metric, const Parallel& parallel) {
  return search_codes("quantized_knn", quantizer, base, queries, k, metric, kernels::kNoSelf, parallel);
}

KnnGraph binary_knn(const QuantizedMatrix& base, const QuantizedMatrix& queries, std::int64_t k,
                    const Parallel& parallel) {
  const char* function = "binary_knn";
  if (base.type != QuantizationType::binary || queries.type != QuantizationType::binary)
    raise<InvalidArgument>(function, base.type != QuantizationType::binary ? "base" : "queries",
                           "are not binary codes");
  check_codes(function, base, "base");
  check_codes(function, queries, "queries");
  require_same_dim(function, "queries", queries.dim, "base", base.dim);
  KnnGraph graph = empty_graph(queries.rows, k, Metric::l1);
  kernels::BlockOptions options;
  options.parallel = parallel;
  kernels::hamming_knn_b1(queries.codes.data(), queries.rows, base.codes.data(), base.rows, base.bytes_per_row, k,
                          graph.ids.data(), graph.scores.data(), options);
  return graph;
}

KnnGraph rescore(const MatrixView<float>& queries, const MatrixView<float>& base, const IdMatrix& candidates,
                 std::int64_t k, Metric metric, const Parallel& parallel) {
  const char* function = "rescore";
  require_same_dim(function, "queries", queries.cols, "base", base.cols);
  require_same_dim(function, "candidates rows", candidates.rows(), "queries", queries.rows);
  require_k(function, k, candidates.cols(), "candidates");
  for (Eigen::Index i = 0; i < candidates.size(); ++i) {
    const std::int64_t id = candidates.data()[i];
    if (id < -1 || id >= base.rows)
      raise<InvalidArgument>(function, "candidates", "an id is outside base",
                             "id " + std::to_string(id) + ", base rows " + std::to_string(base.rows));
  }
  KnnGraph graph = empty_graph(queries.rows, k, metric);
  const auto dim = static_cast<std::size_t>(base.cols);
  parallel_for(queries.rows, 16, parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<Candidate> scored;
    for (std::int64_t i = begin; i < end; ++i) {
      scored.clear();
      for (std::int64_t c = 0; c < candidates.cols(); ++c) {
        const std::int64_t id = candidates(i, c);
        if (id >= 0) scored.push_back({kernels::pair_score(metric, queries.row(i), base.row(id), dim), id});
      }
      keep_best(scored, is_similarity(metric), i, k, graph);
    }
  });
  return graph;
}

KnnGraph binary_search_rescored(const Quantizer& binary, const QuantizedMatrix& base_codes,
                                const MatrixView<float>& base, const MatrixView<float>& queries, std::int64_t k,
                                std::int64_t rescore_factor, Metric metric, const Parallel& parallel) {
  const char* function = "binary_search_rescored";
  if (rescore_factor < 1)
    raise<InvalidArgument>(function, "rescore_factor", "must be >= 1", std::to_string(rescore_factor));
  require_same_dim(function, "base rows", base.rows, "base_codes rows", base_codes.rows);
  require_k(function, k, base.rows, "base");
  const std::int64_t candidates = std::min(base.rows, k * rescore_factor);
  const QuantizedMatrix query_codes = binary.encode(queries, parallel);
  const KnnGraph hamming = binary_knn(base_codes, query_codes, candidates, parallel);
  return rescore(queries, base, hamming.ids, k, metric, parallel);
}

namespace {

constexpr NamedValue<ComputePrecision> kComputeNames[] = {
    {"f32", ComputePrecision::f32}, {"bf16", ComputePrecision::bf16}, {"int8", ComputePrecision::int8}};

// low_precision_knn and its graph form (self_offset 0: queries are the base).
KnnGraph search_in_precision(const char* function, const MatrixView<float>& queries, const MatrixView<float>& base,
                             std::int64_t k, Metric metric, std::int64_t self_offset,
                             const LowPrecisionOptions& options) {
  require_non_empty(function, "base", base);
  require_non_empty(function, "queries", queries);
  require_same_dim(function, "queries", queries.cols, "base", base.cols);
  if (metric == Metric::l1 || metric == Metric::linf)
    raise<InvalidArgument>(function, "metric", "must be cosine, ip, l2, sqeuclidean or angular",
                           std::string(to_string(metric)));
  const std::int64_t available = base.rows - (self_offset >= 0 ? 1 : 0);
  require_k(function, k, available, self_offset >= 0 ? "base (self excluded)" : "base");
  if (options.rescore < 0 || (options.rescore > 0 && options.rescore < k))
    raise<InvalidArgument>(function, "rescore", "must be 0 or at least k",
                           "rescore=" + std::to_string(options.rescore) + ", k=" + std::to_string(k));
  require_finite(function, "base", base);
  if (self_offset < 0) require_finite(function, "queries", queries);
  if (options.compute == ComputePrecision::f32) {
    SearchOptions exact;
    exact.parallel = options.parallel;
    exact.zero_norm = options.zero_norm;
    return self_offset >= 0 ? knn_graph(base, k, metric, exact) : knn(queries, base, k, metric, exact);
  }
  QuantizerOptions quantizer_options;
  quantizer_options.type = options.compute == ComputePrecision::bf16 ? QuantizationType::bf16 : QuantizationType::int8;
  quantizer_options.widen_constant_dimensions = true;  // a constant column is harmless to a search
  Quantizer quantizer(quantizer_options);
  // Cosine and angular search the unit rows (their inner product is the cosine;
  // a zero row raises NumericalError, or stays zero under ZeroNormPolicy::zero):
  // int8 ranges then fit every row's direction alike, where raw rows of small
  // norm would lose more of theirs.
  RowMatrixf unit_base, unit_queries;
  MatrixView<float> searched_base = base, searched_queries = queries;
  if (is_directional(metric)) {
    unit_base = l2_normalize(base, options.zero_norm);
    searched_base = MatrixView<float>(unit_base);
    searched_queries = searched_base;
    if (self_offset < 0) {
      unit_queries = l2_normalize(queries, options.zero_norm);
      searched_queries = MatrixView<float>(unit_queries);
    }
  }
  if (options.compute == ComputePrecision::bf16) {
    quantizer.fit_dim(base.cols);
  } else {
    quantizer.fit(searched_base);
  }
  const QuantizedMatrix codes = quantizer.encode(searched_base, options.parallel);
  const std::int64_t candidates = options.rescore > 0 ? std::min(options.rescore, available) : k;
  KnnGraph graph =
      search_codes(function, quantizer, codes, searched_queries, candidates, metric, self_offset, options.parallel);
  if (options.rescore > 0) {
    graph = rescore(queries, base, graph.ids, k, metric, options.parallel);
    graph.self_excluded = self_offset >= 0;
  }
  return graph;
}

}  // namespace

const char* to_string(ComputePrecision precision) { return name_of(kComputeNames, precision).data(); }

ComputePrecision parse_compute_precision(const std::string& name, const std::string& argument) {
  return parse_name(kComputeNames, name, "parse_compute_precision", argument, "compute precision");
}

KnnGraph low_precision_knn(const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k,
                           Metric metric, const LowPrecisionOptions& options) {
  return search_in_precision("low_precision_knn", queries, base, k, metric, kernels::kNoSelf, options);
}

KnnGraph low_precision_knn_graph(const MatrixView<float>& x, std::int64_t k, Metric metric,
                                 const LowPrecisionOptions& options) {
  return search_in_precision("low_precision_knn_graph", x, x, k, metric, 0, options);
}

}  // namespace latent
