// Similarity matrices and exact search: validation at the boundary, then the
// kernel layer (kernels/batched.hpp) does the work.
#include "latent/similarity/search.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/kernels/batched.hpp"

namespace latent {
namespace {

kernels::BlockOptions block_options(const SearchOptions& options) {
  return {options.parallel, options.query_block_rows, options.base_block_rows};
}

// One pass over `x`: NaN / Inf (when asked) and zero rows under cosine (when the
// policy raises). Parallel over fixed row chunks; the error reported is the one
// of the first bad row, whatever the thread count.
template <class T>
void check_rows(std::string_view function, std::string_view argument, const MatrixView<T>& x, Metric metric,
                const SearchOptions& options) {
  require_non_empty(function, argument, x);
  const bool finite = options.validate_finite;
  const bool zero = is_directional(metric) && options.zero_norm == ZeroNormPolicy::raise;
  if (!finite && !zero) return;
  constexpr std::int64_t kChunk = 2048;
  const std::int64_t chunks = (x.rows + kChunk - 1) / kChunk;
  std::vector<std::int64_t> first_bad(static_cast<std::size_t>(chunks), -1);
  parallel_for(x.rows, kChunk, options.parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const T* row = x.row(i);
      T probe = 0;
      bool all_zero = true;
      for (std::int64_t p = 0; p < x.cols; ++p) {
        probe += row[p] * T(0);  // NaN iff some value is NaN or Inf
        all_zero = all_zero && row[p] == T(0);
      }
      if ((finite && !(probe == T(0))) || (zero && all_zero)) {
        first_bad[static_cast<std::size_t>(begin / kChunk)] = i;
        return;
      }
    }
  });
  for (const std::int64_t row : first_bad) {
    if (row < 0) continue;
    const T* values = x.row(row);
    for (std::int64_t p = 0; p < x.cols; ++p) {
      if (!std::isfinite(values[p]))
        detail::raise_non_finite(function, argument, static_cast<double>(values[p]), row, p);
    }
    raise<NumericalError>(function, argument, "has a zero row, whose cosine is undefined",
                          "row " + std::to_string(row) + "; ZeroNormPolicy::zero gives it similarity 0");
  }
}

template <class T>
void check_pair(std::string_view function, const MatrixView<T>& queries, const MatrixView<T>& base, Metric metric,
                const SearchOptions& options) {
  check_rows(function, "queries", queries, metric, options);
  require_same_dim(function, "base", base.cols, "queries", queries.cols);
  check_rows(function, "base", base, metric, options);
}

template <class T>
void run_knn(const MatrixView<T>& queries, const MatrixView<T>& base, std::int64_t k, Metric metric,
             std::int64_t self_offset, const SearchOptions& options, KnnGraph& graph) {
  graph.ids.resize(queries.rows, k);
  graph.scores.resize(queries.rows, k);
  graph.metric = metric;
  graph.self_excluded = self_offset >= 0;
  if constexpr (std::is_same_v<T, float>) {
    kernels::knn_f32(metric, queries, base, k, self_offset, graph.ids.data(), graph.scores.data(),
                     block_options(options));
  } else {
    RowMatrixd scores(queries.rows, k);
    kernels::knn_f64(metric, queries, base, k, self_offset, graph.ids.data(), scores.data(), block_options(options));
    graph.scores = scores.cast<float>();
  }
}

template <class T>
RowMatrix<T> similarity_impl(const MatrixView<T>& queries, const MatrixView<T>& base, Metric metric,
                             const SearchOptions& options) {
  check_pair("similarity", queries, base, metric, options);
  RowMatrix<T> out(queries.rows, base.rows);
  if constexpr (std::is_same_v<T, float>) {
    kernels::similarity_f32(metric, queries, base, out.data(), base.rows, block_options(options));
  } else {
    kernels::similarity_f64(metric, queries, base, out.data(), base.rows, block_options(options));
  }
  return out;
}

