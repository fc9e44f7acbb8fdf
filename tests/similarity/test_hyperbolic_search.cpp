// Hyperbolic embeddings: exact kNN through the Lorentz -> MIPS reduction against
// the sorted distance matrix (both models, several curvatures, float and double,
// the bundled encoder latents mapped into the ball and onto the hyperboloid, rows
// near the boundary where the GEMM bound fails and queries fall back to the scan,
// duplicates), agreement of the two models on isometric images, thread
// independence, hyperbolic norms and HiT's subsumption score against their
// formulas, and the errors of each entry point.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/similarity/hyperbolic.hpp"
#include "support/ball_points.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using Index = std::int64_t;
using testing::message_of;

using testing::ball_points;

template <class T>
RowMatrix<T> points_of(HyperbolicModel model, Index rows, Index dim, double c, std::uint32_t seed) {
  if (model == HyperbolicModel::poincare) return ball_points<T>(rows, dim, c, 0.95, seed);
  return (2.0 * testing::random_normal<double>(rows, dim, seed)).cast<T>();
}

// The reference: every distance in double (the rows converted exactly), each row's
// k smallest by (distance, id); `self` leaves row i out of its own list.
template <class T>
KnnGraph brute_force(const RowMatrix<T>& queries, const RowMatrix<T>& base, Index k, const HyperbolicEmbedding& space,
                     bool self) {
  const RowMatrixd distances = hyperbolic_distances(RowMatrixd(queries.template cast<double>()),
                                                    RowMatrixd(base.template cast<double>()), space);
  KnnGraph graph;
  graph.ids.resize(queries.rows(), k);
  graph.scores.resize(queries.rows(), k);
  for (Index i = 0; i < queries.rows(); ++i) {
    std::vector<Index> order;
    for (Index j = 0; j < base.rows(); ++j)
      if (!(self && j == i)) order.push_back(j);
    std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return distances(i, a) < distances(i, b); });
    for (Index e = 0; e < k; ++e) {
      graph.ids(i, e) = order[static_cast<std::size_t>(e)];
      graph.scores(i, e) = static_cast<float>(distances(i, order[static_cast<std::size_t>(e)]));
    }
  }
  return graph;
}

void expect_same_graph(const KnnGraph& got, const KnnGraph& expected, const std::string& context) {
  ASSERT_EQ(got.ids.rows(), expected.ids.rows()) << context;
  ASSERT_EQ(got.ids.cols(), expected.ids.cols()) << context;
  for (Index i = 0; i < got.ids.rows(); ++i) {
    for (Index e = 0; e < got.ids.cols(); ++e) {
      ASSERT_EQ(got.ids(i, e), expected.ids(i, e)) << context << " query " << i << " rank " << e;
      ASSERT_EQ(got.scores(i, e), expected.scores(i, e)) << context << " query " << i << " rank " << e;
    }
  }
}

const HyperbolicModel kModels[] = {HyperbolicModel::poincare, HyperbolicModel::lorentz};

template <class T>
class HyperbolicSearch : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(HyperbolicSearch, Scalars);

TYPED_TEST(HyperbolicSearch, EqualsTheSortedDistanceMatrix) {
  using T = TypeParam;
  for (const HyperbolicModel model : kModels) {
    for (const double c : {0.1, 1.0, 2.5}) {
      for (const Index dim : {3, 17, 64}) {
        const HyperbolicEmbedding space{model, c};
        const RowMatrix<T> base = points_of<T>(model, 400, dim, c, 3);
        const RowMatrix<T> queries = points_of<T>(model, 37, dim, c, 4);
        const std::string context =
            std::string(to_string(model)) + " c=" + std::to_string(c) + " dim=" + std::to_string(dim);
        for (const Index k : {1, 10, 400}) {
          const KnnGraph got = hyperbolic_knn(queries, base, k, space);
          EXPECT_EQ(got.metric, Metric::l2);
          EXPECT_FALSE(got.self_excluded);
          expect_same_graph(got, brute_force(queries, base, k, space, false), context + " k=" + std::to_string(k));
        }
        const KnnGraph graph = hyperbolic_knn_graph(base, 7, space);
        EXPECT_TRUE(graph.self_excluded);
        expect_same_graph(graph, brute_force(base, base, 7, space, true), context + " graph");
      }
    }
  }
}

