// The similarity module's search functions: validation at the boundary (one test
// per exception, each message naming the argument), agreement with brute force in
// double, sharded semantic search equal to plain knn, paraphrase mining.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/similarity.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

RowMatrixf random_matrix(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  return testing::random_normal<float>(rows, cols, seed);
}

using testing::message_of;

TEST(Search, MergingShardsEqualsSearchingTheirConcatenation) {
  const RowMatrixf q = random_matrix(7, 8, 11), b = random_matrix(40, 8, 12);
  const KnnGraph whole = knn(q, b, 6, Metric::l2);
  KnnGraph merged = knn(q, b.topRows(25), 6, Metric::l2);
  KnnGraph tail = knn(q, b.bottomRows(15), 6, Metric::l2);
  tail.ids.array() += 25;
  merge_knn(merged, tail);
  EXPECT_EQ(merged.ids, whole.ids);
  EXPECT_EQ(merged.scores, whole.scores);
  // Other queries, or another metric: refused by name.
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { merge_knn(merged, knn(q.topRows(3), b, 6, Metric::l2)); }),
                  "extra");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { merge_knn(merged, knn(q, b, 6, Metric::cosine)); }), "metric");
}

// knn over `kept` base rows, gathered in order, with the ids mapped back.
template <class T>
KnnGraph knn_over_rows(const RowMatrix<T>& q, const RowMatrix<T>& b, const std::vector<std::int64_t>& kept,
                       std::int64_t k, Metric metric) {
  RowMatrix<T> rows(static_cast<std::int64_t>(kept.size()), b.cols());
  for (std::size_t r = 0; r < kept.size(); ++r) rows.row(static_cast<std::int64_t>(r)) = b.row(kept[r]);
  KnnGraph graph = knn(q, rows, k, metric);
  for (Eigen::Index j = 0; j < graph.ids.size(); ++j) graph.ids.data()[j] = kept[graph.ids.data()[j]];
  return graph;
}

template <class T>
void check_id_filters() {
  const RowMatrix<T> q = testing::random_normal<T>(9, 12, 61), b = testing::random_normal<T>(700, 12, 62);
  std::mt19937 rng(63);
  std::vector<std::int64_t> all(700);
  for (std::int64_t i = 0; i < 700; ++i) all[static_cast<std::size_t>(i)] = i;
  for (const Metric metric : {Metric::l2, Metric::cosine, Metric::angular, Metric::l1}) {
    // allow lists, deny lists short (search past them) and long (gather the rest)
    for (const std::size_t listed : {std::size_t{3}, std::size_t{40}, std::size_t{500}}) {
      std::vector<std::int64_t> ids = all;
      std::shuffle(ids.begin(), ids.end(), rng);
      ids.resize(listed);
      ids.push_back(ids.front());  // a duplicate is ignored
      std::vector<std::int64_t> allowed(ids.begin(), ids.end() - 1), denied;
      std::sort(allowed.begin(), allowed.end());
      std::set_difference(all.begin(), all.end(), allowed.begin(), allowed.end(), std::back_inserter(denied));
      const KnnGraph by_allow = knn(q, b, 3, metric, IdFilter::allow(ids));
      const KnnGraph expected_allow = knn_over_rows(q, b, allowed, 3, metric);
      EXPECT_EQ(by_allow.ids, expected_allow.ids) << to_string(metric) << " allow " << listed;
      EXPECT_EQ(by_allow.scores, expected_allow.scores) << to_string(metric) << " allow " << listed;
      const KnnGraph by_deny = knn(q, b, 10, metric, IdFilter::deny(ids), SearchOptions{Parallel{2}});
      const KnnGraph expected_deny = knn_over_rows(q, b, denied, 10, metric);
      EXPECT_EQ(by_deny.ids, expected_deny.ids) << to_string(metric) << " deny " << listed;
      EXPECT_EQ(by_deny.scores, expected_deny.scores) << to_string(metric) << " deny " << listed;
      for (Eigen::Index j = 0; j < by_deny.ids.size(); ++j)
        EXPECT_FALSE(std::binary_search(allowed.begin(), allowed.end(), by_deny.ids.data()[j]));
    }
  }
  // An empty deny list is plain knn.
  const KnnGraph plain = knn(q, b, 5, Metric::l2), unfiltered = knn(q, b, 5, Metric::l2, IdFilter::deny({}));
  EXPECT_EQ(plain.ids, unfiltered.ids);
  EXPECT_EQ(plain.scores, unfiltered.scores);
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { knn(q, b, 1, Metric::l2, IdFilter::allow({700})); }), "id 700");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { knn(q, b, 1, Metric::l2, IdFilter::deny({-1})); }), "filter");
  EXPECT_CONTAINS(message_of<InvalidK>([&] { knn(q, b, 3, Metric::l2, IdFilter::allow({4, 5, 4})); }), "k=3");
  EXPECT_THROW(knn(q, b, 1, Metric::l2, IdFilter::allow({})), InvalidK);
  EXPECT_THROW(knn(q, b, 651, Metric::l2, IdFilter::deny(std::vector<std::int64_t>(all.begin(), all.begin() + 50))),
               InvalidK);
}