template <class T>
KnnGraph knn_impl(const MatrixView<T>& queries, const MatrixView<T>& base, std::int64_t k, Metric metric,
                  const SearchOptions& options) {
  check_pair("knn", queries, base, metric, options);
  require_k("knn", k, base.rows, "base");
  KnnGraph graph;
  run_knn(queries, base, k, metric, kernels::kNoSelf, options, graph);
  return graph;
}

// The filter's ids sorted and unique, each checked against the base rows.
std::vector<std::int64_t> filter_ids(const IdFilter& filter, std::int64_t base_rows) {
  std::vector<std::int64_t> ids = filter.ids;
  for (const std::int64_t id : ids) {
    if (id < 0 || id >= base_rows)
      raise<InvalidArgument>("knn", "filter", "holds an id outside base",
                             "id " + std::to_string(id) + ", base rows " + std::to_string(base_rows));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

template <class T>
KnnGraph filtered_knn_impl(const MatrixView<T>& queries, const MatrixView<T>& base, std::int64_t k, Metric metric,
                           const IdFilter& filter, const SearchOptions& options) {
  check_pair("knn", queries, base, metric, options);
  const std::vector<std::int64_t> listed = filter_ids(filter, base.rows);
  const auto n_listed = static_cast<std::int64_t>(listed.size());
  const bool allow = filter.mode == IdFilter::Mode::allow;
  require_k("knn", k, allow ? n_listed : base.rows - n_listed, "the base rows the filter lets through");
  KnnGraph graph;
  if (!allow && n_listed <= std::max<std::int64_t>(k, 256)) {
    // Search past the denied ids, then drop them: at most n_listed are dropped.
    KnnGraph wide;
    run_knn(queries, base, std::min(base.rows, k + n_listed), metric, kernels::kNoSelf, options, wide);
    graph.ids.resize(queries.rows, k);
    graph.scores.resize(queries.rows, k);
    graph.metric = metric;
    for (std::int64_t i = 0; i < queries.rows; ++i) {
      std::int64_t kept = 0;
      for (std::int64_t r = 0; r < wide.k() && kept < k; ++r) {
        if (std::binary_search(listed.begin(), listed.end(), wide.ids(i, r))) continue;
        graph.ids(i, kept) = wide.ids(i, r);
        graph.scores(i, kept++) = wide.scores(i, r);
      }
    }
    return graph;
  }
  // Gather the rows let through in id order, search them, map the ids back.
  std::vector<std::int64_t> kept;
  if (allow) {
    kept = listed;
  } else {
    kept.reserve(static_cast<std::size_t>(base.rows - n_listed));
    for (std::int64_t id = 0, next = 0; id < base.rows; ++id) {
      if (next < n_listed && listed[static_cast<std::size_t>(next)] == id)
        ++next;
      else
        kept.push_back(id);
    }
  }
  RowMatrix<T> rows(static_cast<std::int64_t>(kept.size()), base.cols);
  for (std::size_t r = 0; r < kept.size(); ++r)
    std::copy(base.row(kept[r]), base.row(kept[r]) + base.cols, rows.data() + static_cast<std::int64_t>(r) * base.cols);
  run_knn(queries, MatrixView<T>(rows), k, metric, kernels::kNoSelf, options, graph);
  for (Eigen::Index j = 0; j < graph.ids.size(); ++j) {
    std::int64_t& id = graph.ids.data()[j];
    if (id >= 0) id = kept[static_cast<std::size_t>(id)];
  }
  return graph;
}

template <class T>
KnnGraph knn_graph_impl(const MatrixView<T>& base, std::int64_t k, Metric metric, const SearchOptions& options) {
  check_rows("knn_graph", "base", base, metric, options);
  require_k("knn_graph", k, base.rows - 1, "base (self excluded)");
  KnnGraph graph;
  run_knn(base, base, k, metric, 0, options, graph);
  return graph;
}

}  // namespace

RowMatrixf similarity(const MatrixView<float>& queries, const MatrixView<float>& base, Metric metric,
                      const SearchOptions& options) {
  return similarity_impl(queries, base, metric, options);
}
RowMatrixd similarity(const MatrixView<double>& queries, const MatrixView<double>& base, Metric metric,
                      const SearchOptions& options) {
  return similarity_impl(queries, base, metric, options);
}

KnnGraph knn(const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k, Metric metric,
             const SearchOptions& options) {
  return knn_impl(queries, base, k, metric, options);
}
KnnGraph knn(const MatrixView<double>& queries, const MatrixView<double>& base, std::int64_t k, Metric metric,
             const SearchOptions& options) {
  return knn_impl(queries, base, k, metric, options);
}

KnnGraph knn(const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k, Metric metric,
             const IdFilter& filter, const SearchOptions& options) {
  return filtered_knn_impl(queries, base, k, metric, filter, options);
}
KnnGraph knn(const MatrixView<double>& queries, const MatrixView<double>& base, std::int64_t k, Metric metric,
             const IdFilter& filter, const SearchOptions& options) {
  return filtered_knn_impl(queries, base, k, metric, filter, options);
}

KnnGraph knn_graph(const MatrixView<float>& base, std::int64_t k, Metric metric, const SearchOptions& options) {
  return knn_graph_impl(base, k, metric, options);
}
KnnGraph knn_graph(const MatrixView<double>& base, std::int64_t k, Metric metric, const SearchOptions& options) {
  return knn_graph_impl(base, k, metric, options);
}

void merge_knn(KnnGraph& graph, const KnnGraph& extra) {
  if (extra.n_queries() != graph.n_queries()) {
    raise<DimensionMismatch>("merge_knn", "extra", "lists other queries than graph",
                             "rows " + std::to_string(extra.n_queries()) + " vs " + std::to_string(graph.n_queries()));
  }
  if (extra.metric != graph.metric) raise<InvalidArgument>("merge_knn", "extra", "was searched with another metric");
  const bool larger_first = is_similarity(graph.metric);
  auto nearer = [&](float a, std::int64_t id_a, float b, std::int64_t id_b) {
    if (id_a < 0) return false;
    if (id_b < 0) return true;
    if (a != b) return larger_first ? a > b : a < b;
    return id_a < id_b;
  };
  const std::int64_t k = graph.k();
  std::vector<std::int64_t> ids(static_cast<std::size_t>(k));
  std::vector<float> scores(static_cast<std::size_t>(k));
  for (std::int64_t i = 0; i < graph.n_queries(); ++i) {
    std::int64_t a = 0, b = 0;
    for (std::int64_t r = 0; r < k; ++r) {
      const bool take_a =
          b >= extra.k() || (a < k && nearer(graph.scores(i, a), graph.ids(i, a), extra.scores(i, b), extra.ids(i, b)));
      const auto slot = static_cast<std::size_t>(r);
      if (take_a) {
        ids[slot] = graph.ids(i, a);
        scores[slot] = graph.scores(i, a++);
      } else {
        ids[slot] = extra.ids(i, b);
        scores[slot] = extra.scores(i, b++);
      }
    }
    for (std::int64_t r = 0; r < k; ++r) {
      graph.ids(i, r) = ids[static_cast<std::size_t>(r)];
      graph.scores(i, r) = scores[static_cast<std::size_t>(r)];
    }
  }
}

KnnGraph semantic_search(const MatrixView<float>& queries, const std::vector<MatrixView<float>>& corpus_shards,
                         std::int64_t k, Metric metric, const SearchOptions& options) {
  check_rows("semantic_search", "queries", queries, metric, options);
  std::int64_t total = 0;
  for (std::size_t s = 0; s < corpus_shards.size(); ++s) {
    const std::string name = "corpus_shards[" + std::to_string(s) + "]";
    require_same_dim("semantic_search", "queries", queries.cols, name, corpus_shards[s].cols);
    if (corpus_shards[s].rows > 0) check_rows("semantic_search", name, corpus_shards[s], metric, options);
    total += corpus_shards[s].rows;
  }
  require_k("semantic_search", k, total, "the corpus");
  KnnGraph result;
  std::int64_t offset = 0;
  for (const MatrixView<float>& shard : corpus_shards) {
    if (shard.rows == 0) continue;
    KnnGraph part;
    run_knn(queries, shard, std::min(k, shard.rows), metric, kernels::kNoSelf, options, part);
    part.ids.array() += offset;
    offset += shard.rows;
    if (result.ids.size() == 0) {
      // The first shard may hold fewer than k rows: pad to k with missing entries.
      result.metric = metric;
      result.ids = IdMatrix::Constant(queries.rows, k, -1);
      result.scores = RowMatrixf::Constant(queries.rows, k, std::numeric_limits<float>::quiet_NaN());
      result.ids.leftCols(part.k()) = part.ids;
      result.scores.leftCols(part.k()) = part.scores;
    } else {
      merge_knn(result, part);
    }
  }
  return result;
}

std::vector<ScoredPair> paraphrase_mining(const MatrixView<float>& x, const ParaphraseOptions& options) {
  if (options.top_k < 1)
    raise<InvalidK>("paraphrase_mining", "top_k", "must be at least 1", "top_k=" + std::to_string(options.top_k));
  if (options.max_pairs < 0) {
    raise<InvalidArgument>("paraphrase_mining", "max_pairs", "must be >= 0",
                           "max_pairs=" + std::to_string(options.max_pairs));
  }
  check_rows("paraphrase_mining", "x", x, options.metric, options.search);
  if (x.rows < 2)
    raise<EmptyInput>("paraphrase_mining", "x", "needs at least 2 rows", "rows=" + std::to_string(x.rows));
  const std::int64_t k = std::min(options.top_k, x.rows - 1);
  KnnGraph graph;
  run_knn(x, x, k, options.metric, 0, options.search, graph);

  // Each unordered pair once. Both lists that may hold a pair hold the same score:
  // the kernels' scores are bitwise symmetric (see kernels/batched.hpp).
  std::vector<ScoredPair> pairs;
  pairs.reserve(static_cast<std::size_t>(x.rows * k));
  for (std::int64_t i = 0; i < x.rows; ++i)
    for (std::int64_t r = 0; r < k; ++r) {
      const std::int64_t j = graph.ids(i, r);
      pairs.push_back({graph.scores(i, r), std::min(i, j), std::max(i, j)});
    }
  const bool larger_first = is_similarity(options.metric);
  std::sort(pairs.begin(), pairs.end(), [&](const ScoredPair& a, const ScoredPair& b) {
    if (a.i != b.i) return a.i < b.i;
    return a.j < b.j;
  });
  pairs.erase(std::unique(pairs.begin(), pairs.end(),
                          [](const ScoredPair& a, const ScoredPair& b) { return a.i == b.i && a.j == b.j; }),
              pairs.end());
  std::sort(pairs.begin(), pairs.end(), [&](const ScoredPair& a, const ScoredPair& b) {
    if (a.score != b.score) return larger_first ? a.score > b.score : a.score < b.score;
    if (a.i != b.i) return a.i < b.i;
    return a.j < b.j;
  });
  if (static_cast<std::int64_t>(pairs.size()) > options.max_pairs)
    pairs.resize(static_cast<std::size_t>(options.max_pairs));
  return pairs;
}

}  // namespace latent

