// latent/index/relative_index.hpp - a FAISS index over relative representations,
// searchable zero-shot from another model's space.
//
// Rows of the indexed space are replaced by their relative representation
// (similarities to fixed anchors, relative.hpp) and indexed with FaissIndex.
// A query from another embedding space is projected onto the SAME anchor items
// embedded in its own space, and searched: the two models never have to share a
// dimension or be aligned. Part of `latent::faiss` (pimpl; no FAISS header here).
#pragma once

#include <cstdint>
#include <string>

#include "latent/index/faiss_index.hpp"
#include "latent/relative.hpp"

namespace latent::index {

class RelativeIndex {
 public:
  /// An index of relative representations of `anchors` ([n_anchors x dim], the
  /// anchor items in the indexed space) built with `factory` and `metric`
  /// (default cosine, the usual choice for relative representations). Throws
  /// what RelativeProjection::fit and the FaissIndex constructor throw.
  RelativeIndex(const MatrixView<float>& anchors, const std::string& factory, Metric metric = Metric::cosine,
                const RelativeOptions& relative = {}, const IndexOptions& options = {});

  /// Trains the index on the relative representations of `x` ([n x dim]).
  void train(const MatrixView<float>& x, const Parallel& parallel = {});
  /// Adds rows ([n x dim] in the anchors' space) with ids next_id()... / given ids.
  void add(const MatrixView<float>& x, const Parallel& parallel = {});
  void add_with_ids(const MatrixView<float>& x, const std::vector<std::int64_t>& ids, const Parallel& parallel = {});

  /// Searches rows of the indexed space ([n_queries x dim]).
  KnnGraph search(const MatrixView<float>& queries, std::int64_t k, const IndexSearchOptions& options = {}) const;
  /// Zero-shot: `queries` [n_queries x dim_q] from another space and
  /// `query_anchors` [n_anchors x dim_q], the same anchor items (same order) in
  /// that space. Throws DimensionMismatch when the anchor counts or the dims of
  /// queries and query_anchors differ. Cost: n_queries x n_anchors x dim_q for the
  /// projection, then one FaissIndex search.
  KnnGraph search(const MatrixView<float>& queries, const MatrixView<float>& query_anchors, std::int64_t k,
                  const IndexSearchOptions& options = {}) const;

  /// The relative representation of rows of the indexed space ([n x n_anchors...]).
  RowMatrixf project(const MatrixView<float>& x) const;
  const FaissIndex& index() const { return index_; }
  FaissIndex& index() { return index_; }
  std::int64_t n_anchors() const { return projection_.n_anchors(); }

 private:
  RelativeOptions relative_;
  RelativeProjection<float> projection_;
  FaissIndex index_;
};

}  // namespace latent::index
