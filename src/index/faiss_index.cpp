// The float FAISS adapter: construction, train/add/search/range search/remove,
// reconstruct, save/load. FAISS headers are included in src/index/ only.
//
// Numerical policy: cosine rows are normalised in double before FAISS sees them
// and cosine scores are clamped to [-1, 1] (rounding of a unit-norm inner
// product can exceed 1); FAISS's squared L2 is clamped at 0 and square-rooted
// for `l2`. FAISS's -1 labels become id -1 with score NaN, sorted last.
#include "latent/index/faiss_index.hpp"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "../core/row_norms.hpp"
#include "faiss_detail.hpp"

namespace latent::index {
namespace {

faiss::MetricType faiss_metric(Metric metric) {
  return is_similarity(metric) ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2;  // angular: cosine, transformed
}

// The IVF index under optional pre-transforms (OPQ, PCA), or null.
faiss::IndexIVF* find_ivf(faiss::Index* index) {
  while (auto* pre = dynamic_cast<faiss::IndexPreTransform*>(index)) index = pre->index;
  return dynamic_cast<faiss::IndexIVF*>(index);
}

// FAISS 1.7.3's IndexHNSW::search accepts SearchParametersHNSW but ignores it
// (verified: efSearch=1000 through params gives the recall of the default 16);
// there the adapter sets hnsw.efSearch for the call under the index's exclusive
// lock and restores it (see SearchScope). Later versions read the params.
constexpr bool kHnswHonoursParams = FAISS_VERSION_MAJOR > 1 || (FAISS_VERSION_MAJOR == 1 && FAISS_VERSION_MINOR > 7) ||
                                    (FAISS_VERSION_MAJOR == 1 && FAISS_VERSION_MINOR == 7 && FAISS_VERSION_PATCH > 3);

// The HNSW index under optional pre-transforms, or null.
faiss::IndexHNSW* find_hnsw(faiss::Index* index) {
  while (auto* pre = dynamic_cast<faiss::IndexPreTransform*>(index)) index = pre->index;
  return dynamic_cast<faiss::IndexHNSW*>(index);
}

// FAISS's per-call search parameters for the index structure (FAISS >= 1.7.3):
// the index itself is never modified, so concurrent searches with different
// nprobe / efSearch are safe. `owned` keeps the nested objects alive.
const faiss::SearchParameters* make_params(const faiss::Index* index, const IndexSearchOptions& options,
                                           std::vector<std::unique_ptr<faiss::SearchParameters>>& owned) {
  if (const auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(index)) {
    const faiss::SearchParameters* inner = make_params(pre->index, options, owned);
    if (inner == nullptr) return nullptr;
    auto params = std::make_unique<faiss::SearchParametersPreTransform>();
    params->index_params = const_cast<faiss::SearchParameters*>(inner);
    owned.push_back(std::move(params));
    return owned.back().get();
  }
  if (const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index)) {
    if (options.nprobe <= 0) return nullptr;
    auto params = std::make_unique<faiss::SearchParametersIVF>();
    params->nprobe = static_cast<std::size_t>(std::min<std::int64_t>(options.nprobe, ivf->nlist));
    owned.push_back(std::move(params));
    return owned.back().get();
  }
  if (dynamic_cast<const faiss::IndexHNSW*>(index) != nullptr) {
    if (options.ef_search <= 0 || !kHnswHonoursParams) return nullptr;
    auto params = std::make_unique<faiss::SearchParametersHNSW>();
    params->efSearch = options.ef_search;
    owned.push_back(std::move(params));
    return owned.back().get();
  }
  return nullptr;
}

void check_rows(std::string_view function, std::string_view argument, const MatrixView<float>& x, std::int64_t dim,
                bool validate_finite) {
  require_non_empty(function, argument, x);
  require_same_dim(function, argument, x.cols, "index", dim);
  if (validate_finite) require_finite(function, argument, x);
}

}  // namespace

