// The FAISS adapter: construction, train/add/search/range search/remove,
// reconstruct, save/load. FAISS headers are included in src/index/ only.
//
// Numerical policy: cosine rows are normalised in double before FAISS sees them
// and cosine scores are clamped to [-1, 1] (rounding of a unit-norm inner
// product can exceed 1); FAISS's squared L2 is clamped at 0 and square-rooted
// for `l2`. FAISS's -1 labels become id -1 with score NaN, sorted last.
#include "latent/index/faiss_index.hpp"

#include <dlfcn.h>
#include <faiss/IndexBinaryHNSW.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <omp.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <numeric>
#include <shared_mutex>
#include <unordered_set>

#include "../core/row_norms.hpp"
#include "faiss_detail.hpp"
#include "latent/core/io.hpp"

namespace latent::index {

std::string faiss_version() {
  return std::to_string(FAISS_VERSION_MAJOR) + "." + std::to_string(FAISS_VERSION_MINOR) + "." +
         std::to_string(FAISS_VERSION_PATCH);
}

// ---------------------------------------------------------------- plumbing

namespace {

// OpenBLAS's thread setter, when the process has OpenBLAS (FAISS links it).
using BlasSetThreads = void (*)(int);
using BlasGetThreads = int (*)();
struct BlasThreads {
  BlasSetThreads set = nullptr;
  BlasGetThreads get = nullptr;
  std::mutex mutex;
  int active_calls = 0;
  int saved = 0;
};
BlasThreads& blas_threads() {
  static BlasThreads* blas = [] {
    auto* b = new BlasThreads;  // never destroyed: used until exit
    b->set = reinterpret_cast<BlasSetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    b->get = reinterpret_cast<BlasGetThreads>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    if (b->set == nullptr || b->get == nullptr) b->set = nullptr;
    return b;
  }();
  return *blas;
}

}  // namespace

ThreadScope::ThreadScope(const Parallel& parallel)
    : threads_(resolve_threads(parallel)), saved_omp_(omp_get_max_threads()) {
  omp_set_num_threads(threads_);
  BlasThreads& blas = blas_threads();
  if (blas.set == nullptr) return;
  const std::lock_guard<std::mutex> lock(blas.mutex);
  // The first concurrent call saves the caller's count; the others share it.
  if (blas.active_calls++ == 0) {
    blas.saved = blas.get();
    blas.set(threads_);
  }
}

ThreadScope::~ThreadScope() {
  omp_set_num_threads(saved_omp_);
  BlasThreads& blas = blas_threads();
  if (blas.set == nullptr) return;
  const std::lock_guard<std::mutex> lock(blas.mutex);
  if (--blas.active_calls == 0) blas.set(blas.saved);
}

void rethrow_backend(std::string_view function) {
  const std::string prefix = "latent::index::" + std::string(function) + ": FAISS: ";
  try {
    throw;
  } catch (const faiss::FaissException& e) {
    throw BackendError(prefix + e.what());
  } catch (const std::bad_alloc&) {
    throw BackendError(prefix + "out of memory");
  } catch (const std::exception& e) {
    throw BackendError(prefix + e.what());
  } catch (...) {
    throw BackendError(prefix + "unknown exception");
  }
}

std::vector<float> prepare_rows(std::string_view function, std::string_view argument, const MatrixView<float>& x,
                                Metric metric, ZeroNormPolicy zero_norm) {
  std::vector<float> out;
  if (metric != Metric::cosine && x.row_stride == x.cols) return out;
  out.resize(static_cast<std::size_t>(x.rows * x.cols));
  for (std::int64_t i = 0; i < x.rows; ++i) std::copy(x.row(i), x.row(i) + x.cols, out.data() + i * x.cols);
  if (metric == Metric::cosine) {
    latent::detail::normalize_rows(out.data(), x.rows, x.cols, x.cols, zero_norm, function, argument, Parallel{1});
  }
  return out;
}

double exact_score(const float* q, const float* v, std::int64_t dim, Metric metric) {
  double dot = 0, qq = 0, vv = 0, diff = 0;
  for (std::int64_t j = 0; j < dim; ++j) {
    const double a = q[j], b = v[j];
    dot += a * b;
    qq += a * a;
    vv += b * b;
    diff += (a - b) * (a - b);
  }
  switch (metric) {
    case Metric::cosine:
      if (qq == 0 || vv == 0) return 0;  // ZeroNormPolicy::zero (raise stops earlier)
      return std::clamp(dot / std::sqrt(qq * vv), -1.0, 1.0);
    case Metric::ip:
      return dot;
    case Metric::l2:
      return std::sqrt(diff);
    default:
      return diff;
  }
}

void sort_rows(KnnGraph& graph) {
  const bool larger_nearer = is_similarity(graph.metric);
  const std::int64_t k = graph.k();
  std::vector<std::int64_t> order(static_cast<std::size_t>(k));
  std::vector<std::int64_t> ids(order.size());
  std::vector<float> scores(order.size());
  for (std::int64_t i = 0; i < graph.n_queries(); ++i) {
    std::iota(order.begin(), order.end(), 0);
    auto* row_ids = graph.ids.row(i).data();
    auto* row_scores = graph.scores.row(i).data();
    std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      const bool missing_a = row_ids[a] < 0, missing_b = row_ids[b] < 0;
      if (missing_a != missing_b) return missing_b;
      if (missing_a) return a < b;
      if (row_scores[a] != row_scores[b])
        return larger_nearer ? row_scores[a] > row_scores[b] : row_scores[a] < row_scores[b];
      return row_ids[a] < row_ids[b];
    });
    for (std::int64_t j = 0; j < k; ++j) {
      ids[j] = row_ids[order[j]];
      scores[j] = row_scores[order[j]];
    }
    std::copy(ids.begin(), ids.end(), row_ids);
    std::copy(scores.begin(), scores.end(), row_scores);
  }
}

