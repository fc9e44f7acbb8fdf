// L2 normalization, centering and z-scores (through whitening.hpp's Centering and
// Standardizer), Matryoshka truncation and its retrieval-quality curve.
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
    raise<InvalidArgument>(function, "m", "must be in [1, d]", "m=" + std::to_string(m) + ", d=" + std::to_string(x.cols));
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

}  // namespace latent