TEST(Search, IdFiltersEqualSearchingTheRowsTheyLetThrough) {
  check_id_filters<float>();
  check_id_filters<double>();
}

// The edges of a SparseGraph as a set of (i, j).
std::set<std::pair<std::int64_t, std::int64_t>> edge_set(const SparseGraph& g) {
  std::set<std::pair<std::int64_t, std::int64_t>> edges;
  for (std::int64_t i = 0; i < g.n(); ++i)
    for (std::int64_t e = g.offsets[static_cast<std::size_t>(i)]; e < g.offsets[static_cast<std::size_t>(i) + 1]; ++e)
      edges.emplace(i, g.ids[static_cast<std::size_t>(e)]);
  return edges;
}

// Each row nearest first, ties to the smaller id.
void expect_rows_sorted(const SparseGraph& g) {
  const bool larger_first = is_similarity(g.metric);
  for (std::int64_t i = 0; i < g.n(); ++i)
    for (auto e = g.offsets[static_cast<std::size_t>(i)] + 1; e < g.offsets[static_cast<std::size_t>(i) + 1]; ++e) {
      const auto at = static_cast<std::size_t>(e);
      const float a = g.scores[at - 1], b = g.scores[at];
      EXPECT_TRUE(a == b ? g.ids[at - 1] < g.ids[at] : (larger_first ? a > b : a < b)) << "row " << i;
    }
}

TEST(Search, SymmetricAndMutualKnnGraphs) {
  const RowMatrixf x = random_matrix(300, 6, 71);
  for (const Metric metric : {Metric::l2, Metric::cosine}) {
    const KnnGraph graph = knn_graph(x, 5, metric);
    std::set<std::pair<std::int64_t, std::int64_t>> directed, either, mutual;
    for (std::int64_t i = 0; i < 300; ++i)
      for (std::int64_t r = 0; r < 5; ++r) directed.emplace(i, graph.ids(i, r));
    for (const auto& [i, j] : directed) {
      either.emplace(i, j);
      either.emplace(j, i);
      if (directed.count({j, i})) mutual.emplace(i, j);
    }
    const SparseGraph sym = symmetric_knn_graph(graph, Symmetry::either);
    const SparseGraph mut = symmetric_knn_graph(graph, Symmetry::mutual);
    EXPECT_EQ(edge_set(sym), either);
    EXPECT_EQ(edge_set(mut), mutual);
    EXPECT_LT(mut.edges(), 300 * 5);
    EXPECT_GT(sym.edges(), 300 * 5);
    expect_rows_sorted(sym);
    expect_rows_sorted(mut);
    // Every score is the pair's score as one of the two rows lists it.
    const RowMatrixf scores = similarity(x, x, metric);
    for (std::int64_t i = 0; i < 300; ++i)
      for (auto e = sym.offsets[static_cast<std::size_t>(i)]; e < sym.offsets[static_cast<std::size_t>(i) + 1]; ++e) {
        const std::int64_t j = sym.ids[static_cast<std::size_t>(e)];
        EXPECT_NEAR(sym.scores[static_cast<std::size_t>(e)], scores(i, j), 1e-5) << i << " " << j;
      }
  }
  KnnGraph self = knn_graph(x, 2, Metric::l2);
  self.ids(4, 1) = 4;
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { symmetric_knn_graph(self, Symmetry::either); }), "own neighbour");
  self.ids(4, 1) = self.ids(4, 0);
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { symmetric_knn_graph(self, Symmetry::mutual); }), "twice");
  self.ids(4, 1) = 300;
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { symmetric_knn_graph(self, Symmetry::mutual); }), "id 300");
}