// Scores are the distances of the matrix form, rounded to float once.
TYPED_TEST(HyperbolicSearch, ScoresAreTheDistanceMatrixEntries) {
  using T = TypeParam;
  for (const HyperbolicModel model : kModels) {
    const HyperbolicEmbedding space{model, 1.3};
    const RowMatrix<T> base = points_of<T>(model, 300, 24, 1.3, 5);
    const RowMatrix<T> queries = points_of<T>(model, 20, 24, 1.3, 6);
    const RowMatrix<T> distances = hyperbolic_distances(queries, base, space);
    const KnnGraph got = hyperbolic_knn(queries, base, 12, space);
    for (Index i = 0; i < got.ids.rows(); ++i)
      for (Index e = 0; e < got.ids.cols(); ++e)
        EXPECT_EQ(got.scores(i, e), static_cast<float>(distances(i, got.ids(i, e))));
  }
}

// The bundled encoder latents (2,000 Fashion-MNIST images, 64-d), scaled to mean
// norm 1 and mapped into the ball and onto the hyperboloid by the exponential maps.
TEST(HyperbolicSearch, EncoderLatentsMappedIntoBothModels) {
  const RowMatrixf latents = read_npy_matrix<float>(std::string(LATENT_SOURCE_DIR) + "/data/encoders/mlp_seed0.npy");
  const float mean_norm = static_cast<float>(latents.rowwise().norm().mean());
  const RowMatrixf tangent = latents / mean_norm;
  const RowMatrixf ball = poincare_expmap0(tangent, 1.0);
  const RowMatrixf hyperboloid = lorentz_expmap0(tangent, 1.0);
  const RowMatrixf base_ball = ball.topRows(1800), queries_ball = ball.bottomRows(200);
  const RowMatrixf base_lorentz = hyperboloid.topRows(1800), queries_lorentz = hyperboloid.bottomRows(200);
  const HyperbolicEmbedding poincare{HyperbolicModel::poincare, 1.0};
  const HyperbolicEmbedding lorentz{HyperbolicModel::lorentz, 1.0};
  expect_same_graph(hyperbolic_knn(queries_ball, base_ball, 10, poincare),
                    brute_force(queries_ball, base_ball, 10, poincare, false), "poincare");
  expect_same_graph(hyperbolic_knn(queries_lorentz, base_lorentz, 10, lorentz),
                    brute_force(queries_lorentz, base_lorentz, 10, lorentz, false), "lorentz");
  expect_same_graph(hyperbolic_knn_graph(base_ball, 10, poincare),
                    brute_force(base_ball, base_ball, 10, poincare, true), "poincare graph");
}

// poincare_to_lorentz is an isometry: both searches find the same neighbours at the
// same distances (to rounding).
TEST(HyperbolicSearch, PoincareRowsAndTheirLorentzImagesHaveTheSameNeighbours) {
  const double c = 0.7;
  const RowMatrixd ball = ball_points<double>(500, 16, c, 0.9, 8);
  const RowMatrixd images = poincare_to_lorentz(ball, c);
  const KnnGraph in_ball = hyperbolic_knn_graph(ball, 10, {HyperbolicModel::poincare, c});
  const KnnGraph on_hyperboloid = hyperbolic_knn_graph(images, 10, {HyperbolicModel::lorentz, c});
  EXPECT_EQ(in_ball.ids, on_hyperboloid.ids);
  for (Index i = 0; i < in_ball.scores.size(); ++i)
    EXPECT_NEAR(in_ball.scores.data()[i], on_hyperboloid.scores.data()[i], 1e-5 * in_ball.scores.data()[i]);
}

// Clusters of rows a few 1e-7 apart within 1e-6 of the boundary (the Lorentz
// images have t ~ 1e6): the GEMM bound cannot separate the neighbours and every
// query is scanned with the stable form. Far-out Lorentz rows alike.
TEST(HyperbolicSearch, RowsNearTheBoundaryFallBackToTheExactScan) {
  std::mt19937 rng(9);
  std::normal_distribution<double> normal;
  const Index dim = 8, clusters = 6, per_cluster = 40;
  RowMatrixd ball(clusters * per_cluster, dim);
  for (Index g = 0; g < clusters; ++g) {
    Eigen::RowVectorXd center(dim);
    for (Index j = 0; j < dim; ++j) center(j) = normal(rng);
    center *= (1.0 - 1e-6) / center.norm();
    for (Index r = 0; r < per_cluster; ++r) {
      Eigen::RowVectorXd x = center;
      for (Index j = 0; j < dim; ++j) x(j) += 1e-7 * normal(rng);
      if (x.norm() >= 1.0 - 1e-7) x *= (1.0 - 1e-6) / x.norm();
      ball.row(g * per_cluster + r) = x;
    }
  }
  const HyperbolicEmbedding poincare{HyperbolicModel::poincare, 1.0};
  expect_same_graph(hyperbolic_knn_graph(ball, 5, poincare), brute_force(ball, ball, 5, poincare, true), "poincare");

  // Lorentz: clusters of rows 1e-2 apart at ||x_space|| ~ 1e6, so t^2 ~ 1e13.
  const RowMatrixd centers = 1e6 * testing::random_normal<double>(clusters, dim, 10);
  RowMatrixd far = 1e-2 * testing::random_normal<double>(clusters * per_cluster, dim, 11);
  for (Index i = 0; i < far.rows(); ++i) far.row(i) += centers.row(i % clusters);
  const HyperbolicEmbedding lorentz{HyperbolicModel::lorentz, 1.0};
  expect_same_graph(hyperbolic_knn_graph(far, 5, lorentz), brute_force(far, far, 5, lorentz, true), "lorentz");
}

