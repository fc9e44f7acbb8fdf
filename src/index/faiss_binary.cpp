// Binary indexes (BFlat, BHNSW{M}, BIVF{n}): FAISS's IndexBinary behind the same
// adapter as the float indexes (id map, -1 / NaN for missing neighbours, rows
// sorted with ties to the smaller id, per-call threads and search parameters,
// BackendError). Codes are packed bits, dim / 8 bytes per row; the metric is l1,
// which on 0/1 vectors is the Hamming distance FAISS computes, so scores are
// exact bit counts. Exact re-scoring reuses the embedding module's `rescore`.
#include <faiss/IndexBinaryIVF.h>
#include <faiss/impl/AuxIndexStructures.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>

#include "faiss_detail.hpp"
#include "latent/embedding/quantization.hpp"

namespace latent::index {
namespace {

void check_codes(std::string_view function, const FaissIndex::Impl& impl, const MatrixView<std::uint8_t>& codes) {
  require_kind(function, impl, true);
  require_non_empty(function, "codes", codes);
  require_same_dim(function, "codes bytes per row", codes.cols, "index dim / 8", impl.dim / 8);
}

// FAISS wants [n x dim / 8] contiguous bytes: the view itself, or a copy.
const std::uint8_t* contiguous(const MatrixView<std::uint8_t>& codes, std::vector<std::uint8_t>& copy) {
  if (codes.row_stride == codes.cols) return codes.data;
  copy.resize(static_cast<std::size_t>(codes.rows * codes.cols));
  for (std::int64_t i = 0; i < codes.rows; ++i)
    std::copy(codes.row(i), codes.row(i) + codes.cols, copy.data() + i * codes.cols);
  return copy.data();
}

// FAISS's top-`fetch` Hamming neighbours of the codes, labelled (unsorted rows).
KnnGraph raw_binary_search(const FaissIndex::Impl& impl, const MatrixView<std::uint8_t>& codes, std::int64_t fetch,
                           const IndexSearchOptions& options) {
  constexpr std::string_view kFunction = "FaissIndex::search";
  std::vector<std::uint8_t> copy;
  const std::uint8_t* data = contiguous(codes, copy);
  std::vector<std::int32_t> distances(static_cast<std::size_t>(codes.rows * fetch));
  KnnGraph graph;
  graph.metric = impl.metric;
  graph.ids.resize(codes.rows, fetch);
  graph.scores.resize(codes.rows, fetch);
  {
    const SearchScope scope(impl, options);
    const ThreadScope threads(options.parallel);
    call_faiss(kFunction, [&] { impl.binary->search(codes.rows, data, fetch, distances.data(), graph.ids.data()); });
  }
  std::transform(distances.begin(), distances.end(), graph.scores.data(),
                 [](std::int32_t d) { return static_cast<float>(d); });
  label_graph(impl, graph);
  return graph;
}

}  // namespace

void FaissIndex::train(const MatrixView<std::uint8_t>& codes, const Parallel& parallel) {
  constexpr std::string_view kFunction = "FaissIndex::train";
  check_codes(kFunction, *impl_, codes);
  std::vector<std::uint8_t> copy;
  const std::uint8_t* data = contiguous(codes, copy);
  const ThreadScope threads(parallel);
  call_faiss(kFunction, [&] { impl_->binary->train(codes.rows, data); });
}

void FaissIndex::add(const MatrixView<std::uint8_t>& codes, const Parallel& parallel) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(std::max<std::int64_t>(codes.rows, 0)));
  std::iota(ids.begin(), ids.end(), impl_->next_id);
  add_with_ids(codes, ids, parallel);
}

void FaissIndex::add_with_ids(const MatrixView<std::uint8_t>& codes, const std::vector<std::int64_t>& ids,
                              const Parallel& parallel) {
  constexpr std::string_view kFunction = "FaissIndex::add";
  check_codes(kFunction, *impl_, codes);
  check_new_rows(kFunction, *impl_, ids, codes.rows, impl_->binary->is_trained);
  std::vector<std::uint8_t> copy;
  add_to_faiss(kFunction, *impl_, *impl_->binary, codes.rows, contiguous(codes, copy), ids, parallel);
}

KnnGraph FaissIndex::search(const MatrixView<std::uint8_t>& codes, std::int64_t k,
                            const IndexSearchOptions& options) const {
  constexpr std::string_view kFunction = "FaissIndex::search";
  check_options(kFunction, options);
  check_codes(kFunction, *impl_, codes);
  if (ntotal() == 0) raise<EmptyInput>(kFunction, "index", "holds no rows; add some first");
  require_k(kFunction, k, ntotal(), "index rows");
  if (options.rerank != Rerank::none) {
    raise<InvalidArgument>(kFunction, "options.rerank", "a binary index re-scores through search_rescored",
                           "it needs the float queries as well as their codes");
  }
  KnnGraph graph = raw_binary_search(*impl_, codes, k, options);
  sort_rows(graph);
  return graph;
}

