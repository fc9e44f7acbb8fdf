// Multi-vector sets: the ragged container, Chamfer / MaxSim similarity, MUVERA
// fixed dimensional encodings and the FDE search -> Chamfer re-rank pipeline.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/embedding.hpp"
#include "latent/kernels/batched.hpp"
#include "latent/kernels/pairwise.hpp"

namespace latent {
namespace {

void check_offsets(const std::vector<std::int64_t>& offsets, std::int64_t rows, const char* function) {
  if (offsets.empty() || offsets.front() != 0 || offsets.back() != rows)
    raise<InvalidArgument>(function, "offsets", "must start at 0 and end at the number of rows",
                           "rows " + std::to_string(rows));
  for (std::size_t i = 1; i < offsets.size(); ++i)
    if (offsets[i] < offsets[i - 1])
      raise<InvalidArgument>(function, "offsets", "must be non-decreasing", "at entry " + std::to_string(i));
}

// Standard normal values from a 64-bit Mersenne Twister by Box-Muller: written
// out so the draws are the same with every standard library.
class NormalStream {
 public:
  explicit NormalStream(std::uint64_t seed) : engine_(seed) {}
  double next() {
    if (have_spare_) {
      have_spare_ = false;
      return spare_;
    }
    const double u1 = (static_cast<double>(engine_() >> 11) + 1.0) * 0x1p-53;  // (0, 1]
    const double u2 = static_cast<double>(engine_() >> 11) * 0x1p-53;
    const double radius = std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * M_PI * u2;
    spare_ = radius * std::sin(angle);
    have_spare_ = true;
    return radius * std::cos(angle);
  }
  // +-scale with probability 1/2 each.
  float sign(float scale) { return (engine_() >> 63) != 0 ? scale : -scale; }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool have_spare_ = false;
};

double chamfer_of(const MatrixView<float>& query, const MatrixView<float>& document) {
  const auto dim = static_cast<std::size_t>(query.cols);
  double total = 0;
  for (std::int64_t i = 0; i < query.rows; ++i) {
    float best = -std::numeric_limits<float>::infinity();
    for (std::int64_t j = 0; j < document.rows; ++j) best = std::max(best, kernels::dot_f32(query.row(i), document.row(j), dim));
    total += best;
  }
  return total;
}

struct Scored {
  double score;
  std::int64_t id;
};
bool better(const Scored& a, const Scored& b) { return a.score != b.score ? a.score > b.score : a.id < b.id; }

}  // namespace

MultiVectorSet::MultiVectorSet(RowMatrixf rows, std::vector<std::int64_t> offsets)
    : rows_(std::move(rows)), offsets_(std::move(offsets)) {
  check_offsets(offsets_, rows_.rows(), "MultiVectorSet");
}

MultiVectorSet MultiVectorSet::from_lengths(RowMatrixf rows, const std::vector<std::int64_t>& lengths) {
  std::vector<std::int64_t> offsets{0};
  for (const std::int64_t length : lengths) {
    if (length < 0) raise<InvalidArgument>("MultiVectorSet::from_lengths", "lengths", "has a negative length");
    offsets.push_back(offsets.back() + length);
  }
  return MultiVectorSet(std::move(rows), std::move(offsets));
}

double chamfer_similarity(const MatrixView<float>& query, const MatrixView<float>& document) {
  const char* function = "chamfer_similarity";
  require_non_empty(function, "query", query);
  require_non_empty(function, "document", document);
  require_same_dim(function, "query", query.cols, "document", document.cols);
  return chamfer_of(query, document);
}

FdeEncoder::FdeEncoder(std::int64_t dim, const FdeOptions& options) : dim_(dim), options_(options) {
  const char* function = "FdeEncoder";
  if (dim < 1) raise<InvalidArgument>(function, "dim", "must be >= 1", std::to_string(dim));
  if (options.k_sim < 0 || options.k_sim > 16)
    raise<InvalidArgument>(function, "k_sim", "must be in [0, 16]", std::to_string(options.k_sim));
  if (options.repetitions < 1)
    raise<InvalidArgument>(function, "repetitions", "must be >= 1", std::to_string(options.repetitions));
  if (options.projection_dim < 0 || options.final_dim < 0)
    raise<InvalidArgument>(function, options.projection_dim < 0 ? "projection_dim" : "final_dim", "must be >= 0");
  projection_dim_ = options.projection_dim > 0 ? options.projection_dim : dim;
  NormalStream random(options.seed);
  const std::int64_t k_sim = options.k_sim, repetitions = options.repetitions;
  simhash_.resize(repetitions * k_sim, dim);
  if (options.projection_dim > 0) projection_.resize(repetitions * projection_dim_, dim);
  const float scale = 1.0f / std::sqrt(static_cast<float>(projection_dim_));
  for (std::int64_t r = 0; r < repetitions; ++r) {  // per repetition: its SimHash, then its projection
    for (std::int64_t i = 0; i < k_sim * dim; ++i) simhash_.data()[r * k_sim * dim + i] = static_cast<float>(random.next());
    if (options.projection_dim > 0)
      for (std::int64_t i = 0; i < projection_dim_ * dim; ++i)
        projection_.data()[r * projection_dim_ * dim + i] = random.sign(scale);
  }
  if (options.final_dim > 0) {
    const std::int64_t inner = options.repetitions * (std::int64_t{1} << options.k_sim) * projection_dim_;
    final_.resize(options.final_dim, inner);
    const float final_scale = 1.0f / std::sqrt(static_cast<float>(options.final_dim));
    for (Eigen::Index i = 0; i < final_.size(); ++i) final_.data()[i] = random.sign(final_scale);
  }
}

std::int64_t FdeEncoder::output_dim() const {
  if (options_.final_dim > 0) return options_.final_dim;
  return options_.repetitions * (std::int64_t{1} << options_.k_sim) * projection_dim_;
}

namespace {
// The index of the SimHash code nearest to `part` in Hamming distance (ties: the
// first): the vector that fills an empty partition of a document.
std::int64_t nearest_code(const std::vector<std::int64_t>& codes, std::int64_t part) {
  std::int64_t best = 0, best_distance = std::numeric_limits<std::int64_t>::max();
  for (std::size_t v = 0; v < codes.size(); ++v) {
    const std::int64_t distance = __builtin_popcountll(static_cast<unsigned long long>(codes[v] ^ part));
    if (distance < best_distance) {
      best_distance = distance;
      best = static_cast<std::int64_t>(v);
    }
  }
  return best;
}
}  // namespace

RowMatrixf FdeEncoder::encode(const MultiVectorSet& sets, bool document, const Parallel& parallel) const {
  const char* function = document ? "FdeEncoder::encode_documents" : "FdeEncoder::encode_queries";
  require_same_dim(function, "sets", sets.dim(), "the encoder's dim", dim_);
  require_finite(function, "sets", MatrixView<float>(sets.rows()));
  const std::int64_t partitions = std::int64_t{1} << options_.k_sim;
  const std::int64_t block = partitions * projection_dim_;
  const std::int64_t inner = options_.repetitions * block;
  RowMatrixf out(sets.items(), output_dim());
  parallel_for(sets.items(), 16, parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<double> fde(static_cast<std::size_t>(inner));
    std::vector<std::int64_t> counts(static_cast<std::size_t>(partitions));
    for (std::int64_t item = begin; item < end; ++item) {
      const MatrixView<float> vectors = sets.item(item);
      if (vectors.rows == 0) raise<EmptyInput>(function, "sets", "an item has no vectors", "item " + std::to_string(item));
      std::fill(fde.begin(), fde.end(), 0.0);
      std::vector<std::int64_t> bits(static_cast<std::size_t>(vectors.rows));
      std::vector<double> projected(static_cast<std::size_t>(vectors.rows * projection_dim_));
      // All repetitions' SimHash and projection products of this set in one GEMM each.
      kernels::BlockOptions single;
      single.parallel.threads = 1;
      RowMatrixf sims(vectors.rows, simhash_.rows()), projections;
      if (simhash_.rows() > 0)
        kernels::gemm_nt_f32(vectors, MatrixView<float>(simhash_), sims.data(), sims.cols(), single);
      if (projection_.size() > 0) {
        projections.resize(vectors.rows, projection_.rows());
        kernels::gemm_nt_f32(vectors, MatrixView<float>(projection_), projections.data(), projections.cols(), single);
      }
      for (std::int64_t r = 0; r < options_.repetitions; ++r) {
        for (std::int64_t v = 0; v < vectors.rows; ++v) {
          std::int64_t code = 0;
          for (std::int64_t b = 0; b < options_.k_sim; ++b)
            if (sims(v, r * options_.k_sim + b) > 0) code |= std::int64_t{1} << b;
          bits[static_cast<std::size_t>(v)] = code;
          double* target = projected.data() + v * projection_dim_;
          for (std::int64_t p = 0; p < projection_dim_; ++p)
            target[p] = projection_.size() == 0 ? vectors.row(v)[p] : projections(v, r * projection_dim_ + p);
        }
        double* blocks = fde.data() + r * block;
        std::fill(counts.begin(), counts.end(), 0);
        for (std::int64_t v = 0; v < vectors.rows; ++v) {
          const std::int64_t part = bits[static_cast<std::size_t>(v)];
          ++counts[static_cast<std::size_t>(part)];
          for (std::int64_t p = 0; p < projection_dim_; ++p)
            blocks[part * projection_dim_ + p] += projected[static_cast<std::size_t>(v * projection_dim_ + p)];
        }
        if (!document) continue;
        for (std::int64_t part = 0; part < partitions; ++part) {
          const std::int64_t count = counts[static_cast<std::size_t>(part)];
          double* target = blocks + part * projection_dim_;
          if (count > 0) {
            for (std::int64_t p = 0; p < projection_dim_; ++p) target[p] /= static_cast<double>(count);
          } else if (options_.fill_empty_partitions && options_.k_sim > 0) {
            const std::int64_t best = nearest_code(bits, part);
            for (std::int64_t p = 0; p < projection_dim_; ++p)
              target[p] = projected[static_cast<std::size_t>(best * projection_dim_ + p)];
          }
        }
      }
      float* row = out.data() + item * out.cols();
      if (final_.size() == 0) {
        for (std::int64_t p = 0; p < inner; ++p) row[p] = static_cast<float>(fde[static_cast<std::size_t>(p)]);
      } else {
        for (std::int64_t o = 0; o < final_.rows(); ++o) {
          double dot = 0;
          for (std::int64_t p = 0; p < inner; ++p) dot += static_cast<double>(final_(o, p)) * fde[static_cast<std::size_t>(p)];
          row[o] = static_cast<float>(dot);
        }
      }
    }
  });
  return out;
}