// Equal rows are at distance 0 from each other and ordered by id; a row's own id
// is left out of the graph, its duplicates are not.
TEST(HyperbolicSearch, DuplicatesAreOrderedById) {
  const RowMatrixf distinct = ball_points<float>(30, 5, 1.0, 0.9, 12);
  RowMatrixf base(60, 5);
  base << distinct, distinct;
  const HyperbolicEmbedding space{HyperbolicModel::poincare, 1.0};
  const KnnGraph graph = hyperbolic_knn_graph(base, 3, space);
  for (Index i = 0; i < 60; ++i) {
    EXPECT_EQ(graph.ids(i, 0), (i + 30) % 60) << i;
    EXPECT_EQ(graph.scores(i, 0), 0.0f) << i;
  }
  expect_same_graph(graph, brute_force(base, base, 3, space, true), "duplicates");
  const KnnGraph search = hyperbolic_knn(distinct, base, 2, space);
  for (Index i = 0; i < 30; ++i) {
    EXPECT_EQ(search.ids(i, 0), i);
    EXPECT_EQ(search.ids(i, 1), i + 30);
  }
}

TEST(HyperbolicSearch, ResultsDoNotDependOnThreadsOrBlocks) {
  const RowMatrixf base = ball_points<float>(700, 32, 1.0, 0.95, 13);
  const RowMatrixf queries = ball_points<float>(90, 32, 1.0, 0.95, 14);
  const HyperbolicEmbedding space{HyperbolicModel::poincare, 1.0};
  SearchOptions one;
  one.parallel.threads = 1;
  const KnnGraph reference = hyperbolic_knn(queries, base, 10, space, one);
  for (const int threads : {2, 4}) {
    SearchOptions options;
    options.parallel.threads = threads;
    options.query_block_rows = 7;
    options.base_block_rows = 50;
    expect_same_graph(hyperbolic_knn(queries, base, 10, space, options), reference,
                      "threads=" + std::to_string(threads));
  }
}

// ------------------------------------------------------------ norms and scores ----

TEST(HyperbolicNorms, AreTheDistanceFromTheOrigin) {
  for (const double c : {0.5, 1.0, 3.0}) {
    const RowMatrixd ball = ball_points<double>(50, 9, c, 0.999, 15);
    const std::vector<double> norms = hyperbolic_norms(ball, {HyperbolicModel::poincare, c});
    const Eigen::RowVectorXd origin = Eigen::RowVectorXd::Zero(9);
    for (Index i = 0; i < ball.rows(); ++i) {
      EXPECT_EQ(norms[static_cast<std::size_t>(i)], poincare_distance(ball.row(i), origin, c));
      const double closed = 2.0 / std::sqrt(c) * std::atanh(std::sqrt(c) * ball.row(i).norm());
      EXPECT_NEAR(norms[static_cast<std::size_t>(i)], closed, 1e-9 * closed);
    }
    const RowMatrixd space_rows = 3.0 * testing::random_normal<double>(50, 9, 16);
    const std::vector<double> lorentz = hyperbolic_norms(space_rows, {HyperbolicModel::lorentz, c});
    for (Index i = 0; i < space_rows.rows(); ++i) {
      EXPECT_NEAR(lorentz[static_cast<std::size_t>(i)], lorentz_distance(space_rows.row(i), origin, c),
                  1e-13 * lorentz[static_cast<std::size_t>(i)]);
    }
  }
  // Further out is more specific: the norm grows with the Euclidean radius.
  RowMatrixf radial(3, 2);
  radial << 0.1f, 0.0f, 0.5f, 0.0f, 0.9f, 0.0f;
  const std::vector<float> depth = hyperbolic_norms(radial, {});
  EXPECT_LT(depth[0], depth[1]);
  EXPECT_LT(depth[1], depth[2]);
}