TEST(Search, EpsilonGraphHoldsEveryPairWithinEpsilon) {
  const RowMatrixf x = random_matrix(250, 5, 72);
  for (const auto& [metric, epsilon] : {std::pair{Metric::l2, 1.5}, std::pair{Metric::cosine, 0.8},
                                        std::pair{Metric::sqeuclidean, 2.0}, std::pair{Metric::angular, 0.75}}) {
    const RowMatrixd reference = similarity(RowMatrixd(x.cast<double>()), RowMatrixd(x.cast<double>()), metric);
    const SparseGraph g = epsilon_graph(x, epsilon, metric, SearchOptions{Parallel{2}});
    std::set<std::pair<std::int64_t, std::int64_t>> expected, borderline;
    for (std::int64_t i = 0; i < 250; ++i)
      for (std::int64_t j = 0; j < 250; ++j) {
        if (i == j) continue;
        const double s = reference(i, j);
        if (std::abs(s - epsilon) < 1e-5) borderline.emplace(i, j);  // float rounding may put it either side
        else if (is_similarity(metric) ? s >= epsilon : s <= epsilon) expected.emplace(i, j);
      }
    std::set<std::pair<std::int64_t, std::int64_t>> found = edge_set(g);
    EXPECT_LE(borderline.size(), 4u) << to_string(metric);
    for (const auto& pair : borderline) found.erase(pair);
    EXPECT_EQ(found, expected) << to_string(metric);
    EXPECT_GT(found.size(), 250u) << to_string(metric);
    expect_rows_sorted(g);
    // The same graph from doubles.
    std::set<std::pair<std::int64_t, std::int64_t>> from_doubles =
        edge_set(epsilon_graph(RowMatrixd(x.cast<double>()), epsilon, metric));
    for (const auto& pair : borderline) from_doubles.erase(pair);
    EXPECT_EQ(from_doubles, expected);
  }
  EXPECT_THROW(epsilon_graph(x, std::nan(""), Metric::l2), InvalidArgument);
  RowMatrixf bad = x;
  bad(3, 1) = std::nanf("");
  EXPECT_THROW(epsilon_graph(bad, 1.0, Metric::l2), NonFiniteValue);
}