namespace latent {
namespace {

// Sorts each row nearest first (ties to the smaller id) and packs the rows.
SparseGraph pack_rows(std::vector<std::vector<std::pair<float, std::int64_t>>>& rows, Metric metric) {
  const bool larger_first = is_similarity(metric);
  SparseGraph out;
  out.metric = metric;
  out.offsets.reserve(rows.size() + 1);
  out.offsets.push_back(0);
  for (auto& row : rows) {
    std::sort(row.begin(), row.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return larger_first ? a.first > b.first : a.first < b.first;
      return a.second < b.second;
    });
    for (const auto& [score, id] : row) {
      out.ids.push_back(id);
      out.scores.push_back(score);
    }
    out.offsets.push_back(static_cast<std::int64_t>(out.ids.size()));
  }
  return out;
}

template <class T>
SparseGraph epsilon_graph_impl(const MatrixView<T>& x, double epsilon, Metric metric, const SearchOptions& options) {
  constexpr std::string_view kFunction = "epsilon_graph";
  if (!std::isfinite(epsilon)) raise<InvalidArgument>(kFunction, "epsilon", "must be finite");
  check_rows(kFunction, "x", x, metric, options);
  const bool larger_first = is_similarity(metric);
  SearchOptions unchecked = options;
  unchecked.validate_finite = false;
  unchecked.zero_norm = ZeroNormPolicy::zero;  // checked above under the caller's policy
  // Blocks of rows against all of x: at most ~16 M scores of scratch.
  const std::int64_t block = std::max<std::int64_t>(1, (std::int64_t{1} << 24) / x.rows);
  std::vector<std::vector<std::pair<float, std::int64_t>>> rows(static_cast<std::size_t>(x.rows));
  for (std::int64_t start = 0; start < x.rows; start += block) {
    const std::int64_t count = std::min(block, x.rows - start);
    const RowMatrix<T> scores =
        similarity(MatrixView<T>(x.row(start), count, x.cols, x.row_stride), x, metric, unchecked);
    parallel_for(count, 64, options.parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t r = begin; r < end; ++r) {
        auto& row = rows[static_cast<std::size_t>(start + r)];
        for (std::int64_t j = 0; j < x.rows; ++j) {
          const double score = static_cast<double>(scores(r, j));
          if (j != start + r && (larger_first ? score >= epsilon : score <= epsilon))
            row.emplace_back(static_cast<float>(score), j);
        }
      }
    });
  }
  return pack_rows(rows, metric);
}

}  // namespace

