// What the float and the binary FAISS adapters share: the per-call thread scope,
// FAISS-exception translation, the id map (add, label, remove), range results,
// metadata, the parameter scope's locking, and the index file's common fields.
//
// Numerical policy: FAISS's -1 labels become id -1 with score NaN, sorted last;
// cosine scores are clamped to [-1, 1], FAISS's squared L2 is clamped at 0 and
// square-rooted for `l2` (Hamming counts pass through unchanged).
#include <dlfcn.h>
#include <faiss/impl/FaissException.h>
#include <omp.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <new>
#include <numeric>
#include <unordered_set>

#include "faiss_detail.hpp"
#include "latent/embedding/quantization.hpp"

namespace latent::index {

std::string faiss_version() {
  return std::to_string(FAISS_VERSION_MAJOR) + "." + std::to_string(FAISS_VERSION_MINOR) + "." +
         std::to_string(FAISS_VERSION_PATCH);
}

// ---------------------------------------------------------------- threads, errors

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

float to_metric_units(float faiss_score, Metric metric) {
  switch (metric) {
    case Metric::cosine:
      return std::clamp(faiss_score, -1.0f, 1.0f);
    case Metric::angular:
      return static_cast<float>(angular_from_cosine(faiss_score));
    case Metric::ip:
      return faiss_score;
    case Metric::l2:
      return std::sqrt(std::max(faiss_score, 0.0f));
    default:
      return std::max(faiss_score, 0.0f);
  }
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

void SearchScope::lock(const IndexCore& core, int ef_search, std::size_t nprobe) {
  if (ef_field_ == nullptr && nprobe_field_ == nullptr) {
    shared_ = std::shared_lock<std::shared_mutex>(core.search_mutex);
    return;
  }
  exclusive_ = std::unique_lock<std::shared_mutex>(core.search_mutex);
  if (ef_field_ != nullptr) {
    saved_ef_ = *ef_field_;
    *ef_field_ = ef_search;
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

// ---------------------------------------------------------------- checks

bool is_binary_factory(const std::string& factory) { return !factory.empty() && factory[0] == 'B'; }

void check_options(std::string_view function, const IndexSearchOptions& options) {
  if (options.nprobe < 0 || options.ef_search < 0 || options.candidates < 0) {
    raise<InvalidArgument>(function, "options", "nprobe, ef_search and candidates must be >= 0",
                           "nprobe=" + std::to_string(options.nprobe) +
                               ", ef_search=" + std::to_string(options.ef_search) +
                               ", candidates=" + std::to_string(options.candidates));
  }
}

void check_construction(std::string_view function, std::int64_t dim, int ef_construction) {
  if (dim < 1 || dim > std::numeric_limits<int>::max()) {
    raise<InvalidArgument>(function, "dim", "must be >= 1", "dim=" + std::to_string(dim));
  }
  if (ef_construction < 0) {
    raise<InvalidArgument>(function, "options.ef_construction", "must be >= 0", std::to_string(ef_construction));
  }
}

void check_new_rows(std::string_view function, const IndexCore& core, const std::vector<std::int64_t>& ids,
                    std::int64_t rows, bool trained) {
  if (static_cast<std::int64_t>(ids.size()) != rows) {
    raise<DimensionMismatch>(function, "ids", "must have one id per row",
                             "ids=" + std::to_string(ids.size()) + ", rows=" + std::to_string(rows));
  }
  if (!trained) raise<NotFitted>(function, "index", "'" + core.factory + "' must be trained before add");
  std::unordered_set<std::int64_t> seen;
  seen.reserve(ids.size());
  for (const std::int64_t id : ids) {
    if (id < 0 || core.rows.count(id) != 0 || !seen.insert(id).second) {
      raise<InvalidArgument>(function, "ids", id < 0 ? "has a negative id" : "repeats an id already present",
                             "id=" + std::to_string(id));
    }
  }
}

// ---------------------------------------------------------------- the id map

std::int64_t IndexCore::row_of(std::int64_t id) const {
  const auto found = rows.find(id);
  return found == rows.end() ? -1 : found->second;
}

std::int64_t IndexCore::row_of_label(std::int64_t label) const {
  if (label < 0) return -1;
  if (!native_ids) return label < ntotal() ? label : -1;
  return row_of(label);
}

const float* IndexCore::attached_rows() const {
  if (attached.data != nullptr && attached.rows == ntotal() && attached.row_stride == dim) return attached.data;
  return nullptr;
}

void record_ids(IndexCore& core, const std::vector<std::int64_t>& ids) {
  core.rows_changed();
  for (const std::int64_t id : ids) {
    core.rows.emplace(id, static_cast<std::int64_t>(core.ids.size()));
    core.ids.push_back(id);
    core.next_id = std::max(core.next_id, id + 1);
  }
}

std::vector<std::int64_t> next_ids(const IndexCore& core, std::int64_t rows) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(std::max<std::int64_t>(rows, 0)));
  std::iota(ids.begin(), ids.end(), core.next_id);
  return ids;
}

void label_graph(const IndexCore& core, KnnGraph& graph) {
  for (std::int64_t i = 0; i < graph.n_queries(); ++i) {
    for (std::int64_t j = 0; j < graph.k(); ++j) {
      std::int64_t& id = graph.ids(i, j);
      const std::int64_t row = core.row_of_label(id);
      if (row < 0) {
        id = -1;
        graph.scores(i, j) = std::numeric_limits<float>::quiet_NaN();
      } else {
        id = core.ids[static_cast<std::size_t>(row)];
        graph.scores(i, j) = to_metric_units(graph.scores(i, j), core.metric);
      }
    }
  }
}

RangeResult range_result(const IndexCore& core, const faiss::RangeSearchResult& result, std::int64_t queries) {
  RangeResult out;
  out.offsets.assign(static_cast<std::size_t>(queries + 1), 0);
  for (std::int64_t i = 0; i < queries; ++i) {
    KnnGraph row;  // one query's hits, sorted like a knn row
    row.metric = core.metric;
    const auto begin = static_cast<std::int64_t>(result.lims[i]), end = static_cast<std::int64_t>(result.lims[i + 1]);
    row.ids.resize(1, end - begin);
    row.scores.resize(1, end - begin);
    std::int64_t count = 0;
    for (std::int64_t h = begin; h < end; ++h) {
      const std::int64_t r = core.row_of_label(result.labels[h]);
      if (r < 0) continue;
      row.ids(0, count) = core.ids[static_cast<std::size_t>(r)];
      row.scores(0, count) = to_metric_units(result.distances[h], core.metric);
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

Removal plan_removal(const IndexCore& core, const std::vector<std::int64_t>& ids) {
  Removal removal;
  removal.removed_row.assign(core.ids.size(), 0);
  for (const std::int64_t id : ids) {
    const std::int64_t row = core.row_of(id);
    if (row < 0 || removal.removed_row[static_cast<std::size_t>(row)] != 0) continue;
    removal.removed_row[static_cast<std::size_t>(row)] = 1;
    removal.labels.push_back(core.native_ids ? id : row);
  }
  return removal;
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

KnnGraph rescore_candidates(const IndexCore& core, const MatrixView<float>& queries, const float* vectors,
                            const KnnGraph& graph, Metric metric, const Parallel& parallel) {
  // Candidates as rows of the float matrix, re-scored exactly, then ids again.
  IdMatrix candidate_rows = graph.ids;
  for (Eigen::Index i = 0; i < candidate_rows.size(); ++i) {
    std::int64_t& id = candidate_rows.data()[i];
    if (id >= 0) id = core.rows.at(id);
  }
  KnnGraph rescored = latent::rescore(queries, MatrixView<float>(vectors, core.ntotal(), core.dim), candidate_rows,
                                      graph.k(), metric, parallel);
  for (Eigen::Index i = 0; i < rescored.ids.size(); ++i) {
    std::int64_t& row = rescored.ids.data()[i];
    if (row >= 0) row = core.ids[static_cast<std::size_t>(row)];
  }
  sort_rows(rescored);  // ties to the smaller id, not the smaller row
  return rescored;
}

// ---------------------------------------------------------------- vectors, metadata

void attach_rows(std::string_view function, IndexCore& core, const MatrixView<float>& vectors) {
  require_same_dim(function, "vectors", vectors.cols, "index", core.dim);
  if (vectors.rows != core.ntotal()) {
    raise<DimensionMismatch>(function, "vectors", "must have one row per indexed row",
                             "rows=" + std::to_string(vectors.rows) + ", ntotal=" + std::to_string(core.ntotal()));
  }
  if (vectors.row_stride != vectors.cols) {
    raise<InvalidArgument>(function, "vectors", "must be contiguous (row_stride == cols)",
                           "row_stride=" + std::to_string(vectors.row_stride));
  }
  core.attached = vectors;
}

void set_metadata(std::string_view function, IndexCore& core, const std::string& key, const std::string& value) {
  const bool key_ok = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
  });
  if (!key_ok) raise<InvalidArgument>(function, "key", "must be letters, digits, '_', '.' or '-'", "'" + key + "'");
  if (value.find('\n') != std::string::npos) raise<InvalidArgument>(function, "value", "must not hold a newline");
  for (auto& entry : core.metadata) {
    if (entry.first == key) {
      entry.second = value;
      return;
    }
  }
  core.metadata.emplace_back(key, value);
}

std::string get_metadata(const IndexCore& core, const std::string& key) {
  for (const auto& entry : core.metadata)
    if (entry.first == key) return entry.second;
  return {};
}

// ---------------------------------------------------------------- the index file

void put_core(ModelWriter& model, const IndexCore& core, const std::vector<std::uint8_t>& faiss_bytes,
              const IndexOptions& options) {
  model.put("factory", core.factory);
  model.put("metric", std::string(to_string(core.metric)));
  model.put("dim", core.dim);
  model.put("zero_norm", static_cast<std::int64_t>(options.zero_norm == ZeroNormPolicy::raise ? 0 : 1));
  model.put("ef_construction", static_cast<std::int64_t>(options.ef_construction));
  model.put("next_id", core.next_id);
  model.put("ids", core.ids);
  model.put("faiss", std::string(faiss_bytes.begin(), faiss_bytes.end()));
  model.put("keep_vectors", static_cast<std::int64_t>(options.keep_vectors ? 1 : 0));
  std::string metadata;  // "key=value" lines
  for (const auto& entry : core.metadata) metadata += entry.first + "=" + entry.second + "\n";
  model.put("metadata", metadata);
}

void bad_file(std::string_view function, const ModelReader& model, const std::string& problem) {
  raise<IoError>(function, model.path(), "is inconsistent: " + problem);
}

std::string get_core(std::string_view function, const ModelReader& model, bool binary, IndexCore& core,
                     IndexOptions& options) {
  core.factory = model.get_string("factory");
  if (is_binary_factory(core.factory) != binary) {
    raise<IoError>(function, model.path(),
                   binary ? "holds a float index, not a binary one: load it with FaissIndex::load"
                          : "holds a binary index, not a float one: load it with FaissBinaryIndex::load",
                   "factory '" + core.factory + "'");
  }
  try {
    core.metric = parse_metric(model.get_string("metric"));
  } catch (const InvalidArgument&) {
    bad_file(function, model, "unknown metric");
  }
  core.dim = model.get_int("dim");
  options.zero_norm = model.get_int("zero_norm") == 0 ? ZeroNormPolicy::raise : ZeroNormPolicy::zero;
  options.ef_construction = static_cast<int>(model.get_int("ef_construction"));
  options.keep_vectors = model.get_int("keep_vectors") != 0;
  core.next_id = model.get_int("next_id");
  if (model.has("metadata")) {
    const std::string metadata = model.get_string("metadata");
    std::size_t begin = 0;
    while (begin < metadata.size()) {
      const std::size_t end = metadata.find('\n', begin);
      const std::size_t equals = metadata.find('=', begin);
      if (end == std::string::npos || equals == std::string::npos || equals > end)
        bad_file(function, model, "malformed metadata");
      core.metadata.emplace_back(metadata.substr(begin, equals - begin), metadata.substr(equals + 1, end - equals - 1));
      begin = end + 1;
    }
  }
  core.ids = model.get_ints("ids");
  return model.get_string("faiss");
}

void check_loaded(std::string_view function, const ModelReader& model, IndexCore& core, std::int64_t faiss_dim,
                  std::int64_t faiss_ntotal) {
  if (faiss_dim != core.dim)
    bad_file(function, model, "FAISS dim " + std::to_string(faiss_dim) + " != " + std::to_string(core.dim));
  if (faiss_ntotal != core.ntotal()) bad_file(function, model, "FAISS ntotal != id map size");
  for (std::size_t row = 0; row < core.ids.size(); ++row) {
    const std::int64_t id = core.ids[row];
    if (id < 0 || id >= core.next_id || !core.rows.emplace(id, static_cast<std::int64_t>(row)).second)
      bad_file(function, model, "bad or repeated id " + std::to_string(id));
  }
}

std::variant<FaissIndex, FaissBinaryIndex> load_any_faiss_index(const std::string& path) {
  const ModelReader model(path, kModelKind, kFileVersion);
  if (is_binary_factory(model.get_string("factory"))) return FaissBinaryIndex(load_binary(model));
  return FaissIndex(load_float(model));
}

}  // namespace latent::index