TEST(SubsumptionScores, FollowHitsFormula) {
  for (const HyperbolicModel model : kModels) {
    const HyperbolicEmbedding space{model, 1.5};
    const RowMatrixd children = points_of<double>(model, 40, 6, 1.5, 17);
    const RowMatrixd parents = points_of<double>(model, 40, 6, 1.5, 18);
    const std::vector<double> scores = subsumption_scores(children, parents, space, 0.4);
    const std::vector<double> nc = hyperbolic_norms(children, space), np = hyperbolic_norms(parents, space);
    const RowMatrixd d = hyperbolic_distances(children, parents, space);
    for (Index i = 0; i < children.rows(); ++i) {
      const auto r = static_cast<std::size_t>(i);
      EXPECT_NEAR(scores[r], -(d(i, i) + 0.4 * (np[r] - nc[r])), 1e-12) << to_string(model) << " " << i;
    }
    // One parent scored against every child; lambda 0 leaves minus the distance.
    const std::vector<double> one = subsumption_scores(children, RowMatrixd(parents.topRows(1)), space, 0.0);
    for (Index i = 0; i < children.rows(); ++i) EXPECT_NEAR(one[static_cast<std::size_t>(i)], -d(i, 0), 1e-12);
  }
  // A child further out along its parent's direction scores above the reverse pair.
  RowMatrixf parent(1, 2), child(1, 2);
  parent << 0.3f, 0.0f;
  child << 0.6f, 0.0f;
  const HyperbolicEmbedding ball{};
  EXPECT_GT(subsumption_scores(child, parent, ball, 1.0)[0], subsumption_scores(parent, child, ball, 1.0)[0]);
}

// ------------------------------------------------------------------------ errors ----

TEST(HyperbolicSearchErrors, NameTheArgument) {
  const RowMatrixf base = ball_points<float>(10, 4, 1.0, 0.9, 19);
  const HyperbolicEmbedding ball{};
  EXPECT_THROW(hyperbolic_knn(base, base, 0, ball), InvalidK);
  EXPECT_THROW(hyperbolic_knn(base, base, 11, ball), InvalidK);
  EXPECT_THROW(hyperbolic_knn_graph(base, 10, ball), InvalidK);
  EXPECT_THROW(hyperbolic_knn(base, base, 3, {HyperbolicModel::poincare, 0.0}), InvalidArgument);
  EXPECT_THROW(hyperbolic_knn(base, base, 3, {HyperbolicModel::lorentz, std::nan("")}), InvalidArgument);
  EXPECT_THROW(hyperbolic_knn(RowMatrixf(base.leftCols(3)), base, 3, ball), DimensionMismatch);
  EXPECT_THROW(hyperbolic_knn(RowMatrixf(0, 4), base, 3, ball), EmptyInput);

  RowMatrixf outside = base;
  outside(6, 1) = 1.5f;
  const std::string message = message_of<InvalidArgument>([&] { hyperbolic_knn(base, outside, 3, ball); });
  EXPECT_NE(message.find("base"), std::string::npos) << message;
  EXPECT_NE(message.find("row 6"), std::string::npos) << message;
  EXPECT_THROW(hyperbolic_knn_graph(outside, 3, ball), InvalidArgument);
  // The same row is a valid Lorentz point (space components are unbounded).
  EXPECT_NO_THROW(hyperbolic_knn_graph(outside, 3, {HyperbolicModel::lorentz, 1.0}));

  RowMatrixf nan = base;
  nan(2, 3) = std::nanf("");
  EXPECT_THROW(hyperbolic_knn(nan, base, 3, ball), NonFiniteValue);
  EXPECT_THROW(hyperbolic_knn_graph(nan, 3, {HyperbolicModel::lorentz, 1.0}), NonFiniteValue);

  EXPECT_THROW(hyperbolic_norms(outside, ball), InvalidArgument);
  EXPECT_THROW(subsumption_scores(base, base, ball, -1.0), InvalidArgument);
  EXPECT_THROW(subsumption_scores(base, RowMatrixf(base.topRows(2)), ball, 1.0), DimensionMismatch);
  EXPECT_EQ(parse_hyperbolic_model("lorentz"), HyperbolicModel::lorentz);
  const std::string unknown = message_of<InvalidArgument>([] { parse_hyperbolic_model("klein", "--metric"); });
  EXPECT_NE(unknown.find("--metric"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("poincare"), std::string::npos) << unknown;
}

}  // namespace
}  // namespace latent