const float* FaissIndex::Impl::vector_rows() const {
  const auto n = static_cast<std::int64_t>(ids.size());
  if (options.keep_vectors) return kept.data();
  if (attached.data != nullptr && attached.rows == n && attached.row_stride == dim) return attached.data;
  return nullptr;
}

std::int64_t FaissIndex::Impl::row_of_label(std::int64_t label) const {
  if (label < 0) return -1;
  if (!native_ids) return label < static_cast<std::int64_t>(ids.size()) ? label : -1;
  const auto found = rows.find(label);
  return found == rows.end() ? -1 : found->second;
}

void FaissIndex::Impl::rows_changed() {
  reducer.reset();
  hubness_graph = DistanceGraph{};
  attached = MatrixView<float>{};
}

namespace {

faiss::MetricType faiss_metric(Metric metric) {
  return metric == Metric::cosine || metric == Metric::ip ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2;
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
constexpr bool kHnswHonoursParams =
    FAISS_VERSION_MAJOR > 1 || (FAISS_VERSION_MAJOR == 1 && FAISS_VERSION_MINOR > 7) ||
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


float to_metric_units(float faiss_score, Metric metric) {
  switch (metric) {
    case Metric::cosine:
      return std::clamp(faiss_score, -1.0f, 1.0f);
    case Metric::ip:
      return faiss_score;
    case Metric::l2:
      return std::sqrt(std::max(faiss_score, 0.0f));
    default:
      return std::max(faiss_score, 0.0f);
  }
}

void check_rows(std::string_view function, std::string_view argument, const MatrixView<float>& x, std::int64_t dim,
                bool validate_finite) {
  require_non_empty(function, argument, x);
  require_same_dim(function, argument, x.cols, "index", dim);
  if (validate_finite) require_finite(function, argument, x);
}

constexpr std::uint32_t kFileVersion = 1;

bool is_binary_factory(const std::string& factory) { return !factory.empty() && factory[0] == 'B'; }

}  // namespace

SearchScope::SearchScope(const FaissIndex::Impl& impl, const IndexSearchOptions& options) {
  std::size_t nprobe = 0;
  if (impl.binary) {
    // FAISS 1.7.3's binary indexes take no SearchParameters: both fields are set.
    if (auto* ivf = dynamic_cast<faiss::IndexBinaryIVF*>(impl.binary.get()); ivf && options.nprobe > 0) {
      nprobe_field_ = &ivf->nprobe;
      nprobe = static_cast<std::size_t>(std::min<std::int64_t>(options.nprobe, ivf->nlist));
    }
    if (auto* hnsw = dynamic_cast<faiss::IndexBinaryHNSW*>(impl.binary.get()); hnsw && options.ef_search > 0) {
      ef_field_ = &hnsw->hnsw.efSearch;
    }
  } else {
    params_ = make_params(impl.index.get(), options, owned_);
    faiss::IndexHNSW* hnsw = kHnswHonoursParams ? nullptr : find_hnsw(impl.index.get());
    if (hnsw != nullptr && options.ef_search > 0) ef_field_ = &hnsw->hnsw.efSearch;
  }
  if (ef_field_ == nullptr && nprobe_field_ == nullptr) {
    shared_ = std::shared_lock<std::shared_mutex>(impl.search_mutex);
    return;
  }
  exclusive_ = std::unique_lock<std::shared_mutex>(impl.search_mutex);
  if (ef_field_ != nullptr) {
    saved_ef_ = *ef_field_;
    *ef_field_ = options.ef_search;
  }
  if (nprobe_field_ != nullptr) {
    saved_nprobe_ = *nprobe_field_;
    *nprobe_field_ = nprobe;
  }
}

SearchScope::~SearchScope() {
  if (ef_field_ != nullptr) *ef_field_ = saved_ef_;
  if (nprobe_field_ != nullptr) *nprobe_field_ = saved_nprobe_;
}

void check_options(std::string_view function, const IndexSearchOptions& options) {
  if (options.nprobe < 0 || options.ef_search < 0 || options.candidates < 0) {
    raise<InvalidArgument>(function, "options", "nprobe, ef_search and candidates must be >= 0",
                           "nprobe=" + std::to_string(options.nprobe) + ", ef_search=" +
                               std::to_string(options.ef_search) + ", candidates=" +
                               std::to_string(options.candidates));
  }
}

void require_kind(std::string_view function, const FaissIndex::Impl& impl, bool codes_call) {
  if (codes_call && !impl.binary) {
    raise<InvalidArgument>(function, "codes", "packed codes are for binary indexes (BFlat, BHNSW, BIVF)",
                           "'" + impl.factory + "' takes float rows");
  }
  if (!codes_call && impl.binary) {
    raise<InvalidArgument>(function, "x", "a binary index takes packed codes (MatrixView<std::uint8_t>)",
                           "'" + impl.factory + "': encode the rows with Quantizer(binary) first");
  }
}

void check_new_rows(std::string_view function, const FaissIndex::Impl& impl, const std::vector<std::int64_t>& ids,
                    std::int64_t rows, bool trained) {
  if (static_cast<std::int64_t>(ids.size()) != rows) {
    raise<DimensionMismatch>(function, "ids", "must have one id per row",
                             "ids=" + std::to_string(ids.size()) + ", rows=" + std::to_string(rows));
  }
  if (!trained) raise<NotFitted>(function, "index", "'" + impl.factory + "' must be trained before add");
  std::unordered_set<std::int64_t> seen;
  seen.reserve(ids.size());
  for (const std::int64_t id : ids) {
    if (id < 0 || impl.rows.count(id) != 0 || !seen.insert(id).second) {
      raise<InvalidArgument>(function, "ids", id < 0 ? "has a negative id" : "repeats an id already present",
                             "id=" + std::to_string(id));
    }
  }
}

void record_ids(FaissIndex::Impl& impl, const std::vector<std::int64_t>& ids) {
  impl.rows_changed();
  for (const std::int64_t id : ids) {
    impl.rows.emplace(id, static_cast<std::int64_t>(impl.ids.size()));
    impl.ids.push_back(id);
    impl.next_id = std::max(impl.next_id, id + 1);
  }
}

void label_graph(const FaissIndex::Impl& impl, KnnGraph& graph) {
  for (std::int64_t i = 0; i < graph.n_queries(); ++i) {
    for (std::int64_t j = 0; j < graph.k(); ++j) {
      std::int64_t& id = graph.ids(i, j);
      const std::int64_t row = impl.row_of_label(id);
      if (row < 0) {
        id = -1;
        graph.scores(i, j) = std::numeric_limits<float>::quiet_NaN();
      } else {
        id = impl.ids[static_cast<std::size_t>(row)];
        graph.scores(i, j) = to_metric_units(graph.scores(i, j), impl.metric);
      }
    }
  }
}

RangeResult range_result(const FaissIndex::Impl& impl, const faiss::RangeSearchResult& result, std::int64_t queries) {
  RangeResult out;
  out.offsets.assign(static_cast<std::size_t>(queries + 1), 0);
  for (std::int64_t i = 0; i < queries; ++i) {
    KnnGraph row;  // one query's hits, sorted like a knn row
    row.metric = impl.metric;
    const auto begin = static_cast<std::int64_t>(result.lims[i]), end = static_cast<std::int64_t>(result.lims[i + 1]);
    row.ids.resize(1, end - begin);
    row.scores.resize(1, end - begin);
    std::int64_t count = 0;
    for (std::int64_t h = begin; h < end; ++h) {
      const std::int64_t r = impl.row_of_label(result.labels[h]);
      if (r < 0) continue;
      row.ids(0, count) = impl.ids[static_cast<std::size_t>(r)];
      row.scores(0, count) = to_metric_units(result.distances[h], impl.metric);
      ++count;
    }
    row.ids.conservativeResize(1, count);
    row.scores.conservativeResize(1, count);
    sort_rows(row);
    out.ids.insert(out.ids.end(), row.ids.data(), row.ids.data() + count);
    out.scores.insert(out.scores.end(), row.scores.data(), row.scores.data() + count);
    out.offsets[static_cast<std::size_t>(i + 1)] = static_cast<std::int64_t>(out.ids.size());
  }
  return out;
}

// ---------------------------------------------------------------- lifetime

FaissIndex::FaissIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FaissIndex::FaissIndex(std::int64_t dim, const std::string& factory, Metric metric, const IndexOptions& options)
    : impl_(std::make_unique<Impl>()) {
  constexpr std::string_view kFunction = "FaissIndex";
  if (dim < 1 || dim > std::numeric_limits<int>::max()) {
    raise<InvalidArgument>(kFunction, "dim", "must be >= 1", "dim=" + std::to_string(dim));
  }
  const bool binary = is_binary_factory(factory);
  if (binary && metric != Metric::l1) {
    raise<InvalidArgument>(kFunction, "metric",
                           "binary indexes compare codes by Hamming distance: the metric must be l1",
                           "factory '" + factory + "', metric=" + std::string(to_string(metric)));
  }
  if (!binary && (metric == Metric::l1 || metric == Metric::linf)) {
    raise<InvalidArgument>(kFunction, "metric", "FAISS indexes support cosine, ip, l2 and sqeuclidean",
                           "metric=" + std::string(to_string(metric)));
  }
  if (binary && dim % 8 != 0) {
    raise<InvalidArgument>(kFunction, "dim", "a binary index's dim is its bits: a multiple of 8",
                           "dim=" + std::to_string(dim));
  }
  if (binary && options.keep_vectors) {
    raise<InvalidArgument>(kFunction, "options.keep_vectors", "binary indexes take codes, not float rows",
                           "lend the float rows with attach_vectors for search_rescored");
  }
  if (options.ef_construction < 0) {
    raise<InvalidArgument>(kFunction, "options.ef_construction", "must be >= 0",
                           std::to_string(options.ef_construction));
  }
  impl_->dim = dim;
  impl_->factory = factory;
  impl_->metric = metric;
  impl_->options = options;
  if (binary) {
    impl_->binary.reset(call_faiss(kFunction, [&] {
      return faiss::index_binary_factory(static_cast<int>(dim), factory.c_str());
    }));
    if (auto* hnsw = dynamic_cast<faiss::IndexBinaryHNSW*>(impl_->binary.get()); hnsw && options.ef_construction > 0) {
      hnsw->hnsw.efConstruction = options.ef_construction;
    }
    impl_->native_ids = dynamic_cast<faiss::IndexBinaryIVF*>(impl_->binary.get()) != nullptr;
    return;
  }
  impl_->index.reset(call_faiss(kFunction, [&] {
    return faiss::index_factory(static_cast<int>(dim), factory.c_str(), faiss_metric(metric));
  }));
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
std::int64_t FaissIndex::ntotal() const { return static_cast<std::int64_t>(impl_->ids.size()); }
Metric FaissIndex::metric() const { return impl_->metric; }
const std::string& FaissIndex::factory() const { return impl_->factory; }
bool FaissIndex::is_trained() const { return impl_->binary ? impl_->binary->is_trained : impl_->index->is_trained; }
bool FaissIndex::is_binary() const { return impl_->binary != nullptr; }
const IndexOptions& FaissIndex::options() const { return impl_->options; }
std::int64_t FaissIndex::next_id() const { return impl_->next_id; }
const std::vector<std::int64_t>& FaissIndex::ids() const { return impl_->ids; }
std::int64_t FaissIndex::row_of(std::int64_t id) const {
  const auto found = impl_->rows.find(id);
  return found == impl_->rows.end() ? -1 : found->second;
}
faiss::Index* FaissIndex::native() { return impl_->index.get(); }
const faiss::Index* FaissIndex::native() const { return impl_->index.get(); }
faiss::IndexBinary* FaissIndex::native_binary() { return impl_->binary.get(); }
const faiss::IndexBinary* FaissIndex::native_binary() const { return impl_->binary.get(); }
bool FaissIndex::hubness_fitted() const { return impl_->reducer != nullptr; }
bool FaissIndex::has_vectors() const { return impl_->vector_rows() != nullptr; }

// ---------------------------------------------------------------- build

void FaissIndex::train(const MatrixView<float>& x, const Parallel& parallel) {
  constexpr std::string_view kFunction = "FaissIndex::train";
  require_kind(kFunction, *impl_, false);
  check_rows(kFunction, "x", x, impl_->dim, true);
  const std::vector<float> rows = prepare_rows(kFunction, "x", x, impl_->metric, impl_->options.zero_norm);
  const ThreadScope threads(parallel);
  call_faiss(kFunction, [&] { impl_->index->train(x.rows, rows.empty() ? x.data : rows.data()); });
}

void FaissIndex::add(const MatrixView<float>& x, const Parallel& parallel) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(std::max<std::int64_t>(x.rows, 0)));
  std::iota(ids.begin(), ids.end(), impl_->next_id);
  add_with_ids(x, ids, parallel);
}