RowMatrixf FdeEncoder::encode_queries(const MultiVectorSet& queries, const Parallel& parallel) const {
  return encode(queries, false, parallel);
}
RowMatrixf FdeEncoder::encode_documents(const MultiVectorSet& documents, const Parallel& parallel) const {
  return encode(documents, true, parallel);
}

KnnGraph muvera_search(const FdeEncoder& encoder, const MultiVectorSet& queries, const RowMatrixf& document_fdes,
                       const MultiVectorSet& documents, std::int64_t k, std::int64_t candidates,
                       const Parallel& parallel) {
  const char* function = "muvera_search";
  require_same_dim(function, "document_fdes rows", document_fdes.rows(), "documents", documents.items());
  require_same_dim(function, "document_fdes cols", document_fdes.cols(), "the encoder's output", encoder.output_dim());
  require_same_dim(function, "queries", queries.dim(), "documents", documents.dim());
  require_k(function, candidates, documents.items(), "documents");
  require_k(function, k, candidates, "candidates");
  const RowMatrixf query_fdes = encoder.encode_queries(queries, parallel);
  IdMatrix ids(queries.items(), candidates);
  RowMatrixf scores(queries.items(), candidates);
  kernels::BlockOptions options;
  options.parallel = parallel;
  kernels::knn_f32(Metric::ip, MatrixView<float>(query_fdes), MatrixView<float>(document_fdes), candidates,
                   kernels::kNoSelf, ids.data(), scores.data(), options);
  KnnGraph graph;
  graph.ids.resize(queries.items(), k);
  graph.scores.resize(queries.items(), k);
  graph.metric = Metric::ip;
  parallel_for(queries.items(), 4, parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<Scored> scored;
    for (std::int64_t i = begin; i < end; ++i) {
      scored.clear();
      for (std::int64_t c = 0; c < candidates; ++c) {
        const std::int64_t id = ids(i, c);
        if (id >= 0) {
          const MatrixView<float> document = documents.item(id);
          scored.push_back({document.rows > 0 ? chamfer_of(queries.item(i), document)
                                              : -std::numeric_limits<double>::infinity(),
                            id});
        }
      }
      std::sort(scored.begin(), scored.end(), better);
      for (std::int64_t r = 0; r < k; ++r) {
        const bool have = r < static_cast<std::int64_t>(scored.size());
        graph.ids(i, r) = have ? scored[static_cast<std::size_t>(r)].id : -1;
        graph.scores(i, r) = have ? static_cast<float>(scored[static_cast<std::size_t>(r)].score)
                                  : std::numeric_limits<float>::quiet_NaN();
      }
    }
  });
  return graph;
}