SparseGraph symmetric_knn_graph(const KnnGraph& graph, Symmetry symmetry) {
  constexpr std::string_view kFunction = "symmetric_knn_graph";
  const std::int64_t n = graph.n_queries(), k = graph.k();
  if (graph.scores.rows() != n || graph.scores.cols() != k)
    raise<DimensionMismatch>(kFunction, "graph", "scores must have the shape of ids");
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t r = 0; r < k; ++r) {
      const std::int64_t j = graph.ids(i, r);
      if (j < -1 || j >= n || j == i)
        raise<InvalidArgument>(kFunction, "graph",
                               j == i ? "lists a row as its own neighbour (needs a self-excluded graph)"
                                      : "holds an id outside its n rows",
                               "row " + std::to_string(i) + ", id " + std::to_string(j) + ", n=" + std::to_string(n));
    }
  }
  // Each row's own ids, sorted, to test "i is among j's neighbours".
  std::vector<std::vector<std::int64_t>> own(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    auto& ids = own[static_cast<std::size_t>(i)];
    for (std::int64_t r = 0; r < k; ++r)
      if (graph.ids(i, r) >= 0) ids.push_back(graph.ids(i, r));
    std::sort(ids.begin(), ids.end());
    if (std::adjacent_find(ids.begin(), ids.end()) != ids.end())
      raise<InvalidArgument>(kFunction, "graph", "lists a neighbour twice", "row " + std::to_string(i));
  }
  const auto lists = [&](std::int64_t row, std::int64_t id) {
    const auto& ids = own[static_cast<std::size_t>(row)];
    return std::binary_search(ids.begin(), ids.end(), id);
  };
  std::vector<std::vector<std::pair<float, std::int64_t>>> rows(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t r = 0; r < k; ++r) {
      const std::int64_t j = graph.ids(i, r);
      if (j < 0) continue;
      const bool both = lists(j, i);
      if (symmetry == Symmetry::mutual && !both) continue;
      rows[static_cast<std::size_t>(i)].emplace_back(graph.scores(i, r), j);
      if (!both) rows[static_cast<std::size_t>(j)].emplace_back(graph.scores(i, r), i);  // the reverse edge
    }
  }
  return pack_rows(rows, graph.metric);
}

SparseGraph epsilon_graph(const MatrixView<float>& x, double epsilon, Metric metric, const SearchOptions& options) {
  return epsilon_graph_impl(x, epsilon, metric, options);
}
SparseGraph epsilon_graph(const MatrixView<double>& x, double epsilon, Metric metric, const SearchOptions& options) {
  return epsilon_graph_impl(x, epsilon, metric, options);
}

}  // namespace latent
