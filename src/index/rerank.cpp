// Re-ranking stages on top of any FAISS index, and approximate kNN graphs.
//
// Exact re-scoring: FAISS returns `candidates` per query (compressed distances for
// PQ / SQ), the float rows re-score them with the kernel layer's pair kernels
// (embedding's `rescore`, as for binary indexes) and the top k are kept. Hubness-aware re-ranking reuses the hubness
// module: the index's own self-excluded candidate lists are a DistanceGraph over the rows, HubnessReducer is fitted on
// it once (its per-point statistics: r_x for CSLS, sigma_x for local scaling, ...), and each query's candidate list is
// transformed by the same reducer. Graph ids inside this file are rows, not external ids.
#include <algorithm>
#include <cmath>
#include <string>

#include "faiss_detail.hpp"

namespace latent::index {
namespace {

// A complete candidate graph (external ids) as distances over rows, rows sorted by
// (distance, row). `drop_self` removes row i's own row (or its last candidate).
DistanceGraph to_row_distances(const FaissIndex::Impl& impl, const KnnGraph& graph, bool drop_self,
                               std::string_view function) {
  const std::int64_t width = drop_self ? graph.k() - 1 : graph.k();
  DistanceGraph out;
  out.metric = impl.metric;
  out.self_excluded = drop_self;
  out.ids.resize(graph.n_queries(), width);
  out.distances.resize(graph.n_queries(), width);
  std::vector<std::pair<double, std::int64_t>> row;
  for (std::int64_t i = 0; i < graph.n_queries(); ++i) {
    row.clear();
    for (std::int64_t j = 0; j < graph.k(); ++j) {
      const std::int64_t id = graph.ids(i, j);
      if (id < 0) {
        raise<InvalidArgument>(
            function, "candidates",
            "the index found fewer candidates than needed for hubness re-ranking; raise "
            "nprobe / ef_search or lower candidates",
            "query " + std::to_string(i) + " has " + std::to_string(j) + " of " + std::to_string(graph.k()));
      }
      const std::int64_t r = impl.rows.at(id);
      if (drop_self && r == i) continue;
      const double score = graph.scores(i, j);
      row.emplace_back(is_directional(impl.metric) ? 1.0 - score : score, r);
    }
    row.resize(static_cast<std::size_t>(width));  // self missing from the list: drop the farthest
    std::sort(row.begin(), row.end());
    for (std::int64_t j = 0; j < width; ++j) {
      out.distances(i, j) = row[static_cast<std::size_t>(j)].first;
      out.ids(i, j) = row[static_cast<std::size_t>(j)].second;
    }
  }
  return out;
}

}  // namespace

KnnGraph rerank_search(const FaissIndex::Impl& impl, const MatrixView<float>& queries, std::int64_t k,
                       const IndexSearchOptions& options) {
  constexpr std::string_view kFunction = "FaissIndex::search";
  const auto n = static_cast<std::int64_t>(impl.ids.size());
  const float* vectors = impl.vector_rows();
  if (options.rerank == Rerank::exact && vectors == nullptr) {
    raise<InvalidArgument>(kFunction, "rerank", "exact re-scoring needs the float rows",
                           "create the index with keep_vectors or call attach_vectors");
  }
  if (options.rerank == Rerank::hubness && !impl.reducer) {
    raise<NotFitted>(kFunction, "rerank", "hubness re-ranking needs fit_hubness first");
  }
  std::int64_t candidates = options.candidates > 0 ? options.candidates : std::max<std::int64_t>(100, 4 * k);
  if (options.rerank == Rerank::hubness) candidates = std::max(candidates, impl.reducer->k_local());
  candidates = std::min(std::max(candidates, k), n);

  KnnGraph graph = raw_search(impl, queries, candidates, options);
  if (vectors != nullptr) {
    graph = rescore_candidates(impl, queries, vectors, graph, impl.metric, options.parallel);
  } else {
    sort_rows(graph);
  }
  if (options.rerank == Rerank::exact) {
    KnnGraph top;
    top.metric = graph.metric;
    top.ids = graph.ids.leftCols(k);
    top.scores = graph.scores.leftCols(k);
    return top;
  }

  const DistanceGraph query_graph = to_row_distances(impl, graph, false, kFunction);
  const DistanceGraph reduced = needs_vectors(impl.reduction.method)
                                    ? impl.reducer->transform(query_graph, queries, k)
                                    : impl.reducer->transform(query_graph, k);
  KnnGraph out;
  out.metric = impl.metric;
  out.ids.resize(reduced.n_queries(), reduced.k());
  out.scores.resize(reduced.n_queries(), reduced.k());
  for (std::int64_t i = 0; i < reduced.n_queries(); ++i) {
    for (std::int64_t j = 0; j < reduced.k(); ++j) {
      const std::int64_t id = impl.ids[static_cast<std::size_t>(reduced.ids(i, j))];
      out.ids(i, j) = id;
      // The primary score of the chosen id, from the candidate row.
      for (std::int64_t c = 0; c < graph.k(); ++c) {
        if (graph.ids(i, c) == id) {
          out.scores(i, j) = graph.scores(i, c);
          break;
        }
      }
    }
  }
  return out;
}

void refit_hubness(FaissIndex::Impl& impl) {
  auto reducer = std::make_unique<HubnessReducer>(impl.reduction);
  if (needs_vectors(impl.reduction.method)) {
    const float* vectors = impl.vector_rows();
    if (vectors == nullptr) {
      raise<InvalidArgument>("FaissIndex::fit_hubness", "reduction", "DisSimLocal and DisSimGlobal need the float rows",
                             "create the index with keep_vectors");
    }
    reducer->fit(impl.hubness_graph, MatrixView<float>(vectors, static_cast<std::int64_t>(impl.ids.size()), impl.dim));
  } else {
    reducer->fit(impl.hubness_graph);
  }
  impl.reducer = std::move(reducer);
}

void FaissIndex::fit_hubness(const ReductionOptions& reduction, std::int64_t candidates,
                             const IndexSearchOptions& options) {
  constexpr std::string_view kFunction = "FaissIndex::fit_hubness";
  const Metric metric = impl_->metric;
  if (metric == Metric::ip || metric == Metric::l1 || metric == Metric::linf) {
    raise<InvalidArgument>(kFunction, "metric", "hubness re-ranking needs cosine, angular, l2 or sqeuclidean",
                           "metric=" + std::string(to_string(metric)));
  }
  const std::int64_t k_local = HubnessReducer(reduction).k_local();
  if (candidates == 0) candidates = std::max<std::int64_t>(k_local, 10);
  if (candidates < k_local) {
    raise<InvalidK>(kFunction, "candidates", "must be >= the reduction's k_local",
                    "candidates=" + std::to_string(candidates) + ", k_local=" + std::to_string(k_local));
  }
  require_k(kFunction, candidates, ntotal() - 1, "index rows minus one");

  // The rows themselves are the queries: the float rows when available, else
  // FAISS's reconstructions (approximate for compressed indexes).
  RowMatrixf reconstructed;
  const float* vectors = impl_->vector_rows();
  if (vectors == nullptr) {
    reconstructed.resize(ntotal(), impl_->dim);
    for (std::int64_t row = 0; row < ntotal(); ++row) {
      const std::vector<float> v = reconstruct(impl_->ids[static_cast<std::size_t>(row)]);
      std::copy(v.begin(), v.end(), reconstructed.row(row).data());
    }
  }
  const MatrixView<float> rows =
      vectors != nullptr ? MatrixView<float>(vectors, ntotal(), impl_->dim) : MatrixView<float>(reconstructed);
  IndexSearchOptions self_options = options;
  self_options.rerank = vectors != nullptr ? Rerank::exact : Rerank::none;
  self_options.candidates = std::max(options.candidates, candidates + 1);
  const KnnGraph graph = search(rows, candidates + 1, self_options);
  DistanceGraph distances = to_row_distances(*impl_, graph, true, kFunction);

  impl_->reduction = reduction;
  impl_->hubness_graph = std::move(distances);
  try {
    refit_hubness(*impl_);
  } catch (...) {
    impl_->reducer.reset();
    impl_->hubness_graph = DistanceGraph{};
    throw;
  }
}

KnnGraph approximate_knn_graph(const MatrixView<float>& base, std::int64_t k, const std::string& factory, Metric metric,
                               const IndexSearchOptions& options, const IndexOptions& index_options) {
  constexpr std::string_view kFunction = "approximate_knn_graph";
  require_non_empty(kFunction, "base", base);
  require_k(kFunction, k, base.rows - 1, "base rows minus one");
  if (options.rerank == Rerank::hubness) {
    raise<InvalidArgument>(kFunction, "options.rerank", "hubness re-ranking is not available here",
                           "reduce the returned graph with the hubness module");
  }
  FaissIndex index(base.cols, factory, metric, index_options);
  index.train(base, options.parallel);
  index.add(base, options.parallel);
  if (base.row_stride == base.cols && !index_options.keep_vectors) index.attach_vectors(base);
  const KnnGraph found = index.search(base, k + 1, options);
  KnnGraph graph;
  graph.metric = metric;
  graph.self_excluded = true;
  graph.ids.resize(base.rows, k);
  graph.scores.resize(base.rows, k);
  for (std::int64_t i = 0; i < base.rows; ++i) {
    std::int64_t out = 0;
    for (std::int64_t j = 0; j <= k && out < k; ++j) {
      if (found.ids(i, j) == i) continue;
      graph.ids(i, out) = found.ids(i, j);
      graph.scores(i, out) = found.scores(i, j);
      ++out;
    }
  }
  sort_rows(graph);  // a dropped self can leave a -1 before the last slot
  return graph;
}

}  // namespace latent::index
