// Private parts of the FAISS adapter shared by its translation units: the
// pimpl, the per-call thread scope and the FAISS-exception wrapper.
#pragma once

#include <faiss/Index.h>
#include <faiss/IndexBinary.h>
#include <faiss/impl/AuxIndexStructures.h>

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
#include "latent/hubness.hpp"
#include "latent/index/faiss_index.hpp"

namespace latent::index {

/// FAISS's id type: `faiss::Index::idx_t` in 1.7.3 (Debian 12), `faiss::idx_t`
/// from 1.7.4 on. RangeSearchResult::labels has it in every version.
using FaissId = std::remove_pointer_t<decltype(faiss::RangeSearchResult::labels)>;
static_assert(sizeof(FaissId) == sizeof(std::int64_t), "latent ids are int64, FAISS's must be too");

struct FaissIndex::Impl {
  std::int64_t dim = 0;
  std::string factory;
  Metric metric = Metric::cosine;
  IndexOptions options;
  std::unique_ptr<faiss::Index> index;          ///< float factories (null for binary)
  std::unique_ptr<faiss::IndexBinary> binary;   ///< binary factories (null for float)
  /// IVF indexes store our ids as their labels; the others label rows 0..n-1.
  bool native_ids = false;
  std::vector<std::int64_t> ids;                      ///< row -> id
  std::unordered_map<std::int64_t, std::int64_t> rows;  ///< id -> row
  std::int64_t next_id = 0;
  std::vector<float> kept;        ///< [ntotal x dim] when options.keep_vectors
  MatrixView<float> attached;     ///< lent rows (attach_vectors), empty otherwise
  // Hubness re-ranking: the fitted lists (ids are rows) and the reducer fitted on them.
  std::unique_ptr<HubnessReducer> reducer;
  ReductionOptions reduction;
  DistanceGraph hubness_graph;
  std::vector<std::pair<std::string, std::string>> metadata;
  /// Guards the lazy creation of an IVF direct map inside const reconstruct().
  mutable std::mutex direct_map_mutex;
  /// Searches share it; a search that must change a field of the FAISS index
  /// for its duration (HNSW efSearch in FAISS 1.7.3) holds it exclusively.
  mutable std::shared_mutex search_mutex;

  /// Float rows of the index when available (kept, or attached and complete).
  const float* vector_rows() const;
  /// The row of the index for a FAISS label, or -1.
  std::int64_t row_of_label(std::int64_t label) const;
  /// Forgets statistics tied to the current rows (after add / remove).
  void rows_changed();
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
class SearchScope {
 public:
  SearchScope(const FaissIndex::Impl& impl, const IndexSearchOptions& options);
  ~SearchScope();
  SearchScope(const SearchScope&) = delete;
  SearchScope& operator=(const SearchScope&) = delete;
  const faiss::SearchParameters* params() const { return params_; }

 private:
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

/// Throws InvalidArgument when a float call reaches a binary index or a
/// packed-code call a float index (`codes_call` says which the caller is).
void require_kind(std::string_view function, const FaissIndex::Impl& impl, bool codes_call);

void check_options(std::string_view function, const IndexSearchOptions& options);

/// Validates ids for rows about to be added: one per row, distinct, >= 0, not
/// present; and that the index is trained (NotFitted).
void check_new_rows(std::string_view function, const FaissIndex::Impl& impl, const std::vector<std::int64_t>& ids,
                    std::int64_t rows, bool trained);
/// Appends added ids to the id map (row order) after FAISS accepted the rows.
void record_ids(FaissIndex::Impl& impl, const std::vector<std::int64_t>& ids);


/// FAISS's labels of a raw search result, in place: external ids, scores in the
/// metric's units, a missing label -> id -1 with score NaN. Rows stay unsorted.
void label_graph(const FaissIndex::Impl& impl, KnnGraph& graph);
/// FAISS's range result as ours: external ids, metric units, rows sorted.
RangeResult range_result(const FaissIndex::Impl& impl, const faiss::RangeSearchResult& result, std::int64_t queries);

/// Adds `n` validated rows (float rows or packed codes) to FAISS's `target` with
/// the call's threads: with our ids for indexes that store them (IVF), in row
/// order otherwise; then records the ids.
template <class FaissIndexType, class T>
void add_to_faiss(std::string_view function, FaissIndex::Impl& impl, FaissIndexType& target, std::int64_t n,
                  const T* data, const std::vector<std::int64_t>& ids, const Parallel& parallel) {
  {
    const ThreadScope threads(parallel);
    call_faiss(function, [&] {
      if (impl.native_ids) {
        target.add_with_ids(n, data, ids.data());
      } else {
        target.add(n, data);
      }
    });
  }
  record_ids(impl, ids);
}

/// Rows ready for FAISS: unit-normalised under cosine (norm in double), else
/// the input as a contiguous [rows x dim] copy (empty when `x` is already
/// contiguous and not cosine: then use x.data directly).
std::vector<float> prepare_rows(std::string_view function, std::string_view argument, const MatrixView<float>& x,
                                Metric metric, ZeroNormPolicy zero_norm);

/// The exact score of query `q` against row `v` in the metric's units, in double.
double exact_score(const float* q, const float* v, std::int64_t dim, Metric metric);

/// Sorts each row of `graph` nearest first, ties to the smaller id, missing (-1) last.
void sort_rows(KnnGraph& graph);

/// FAISS's top-`fetch` of the queries (unprepared; validated by the caller),
/// converted: external ids, metric units, -1 / NaN for missing; rows unsorted.
KnnGraph raw_search(const FaissIndex::Impl& impl, const MatrixView<float>& queries, std::int64_t fetch,
                    const IndexSearchOptions& options);

/// The stored code of FAISS label `label` of a binary index, as 0 / 1 floats
/// in numpy.packbits bit order (faiss_binary.cpp).
std::vector<float> reconstruct_bits(const FaissIndex::Impl& impl, std::int64_t label);

/// search() with options.rerank != none (rerank.cpp).
KnnGraph rerank_search(const FaissIndex::Impl& impl, const MatrixView<float>& queries, std::int64_t k,
                       const IndexSearchOptions& options);

/// Fits impl.reducer on impl.hubness_graph (rerank.cpp).
void refit_hubness(FaissIndex::Impl& impl);

}  // namespace latent::index