std::vector<float> prepare_rows(std::string_view function, std::string_view argument, const MatrixView<float>& x,
                                Metric metric, ZeroNormPolicy zero_norm) {
  std::vector<float> out;
  if (!is_directional(metric) && x.row_stride == x.cols) return out;
  out.resize(static_cast<std::size_t>(x.rows * x.cols));
  for (std::int64_t i = 0; i < x.rows; ++i) std::copy(x.row(i), x.row(i) + x.cols, out.data() + i * x.cols);
  if (is_directional(metric)) {
    latent::detail::normalize_rows(out.data(), x.rows, x.cols, x.cols, zero_norm, function, argument, Parallel{1});
  }
  return out;
}

void FaissIndex::Impl::rows_changed() {
  IndexCore::rows_changed();
  reducer.reset();
  hubness_graph = DistanceGraph{};
}

SearchScope::SearchScope(const FaissIndex::Impl& impl, const IndexSearchOptions& options) {
  params_ = make_params(impl.index.get(), options, owned_);
  faiss::IndexHNSW* hnsw = kHnswHonoursParams ? nullptr : find_hnsw(impl.index.get());
  if (hnsw != nullptr && options.ef_search > 0) ef_field_ = &hnsw->hnsw.efSearch;
  lock(impl, options.ef_search, 0);
}

// ---------------------------------------------------------------- lifetime

FaissIndex::FaissIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FaissIndex::FaissIndex(std::int64_t dim, const std::string& factory, Metric metric, const IndexOptions& options)
    : impl_(std::make_unique<Impl>()) {
  constexpr std::string_view kFunction = "FaissIndex";
  check_construction(kFunction, dim, options.ef_construction);
  if (is_binary_factory(factory)) {
    raise<InvalidArgument>(kFunction, "factory", "is a binary factory: packed codes go in a FaissBinaryIndex",
                           "'" + factory + "'");
  }
  if (metric == Metric::l1 || metric == Metric::linf) {
    raise<InvalidArgument>(kFunction, "metric", "FAISS indexes support cosine, ip, l2, sqeuclidean and angular",
                           "metric=" + std::string(to_string(metric)));
  }
  impl_->dim = dim;
  impl_->factory = factory;
  impl_->metric = metric;
  impl_->options = options;
  impl_->index.reset(call_faiss(
      kFunction, [&] { return faiss::index_factory(static_cast<int>(dim), factory.c_str(), faiss_metric(metric)); }));
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(impl_->index.get()); hnsw && options.ef_construction > 0) {
    hnsw->hnsw.efConstruction = options.ef_construction;
  }
  // Polysemous training (on by default for PQ in index_factory) is a slow
  // simulated annealing (seconds per sub-quantizer) that only serves FAISS's
  // polysemous search mode, which the adapter never selects: turn it off.
  if (auto* pq = dynamic_cast<faiss::IndexPQ*>(impl_->index.get())) pq->do_polysemous_training = false;
  if (auto* ivfpq = dynamic_cast<faiss::IndexIVFPQ*>(find_ivf(impl_->index.get()))) {
    ivfpq->do_polysemous_training = false;
  }
  impl_->native_ids = find_ivf(impl_->index.get()) != nullptr;
}

FaissIndex::~FaissIndex() = default;
FaissIndex::FaissIndex(FaissIndex&&) noexcept = default;
FaissIndex& FaissIndex::operator=(FaissIndex&&) noexcept = default;

std::int64_t FaissIndex::dim() const { return impl_->dim; }
std::int64_t FaissIndex::ntotal() const { return impl_->ntotal(); }
Metric FaissIndex::metric() const { return impl_->metric; }
const std::string& FaissIndex::factory() const { return impl_->factory; }
bool FaissIndex::is_trained() const { return impl_->index->is_trained; }
const IndexOptions& FaissIndex::options() const { return impl_->options; }
std::int64_t FaissIndex::next_id() const { return impl_->next_id; }
const std::vector<std::int64_t>& FaissIndex::ids() const { return impl_->ids; }
std::int64_t FaissIndex::row_of(std::int64_t id) const { return impl_->row_of(id); }
faiss::Index* FaissIndex::native() { return impl_->index.get(); }
const faiss::Index* FaissIndex::native() const { return impl_->index.get(); }
bool FaissIndex::hubness_fitted() const { return impl_->reducer != nullptr; }
bool FaissIndex::has_vectors() const { return impl_->vector_rows() != nullptr; }

