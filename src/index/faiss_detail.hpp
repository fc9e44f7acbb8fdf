// Private parts of the FAISS adapter shared by its translation units: the two
// pimpls over one IndexCore (id map, metadata, locks), the per-call thread and
// parameter scopes, the FAISS-exception wrapper, and the pieces of add / search /
// remove / save / load that float and binary indexes share (faiss_common.cpp).
#pragma once

#include <faiss/Index.h>
#include <faiss/IndexBinary.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/invlists/DirectMap.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/hubness.hpp"
#include "latent/index/faiss_binary_index.hpp"

namespace latent::index {

/// FAISS's id type: `faiss::Index::idx_t` in 1.7.3 (Debian 12), `faiss::idx_t`
/// from 1.7.4 on. RangeSearchResult::labels has it in every version.
using FaissId = std::remove_pointer_t<decltype(faiss::RangeSearchResult::labels)>;
static_assert(sizeof(FaissId) == sizeof(std::int64_t), "latent ids are int64, FAISS's must be too");

/// What a float and a binary index share: the id map, the metadata, the lent
/// float rows, and the locks of their const methods.
struct IndexCore {
  IndexCore() = default;
  IndexCore(const IndexCore&) = delete;
  IndexCore& operator=(const IndexCore&) = delete;
  virtual ~IndexCore() = default;

  std::int64_t dim = 0;  ///< columns; bits for a binary index
  std::string factory;
  Metric metric = Metric::cosine;
  /// IVF indexes store our ids as their labels; the others label rows 0..n-1.
  bool native_ids = false;
  std::vector<std::int64_t> ids;                      ///< row -> id
  std::unordered_map<std::int64_t, std::int64_t> rows;  ///< id -> row
  std::int64_t next_id = 0;
  MatrixView<float> attached;     ///< lent rows (attach_vectors), empty otherwise
  std::vector<std::pair<std::string, std::string>> metadata;
  /// Guards the lazy creation of an IVF direct map inside const reconstruct().
  mutable std::mutex direct_map_mutex;
  /// Searches share it; a search that must change a field of the FAISS index
  /// for its duration (HNSW efSearch in FAISS 1.7.3, binary nprobe / efSearch)
  /// holds it exclusively.
  mutable std::shared_mutex search_mutex;

  std::int64_t ntotal() const { return static_cast<std::int64_t>(ids.size()); }
  /// The row of `id`, or -1.
  std::int64_t row_of(std::int64_t id) const;
  /// The row of the index for a FAISS label, or -1.
  std::int64_t row_of_label(std::int64_t label) const;
  /// The attached rows when they cover every row, else null.
  const float* attached_rows() const;
  /// Forgets what is tied to the current rows (after add / remove).
  virtual void rows_changed() { attached = MatrixView<float>{}; }
};

struct FaissIndex::Impl : IndexCore {
  IndexOptions options;
  std::unique_ptr<faiss::Index> index;
  std::vector<float> kept;        ///< [ntotal x dim] when options.keep_vectors
  // Hubness re-ranking: the fitted lists (ids are rows) and the reducer fitted on them.
  std::unique_ptr<HubnessReducer> reducer;
  ReductionOptions reduction;
  DistanceGraph hubness_graph;

  /// Float rows of the index when available (kept, or attached and complete).
  const float* vector_rows() const { return options.keep_vectors ? kept.data() : attached_rows(); }
  void rows_changed() override;
};

struct FaissBinaryIndex::Impl : IndexCore {
  BinaryIndexOptions options;
  std::unique_ptr<faiss::IndexBinary> index;
};

/// For the duration of one adapter call: the calling thread's OpenMP thread
/// count (the ICV FAISS's `omp parallel` regions read) and OpenBLAS's (pthread
/// build; looked up at run time, absent -> nothing) are set to the call's count
/// and restored afterwards, so the caller's own settings survive and FAISS's
/// OpenMP team and BLAS's pool never multiply beyond what was asked.
class ThreadScope {
 public:
  explicit ThreadScope(const Parallel& parallel);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;
  int threads() const { return threads_; }

 private:
  int threads_ = 1;
  int saved_omp_ = 1;
};

/// One search's parameters: FAISS SearchParameters where FAISS honours them
/// (float IVF nprobe; HNSW efSearch after 1.7.3); otherwise (HNSW efSearch in
/// FAISS 1.7.3, verified ignored there; binary IVF nprobe and HNSW efSearch) the
/// field is set on the index while the index's exclusive lock is held, and
/// restored. Searches that set nothing share the lock, so they run concurrently.
/// The float constructor lives in faiss_index.cpp, the binary one in faiss_binary.cpp.
class SearchScope {
 public:
  SearchScope(const FaissIndex::Impl& impl, const IndexSearchOptions& options);
  SearchScope(const FaissBinaryIndex::Impl& impl, const IndexSearchOptions& options);
  ~SearchScope();
  SearchScope(const SearchScope&) = delete;
  SearchScope& operator=(const SearchScope&) = delete;
  const faiss::SearchParameters* params() const { return params_; }

