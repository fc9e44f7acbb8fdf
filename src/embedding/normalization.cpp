// L2 normalization, centering and z-scores (through whitening.hpp's Centering and
// Standardizer), Matryoshka truncation and its retrieval-quality curve.
#include <cmath>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/embedding.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"
#include "latent/whitening.hpp"

namespace latent {
namespace {

// Divides row i of `out` (already holding the values) by its norm, in double.
template <class T>
void normalize_rows_in_place(RowMatrix<T>& out, ZeroVectorPolicy zero, const char* function) {
  for (Eigen::Index i = 0; i < out.rows(); ++i) {
    double squares = 0;
    for (Eigen::Index j = 0; j < out.cols(); ++j) squares += static_cast<double>(out(i, j)) * out(i, j);
    if (squares == 0) {
      if (zero == ZeroVectorPolicy::raise)
        raise<NumericalError>(function, "x", "has a row of norm 0 (ZeroVectorPolicy::raise)",
                              "row " + std::to_string(i));
      continue;
    }
    const double inverse = 1.0 / std::sqrt(squares);
    for (Eigen::Index j = 0; j < out.cols(); ++j) out(i, j) = static_cast<T>(out(i, j) * inverse);
  }
}

template <class T>
RowMatrix<T> truncate_impl(const MatrixView<T>& x, std::int64_t m, bool renormalize, ZeroVectorPolicy zero,
                           const char* function) {
  require_non_empty(function, "x", x);
  if (m < 1 || m > x.cols) {
    raise<InvalidArgument>(function, "m", "must be in [1, d]", "m=" + std::to_string(m) + ", d=" + std::to_string(x.cols));
  }
  require_finite(function, "x", x);
  RowMatrix<T> out = x.map().leftCols(m);
  if (renormalize) normalize_rows_in_place(out, zero, function);
  return out;
}

}  // namespace

template <class T>
RowMatrix<T> l2_normalize(const MatrixView<T>& x, ZeroVectorPolicy zero) {
  if (x.rows == 0) return RowMatrix<T>(0, x.cols);
  require_finite("l2_normalize", "x", x);
  RowMatrix<T> out = x.map();
  normalize_rows_in_place(out, zero, "l2_normalize");
  return out;
}

template <class T>
RowMatrix<T> center_rows(const MatrixView<T>& x) {
  return Centering<T>().fit_transform(x);
}

template <class T>
RowMatrix<T> standardize_rows(const MatrixView<T>& x) {
  return Standardizer<T>().fit_transform(x);
}

template <class T>
RowMatrix<T> truncate_dims(const MatrixView<T>& x, std::int64_t m, bool renormalize, ZeroVectorPolicy zero) {
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
    const RowMatrixf b = truncate_impl(base, m, renormalize, ZeroVectorPolicy::keep_zero, function);
    KnnGraph found;
    if (self) {
      found = knn_graph(MatrixView<float>(b), k, metric, search);
    } else {
      const RowMatrixf q = truncate_impl(queries, m, renormalize, ZeroVectorPolicy::keep_zero, function);
      found = knn(MatrixView<float>(q), MatrixView<float>(b), k, metric, search);
    }
    const RetrievalScores scores = retrieval_scores(found.ids, relevance, k);
    curve.push_back({m, scores.recall, scores.ndcg});
  }
  return curve;
}

#define LATENT_INSTANTIATE_NORMALIZATION(T)                                                             \
  template RowMatrix<T> l2_normalize<T>(const MatrixView<T>&, ZeroVectorPolicy);                        \
  template RowMatrix<T> center_rows<T>(const MatrixView<T>&);                                           \
  template RowMatrix<T> standardize_rows<T>(const MatrixView<T>&);                                      \
  template RowMatrix<T> truncate_dims<T>(const MatrixView<T>&, std::int64_t, bool, ZeroVectorPolicy);
LATENT_INSTANTIATE_NORMALIZATION(float)
LATENT_INSTANTIATE_NORMALIZATION(double)
#undef LATENT_INSTANTIATE_NORMALIZATION

}  // namespace latent