// ---------------------------------------------------------------- build

void FaissIndex::train(const MatrixView<float>& x, const Parallel& parallel) {
  constexpr std::string_view kFunction = "FaissIndex::train";
  check_rows(kFunction, "x", x, impl_->dim, true);
  const std::vector<float> rows = prepare_rows(kFunction, "x", x, impl_->metric, impl_->options.zero_norm);
  const ThreadScope threads(parallel);
  call_faiss(kFunction, [&] { impl_->index->train(x.rows, rows.empty() ? x.data : rows.data()); });
}

void FaissIndex::add(const MatrixView<float>& x, const Parallel& parallel) {
  add_with_ids(x, next_ids(*impl_, x.rows), parallel);
}

void FaissIndex::add_with_ids(const MatrixView<float>& x, const std::vector<std::int64_t>& ids,
                              const Parallel& parallel) {
  constexpr std::string_view kFunction = "FaissIndex::add";
  check_rows(kFunction, "x", x, impl_->dim, true);
  check_new_rows(kFunction, *impl_, ids, x.rows, impl_->index->is_trained);
  const std::vector<float> rows = prepare_rows(kFunction, "x", x, impl_->metric, impl_->options.zero_norm);
  add_to_faiss(kFunction, *impl_, *impl_->index, x.rows, rows.empty() ? x.data : rows.data(), ids, parallel);
  if (impl_->options.keep_vectors) {
    impl_->kept.reserve(impl_->kept.size() + static_cast<std::size_t>(x.rows * x.cols));
    for (std::int64_t i = 0; i < x.rows; ++i) impl_->kept.insert(impl_->kept.end(), x.row(i), x.row(i) + x.cols);
  }
}

// ---------------------------------------------------------------- search

KnnGraph raw_search(const FaissIndex::Impl& impl, const MatrixView<float>& queries, std::int64_t fetch,
                    const IndexSearchOptions& options) {
  constexpr std::string_view kFunction = "FaissIndex::search";
  const std::vector<float> rows = prepare_rows(kFunction, "queries", queries, impl.metric, impl.options.zero_norm);
  const float* data = rows.empty() ? queries.data : rows.data();
  KnnGraph graph;
  graph.metric = impl.metric;
  graph.ids.resize(queries.rows, fetch);
  graph.scores.resize(queries.rows, fetch);
  {
    const SearchScope scope(impl, options);
    const faiss::SearchParameters* params = scope.params();
    const ThreadScope threads(options.parallel);
    call_faiss(kFunction,
               [&] { impl.index->search(queries.rows, data, fetch, graph.scores.data(), graph.ids.data(), params); });
  }
  label_graph(impl, graph);
  return graph;
}

KnnGraph FaissIndex::search(const MatrixView<float>& queries, std::int64_t k, const IndexSearchOptions& options) const {
  constexpr std::string_view kFunction = "FaissIndex::search";
  check_options(kFunction, options);
  check_rows(kFunction, "queries", queries, impl_->dim, options.validate_finite);
  if (ntotal() == 0) raise<EmptyInput>(kFunction, "index", "holds no rows; add some first");
  require_k(kFunction, k, ntotal(), "index rows");
  if (options.rerank != Rerank::none) return rerank_search(*impl_, queries, k, options);
  KnnGraph graph = raw_search(*impl_, queries, k, options);
  sort_rows(graph);
  return graph;
}

