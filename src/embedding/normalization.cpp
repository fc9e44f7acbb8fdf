// L2 normalization, centering and z-scores (through whitening.hpp's Centering and
// Standardizer), Matryoshka truncation and its retrieval-quality curve, 2D
// Matryoshka selection and sweeps, and funnel retrieval.
#include <chrono>
#include <cmath>
#include <string>

#include "../core/row_norms.hpp"
#include "latent/core/errors.hpp"
#include "latent/embedding.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"
#include "latent/whitening.hpp"

namespace latent {
namespace {

template <class T>
RowMatrix<T> l2_normalize_impl(const MatrixView<T>& x, ZeroNormPolicy zero) {
  if (x.rows == 0) return RowMatrix<T>(0, x.cols);
  require_finite("l2_normalize", "x", x);
  RowMatrix<T> out = x.map();
  detail::normalize_rows(out, zero, "l2_normalize", "x", Parallel{1});
  return out;
}

template <class T>
RowMatrix<T> truncate_impl(const MatrixView<T>& x, std::int64_t m, bool renormalize, ZeroNormPolicy zero,
                           const char* function) {
  require_non_empty(function, "x", x);
  if (m < 1 || m > x.cols) {
    raise<InvalidArgument>(function, "m", "must be in [1, d]",
                           "m=" + std::to_string(m) + ", d=" + std::to_string(x.cols));
  }
  require_finite(function, "x", x);
  RowMatrix<T> out = x.map().leftCols(m);
  if (renormalize) detail::normalize_rows(out, zero, function, "x", Parallel{1});
  return out;
}

}  // namespace

RowMatrixf l2_normalize(const MatrixView<float>& x, ZeroNormPolicy zero) { return l2_normalize_impl(x, zero); }
RowMatrixd l2_normalize(const MatrixView<double>& x, ZeroNormPolicy zero) { return l2_normalize_impl(x, zero); }

RowMatrixf center_rows(const MatrixView<float>& x) { return Centering<float>().fit_transform(x); }
RowMatrixd center_rows(const MatrixView<double>& x) { return Centering<double>().fit_transform(x); }

RowMatrixf standardize_rows(const MatrixView<float>& x) { return Standardizer<float>().fit_transform(x); }
RowMatrixd standardize_rows(const MatrixView<double>& x) { return Standardizer<double>().fit_transform(x); }

RowMatrixf truncate_dims(const MatrixView<float>& x, std::int64_t m, bool renormalize, ZeroNormPolicy zero) {
  return truncate_impl(x, m, renormalize, zero, "truncate_dims");
}
RowMatrixd truncate_dims(const MatrixView<double>& x, std::int64_t m, bool renormalize, ZeroNormPolicy zero) {
  return truncate_impl(x, m, renormalize, zero, "truncate_dims");
}

std::vector<MatryoshkaPoint> matryoshka_curve(const MatrixView<float>& base, const MatrixView<float>& queries,
                                              const std::vector<std::int64_t>& dims, std::int64_t k, Metric metric,
                                              const Parallel& parallel) {
  const char* function = "matryoshka_curve";
  require_non_empty(function, "base", base);
  const bool self = queries.rows == 0;
  if (!self) require_same_dim(function, "queries", queries.cols, "base", base.cols);
  for (const std::int64_t m : dims) {
    if (m < 1 || m > base.cols)
      raise<InvalidArgument>(function, "dims", "each m must be in [1, d]",
                             "m=" + std::to_string(m) + ", d=" + std::to_string(base.cols));
  }
  SearchOptions search;
  search.parallel = parallel;
  const KnnGraph truth = self ? knn_graph(base, k, metric, search) : knn(queries, base, k, metric, search);
  Relevance relevance;
  relevance.ids.resize(static_cast<std::size_t>(truth.n_queries()));
  for (std::int64_t i = 0; i < truth.n_queries(); ++i)
    for (std::int64_t r = 0; r < k; ++r) relevance.ids[static_cast<std::size_t>(i)].push_back(truth.ids(i, r));
  std::vector<MatryoshkaPoint> curve;
  for (const std::int64_t m : dims) {
    const bool renormalize = metric == Metric::cosine;
    const RowMatrixf b = truncate_impl(base, m, renormalize, ZeroNormPolicy::zero, function);
    KnnGraph found;
    if (self) {
      found = knn_graph(b, k, metric, search);
    } else {
      const RowMatrixf q = truncate_impl(queries, m, renormalize, ZeroNormPolicy::zero, function);
      found = knn(q, b, k, metric, search);
    }
    const RetrievalScores scores = retrieval_scores(found.ids, relevance, k);
    curve.push_back({m, scores.recall, scores.ndcg});
  }
  return curve;
}

namespace {

void check_step(const char* function, const std::vector<MatrixView<float>>& layers, const LadderStep& step) {
  if (layers.empty()) raise<EmptyInput>(function, "layers", "holds no layer");
  for (std::size_t l = 1; l < layers.size(); ++l) {
    if (layers[l].rows != layers[0].rows)
      raise<DimensionMismatch>(function, "layers", "must hold the same rows at every layer",
                               "layer 0 rows=" + std::to_string(layers[0].rows) + ", layer " + std::to_string(l) +
                                   " rows=" + std::to_string(layers[l].rows));
  }
  if (step.layer < 0 || step.layer >= static_cast<std::int64_t>(layers.size()))
    raise<InvalidArgument>(function, "layer", "must index a stored layer",
                           "layer=" + std::to_string(step.layer) + ", layers=" + std::to_string(layers.size()));
  const std::int64_t d = layers[static_cast<std::size_t>(step.layer)].cols;
  if (step.dim < 1 || step.dim > d)
    raise<InvalidArgument>(
        function, "dim", "must be in [1, d] of its layer",
        "layer " + std::to_string(step.layer) + ": dim=" + std::to_string(step.dim) + ", d=" + std::to_string(d));
}

}  // namespace

std::vector<LadderStep> ladder(const std::vector<std::int64_t>& layers, const std::vector<std::int64_t>& dims) {
  std::vector<LadderStep> steps;
  for (const std::int64_t layer : layers)
    for (const std::int64_t dim : dims) steps.push_back({layer, dim});
  return steps;
}

RowMatrixf select_2d(const std::vector<MatrixView<float>>& layers, const LadderStep& step, bool renormalize) {
  check_step("select_2d", layers, step);
  return truncate_impl(layers[static_cast<std::size_t>(step.layer)], step.dim, renormalize, ZeroNormPolicy::raise,
                       "select_2d");
}

std::vector<SweepCell> sweep_ladder(const std::vector<MatrixView<float>>& layers, const std::vector<LadderStep>& steps,
                                    const std::function<double(const MatrixView<float>&)>& measure, bool renormalize) {
  for (const LadderStep& step : steps) check_step("sweep_ladder", layers, step);
  std::vector<SweepCell> cells;
  for (const LadderStep& step : steps) {
    const RowMatrixf rows = select_2d(layers, step, renormalize);
    const auto start = std::chrono::steady_clock::now();
    const double value = measure(rows);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    cells.push_back({step.layer, step.dim, value, seconds});
  }
  return cells;
}

KnnGraph funnel_knn(const MatrixView<float>& queries, const MatrixView<float>& base, std::int64_t k,
                    const FunnelOptions& options) {
  const char* function = "funnel_knn";
  require_non_empty(function, "base", base);
  require_non_empty(function, "queries", queries);
  require_same_dim(function, "queries", queries.cols, "base", base.cols);
  require_k(function, k, base.rows, "base");
  if (options.shortlist_dim < 1 || options.shortlist_dim > base.cols)
    raise<InvalidArgument>(
        function, "shortlist_dim", "must be in [1, d]",
        "shortlist_dim=" + std::to_string(options.shortlist_dim) + ", d=" + std::to_string(base.cols));
  if (options.shortlist < k || options.shortlist > base.rows)
    raise<InvalidArgument>(function, "shortlist", "must be in [k, base rows]",
                           "shortlist=" + std::to_string(options.shortlist) + ", k=" + std::to_string(k) +
                               ", base rows=" + std::to_string(base.rows));
  const bool renormalize = is_directional(options.metric);
  const RowMatrixf short_base = truncate_impl(base, options.shortlist_dim, renormalize, ZeroNormPolicy::zero, function);
  const RowMatrixf short_queries =
      truncate_impl(queries, options.shortlist_dim, renormalize, ZeroNormPolicy::zero, function);
  SearchOptions search;
  search.parallel = options.parallel;
  search.zero_norm = ZeroNormPolicy::zero;
  const KnnGraph shortlist = knn(short_queries, short_base, options.shortlist, options.metric, search);
  return rescore(queries, base, shortlist.ids, k, options.metric, options.parallel);
}

std::vector<FunnelPoint> funnel_curve(const MatrixView<float>& base, const MatrixView<float>& queries,
                                      const std::vector<std::int64_t>& dims, std::int64_t k, std::int64_t shortlist,
                                      Metric metric, const Parallel& parallel) {
  SearchOptions search;
  search.parallel = parallel;
  const KnnGraph exact = knn(queries, base, k, metric, search);
  std::vector<FunnelPoint> curve;
  for (const std::int64_t m : dims) {
    FunnelOptions options;
    options.shortlist_dim = m;
    options.shortlist = shortlist;
    options.metric = metric;
    options.parallel = parallel;
    const auto start = std::chrono::steady_clock::now();
    const KnnGraph found = funnel_knn(queries, base, k, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    curve.push_back({m, shortlist, neighbor_recall(found.ids, exact.ids, k), seconds});
  }
  return curve;
}

}  // namespace latent