 private:
  /// Takes the lock (exclusive when a field is set) and sets the fields.
  void lock(const IndexCore& core, int ef_search, std::size_t nprobe);

  std::vector<std::unique_ptr<faiss::SearchParameters>> owned_;
  const faiss::SearchParameters* params_ = nullptr;
  std::unique_lock<std::shared_mutex> exclusive_;
  std::shared_lock<std::shared_mutex> shared_;
  int* ef_field_ = nullptr;
  int saved_ef_ = 0;
  std::size_t* nprobe_field_ = nullptr;
  std::size_t saved_nprobe_ = 0;
};

/// Rethrows what FAISS throws as BackendError ("latent::index::<function>: FAISS:
/// <FAISS's message>"); latent's own errors pass through unchanged.
[[noreturn]] void rethrow_backend(std::string_view function);

template <class F>
auto call_faiss(std::string_view function, F&& work) -> decltype(work()) {
  try {
    return work();
  } catch (const Error&) {
    throw;
  } catch (...) {
    rethrow_backend(function);
  }
}

void check_options(std::string_view function, const IndexSearchOptions& options);
/// dim in [1, INT_MAX] and ef_construction >= 0 (InvalidArgument).
void check_construction(std::string_view function, std::int64_t dim, int ef_construction);

/// Validates ids for rows about to be added: one per row, distinct, >= 0, not
/// present; and that the index is trained (NotFitted).
void check_new_rows(std::string_view function, const IndexCore& core, const std::vector<std::int64_t>& ids,
                    std::int64_t rows, bool trained);
/// Appends added ids to the id map (row order) after FAISS accepted the rows.
void record_ids(IndexCore& core, const std::vector<std::int64_t>& ids);
/// `add` of either kind: ids next_id, next_id + 1, ... for `rows` rows.
std::vector<std::int64_t> next_ids(const IndexCore& core, std::int64_t rows);

/// FAISS's labels of a raw search result, in place: external ids, scores in the
/// metric's units, a missing label -> id -1 with score NaN. Rows stay unsorted.
void label_graph(const IndexCore& core, KnnGraph& graph);
/// FAISS's range result as ours: external ids, metric units, rows sorted.
RangeResult range_result(const IndexCore& core, const faiss::RangeSearchResult& result, std::int64_t queries);

/// Adds `n` validated rows (float rows or packed codes) to FAISS's `target` with
/// the call's threads: with our ids for indexes that store them (IVF), in row
/// order otherwise; then records the ids.
template <class FaissIndexType, class T>
void add_to_faiss(std::string_view function, IndexCore& core, FaissIndexType& target, std::int64_t n,
                  const T* data, const std::vector<std::int64_t>& ids, const Parallel& parallel) {
  {
    const ThreadScope threads(parallel);
    call_faiss(function, [&] {
      if (core.native_ids) {
        target.add_with_ids(n, data, ids.data());
      } else {
        target.add(n, data);
      }
    });
  }
  record_ids(core, ids);
}

/// The rows of `ids` present in the index (each once, unknown ids skipped) as
/// FAISS labels, and a flag per row of the id map telling which go.
struct Removal {
  std::vector<FaissId> labels;
  std::vector<char> removed_row;
};
Removal plan_removal(const IndexCore& core, const std::vector<std::int64_t>& ids);
/// Removes `removal` from FAISS through `remove(selector)` (its remove_ids): an
/// IVF direct map made a hashtable by reconstruct() removes only through an
/// IDSelectorArray, the others get the faster batch selector. BackendError when
/// FAISS removed a different count.
template <class RemoveFromFaiss>
void remove_from_faiss(std::string_view function, const Removal& removal, const faiss::DirectMap* direct_map,
                       RemoveFromFaiss remove);
/// Compacts the id map in order after FAISS removed the flagged rows (as FAISS
/// compacts its own storage); `move_row(from, to)` moves per-row data the caller
/// keeps. Calls rows_changed().
template <class MoveRow>
void compact_rows(IndexCore& core, const std::vector<char>& removed_row, MoveRow move_row) {
  std::size_t out = 0;
  for (std::size_t row = 0; row < core.ids.size(); ++row) {
    if (removed_row[row] != 0) continue;
    if (out != row) move_row(row, out);
    core.ids[out] = core.ids[row];
    ++out;
  }
  core.ids.resize(out);
  core.rows.clear();
  for (std::size_t row = 0; row < out; ++row) core.rows.emplace(core.ids[row], static_cast<std::int64_t>(row));
  core.rows_changed();
}

/// Validates and stores lent float rows ([ntotal x dim], contiguous).
void attach_rows(std::string_view function, IndexCore& core, const MatrixView<float>& vectors);
void set_metadata(std::string_view function, IndexCore& core, const std::string& key, const std::string& value);
std::string get_metadata(const IndexCore& core, const std::string& key);

/// Sorts each row of `graph` nearest first, ties to the smaller id, missing (-1) last.
void sort_rows(KnnGraph& graph);

// ---------------------------------------------------------------- the index file

/// Both kinds are one model kind, "faiss-index"; the factory says which.
inline constexpr std::string_view kModelKind = "faiss-index";
inline constexpr std::uint32_t kFileVersion = 1;

/// The fields both kinds write (factory, metric, dim, ids, metadata, FAISS's
/// bytes, and the float options a binary index writes as their defaults).
void put_core(ModelWriter& model, const IndexCore& core, const std::vector<std::uint8_t>& faiss_bytes,
              const IndexOptions& options);
/// Reads put_core's fields into `core` and `options`; returns FAISS's bytes.
/// IoError naming the file when it holds the other kind (`binary` says which
/// the caller loads) or is inconsistent.
std::string get_core(std::string_view function, const ModelReader& model, bool binary, IndexCore& core,
                     IndexOptions& options);
/// After FAISS read its part: dim and ntotal agree with ours, ids are valid.
void check_loaded(std::string_view function, const ModelReader& model, IndexCore& core, std::int64_t faiss_dim,
                  std::int64_t faiss_ntotal);
/// IoError "<path>: is inconsistent: <problem>".
[[noreturn]] void bad_file(std::string_view function, const ModelReader& model, const std::string& problem);

/// The loaders behind load / load_any_faiss_index (the file already read).
std::unique_ptr<FaissIndex::Impl> load_float(const ModelReader& model);
std::unique_ptr<FaissBinaryIndex::Impl> load_binary(const ModelReader& model);

// ---------------------------------------------------------------- float search (faiss_index.cpp, rerank.cpp)

/// Rows ready for FAISS: unit-normalised under cosine (norm in double), else
/// the input as a contiguous [rows x dim] copy (empty when `x` is already
/// contiguous and not cosine: then use x.data directly).
std::vector<float> prepare_rows(std::string_view function, std::string_view argument, const MatrixView<float>& x,
                                Metric metric, ZeroNormPolicy zero_norm);

/// FAISS's top-`fetch` of the queries (unprepared; validated by the caller),
/// converted: external ids, metric units, -1 / NaN for missing; rows unsorted.
KnnGraph raw_search(const FaissIndex::Impl& impl, const MatrixView<float>& queries, std::int64_t fetch,
                    const IndexSearchOptions& options);

/// The candidates of `graph` (external ids) re-scored exactly between `queries`
/// and the float rows `vectors` ([ntotal x dim]) in `metric` through embedding's
/// `rescore` (the kernel layer's pair kernels), all kept, sorted nearest first
/// with ties to the smaller id.
KnnGraph rescore_candidates(const IndexCore& core, const MatrixView<float>& queries, const float* vectors,
                            const KnnGraph& graph, Metric metric, const Parallel& parallel);

/// search() with options.rerank != none (rerank.cpp).
KnnGraph rerank_search(const FaissIndex::Impl& impl, const MatrixView<float>& queries, std::int64_t k,
                       const IndexSearchOptions& options);

/// Fits impl.reducer on impl.hubness_graph (rerank.cpp).
void refit_hubness(FaissIndex::Impl& impl);

// ---------------------------------------------------------------- templates

template <class RemoveFromFaiss>
void remove_from_faiss(std::string_view function, const Removal& removal, const faiss::DirectMap* direct_map,
                       RemoveFromFaiss remove) {
  const bool hashed = direct_map != nullptr && direct_map->type == faiss::DirectMap::Hashtable;
  const faiss::IDSelectorArray array(removal.labels.size(), removal.labels.data());
  const faiss::IDSelectorBatch batch(removal.labels.size(), removal.labels.data());
  const faiss::IDSelector& selector = hashed ? static_cast<const faiss::IDSelector&>(array) : batch;
  const std::size_t removed = call_faiss(function, [&] { return remove(selector); });
  if (removed != removal.labels.size()) {
    throw BackendError("latent::index::" + std::string(function) + ": FAISS removed " + std::to_string(removed) +
                       " of " + std::to_string(removal.labels.size()) + " rows; the index is inconsistent");
  }
}

}  // namespace latent::index