RangeResult FaissIndex::range_search(const MatrixView<float>& queries, float radius,
                                     const IndexSearchOptions& options) const {
  constexpr std::string_view kFunction = "FaissIndex::range_search";
  check_options(kFunction, options);
  check_rows(kFunction, "queries", queries, impl_->dim, options.validate_finite);
  if (!std::isfinite(radius)) raise<NonFiniteValue>(kFunction, "radius", "must be finite", std::to_string(radius));
  const Metric metric = impl_->metric;
  if ((metric == Metric::l2 || metric == Metric::sqeuclidean) && radius < 0) {
    raise<InvalidArgument>(kFunction, "radius", "must be >= 0 for a distance", std::to_string(radius));
  }
  // FAISS sees the squared l2 distance and, for angular, the cosine.
  float faiss_radius = metric == Metric::l2 ? radius * radius : radius;
  if (metric == Metric::angular) faiss_radius = static_cast<float>(cosine_from_angular(radius));
  const std::vector<float> rows = prepare_rows(kFunction, "queries", queries, metric, impl_->options.zero_norm);
  const float* data = rows.empty() ? queries.data : rows.data();
  faiss::RangeSearchResult result(queries.rows);
  {
    const SearchScope scope(*impl_, options);
    const faiss::SearchParameters* params = scope.params();
    const ThreadScope threads(options.parallel);
    call_faiss(kFunction, [&] { impl_->index->range_search(queries.rows, data, faiss_radius, &result, params); });
  }
  return range_result(*impl_, result, queries.rows);
}

// ---------------------------------------------------------------- remove, reconstruct

std::int64_t FaissIndex::remove_ids(const std::vector<std::int64_t>& ids) {
  constexpr std::string_view kFunction = "FaissIndex::remove_ids";
  const Removal removal = plan_removal(*impl_, ids);
  if (removal.labels.empty()) return 0;
  const faiss::IndexIVF* ivf = find_ivf(impl_->index.get());
  remove_from_faiss(kFunction, removal, ivf != nullptr ? &ivf->direct_map : nullptr,
                    [&](const faiss::IDSelector& selector) { return impl_->index->remove_ids(selector); });
  const auto dim = static_cast<std::size_t>(impl_->dim);
  float* kept = impl_->kept.data();
  compact_rows(*impl_, removal.removed_row, [&](std::size_t from, std::size_t to) {
    if (impl_->options.keep_vectors) std::memmove(kept + to * dim, kept + from * dim, dim * sizeof(float));
  });
  if (impl_->options.keep_vectors) impl_->kept.resize(impl_->ids.size() * dim);
  return static_cast<std::int64_t>(removal.labels.size());
}

std::vector<float> FaissIndex::reconstruct(std::int64_t id) const {
  constexpr std::string_view kFunction = "FaissIndex::reconstruct";
  const std::int64_t row = row_of(id);
  if (row < 0) raise<InvalidArgument>(kFunction, "id", "is not in the index", "id=" + std::to_string(id));
  std::vector<float> out(static_cast<std::size_t>(impl_->dim));
  if (const float* rows = impl_->vector_rows()) {
    std::copy(rows + row * impl_->dim, rows + (row + 1) * impl_->dim, out.begin());
    return out;
  }
  if (impl_->native_ids) {
    // IVF reconstructs by id through a direct map, created on first use.
    const std::lock_guard<std::mutex> lock(impl_->direct_map_mutex);
    faiss::IndexIVF* ivf = find_ivf(impl_->index.get());
    if (ivf->direct_map.type == faiss::DirectMap::NoMap) {
      call_faiss(kFunction, [&] { ivf->set_direct_map_type(faiss::DirectMap::Hashtable); });
    }
  }
  call_faiss(kFunction, [&] { impl_->index->reconstruct(impl_->native_ids ? id : row, out.data()); });
  return out;
}

void FaissIndex::attach_vectors(const MatrixView<float>& vectors) {
  attach_rows("FaissIndex::attach_vectors", *impl_, vectors);
}

// ---------------------------------------------------------------- save / load

void FaissIndex::set_metadata(const std::string& key, const std::string& value) {
  index::set_metadata("FaissIndex::set_metadata", *impl_, key, value);
}

std::string FaissIndex::metadata(const std::string& key) const { return get_metadata(*impl_, key); }

