// FaissBinaryIndex (BFlat, BHNSW{M}, BIVF{n}, BIVF{n}_HNSW{M}): FAISS's IndexBinary
// behind the adapter's conventions (id map, -1 / NaN for missing neighbours, rows
// sorted with ties to the smaller id, per-call threads and search parameters,
// BackendError). Codes are packed bits, dim / 8 bytes per row; the metric is l1,
// which on 0/1 vectors is the Hamming distance FAISS computes, so scores are
// exact bit counts. Exact re-scoring goes through embedding's `rescore`, as the
// float index's does.
#include "latent/index/faiss_binary_index.hpp"

#include <faiss/IndexBinaryHNSW.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <climits>
#include <cmath>

#include "faiss_detail.hpp"

namespace latent::index {
namespace {

void check_codes(std::string_view function, const FaissBinaryIndex::Impl& impl, const MatrixView<std::uint8_t>& codes) {
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
KnnGraph raw_binary_search(const FaissBinaryIndex::Impl& impl, const MatrixView<std::uint8_t>& codes,
                           std::int64_t fetch, const IndexSearchOptions& options) {
  constexpr std::string_view kFunction = "FaissBinaryIndex::search";
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
    call_faiss(kFunction, [&] { impl.index->search(codes.rows, data, fetch, distances.data(), graph.ids.data()); });
  }
  std::transform(distances.begin(), distances.end(), graph.scores.data(),
                 [](std::int32_t d) { return static_cast<float>(d); });
  label_graph(impl, graph);
  return graph;
}

// IVF reconstructs and removes by id through a direct map, created on first use.
faiss::IndexBinaryIVF* find_ivf(const FaissBinaryIndex::Impl& impl) {
  return dynamic_cast<faiss::IndexBinaryIVF*>(impl.index.get());
}

}  // namespace

SearchScope::SearchScope(const FaissBinaryIndex::Impl& impl, const IndexSearchOptions& options) {
  // FAISS 1.7.3's binary indexes take no SearchParameters: both fields are set.
  std::size_t nprobe = 0;
  if (faiss::IndexBinaryIVF* ivf = find_ivf(impl); ivf && options.nprobe > 0) {
    nprobe_field_ = &ivf->nprobe;
    nprobe = static_cast<std::size_t>(std::min<std::int64_t>(options.nprobe, ivf->nlist));
  }
  if (auto* hnsw = dynamic_cast<faiss::IndexBinaryHNSW*>(impl.index.get()); hnsw && options.ef_search > 0) {
    ef_field_ = &hnsw->hnsw.efSearch;
  }
  lock(impl, options.ef_search, nprobe);
}

// ---------------------------------------------------------------- lifetime

FaissBinaryIndex::FaissBinaryIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FaissBinaryIndex::FaissBinaryIndex(std::int64_t bits, const std::string& factory, const BinaryIndexOptions& options)
    : impl_(std::make_unique<Impl>()) {
  constexpr std::string_view kFunction = "FaissBinaryIndex";
  check_construction(kFunction, bits, options.ef_construction);
  if (!is_binary_factory(factory)) {
    raise<InvalidArgument>(kFunction, "factory",
                           "is not a binary factory (BFlat, BHNSW{M}, BIVF{n}): float rows go in a FaissIndex",
                           "'" + factory + "'");
  }
  if (bits % 8 != 0) {
    raise<InvalidArgument>(kFunction, "dim", "a binary index's dim is its bits: a multiple of 8",
                           "dim=" + std::to_string(bits));
  }
  impl_->dim = bits;
  impl_->factory = factory;
  impl_->metric = Metric::l1;
  impl_->options = options;
  impl_->index.reset(
      call_faiss(kFunction, [&] { return faiss::index_binary_factory(static_cast<int>(bits), factory.c_str()); }));
  if (auto* hnsw = dynamic_cast<faiss::IndexBinaryHNSW*>(impl_->index.get()); hnsw && options.ef_construction > 0) {
    hnsw->hnsw.efConstruction = options.ef_construction;
  }
  impl_->native_ids = find_ivf(*impl_) != nullptr;
}

FaissBinaryIndex::~FaissBinaryIndex() = default;
FaissBinaryIndex::FaissBinaryIndex(FaissBinaryIndex&&) noexcept = default;
FaissBinaryIndex& FaissBinaryIndex::operator=(FaissBinaryIndex&&) noexcept = default;

std::int64_t FaissBinaryIndex::dim() const { return impl_->dim; }
std::int64_t FaissBinaryIndex::ntotal() const { return impl_->ntotal(); }
Metric FaissBinaryIndex::metric() const { return impl_->metric; }
const std::string& FaissBinaryIndex::factory() const { return impl_->factory; }
bool FaissBinaryIndex::is_trained() const { return impl_->index->is_trained; }
const BinaryIndexOptions& FaissBinaryIndex::options() const { return impl_->options; }
std::int64_t FaissBinaryIndex::next_id() const { return impl_->next_id; }
const std::vector<std::int64_t>& FaissBinaryIndex::ids() const { return impl_->ids; }
std::int64_t FaissBinaryIndex::row_of(std::int64_t id) const { return impl_->row_of(id); }
faiss::IndexBinary* FaissBinaryIndex::native() { return impl_->index.get(); }
const faiss::IndexBinary* FaissBinaryIndex::native() const { return impl_->index.get(); }
bool FaissBinaryIndex::has_vectors() const { return impl_->attached_rows() != nullptr; }

// ---------------------------------------------------------------- build

void FaissBinaryIndex::train(const MatrixView<std::uint8_t>& codes, const Parallel& parallel) {
  constexpr std::string_view kFunction = "FaissBinaryIndex::train";
  check_codes(kFunction, *impl_, codes);
  std::vector<std::uint8_t> copy;
  const std::uint8_t* data = contiguous(codes, copy);
  const ThreadScope threads(parallel);
  call_faiss(kFunction, [&] { impl_->index->train(codes.rows, data); });
}

void FaissBinaryIndex::add(const MatrixView<std::uint8_t>& codes, const Parallel& parallel) {
  add_with_ids(codes, next_ids(*impl_, codes.rows), parallel);
}

void FaissBinaryIndex::add_with_ids(const MatrixView<std::uint8_t>& codes, const std::vector<std::int64_t>& ids,
                                    const Parallel& parallel) {
  constexpr std::string_view kFunction = "FaissBinaryIndex::add";
  check_codes(kFunction, *impl_, codes);
  check_new_rows(kFunction, *impl_, ids, codes.rows, impl_->index->is_trained);
  std::vector<std::uint8_t> copy;
  add_to_faiss(kFunction, *impl_, *impl_->index, codes.rows, contiguous(codes, copy), ids, parallel);
}

// ---------------------------------------------------------------- search

KnnGraph FaissBinaryIndex::search(const MatrixView<std::uint8_t>& codes, std::int64_t k,
                                  const IndexSearchOptions& options) const {
  constexpr std::string_view kFunction = "FaissBinaryIndex::search";
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

KnnGraph FaissBinaryIndex::search_rescored(const MatrixView<std::uint8_t>& codes, const MatrixView<float>& queries,
                                           std::int64_t k, Metric metric, const IndexSearchOptions& options) const {
  constexpr std::string_view kFunction = "FaissBinaryIndex::search_rescored";
  check_options(kFunction, options);
  check_codes(kFunction, *impl_, codes);
  require_non_empty(kFunction, "queries", queries);
  require_same_dim(kFunction, "queries", queries.cols, "index", impl_->dim);
  require_same_dim(kFunction, "queries rows", queries.rows, "codes rows", codes.rows);
  if (options.validate_finite) require_finite(kFunction, "queries", queries);
  if (metric == Metric::l1 || metric == Metric::linf) {
    raise<InvalidArgument>(kFunction, "metric", "re-scoring supports cosine, ip, l2, sqeuclidean and angular",
                           "metric=" + std::string(to_string(metric)));
  }
  if (options.rerank == Rerank::hubness) {
    raise<InvalidArgument>(kFunction, "options.rerank", "hubness re-ranking is not available for binary indexes");
  }
  const float* vectors = impl_->attached_rows();
  if (vectors == nullptr) {
    raise<InvalidArgument>(kFunction, "index", "exact re-scoring needs the float rows",
                           "lend them with attach_vectors");
  }
  if (ntotal() == 0) raise<EmptyInput>(kFunction, "index", "holds no rows; add some first");
  require_k(kFunction, k, ntotal(), "index rows");
  std::int64_t candidates = options.candidates > 0 ? options.candidates : std::max<std::int64_t>(100, 4 * k);
  candidates = std::min(std::max(candidates, k), ntotal());
  const KnnGraph found = raw_binary_search(*impl_, codes, candidates, options);
  const KnnGraph rescored = rescore_candidates(*impl_, queries, vectors, found, metric, options.parallel);
  KnnGraph top;
  top.metric = rescored.metric;
  top.ids = rescored.ids.leftCols(k);
  top.scores = rescored.scores.leftCols(k);
  return top;
}

RangeResult FaissBinaryIndex::range_search(const MatrixView<std::uint8_t>& codes, float radius,
                                           const IndexSearchOptions& options) const {
  constexpr std::string_view kFunction = "FaissBinaryIndex::range_search";
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
    call_faiss(kFunction, [&] { impl_->index->range_search(codes.rows, data, faiss_radius, &result); });
  }
  return range_result(*impl_, result, codes.rows);
}

// ---------------------------------------------------------------- remove, reconstruct

std::int64_t FaissBinaryIndex::remove_ids(const std::vector<std::int64_t>& ids) {
  const Removal removal = plan_removal(*impl_, ids);
  if (removal.labels.empty()) return 0;
  const faiss::IndexBinaryIVF* ivf = find_ivf(*impl_);
  remove_from_faiss("FaissBinaryIndex::remove_ids", removal, ivf != nullptr ? &ivf->direct_map : nullptr,
                    [&](const faiss::IDSelector& selector) { return impl_->index->remove_ids(selector); });
  compact_rows(*impl_, removal.removed_row, [](std::size_t, std::size_t) {});
  return static_cast<std::int64_t>(removal.labels.size());
}

std::vector<float> FaissBinaryIndex::reconstruct(std::int64_t id) const {
  constexpr std::string_view kFunction = "FaissBinaryIndex::reconstruct";
  const std::int64_t row = row_of(id);
  if (row < 0) raise<InvalidArgument>(kFunction, "id", "is not in the index", "id=" + std::to_string(id));
  if (const float* rows = impl_->attached_rows())
    return std::vector<float>(rows + row * dim(), rows + (row + 1) * dim());
  std::vector<std::uint8_t> code(static_cast<std::size_t>(impl_->dim / 8));
  if (faiss::IndexBinaryIVF* ivf = find_ivf(*impl_)) {
    const std::lock_guard<std::mutex> lock(impl_->direct_map_mutex);
    if (ivf->direct_map.type == faiss::DirectMap::NoMap) {
      call_faiss(kFunction, [&] { ivf->set_direct_map_type(faiss::DirectMap::Hashtable); });
    }
  }
  call_faiss(kFunction, [&] { impl_->index->reconstruct(impl_->native_ids ? id : row, code.data()); });
  std::vector<float> bits(static_cast<std::size_t>(impl_->dim));
  for (std::size_t j = 0; j < bits.size(); ++j) bits[j] = static_cast<float>((code[j / 8] >> (7 - j % 8)) & 1U);
  return bits;
}

void FaissBinaryIndex::attach_vectors(const MatrixView<float>& vectors) {
  attach_rows("FaissBinaryIndex::attach_vectors", *impl_, vectors);
}

// ---------------------------------------------------------------- save / load

void FaissBinaryIndex::set_metadata(const std::string& key, const std::string& value) {
  index::set_metadata("FaissBinaryIndex::set_metadata", *impl_, key, value);
}

std::string FaissBinaryIndex::metadata(const std::string& key) const { return get_metadata(*impl_, key); }

void FaissBinaryIndex::save(const std::string& path) const {
  faiss::VectorIOWriter writer;
  call_faiss("FaissBinaryIndex::save", [&] { faiss::write_index_binary(impl_->index.get(), &writer); });
  ModelWriter model(std::string(kModelKind), kFileVersion);
  IndexOptions options;  // the float options' fields, at their defaults but ef_construction
  options.ef_construction = impl_->options.ef_construction;
  put_core(model, *impl_, writer.data, options);
  model.save(path);
}

std::unique_ptr<FaissBinaryIndex::Impl> load_binary(const ModelReader& model) {
  constexpr std::string_view kFunction = "FaissBinaryIndex::load";
  auto impl = std::make_unique<FaissBinaryIndex::Impl>();
  IndexOptions options;
  const std::string bytes = get_core(kFunction, model, true, *impl, options);
  impl->options.ef_construction = options.ef_construction;
  if (impl->metric != Metric::l1) bad_file(kFunction, model, "a binary index's metric must be l1");
  if (options.keep_vectors) bad_file(kFunction, model, "a binary index cannot keep vectors");
  faiss::VectorIOReader reader;
  reader.data.assign(bytes.begin(), bytes.end());
  impl->index.reset(call_faiss(kFunction, [&] { return faiss::read_index_binary(&reader); }));
  check_loaded(kFunction, model, *impl, impl->index->d, impl->index->ntotal);
  impl->native_ids = find_ivf(*impl) != nullptr;
  return impl;
}

FaissBinaryIndex FaissBinaryIndex::load(const std::string& path) {
  return FaissBinaryIndex(load_binary(ModelReader(path, kModelKind, kFileVersion)));
}

}  // namespace latent::index