TEST(Search, EveryBadInputHasItsTypedError) {
  const RowMatrixf q = random_matrix(5, 8, 1), b = random_matrix(20, 8, 2), wide = random_matrix(20, 9, 3);
  const RowMatrixf empty(0, 8);
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { knn(empty, b, 3, Metric::l2); }), "latent::knn: queries: is empty");
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { knn(q, empty, 3, Metric::l2); }), "latent::knn: base: is empty");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { knn(q, wide, 3, Metric::l2); }), "latent::knn: queries:");
  EXPECT_CONTAINS(message_of<InvalidK>([&] { knn(q, b, 0, Metric::l2); }), "k=0");
  EXPECT_CONTAINS(message_of<InvalidK>([&] { knn(q, b, 21, Metric::l2); }), "k=21");
  EXPECT_NO_THROW(knn(q, b, 20, Metric::l2));
  EXPECT_CONTAINS(message_of<InvalidK>([&] { knn_graph(b, 20, Metric::l2); }), "self excluded");
  EXPECT_NO_THROW(knn_graph(b, 19, Metric::l2));
  const RowMatrixf single = random_matrix(1, 8, 4);
  EXPECT_THROW(knn_graph(single, 1, Metric::l2), InvalidK);

  // NaN / Inf at the first and at the last element, in either input.
  for (const auto& [row, col] : std::vector<std::pair<int, int>>{{0, 0}, {19, 7}}) {
    RowMatrixf bad = b;
    bad(row, col) = std::numeric_limits<float>::quiet_NaN();
    EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { knn(q, bad, 3, Metric::ip); }),
                    "base: contains a non-finite value (NaN at row " + std::to_string(row) + ", column " +
                        std::to_string(col) + ")");
    bad(row, col) = std::numeric_limits<float>::infinity();
    EXPECT_THROW(knn_graph(bad, 3, Metric::l2), NonFiniteValue);
    EXPECT_THROW(similarity(bad, q, Metric::l1), NonFiniteValue);
  }
  SearchOptions trusting;
  trusting.validate_finite = false;
  RowMatrixf nan_base = b;
  nan_base(3, 3) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NO_THROW(knn(q, nan_base, 3, Metric::l2, trusting));
}

TEST(Search, ZeroRowsUnderCosineFollowThePolicy) {
  RowMatrixf b = random_matrix(30, 6, 5);
  b.row(12).setZero();
  const RowMatrixf q = random_matrix(4, 6, 6);
  EXPECT_CONTAINS(message_of<NumericalError>([&] { knn(q, b, 3, Metric::cosine); }),
                  "latent::knn: base: has a zero row, whose cosine is undefined (row 12");
  EXPECT_NO_THROW(knn(q, b, 3, Metric::l2));  // only cosine cares
  SearchOptions zero;
  zero.zero_norm = ZeroNormPolicy::zero;
  const RowMatrixf s = similarity(q, b, Metric::cosine, zero);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(s(i, 12), 0.0f);
  // Tiny but non-zero rows are fine: their cosine is defined.
  RowMatrixf tiny = random_matrix(3, 6, 7) * 1e-30f;
  EXPECT_NO_THROW(knn(q, tiny, 2, Metric::cosine));
}

TEST(Search, AngularIsOneMinusTheAngleOverPiAndRanksAsCosine) {
  EXPECT_DOUBLE_EQ(angular_from_cosine(1.0), 1.0);
  EXPECT_DOUBLE_EQ(angular_from_cosine(0.0), 0.5);
  EXPECT_DOUBLE_EQ(angular_from_cosine(-1.0), 0.0);
  EXPECT_DOUBLE_EQ(angular_from_cosine(0.5), 1.0 - 1.0 / 3.0);  // 60 degrees
  EXPECT_DOUBLE_EQ(angular_from_cosine(1.0000001), 1.0);        // rounding past 1 is clamped
  EXPECT_TRUE(std::isnan(angular_from_cosine(std::nan(""))));
  EXPECT_NEAR(cosine_from_angular(angular_from_cosine(0.3)), 0.3, 1e-15);
  EXPECT_EQ(parse_metric("angular"), Metric::angular);
  EXPECT_TRUE(is_similarity(Metric::angular));
  // The float GEMM path, a self graph and sharded semantic search: cosine's
  // lists, with each kept score transformed.
  const RowMatrixf q = random_matrix(37, 24, 40), b = random_matrix(500, 24, 41);
  const KnnGraph cosine = knn(q, b, 7, Metric::cosine), angular = knn(q, b, 7, Metric::angular);
  EXPECT_EQ(angular.metric, Metric::angular);
  EXPECT_EQ(angular.ids, cosine.ids);
  for (int i = 0; i < 37; ++i)
    for (int r = 0; r < 7; ++r)
      EXPECT_FLOAT_EQ(angular.scores(i, r), static_cast<float>(angular_from_cosine(cosine.scores(i, r))));
  const RowMatrixf dense = similarity(q, b, Metric::angular), dense_cosine = similarity(q, b, Metric::cosine);
  EXPECT_FLOAT_EQ(dense(3, 99), static_cast<float>(angular_from_cosine(dense_cosine(3, 99))));
  EXPECT_EQ(knn_graph(b, 5, Metric::angular).ids, knn_graph(b, 5, Metric::cosine).ids);
  const KnnGraph sharded = semantic_search(q, {b.topRows(200), b.bottomRows(300)}, 7, Metric::angular);
  EXPECT_EQ(sharded.ids, angular.ids);
  EXPECT_EQ(sharded.scores, angular.scores);
  // A zero row has no angle either.
  RowMatrixf zero_row = b;
  zero_row.row(5).setZero();
  EXPECT_CONTAINS(message_of<NumericalError>([&] { knn(q, zero_row, 3, Metric::angular); }), "row 5");
  SearchOptions zero;
  zero.zero_norm = ZeroNormPolicy::zero;
  EXPECT_FLOAT_EQ(similarity(q, zero_row, Metric::angular, zero)(0, 5), 0.5f);
}