void FaissIndex::save(const std::string& path) const {
  faiss::VectorIOWriter writer;
  call_faiss("FaissIndex::save", [&] { faiss::write_index(impl_->index.get(), &writer); });
  ModelWriter model(std::string(kModelKind), kFileVersion);
  put_core(model, *impl_, writer.data, impl_->options);
  if (impl_->options.keep_vectors) {
    model.put("vectors",
              std::string(reinterpret_cast<const char*>(impl_->kept.data()), impl_->kept.size() * sizeof(float)));
  }
  if (impl_->reducer) {
    const DistanceGraph& graph = impl_->hubness_graph;
    model.put("hubness_method", std::string(to_string(impl_->reduction.method)));
    model.put("hubness_k_local", impl_->reduction.k_local);
    model.put("hubness_lc_gamma", impl_->reduction.lc_gamma);
    model.put("hubness_candidates", graph.k());
    model.put("hubness_ids", std::vector<std::int64_t>(graph.ids.data(), graph.ids.data() + graph.ids.size()));
    model.put("hubness_distances",
              std::vector<double>(graph.distances.data(), graph.distances.data() + graph.distances.size()));
  }
  model.save(path);
}

namespace {

// The hubness statistics saved with the index, refitted (`impl` otherwise loaded).
void load_hubness(std::string_view function, const ModelReader& model, FaissIndex::Impl& impl) {
  if (!model.has("hubness_method")) return;
  auto bad = [&](const std::string& problem) { bad_file(function, model, problem); };
  try {
    impl.reduction.method = parse_reduction(model.get_string("hubness_method"));
  } catch (const InvalidArgument&) {
    bad("unknown hubness method");
  }
  impl.reduction.k_local = model.get_int("hubness_k_local");
  impl.reduction.lc_gamma = model.get_double("hubness_lc_gamma");
  const std::int64_t candidates = model.get_int("hubness_candidates");
  const std::vector<std::int64_t> ids = model.get_ints("hubness_ids");
  const std::vector<double> distances = model.get_doubles("hubness_distances");
  const auto n = static_cast<std::int64_t>(impl.ids.size());
  if (candidates < 1 || ids.size() != static_cast<std::size_t>(n * candidates) || distances.size() != ids.size())
    bad("hubness statistics have the wrong size");
  DistanceGraph& graph = impl.hubness_graph;
  graph.metric = impl.metric;
  graph.self_excluded = true;
  graph.ids = Eigen::Map<const IdMatrix>(ids.data(), n, candidates);
  graph.distances = Eigen::Map<const RowMatrixd>(distances.data(), n, candidates);
  try {
    refit_hubness(impl);
  } catch (const Error& e) {
    bad(std::string("hubness statistics rejected: ") + e.what());
  }
}

}  // namespace

std::unique_ptr<FaissIndex::Impl> load_float(const ModelReader& model) {
  constexpr std::string_view kFunction = "FaissIndex::load";
  auto impl = std::make_unique<FaissIndex::Impl>();
  const std::string bytes = get_core(kFunction, model, false, *impl, impl->options);
  faiss::VectorIOReader reader;
  reader.data.assign(bytes.begin(), bytes.end());
  impl->index.reset(call_faiss(kFunction, [&] { return faiss::read_index(&reader); }));
  if (impl->index->metric_type != faiss_metric(impl->metric))
    bad_file(kFunction, model, "FAISS metric does not match '" + model.get_string("metric") + "'");
  check_loaded(kFunction, model, *impl, impl->index->d, impl->index->ntotal);
  impl->native_ids = find_ivf(impl->index.get()) != nullptr;
  if (impl->options.keep_vectors) {
    const std::string vectors = model.get_string("vectors");
    if (vectors.size() != impl->ids.size() * static_cast<std::size_t>(impl->dim) * sizeof(float))
      bad_file(kFunction, model, "vectors have the wrong size");
    impl->kept.resize(impl->ids.size() * static_cast<std::size_t>(impl->dim));
    std::memcpy(impl->kept.data(), vectors.data(), vectors.size());
  }
  load_hubness(kFunction, model, *impl);
  return impl;
}

FaissIndex FaissIndex::load(const std::string& path) {
  return FaissIndex(load_float(ModelReader(path, kModelKind, kFileVersion)));
}

}  // namespace latent::index
