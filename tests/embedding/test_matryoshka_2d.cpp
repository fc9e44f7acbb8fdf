// 2D Matryoshka and funnels: the ladder's order, select_2d against truncate_dims of
// its layer, the sweep harness handing each measure the selected rows (and
// refusing a bad step before measuring anything), and funnel retrieval against a
// brute-force reference of its definition on the bundled data: exact at m = d
// (its recall then equals the exact search's), and rising with the shortlist.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/embedding.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using Index = std::int64_t;

const std::string kEncoders = std::string(LATENT_SOURCE_DIR) + "/data/encoders/";

TEST(Matryoshka2d, LadderSelectionAndSweep) {
  const std::vector<LadderStep> steps = ladder({1, 3}, {8, 32});
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[1].layer, 1);
  EXPECT_EQ(steps[1].dim, 32);
  EXPECT_EQ(steps[2].layer, 3);
  EXPECT_EQ(steps[2].dim, 8);

  const RowMatrixf a = read_npy_matrix<float>(kEncoders + "cnn_seed0.npy");
  const RowMatrixf b = read_npy_matrix<float>(kEncoders + "mlp_seed0.npy");
  const std::vector<MatrixView<float>> layers = {a, b};
  EXPECT_EQ(select_2d(layers, {1, 16}), truncate_dims(b, 16));
  EXPECT_EQ(select_2d(layers, {0, 64}, false), a);

  // The measure sees exactly the selected rows, in ladder order.
  std::vector<std::pair<Index, float>> seen;
  const std::vector<SweepCell> cells = sweep_ladder(layers, ladder({0, 1}, {4, 64}), [&](const MatrixView<float>& x) {
    seen.emplace_back(x.cols, x.row(0)[0]);
    return static_cast<double>(x.cols) * 10.0;
  });
  ASSERT_EQ(cells.size(), 4u);
  for (std::size_t c = 0; c < cells.size(); ++c) {
    const LadderStep step = ladder({0, 1}, {4, 64})[c];
    EXPECT_EQ(cells[c].layer, step.layer);
    EXPECT_EQ(cells[c].dim, step.dim);
    EXPECT_EQ(cells[c].value, 10.0 * static_cast<double>(step.dim));
    EXPECT_EQ(seen[c].second, select_2d(layers, step)(0, 0));
  }
  // A bad step is refused before anything is measured.
  int calls = 0;
  EXPECT_THROW(sweep_ladder(layers, {{0, 8}, {1, 65}}, [&](const MatrixView<float>&) { return double(++calls); }),
               InvalidArgument);
  EXPECT_EQ(calls, 0);
  EXPECT_THROW(select_2d(layers, {2, 8}), InvalidArgument);
  EXPECT_THROW(select_2d(layers, {0, 0}), InvalidArgument);
  const RowMatrixf fewer = b.topRows(10);
  EXPECT_THROW(select_2d({a, fewer}, {0, 8}), DimensionMismatch);
  EXPECT_THROW(select_2d({}, {0, 8}), EmptyInput);
}

// The funnel by its definition: the `shortlist` nearest by cosine of the first m
// dims (each side renormalised), then the k best of them by full cosine.
IdMatrix funnel_reference(const RowMatrixf& queries, const RowMatrixf& base, Index k, Index m, Index shortlist) {
  const RowMatrixf qm = truncate_dims(queries, m), bm = truncate_dims(base, m);
  const RowMatrixf qd = l2_normalize(queries), bd = l2_normalize(base);
  IdMatrix ids(queries.rows(), k);
  for (Index i = 0; i < queries.rows(); ++i) {
    std::vector<Index> order(static_cast<std::size_t>(base.rows()));
    std::iota(order.begin(), order.end(), Index{0});
    std::vector<double> short_score(order.size()), full_score(order.size());
    for (Index j = 0; j < base.rows(); ++j) {
      short_score[static_cast<std::size_t>(j)] = qm.row(i).cast<double>().dot(bm.row(j).cast<double>());
      full_score[static_cast<std::size_t>(j)] = qd.row(i).cast<double>().dot(bd.row(j).cast<double>());
    }
    std::stable_sort(order.begin(), order.end(), [&](Index x, Index y) {
      return short_score[static_cast<std::size_t>(x)] > short_score[static_cast<std::size_t>(y)];
    });
    order.resize(static_cast<std::size_t>(shortlist));
    std::stable_sort(order.begin(), order.end(), [&](Index x, Index y) {
      const double sx = full_score[static_cast<std::size_t>(x)], sy = full_score[static_cast<std::size_t>(y)];
      return sx > sy || (sx == sy && x < y);
    });
    for (Index e = 0; e < k; ++e) ids(i, e) = order[static_cast<std::size_t>(e)];
  }
  return ids;
}

TEST(Funnel, FollowsItsDefinitionAndIsExactAtFullDimension) {
  const RowMatrixf x = read_npy_matrix<float>(kEncoders + "mlp_seed0.npy");
  const RowMatrixf base = x.topRows(1800), queries = x.bottomRows(200);
  const KnnGraph exact = knn(queries, base, 10, Metric::cosine);
  FunnelOptions options;
  options.shortlist = 40;
  for (const Index m : {8, 16, 64}) {
    options.shortlist_dim = m;
    const KnnGraph found = funnel_knn(queries, base, 10, options);
    const IdMatrix reference = funnel_reference(queries, base, 10, m, 40);
    // Near-ties in float may swap a candidate at the shortlist's edge.
    EXPECT_GE(neighbor_recall(found.ids, reference, 10), 0.998) << "m=" << m;
    if (m == 64) {
      EXPECT_EQ(found.ids, exact.ids);
      // Scores from the pair kernel of the re-scoring, the search's from the GEMM tile: float rounding apart.
      EXPECT_LT((found.scores - exact.scores).cwiseAbs().maxCoeff(), 1e-6f);
    }
  }
  const std::vector<FunnelPoint> curve = funnel_curve(base, queries, {4, 16, 64}, 10, 40);
  ASSERT_EQ(curve.size(), 3u);
  EXPECT_EQ(curve[2].recall, 1.0);  // m = d: the exact recall
  EXPECT_LT(curve[0].recall, curve[2].recall);
  // A longer shortlist recovers more of the exact neighbours.
  options.shortlist_dim = 8;
  options.shortlist = 10;
  const double narrow = neighbor_recall(funnel_knn(queries, base, 10, options).ids, exact.ids, 10);
  options.shortlist = 200;
  const double wide = neighbor_recall(funnel_knn(queries, base, 10, options).ids, exact.ids, 10);
  EXPECT_LT(narrow, wide);

  options.shortlist = 5;
  EXPECT_THROW(funnel_knn(queries, base, 10, options), InvalidArgument);
  options.shortlist = 40;
  options.shortlist_dim = 65;
  EXPECT_THROW(funnel_knn(queries, base, 10, options), InvalidArgument);
  EXPECT_THROW(funnel_knn(RowMatrixf(queries.leftCols(8)), base, 10, options), DimensionMismatch);
}

}  // namespace
}  // namespace latent