TEST(Search, DoubleInputsMatchBruteForce) {
  const RowMatrixd q = random_matrix(9, 13, 8).cast<double>(), b = random_matrix(200, 13, 9).cast<double>();
  for (const Metric metric :
       {Metric::cosine, Metric::ip, Metric::l2, Metric::sqeuclidean, Metric::l1, Metric::linf, Metric::angular}) {
    const KnnGraph graph = knn(q, b, 5, metric);
    const RowMatrixd dense = similarity(q, b, metric);
    EXPECT_EQ(graph.metric, metric);
    EXPECT_FALSE(graph.self_excluded);
    for (int i = 0; i < 9; ++i) {
      std::vector<std::pair<double, std::int64_t>> order;
      for (int j = 0; j < 200; ++j) {
        const Eigen::RowVectorXd x = q.row(i), y = b.row(j);
        double value = 0;
        switch (metric) {
          case Metric::cosine:
            value = x.dot(y) / (x.norm() * y.norm());
            break;
          case Metric::ip:
            value = x.dot(y);
            break;
          case Metric::l2:
            value = (x - y).norm();
            break;
          case Metric::sqeuclidean:
            value = (x - y).squaredNorm();
            break;
          case Metric::l1:
            value = (x - y).cwiseAbs().sum();
            break;
          case Metric::linf:
            value = (x - y).cwiseAbs().maxCoeff();
            break;
          case Metric::angular:
            value = 1.0 - std::acos(x.dot(y) / (x.norm() * y.norm())) / 3.141592653589793;
            break;
        }
        EXPECT_NEAR(dense(i, j), value, 1e-12 * (1 + std::fabs(value)));
        order.emplace_back(is_similarity(metric) ? -value : value, j);
      }
      std::sort(order.begin(), order.end());
      for (int r = 0; r < 5; ++r) {
        EXPECT_EQ(graph.ids(i, r), order[static_cast<std::size_t>(r)].second) << to_string(metric);
        EXPECT_FLOAT_EQ(graph.scores(i, r),
                        static_cast<float>(is_similarity(metric) ? -order[static_cast<std::size_t>(r)].first
                                                                 : order[static_cast<std::size_t>(r)].first));
      }
    }
  }
}

TEST(Search, KnnGraphIsKnnWithoutTheRowItself) {
  const RowMatrixf x = random_matrix(400, 32, 10);
  const KnnGraph graph = knn_graph(x, 6, Metric::cosine);
  const KnnGraph with_self = knn(x, x, 7, Metric::cosine);
  EXPECT_TRUE(graph.self_excluded);
  for (int i = 0; i < 400; ++i) {
    // Under cosine, a row is its own nearest neighbour: dropping it leaves the rest.
    ASSERT_EQ(with_self.ids(i, 0), i);
    for (int r = 0; r < 6; ++r) {
      EXPECT_EQ(graph.ids(i, r), with_self.ids(i, r + 1));
      EXPECT_EQ(graph.scores(i, r), with_self.scores(i, r + 1));
    }
  }
}