KnnGraph FaissIndex::search_rescored(const MatrixView<std::uint8_t>& codes, const MatrixView<float>& queries,
                                     std::int64_t k, Metric metric, const IndexSearchOptions& options) const {
  constexpr std::string_view kFunction = "FaissIndex::search_rescored";
  check_options(kFunction, options);
  check_codes(kFunction, *impl_, codes);
  require_non_empty(kFunction, "queries", queries);
  require_same_dim(kFunction, "queries", queries.cols, "index", impl_->dim);
  require_same_dim(kFunction, "queries rows", queries.rows, "codes rows", codes.rows);
  if (options.validate_finite) require_finite(kFunction, "queries", queries);
  if (metric == Metric::l1 || metric == Metric::linf) {
    raise<InvalidArgument>(kFunction, "metric", "re-scoring supports cosine, ip, l2 and sqeuclidean",
                           "metric=" + std::string(to_string(metric)));
  }
  if (options.rerank == Rerank::hubness) {
    raise<InvalidArgument>(kFunction, "options.rerank", "hubness re-ranking is not available for binary indexes");
  }
  const float* vectors = impl_->vector_rows();
  if (vectors == nullptr) {
    raise<InvalidArgument>(kFunction, "index", "exact re-scoring needs the float rows",
                           "lend them with attach_vectors");
  }
  if (ntotal() == 0) raise<EmptyInput>(kFunction, "index", "holds no rows; add some first");
  require_k(kFunction, k, ntotal(), "index rows");
  std::int64_t candidates = options.candidates > 0 ? options.candidates : std::max<std::int64_t>(100, 4 * k);
  candidates = std::min(std::max(candidates, k), ntotal());

  // Hamming candidates as rows of the float matrix, re-scored exactly, then ids again.
  KnnGraph found = raw_binary_search(*impl_, codes, candidates, options);
  for (Eigen::Index i = 0; i < found.ids.size(); ++i) {
    std::int64_t& id = found.ids.data()[i];
    if (id >= 0) id = impl_->rows.at(id);
  }
  KnnGraph graph = latent::rescore(queries, MatrixView<float>(vectors, ntotal(), impl_->dim), found.ids, k, metric,
                                   options.parallel);
  for (Eigen::Index i = 0; i < graph.ids.size(); ++i) {
    std::int64_t& row = graph.ids.data()[i];
    if (row >= 0) row = impl_->ids[static_cast<std::size_t>(row)];
  }
  sort_rows(graph);  // ties to the smaller id, not the smaller row
  return graph;
}

RangeResult FaissIndex::range_search(const MatrixView<std::uint8_t>& codes, float radius,
                                     const IndexSearchOptions& options) const {
  constexpr std::string_view kFunction = "FaissIndex::range_search";
  check_options(kFunction, options);
  check_codes(kFunction, *impl_, codes);
  if (!std::isfinite(radius) || radius < 0) {
    raise<InvalidArgument>(kFunction, "radius", "must be a finite Hamming distance >= 0", std::to_string(radius));
  }
  // FAISS returns distance < its radius; ours is inclusive and counts whole bits.
  const int faiss_radius = static_cast<int>(std::min<double>(std::floor(radius) + 1, INT_MAX));
  std::vector<std::uint8_t> copy;
  const std::uint8_t* data = contiguous(codes, copy);
  faiss::RangeSearchResult result(codes.rows);
  {
    const SearchScope scope(*impl_, options);
    const ThreadScope threads(options.parallel);
    call_faiss(kFunction, [&] { impl_->binary->range_search(codes.rows, data, faiss_radius, &result); });
  }
  return range_result(*impl_, result, codes.rows);
}

std::vector<float> reconstruct_bits(const FaissIndex::Impl& impl, std::int64_t label) {
  constexpr std::string_view kFunction = "FaissIndex::reconstruct";
  std::vector<std::uint8_t> code(static_cast<std::size_t>(impl.dim / 8));
  if (auto* ivf = dynamic_cast<faiss::IndexBinaryIVF*>(impl.binary.get())) {
    // IVF reconstructs by id through a direct map, created on first use.
    const std::lock_guard<std::mutex> lock(impl.direct_map_mutex);
    if (ivf->direct_map.type == faiss::DirectMap::NoMap) {
      call_faiss(kFunction, [&] { ivf->set_direct_map_type(faiss::DirectMap::Hashtable); });
    }
  }
  call_faiss(kFunction, [&] { impl.binary->reconstruct(label, code.data()); });
  std::vector<float> bits(static_cast<std::size_t>(impl.dim));
  for (std::size_t j = 0; j < bits.size(); ++j) bits[j] = static_cast<float>((code[j / 8] >> (7 - j % 8)) & 1U);
  return bits;
}

}  // namespace latent::index