void FaissIndex::add_with_ids(const MatrixView<float>& x, const std::vector<std::int64_t>& ids,
                              const Parallel& parallel) {
  constexpr std::string_view kFunction = "FaissIndex::add";
  require_kind(kFunction, *impl_, false);
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
    call_faiss(kFunction, [&] {
      impl.index->search(queries.rows, data, fetch, graph.scores.data(), graph.ids.data(), params);
    });
  }
  label_graph(impl, graph);
  return graph;
}

KnnGraph FaissIndex::search(const MatrixView<float>& queries, std::int64_t k, const IndexSearchOptions& options) const {
  constexpr std::string_view kFunction = "FaissIndex::search";
  require_kind(kFunction, *impl_, false);
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
  require_kind(kFunction, *impl_, false);
  check_options(kFunction, options);
  check_rows(kFunction, "queries", queries, impl_->dim, options.validate_finite);
  if (!std::isfinite(radius)) raise<NonFiniteValue>(kFunction, "radius", "must be finite", std::to_string(radius));
  const Metric metric = impl_->metric;
  if ((metric == Metric::l2 || metric == Metric::sqeuclidean) && radius < 0) {
    raise<InvalidArgument>(kFunction, "radius", "must be >= 0 for a distance", std::to_string(radius));
  }
  const float faiss_radius = metric == Metric::l2 ? radius * radius : radius;
  const std::vector<float> rows =
      prepare_rows(kFunction, "queries", queries, metric, impl_->options.zero_norm);
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
  std::vector<FaissId> labels;
  std::vector<char> removed_row(impl_->ids.size(), 0);
  for (const std::int64_t id : ids) {
    const std::int64_t row = row_of(id);
    if (row < 0 || removed_row[static_cast<std::size_t>(row)] != 0) continue;
    removed_row[static_cast<std::size_t>(row)] = 1;
    labels.push_back(impl_->native_ids ? id : row);
  }
  if (labels.empty()) return 0;
  // An IVF direct map made a hashtable by reconstruct() removes only through an
  // IDSelectorArray (FAISS refuses the batch selector); the batch selector's
  // hashed membership test is faster for the other indexes.
  const faiss::DirectMap* direct_map = nullptr;
  if (const faiss::IndexIVF* ivf = find_ivf(impl_->index.get())) direct_map = &ivf->direct_map;
  if (const auto* ivf = dynamic_cast<const faiss::IndexBinaryIVF*>(impl_->binary.get())) direct_map = &ivf->direct_map;
  const bool hashed = direct_map != nullptr && direct_map->type == faiss::DirectMap::Hashtable;
  const faiss::IDSelectorArray array(labels.size(), labels.data());
  const faiss::IDSelectorBatch batch(labels.size(), labels.data());
  const faiss::IDSelector& selector = hashed ? static_cast<const faiss::IDSelector&>(array) : batch;
  const std::size_t removed = call_faiss(kFunction, [&] {
    return impl_->binary ? impl_->binary->remove_ids(selector) : impl_->index->remove_ids(selector);
  });
  if (removed != labels.size()) {
    throw BackendError("latent::index::FaissIndex::remove_ids: FAISS removed " + std::to_string(removed) + " of " +
                       std::to_string(labels.size()) + " rows; the index is inconsistent");
  }
  // Compact our rows in order, as FAISS compacts its own (flat codes) storage.
  std::size_t out = 0;
  const auto dim = static_cast<std::size_t>(impl_->dim);
  for (std::size_t row = 0; row < impl_->ids.size(); ++row) {
    if (removed_row[row] != 0) continue;
    impl_->ids[out] = impl_->ids[row];
    if (impl_->options.keep_vectors && out != row) {
      std::memmove(impl_->kept.data() + out * dim, impl_->kept.data() + row * dim, dim * sizeof(float));
    }
    ++out;
  }
  impl_->ids.resize(out);
  if (impl_->options.keep_vectors) impl_->kept.resize(out * dim);
  impl_->rows.clear();
  for (std::size_t row = 0; row < out; ++row) impl_->rows.emplace(impl_->ids[row], static_cast<std::int64_t>(row));
  impl_->rows_changed();
  return static_cast<std::int64_t>(labels.size());
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
  if (impl_->binary) return reconstruct_bits(*impl_, impl_->native_ids ? id : row);
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
  constexpr std::string_view kFunction = "FaissIndex::attach_vectors";
  require_same_dim(kFunction, "vectors", vectors.cols, "index", impl_->dim);
  if (vectors.rows != ntotal()) {
    raise<DimensionMismatch>(kFunction, "vectors", "must have one row per indexed row",
                             "rows=" + std::to_string(vectors.rows) + ", ntotal=" + std::to_string(ntotal()));
  }
  if (vectors.row_stride != vectors.cols) {
    raise<InvalidArgument>(kFunction, "vectors", "must be contiguous (row_stride == cols)",
                           "row_stride=" + std::to_string(vectors.row_stride));
  }
  impl_->attached = vectors;
}

