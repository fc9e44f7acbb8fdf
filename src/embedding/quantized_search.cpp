// Search over quantized codes: f16 / bf16 through the kernel layer's low-precision
// pair kernels, int8 and binary (as sign vectors) by block-wise decoding into the
// float GEMM path (asymmetric, as FAISS's SQ8), binary codes against binary
// queries through the batched Hamming top-k, and exact re-scoring
// through the kernel layer's metric -> pair-kernel selection (`pair_score`).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/embedding.hpp"
#include "latent/kernels/batched.hpp"
#include "latent/kernels/pairwise.hpp"

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

// f16 / bf16: scores of every base row with the pair kernels, then top-k.
template <class Half, class Convert, class Dot, class Squared>
KnnGraph half_knn(const QuantizedMatrix& base, const MatrixView<float>& queries, std::int64_t k, Metric metric,
                  const Parallel& parallel, Convert convert, Dot dot, Squared squared) {
  const std::int64_t d = base.dim, n = base.rows;
  const auto* rows = reinterpret_cast<const Half*>(base.codes.data());
  std::vector<float> inverse_norms;
  const bool directional = is_directional(metric);
  if (directional) {
    inverse_norms.resize(static_cast<std::size_t>(n));
    for (std::int64_t j = 0; j < n; ++j) {
      const float norm = std::sqrt(dot(rows + j * d, rows + j * d, static_cast<std::size_t>(d)));
      inverse_norms[static_cast<std::size_t>(j)] = norm > 0 ? 1.0f / norm : 0.0f;
    }
  }
  KnnGraph graph = empty_graph(queries.rows, k, metric);
  parallel_for(queries.rows, 16, parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<Half> query(static_cast<std::size_t>(d));
    std::vector<float> scores(static_cast<std::size_t>(n));
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t p = 0; p < d; ++p) query[static_cast<std::size_t>(p)] = convert(queries.row(i)[p]);
      float query_inverse = 1.0f;
      if (directional) {
        const float norm = std::sqrt(dot(query.data(), query.data(), static_cast<std::size_t>(d)));
        query_inverse = norm > 0 ? 1.0f / norm : 0.0f;
      }
      for (std::int64_t j = 0; j < n; ++j) {
        const Half* row = rows + j * d;
        float value = 0;
        if (metric == Metric::ip || directional) {
          value = dot(query.data(), row, static_cast<std::size_t>(d));
          if (directional)
            value =
                std::min(1.0f, std::max(-1.0f, value * (query_inverse * inverse_norms[static_cast<std::size_t>(j)])));
        } else {
          value = squared(query.data(), row, static_cast<std::size_t>(d));
          if (metric == Metric::l2) value = std::sqrt(value);
        }
        scores[static_cast<std::size_t>(j)] = value;
      }
      kernels::select_topk(scores.data(), n, k, is_similarity(metric), graph.ids.data() + i * k,
                           graph.scores.data() + i * k);
      if (metric == Metric::angular)  // ranked by cosine; the kept scores in angular units
        for (std::int64_t r = 0; r < k; ++r) {
          float& score = graph.scores(i, r);
          score = static_cast<float>(angular_from_cosine(score));
        }
    }
  });
  return graph;
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

KnnGraph quantized_knn(const Quantizer& quantizer, const QuantizedMatrix& base, const MatrixView<float>& queries,
                       std::int64_t k, Metric metric, const Parallel& parallel) {
  const char* function = "quantized_knn";
  if (!quantizer.is_fitted()) raise<NotFitted>(function, "quantizer", "is not fitted");
  if (base.type != quantizer.options().type)
    raise<InvalidArgument>(function, "base", "was encoded with another quantization type",
                           std::string(to_string(base.type)) + " vs " + to_string(quantizer.options().type));
  if (metric == Metric::l1 || metric == Metric::linf)
    raise<InvalidArgument>(function, "metric", "must be cosine, ip, l2, sqeuclidean or angular",
                           std::string(to_string(metric)));
  check_codes(function, base, "base");
  require_same_dim(function, "queries", queries.cols, "base", base.dim);
  require_k(function, k, base.rows, "base");
  require_finite(function, "queries", queries);
  using kernels::BFloat16;
  using kernels::Float16;
  if (base.type == QuantizationType::f16)
    return half_knn<Float16>(base, queries, k, metric, parallel, kernels::to_float16, kernels::dot_f16,
                             kernels::sqeuclidean_f16);
  if (base.type == QuantizationType::bf16)
    return half_knn<BFloat16>(base, queries, k, metric, parallel, kernels::to_bfloat16, kernels::dot_bf16,
                              kernels::sqeuclidean_bf16);

  // int8 and binary: decode blocks of base rows (int8 values, binary sign vectors),
  // search each with the float GEMM path, merge.
  constexpr std::int64_t kBlockRows = 16384;
  std::vector<std::vector<Candidate>> candidates(static_cast<std::size_t>(queries.rows));
  kernels::BlockOptions block_options;
  block_options.parallel = parallel;
  for (std::int64_t start = 0; start < base.rows; start += kBlockRows) {
    const std::int64_t rows = std::min(kBlockRows, base.rows - start);
    QuantizedMatrix block;
    block.type = base.type;
    block.rows = rows;
    block.dim = base.dim;
    block.bytes_per_row = base.bytes_per_row;
    block.codes.assign(base.row(start), base.row(start) + rows * base.bytes_per_row);
    const RowMatrixf decoded =
        base.type == QuantizationType::binary ? decode_signs(block) : quantizer.decode(block, parallel);
    const std::int64_t kb = std::min(k, rows);
    IdMatrix ids(queries.rows, kb);
    RowMatrixf scores(queries.rows, kb);
    kernels::knn_f32(metric, queries, MatrixView<float>(decoded), kb, kernels::kNoSelf, ids.data(), scores.data(),
                     block_options);
    for (std::int64_t i = 0; i < queries.rows; ++i)
      for (std::int64_t r = 0; r < kb; ++r)
        if (ids(i, r) >= 0) candidates[static_cast<std::size_t>(i)].push_back({scores(i, r), ids(i, r) + start});
  }
  KnnGraph graph = empty_graph(queries.rows, k, metric);
  for (std::int64_t i = 0; i < queries.rows; ++i)
    keep_best(candidates[static_cast<std::size_t>(i)], is_similarity(metric), i, k, graph);
  return graph;
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

}  // namespace latent
