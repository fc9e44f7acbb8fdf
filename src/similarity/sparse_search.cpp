// Sparse products and the inverted index: postings per column (rows in increasing
// order), a dense score accumulator per thread, top-k by (score desc, id asc).
#include "latent/similarity/sparse_search.hpp"

#include <algorithm>
#include <utility>

#include "latent/core/errors.hpp"

namespace latent {
namespace {

using Index = std::int64_t;

void require_columns(const char* function, const char* a, Index a_cols, const char* b, Index b_cols) {
  require_same_dim(function, a, a_cols, b, b_cols);
}

}  // namespace

RowMatrixf sparse_dense_products(const SparseMatrix& a, const MatrixView<float>& b, const Parallel& parallel) {
  const char* function = "sparse_dense_products";
  require_columns(function, "a", a.cols(), "b", b.cols);
  require_finite(function, "b", b);
  RowMatrixf out(a.rows(), b.rows);
  parallel_for(a.rows(), 16, parallel, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      for (Index j = 0; j < b.rows; ++j) {
        const float* row = b.row(j);
        float sum = 0.0f;
        for (Index e = a.offsets()[i]; e < a.offsets()[i + 1]; ++e) sum += a.values()[e] * row[a.indices()[e]];
        out(i, j) = sum;
      }
    }
  });
  return out;
}

namespace {

// The postings of b: for column c, the rows holding it (increasing) and their
// values, at [offsets[c], offsets[c + 1]).
void build_postings(const SparseMatrix& b, std::vector<Index>& offsets, std::vector<Index>& rows,
                    std::vector<float>& values) {
  offsets.assign(static_cast<std::size_t>(b.cols() + 1), 0);
  for (Index e = 0; e < b.nnz(); ++e) ++offsets[static_cast<std::size_t>(b.indices()[e] + 1)];
  for (Index c = 0; c < b.cols(); ++c) offsets[static_cast<std::size_t>(c + 1)] += offsets[static_cast<std::size_t>(c)];
  rows.resize(static_cast<std::size_t>(b.nnz()));
  values.resize(static_cast<std::size_t>(b.nnz()));
  std::vector<Index> fill(offsets.begin(), offsets.end() - 1);
  for (Index i = 0; i < b.rows(); ++i) {
    for (Index e = b.offsets()[i]; e < b.offsets()[i + 1]; ++e) {
      const auto at = static_cast<std::size_t>(fill[static_cast<std::size_t>(b.indices()[e])]++);
      rows[at] = i;
      values[at] = b.values()[e];
    }
  }
}

// Scores of one query row against every base row through the postings, into the
// dense accumulator `scores` (zero on entry and on exit); `touched` lists the
// rows reached, in first-reached order.
void accumulate(const SparseMatrix& queries, Index i, const std::vector<Index>& offsets, const std::vector<Index>& rows,
                const std::vector<float>& values, std::vector<float>& scores, std::vector<char>& seen,
                std::vector<Index>& touched) {
  for (Index e = queries.offsets()[i]; e < queries.offsets()[i + 1]; ++e) {
    const Index column = queries.indices()[e];
    const float q = queries.values()[e];
    for (Index p = offsets[static_cast<std::size_t>(column)]; p < offsets[static_cast<std::size_t>(column + 1)]; ++p) {
      const auto row = static_cast<std::size_t>(rows[static_cast<std::size_t>(p)]);
      if (!seen[row]) {
        seen[row] = 1;
        touched.push_back(static_cast<Index>(row));
      }
      scores[row] += q * values[static_cast<std::size_t>(p)];
    }
  }
}

}  // namespace

RowMatrixf sparse_products(const SparseMatrix& a, const SparseMatrix& b, const Parallel& parallel) {
  require_columns("sparse_products", "a", a.cols(), "b", b.cols());
  std::vector<Index> offsets, rows;
  std::vector<float> values;
  build_postings(b, offsets, rows, values);
  RowMatrixf out = RowMatrixf::Zero(a.rows(), b.rows());
  parallel_for(a.rows(), 16, parallel, [&](Index begin, Index end) {
    std::vector<float> scores(static_cast<std::size_t>(b.rows()), 0.0f);
    std::vector<char> seen(static_cast<std::size_t>(b.rows()), 0);
    std::vector<Index> touched;
    for (Index i = begin; i < end; ++i) {
      touched.clear();
      accumulate(a, i, offsets, rows, values, scores, seen, touched);
      for (const Index j : touched) {
        out(i, j) = scores[static_cast<std::size_t>(j)];
        scores[static_cast<std::size_t>(j)] = 0.0f;
        seen[static_cast<std::size_t>(j)] = 0;
      }
    }
  });
  return out;
}

SparseIndex::SparseIndex(SparseMatrix base) : base_(std::move(base)) {
  build_postings(base_, posting_offsets_, posting_rows_, posting_values_);
}

KnnGraph SparseIndex::search(const SparseMatrix& queries, std::int64_t k, const Parallel& parallel) const {
  const char* function = "SparseIndex::search";
  require_columns(function, "queries", queries.cols(), "base", cols());
  require_k(function, k, rows(), "base");
  KnnGraph graph;
  graph.ids.resize(queries.rows(), k);
  graph.scores.resize(queries.rows(), k);
  graph.metric = Metric::ip;
  const auto better = [](const std::pair<float, Index>& x, const std::pair<float, Index>& y) {
    return x.first > y.first || (x.first == y.first && x.second < y.second);
  };
  parallel_for(queries.rows(), 16, parallel, [&](Index begin, Index end) {
    std::vector<float> scores(static_cast<std::size_t>(rows()), 0.0f);
    std::vector<char> seen(static_cast<std::size_t>(rows()), 0);
    std::vector<Index> touched;
    std::vector<std::pair<float, Index>> positive, negative;
    for (Index i = begin; i < end; ++i) {
      touched.clear();
      positive.clear();
      negative.clear();
      accumulate(queries, i, posting_offsets_, posting_rows_, posting_values_, scores, seen, touched);
      for (const Index j : touched) {
        const float s = scores[static_cast<std::size_t>(j)];
        if (s > 0.0f) positive.emplace_back(s, j);
        if (s < 0.0f) negative.emplace_back(s, j);
      }
      // Order: positive scores, then every row scoring 0 in id order, then negative ones.
      const auto keep = std::min<std::size_t>(positive.size(), static_cast<std::size_t>(k));
      std::partial_sort(positive.begin(), positive.begin() + static_cast<std::ptrdiff_t>(keep), positive.end(), better);
      Index e = 0;
      for (; e < static_cast<Index>(keep); ++e) {
        graph.ids(i, e) = positive[static_cast<std::size_t>(e)].second;
        graph.scores(i, e) = positive[static_cast<std::size_t>(e)].first;
      }
      for (Index j = 0; j < rows() && e < k; ++j) {
        const float s = scores[static_cast<std::size_t>(j)];
        if (seen[static_cast<std::size_t>(j)] && s != 0.0f) continue;
        graph.ids(i, e) = j;
        graph.scores(i, e) = 0.0f;
        ++e;
      }
      if (e < k) {
        std::sort(negative.begin(), negative.end(), better);
        for (std::size_t n = 0; e < k; ++n, ++e) {
          graph.ids(i, e) = negative[n].second;
          graph.scores(i, e) = negative[n].first;
        }
      }
      for (const Index j : touched) {
        scores[static_cast<std::size_t>(j)] = 0.0f;
        seen[static_cast<std::size_t>(j)] = 0;
      }
    }
  });
  return graph;
}

}  // namespace latent