// ---------------------------------------------------------------- save / load

void FaissIndex::set_metadata(const std::string& key, const std::string& value) {
  constexpr std::string_view kFunction = "FaissIndex::set_metadata";
  const bool key_ok = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
  });
  if (!key_ok) raise<InvalidArgument>(kFunction, "key", "must be letters, digits, '_', '.' or '-'", "'" + key + "'");
  if (value.find('\n') != std::string::npos) raise<InvalidArgument>(kFunction, "value", "must not hold a newline");
  for (auto& entry : impl_->metadata) {
    if (entry.first == key) {
      entry.second = value;
      return;
    }
  }
  impl_->metadata.emplace_back(key, value);
}

std::string FaissIndex::metadata(const std::string& key) const {
  for (const auto& entry : impl_->metadata)
    if (entry.first == key) return entry.second;
  return {};
}

void FaissIndex::save(const std::string& path) const {
  constexpr std::string_view kFunction = "FaissIndex::save";
  faiss::VectorIOWriter writer;
  call_faiss(kFunction, [&] {
    if (impl_->binary) {
      faiss::write_index_binary(impl_->binary.get(), &writer);
    } else {
      faiss::write_index(impl_->index.get(), &writer);
    }
  });
  ModelWriter model("faiss-index", kFileVersion);
  model.put("factory", impl_->factory);
  model.put("metric", std::string(to_string(impl_->metric)));
  model.put("dim", impl_->dim);
  model.put("zero_norm", static_cast<std::int64_t>(impl_->options.zero_norm == ZeroNormPolicy::raise ? 0 : 1));
  model.put("ef_construction", static_cast<std::int64_t>(impl_->options.ef_construction));
  model.put("next_id", impl_->next_id);
  model.put("ids", impl_->ids);
  model.put("faiss", std::string(writer.data.begin(), writer.data.end()));
  model.put("keep_vectors", static_cast<std::int64_t>(impl_->options.keep_vectors ? 1 : 0));
  std::string metadata;  // "key=value" lines
  for (const auto& entry : impl_->metadata) metadata += entry.first + "=" + entry.second + "\n";
  model.put("metadata", metadata);
  if (impl_->options.keep_vectors) {
    model.put("vectors", std::string(reinterpret_cast<const char*>(impl_->kept.data()),
                                     impl_->kept.size() * sizeof(float)));
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

FaissIndex FaissIndex::load(const std::string& path) {
  constexpr std::string_view kFunction = "FaissIndex::load";
  const ModelReader model(path, "faiss-index", kFileVersion);
  auto bad = [&](const std::string& problem) { raise<IoError>(kFunction, path, "is inconsistent: " + problem); };
  auto impl = std::make_unique<Impl>();
  impl->factory = model.get_string("factory");
  try {
    impl->metric = parse_metric(model.get_string("metric"));
  } catch (const InvalidArgument&) {
    bad("unknown metric");
  }
  impl->dim = model.get_int("dim");
  impl->options.zero_norm = model.get_int("zero_norm") == 0 ? ZeroNormPolicy::raise : ZeroNormPolicy::zero;
  impl->options.ef_construction = static_cast<int>(model.get_int("ef_construction"));
  impl->options.keep_vectors = model.get_int("keep_vectors") != 0;
  impl->next_id = model.get_int("next_id");
  if (model.has("metadata")) {
    const std::string metadata = model.get_string("metadata");
    std::size_t begin = 0;
    while (begin < metadata.size()) {
      const std::size_t end = metadata.find('\n', begin);
      const std::size_t equals = metadata.find('=', begin);
      if (end == std::string::npos || equals == std::string::npos || equals > end) bad("malformed metadata");
      impl->metadata.emplace_back(metadata.substr(begin, equals - begin), metadata.substr(equals + 1, end - equals - 1));
      begin = end + 1;
    }
  }
  impl->ids = model.get_ints("ids");
  const std::string bytes = model.get_string("faiss");
  faiss::VectorIOReader reader;
  reader.data.assign(bytes.begin(), bytes.end());
  if (is_binary_factory(impl->factory)) {
    if (impl->metric != Metric::l1) bad("a binary index's metric must be l1");
    impl->binary.reset(call_faiss(kFunction, [&] { return faiss::read_index_binary(&reader); }));
    if (impl->binary->d != impl->dim) bad("FAISS dim " + std::to_string(impl->binary->d) + " != " + std::to_string(impl->dim));
    if (impl->binary->ntotal != static_cast<FaissId>(impl->ids.size())) bad("FAISS ntotal != id map size");
    if (impl->options.keep_vectors) bad("a binary index cannot keep vectors");
    impl->native_ids = dynamic_cast<faiss::IndexBinaryIVF*>(impl->binary.get()) != nullptr;
  } else {
    impl->index.reset(call_faiss(kFunction, [&] { return faiss::read_index(&reader); }));
    if (impl->index->d != impl->dim) bad("FAISS dim " + std::to_string(impl->index->d) + " != " + std::to_string(impl->dim));
    if (impl->index->ntotal != static_cast<FaissId>(impl->ids.size())) bad("FAISS ntotal != id map size");
    if (impl->index->metric_type != faiss_metric(impl->metric)) bad("FAISS metric does not match '" + model.get_string("metric") + "'");
    impl->native_ids = find_ivf(impl->index.get()) != nullptr;
  }
  for (std::size_t row = 0; row < impl->ids.size(); ++row) {
    const std::int64_t id = impl->ids[row];
    if (id < 0 || id >= impl->next_id || !impl->rows.emplace(id, static_cast<std::int64_t>(row)).second)
      bad("bad or repeated id " + std::to_string(id));
  }
  if (impl->options.keep_vectors) {
    const std::string vectors = model.get_string("vectors");
    if (vectors.size() != impl->ids.size() * static_cast<std::size_t>(impl->dim) * sizeof(float))
      bad("vectors have the wrong size");
    impl->kept.resize(impl->ids.size() * static_cast<std::size_t>(impl->dim));
    std::memcpy(impl->kept.data(), vectors.data(), vectors.size());
  }
  if (model.has("hubness_method")) {
    try {
      impl->reduction.method = parse_reduction(model.get_string("hubness_method"));
    } catch (const InvalidArgument&) {
      bad("unknown hubness method");
    }
    impl->reduction.k_local = model.get_int("hubness_k_local");
    impl->reduction.lc_gamma = model.get_double("hubness_lc_gamma");
    const std::int64_t candidates = model.get_int("hubness_candidates");
    const std::vector<std::int64_t> ids = model.get_ints("hubness_ids");
    const std::vector<double> distances = model.get_doubles("hubness_distances");
    const auto n = static_cast<std::int64_t>(impl->ids.size());
    if (candidates < 1 || ids.size() != static_cast<std::size_t>(n * candidates) || distances.size() != ids.size())
      bad("hubness statistics have the wrong size");
    DistanceGraph& graph = impl->hubness_graph;
    graph.metric = impl->metric;
    graph.self_excluded = true;
    graph.ids = Eigen::Map<const IdMatrix>(ids.data(), n, candidates);
    graph.distances = Eigen::Map<const RowMatrixd>(distances.data(), n, candidates);
    try {
      refit_hubness(*impl);
    } catch (const Error& e) {
      bad(std::string("hubness statistics rejected: ") + e.what());
    }
  }
  return FaissIndex(std::move(impl));
}

}  // namespace latent::index
