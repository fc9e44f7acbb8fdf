// RelativeIndex: relative projection in front of a FaissIndex (see the header).
#include "latent/index/relative_index.hpp"

#include "latent/core/errors.hpp"

namespace latent::index {
namespace {
RelativeProjection<float> fitted(const MatrixView<float>& anchors, const RelativeOptions& relative) {
  RelativeProjection<float> projection(relative);
  projection.fit(anchors);
  return projection;
}
}  // namespace

RelativeIndex::RelativeIndex(const MatrixView<float>& anchors, const std::string& factory, Metric metric,
                             const RelativeOptions& relative, const IndexOptions& options)
    : relative_(relative),
      projection_(fitted(anchors, relative)),
      index_(projection_.output_dim(), factory, metric, options) {}

RowMatrixf RelativeIndex::project(const MatrixView<float>& x) const { return projection_.transform(x); }

void RelativeIndex::train(const MatrixView<float>& x, const Parallel& parallel) { index_.train(project(x), parallel); }

void RelativeIndex::add(const MatrixView<float>& x, const Parallel& parallel) { index_.add(project(x), parallel); }

void RelativeIndex::add_with_ids(const MatrixView<float>& x, const std::vector<std::int64_t>& ids,
                                 const Parallel& parallel) {
  index_.add_with_ids(project(x), ids, parallel);
}

KnnGraph RelativeIndex::search(const MatrixView<float>& queries, std::int64_t k,
                               const IndexSearchOptions& options) const {
  return index_.search(project(queries), k, options);
}

KnnGraph RelativeIndex::search(const MatrixView<float>& queries, const MatrixView<float>& query_anchors,
                               std::int64_t k, const IndexSearchOptions& options) const {
  constexpr std::string_view kFunction = "RelativeIndex::search";
  require_non_empty(kFunction, "query_anchors", query_anchors);
  if (query_anchors.rows != n_anchors()) {
    raise<DimensionMismatch>(kFunction, "query_anchors", "must hold the same anchor items as the index",
                             "rows=" + std::to_string(query_anchors.rows) +
                                 ", index anchors=" + std::to_string(n_anchors()));
  }
  require_same_dim(kFunction, "queries", queries.cols, "query_anchors", query_anchors.cols);
  const RelativeProjection<float> query_space = fitted(query_anchors, relative_);
  return index_.search(query_space.transform(queries), k, options);
}

}  // namespace latent::index