TEST(Search, ShardedSemanticSearchEqualsKnnOverTheWhole) {
  const RowMatrixf q = random_matrix(25, 48, 11), corpus = random_matrix(1000, 48, 12);
  for (const Metric metric : {Metric::cosine, Metric::l2, Metric::l1}) {
    const KnnGraph whole = knn(q, corpus, 10, metric);
    // Shards of 3 rows (fewer than k), 0 rows, 600 and 397 rows.
    const std::vector<MatrixView<float>> shards = {corpus.block(0, 0, 3, 48), corpus.block(3, 0, 0, 48),
                                                   corpus.block(3, 0, 600, 48), corpus.block(603, 0, 397, 48)};
    const KnnGraph sharded = semantic_search(q, shards, 10, metric);
    EXPECT_TRUE((sharded.ids.array() == whole.ids.array()).all()) << to_string(metric);
    EXPECT_TRUE((sharded.scores.array() == whole.scores.array()).all()) << to_string(metric);
  }
  const RowMatrixf other = random_matrix(5, 47, 13);
  EXPECT_THROW(semantic_search(q, {other}, 3), DimensionMismatch);
  EXPECT_THROW(semantic_search(q, {corpus.block(0, 0, 3, 48)}, 4), InvalidK);
}

TEST(Search, ParaphraseMiningFindsEachPairOnceNearestFirst) {
  RowMatrixf x = random_matrix(120, 16, 14);
  x.row(77) = x.row(5) * 2.0f;  // cosine 1: the top pair
  ParaphraseOptions options;
  options.top_k = 4;
  options.max_pairs = 1000;
  const std::vector<ScoredPair> pairs = paraphrase_mining(x, options);
  ASSERT_FALSE(pairs.empty());
  EXPECT_EQ(pairs[0].i, 5);
  EXPECT_EQ(pairs[0].j, 77);
  EXPECT_NEAR(pairs[0].score, 1.0f, 1e-6f);
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  const KnnGraph graph = knn_graph(x, 4, Metric::cosine);
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    EXPECT_LT(pairs[p].i, pairs[p].j);
    EXPECT_TRUE(seen.insert({pairs[p].i, pairs[p].j}).second) << "duplicate pair";
    if (p > 0) {
      EXPECT_GE(pairs[p - 1].score, pairs[p].score);
    }
    // The pair is in one of the two lists.
    bool listed = false;
    for (int r = 0; r < 4; ++r)
      listed = listed || graph.ids(pairs[p].i, r) == pairs[p].j || graph.ids(pairs[p].j, r) == pairs[p].i;
    EXPECT_TRUE(listed);
  }
  // Every listed pair is reported: union of the lists.
  std::set<std::pair<std::int64_t, std::int64_t>> listed;
  for (int i = 0; i < 120; ++i)
    for (int r = 0; r < 4; ++r)
      listed.insert({std::min<std::int64_t>(i, graph.ids(i, r)), std::max<std::int64_t>(i, graph.ids(i, r))});
  EXPECT_EQ(seen, listed);
  options.max_pairs = 7;
  EXPECT_EQ(paraphrase_mining(x, options).size(), 7u);
  options.top_k = 0;
  EXPECT_THROW(paraphrase_mining(x, options), InvalidK);
  const RowMatrixf one = random_matrix(1, 16, 15);
  EXPECT_THROW(paraphrase_mining(one), EmptyInput);
}

TEST(Search, ResultsIdenticalForOneAndTwoThreads) {
  const RowMatrixf x = random_matrix(3000, 50, 16);
  SearchOptions one, two;
  one.parallel.threads = 1;
  two.parallel.threads = 2;
  two.base_block_rows = 128;
  for (const Metric metric : {Metric::cosine, Metric::l2, Metric::linf}) {
    const KnnGraph a = knn_graph(x, 10, metric, one);
    const KnnGraph b = knn_graph(x, 10, metric, two);
    EXPECT_TRUE((a.ids.array() == b.ids.array()).all());
    EXPECT_TRUE((a.scores.array() == b.scores.array()).all());
  }
}

}  // namespace
}  // namespace latent