KnnGraph chamfer_knn(const MultiVectorSet& queries, const MultiVectorSet& documents, std::int64_t k,
                     const Parallel& parallel) {
  const char* function = "chamfer_knn";
  require_same_dim(function, "queries", queries.dim(), "documents", documents.dim());
  require_k(function, k, documents.items(), "documents");
  KnnGraph graph;
  graph.ids.resize(queries.items(), k);
  graph.scores.resize(queries.items(), k);
  graph.metric = Metric::ip;
  parallel_for(queries.items(), 1, parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<Scored> scored(static_cast<std::size_t>(documents.items()));
    for (std::int64_t i = begin; i < end; ++i) {
      const MatrixView<float> query = queries.item(i);
      if (query.rows == 0) raise<EmptyInput>(function, "queries", "an item has no vectors", "item " + std::to_string(i));
      for (std::int64_t j = 0; j < documents.items(); ++j) {
        const MatrixView<float> document = documents.item(j);
        scored[static_cast<std::size_t>(j)] = {
            document.rows > 0 ? chamfer_of(query, document) : -std::numeric_limits<double>::infinity(), j};
      }
      std::partial_sort(scored.begin(), scored.begin() + k, scored.end(), better);
      for (std::int64_t r = 0; r < k; ++r) {
        graph.ids(i, r) = scored[static_cast<std::size_t>(r)].id;
        graph.scores(i, r) = static_cast<float>(scored[static_cast<std::size_t>(r)].score);
      }
    }
  });
  return graph;
}

}  // namespace latent
