// Hubness reductions against their dense definitions on small n: mutual
// proximity empiric over all points (with many tied distances) and with the
// candidate rule of golden README 5.4, Gaussian MP, local scaling, NICDM,
// DisSimLocal, CSLS and localized centering; outside queries; determinism over
// thread counts; the >= 20% cut of k-skewness on high-dimensional Gaussian
// data; one error path per exception.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>

#include "hubness/hubness_test_support.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/hubness.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

RowMatrixf gaussian(std::int64_t n, std::int64_t dim, std::uint32_t seed) {
  return testing::random_normal<float>(n, dim, seed);
}

// The expected (key, secondary) of candidate y of row x by the dense
// definitions; D: [m x n] distances of the rows to the indexed points, Dn:
// [n x n] distances among the indexed points, V / Vq: DisSimLocal vectors.
struct Dense {
  const RowMatrixd* d_rows;   // row x -> all indexed points
  const RowMatrixd* d_index;  // indexed x indexed
  RowMatrixd v_rows, v_index;
};

std::vector<double> sorted_row(const RowMatrixd& d, std::int64_t i, bool self) {
  std::vector<double> row;
  for (std::int64_t j = 0; j < d.cols(); ++j)
    if (!(self && j == i)) row.push_back(d(i, j));
  std::sort(row.begin(), row.end());
  return row;
}

double mean_of_first(const std::vector<double>& row, std::int64_t k, bool similarity) {
  double s = 0;
  for (std::int64_t p = 0; p < k; ++p) s += similarity ? 1.0 - row[static_cast<std::size_t>(p)] : row[static_cast<std::size_t>(p)];
  return s / static_cast<double>(k);
}

double dsl_r(const RowMatrixd& v_index, const Eigen::RowVectorXd& v, std::int64_t self, std::int64_t k) {
  std::vector<std::pair<double, std::int64_t>> e;
  for (std::int64_t j = 0; j < v_index.rows(); ++j)
    if (j != self) e.emplace_back((v_index.row(j) - v).squaredNorm(), j);
  std::sort(e.begin(), e.end());
  Eigen::RowVectorXd c = v;
  for (std::int64_t q = 0; q < k - 1; ++q) c += v_index.row(e[static_cast<std::size_t>(q)].second);
  return (v - c / static_cast<double>(k)).squaredNorm();
}

// Expected reduced rows: keys by the definitions over the candidates of g
// (complete rows for the over-all-points statistics).
DistanceGraph expected_graph(Reduction method, const DistanceGraph& g, const Dense& dense, std::int64_t k_local) {
  const RowMatrixd& dq = *dense.d_rows;
  const RowMatrixd& dn = *dense.d_index;
  const bool self = g.self_excluded;
  const bool cosine = g.metric == Metric::cosine;
  const std::int64_t n = dn.rows(), c = g.k();
  DistanceGraph out = g;
  for (std::int64_t x = 0; x < g.n_queries(); ++x) {
    std::vector<std::tuple<double, double, std::int64_t, double>> entries;  // key, secondary, id, value
    const std::vector<double> row_x = sorted_row(dq, x, self);
    for (std::int64_t p = 0; p < c; ++p) {
      const std::int64_t y = g.ids(x, p);
      const double d = g.distances(x, p);
      const std::vector<double> row_y = sorted_row(dn, y, true);
      double key = d, second = d, value = 0;
      switch (method) {
        case Reduction::mutual_proximity_normal: {
          const auto moments = [&](const std::vector<double>& row) {
            double mu = 0, var = 0;
            for (std::int64_t q = 0; q < c; ++q) mu += row[static_cast<std::size_t>(q)];
            mu /= static_cast<double>(c + 1);
            var = mu * mu;
            for (std::int64_t q = 0; q < c; ++q) var += std::pow(row[static_cast<std::size_t>(q)] - mu, 2);
            return std::make_pair(mu, std::sqrt(var / static_cast<double>(c + 1)));
          };
          const auto [mx, sx] = moments(row_x);
          const auto [my, sy] = moments(row_y);
          key = 1.0 - 0.5 * std::erfc((d - mx) / (sx * std::sqrt(2.0))) * 0.5 * std::erfc((d - my) / (sy * std::sqrt(2.0)));
          break;
        }
        case Reduction::local_scaling:
          key = d * d / (row_x[static_cast<std::size_t>(k_local - 1)] * row_y[static_cast<std::size_t>(k_local - 1)]);
          break;
        case Reduction::nicdm:
          key = d / std::sqrt(mean_of_first(row_x, k_local, false) * mean_of_first(row_y, k_local, false));
          break;
        case Reduction::csls:
          key = cosine ? -(2.0 * (1.0 - d) - mean_of_first(row_x, k_local, true) - mean_of_first(row_y, k_local, true))
                       : 2.0 * d - mean_of_first(row_x, k_local, false) - mean_of_first(row_y, k_local, false);
          break;
        case Reduction::localized_centering:
          key = -((1.0 - d) - mean_of_first(row_y, k_local, true));
          break;
        case Reduction::dis_sim_local: {
          const Eigen::RowVectorXd vx = dense.v_rows.row(x);
          second = (vx - dense.v_index.row(y)).squaredNorm();
          key = second - dsl_r(dense.v_index, vx, self ? x : -1, k_local) -
                dsl_r(dense.v_index, dense.v_index.row(y), y, k_local);
          break;
        }
        case Reduction::dis_sim_global: {  // |v_x - v_y|^2 - |v_x - c|^2 - |v_y - c|^2, c the indexed mean
          const Eigen::RowVectorXd vx = dense.v_rows.row(x), vy = dense.v_index.row(y);
          const Eigen::RowVectorXd mean = dense.v_index.colwise().mean();
          second = (vx - vy).squaredNorm();
          key = second - (vx - mean).squaredNorm() - (vy - mean).squaredNorm();
          break;
        }
        case Reduction::mutual_proximity: {  // over all indexed points
          std::int64_t count = 0;
          for (std::int64_t j = 0; j < n; ++j) count += (dq(x, j) > d && dn(y, j) > d) ? 1 : 0;
          if (self) count -= 0;  // j = x: d(x, x) = 0 is never > d
          key = 1.0 - static_cast<double>(count) / static_cast<double>(n);
          break;
        }
        default: break;
      }
      value = method == Reduction::local_scaling ? 1.0 - std::exp(-key) : key;
      entries.emplace_back(key, second, y, value);
    }
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) < std::get<0>(b);
      if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) < std::get<1>(b);
      return std::get<2>(a) < std::get<2>(b);
    });
    for (std::int64_t p = 0; p < c; ++p) {
      out.ids(x, p) = std::get<2>(entries[static_cast<std::size_t>(p)]);
      out.distances(x, p) = std::get<3>(entries[static_cast<std::size_t>(p)]);
    }
  }
  return out;
}

void expect_same_graph(const DistanceGraph& ours, const DistanceGraph& expected, double tolerance, const std::string& what) {
  ASSERT_EQ(ours.ids.rows(), expected.ids.rows()) << what;
  ASSERT_EQ(ours.ids.cols(), expected.ids.cols()) << what;
  EXPECT_EQ(testing::identical_rows(ours.ids, expected.ids), ours.n_queries()) << what;
  EXPECT_LE((ours.distances - expected.distances).cwiseAbs().maxCoeff(), tolerance) << what;
}

RowMatrixd unit_rows(const RowMatrixf& x) {
  RowMatrixd v = x.cast<double>();
  for (std::int64_t i = 0; i < v.rows(); ++i) v.row(i) /= v.row(i).norm();
  return v;
}

TEST(HubnessReduction, EveryMethodEqualsItsDenseDefinition) {
  const RowMatrixf x = gaussian(70, 12, 3);
  for (const Metric metric : {Metric::l2, Metric::cosine}) {
    const RowMatrixd d = testing::dense_distances(x, metric);
    Dense dense{&d, &d, metric == Metric::cosine ? unit_rows(x) : RowMatrixd(x.cast<double>()), {}};
    dense.v_index = dense.v_rows;
    for (const std::int64_t c : {std::int64_t{69}, std::int64_t{15}}) {
      const DistanceGraph g = testing::graph_from_dense(d, c, metric);
      for (const Reduction method : {Reduction::mutual_proximity_normal, Reduction::local_scaling, Reduction::nicdm,
                                     Reduction::csls, Reduction::dis_sim_local, Reduction::localized_centering,
                                     Reduction::dis_sim_global}) {
        if (method == Reduction::localized_centering && metric != Metric::cosine) continue;
        if (method == Reduction::mutual_proximity_normal && c != 69) continue;  // the reference uses full rows
        ReductionOptions options;
        options.method = method;
        options.k_local = method == Reduction::localized_centering ? 9 : 0;
        HubnessReducer reducer(options);
        const DistanceGraph ours = reducer.fit_transform(g, x);
        expect_same_graph(ours, expected_graph(method, g, dense, reducer.k_local()), 1e-12,
                          std::string(to_string(method)) + " " + std::string(to_string(metric)) + " C=" + std::to_string(c));
      }
    }
  }
}

TEST(HubnessReduction, MutualProximityOverAllPointsWithTies) {
  // A 4 x 4 x 4 integer grid under squared Euclidean distances: many exact ties.
  RowMatrixf x(64, 3);
  for (int i = 0; i < 64; ++i) x.row(i) << static_cast<float>(i % 4), static_cast<float>(i / 4 % 4), static_cast<float>(i / 16);
  const RowMatrixd d = testing::dense_distances(x, Metric::sqeuclidean);
  const DistanceGraph g = testing::graph_from_dense(d, 63, Metric::sqeuclidean);
  HubnessReducer reducer(ReductionOptions{Reduction::mutual_proximity, 0, 1.0, {}});
  const DistanceGraph ours = reducer.fit_transform(g);
  EXPECT_TRUE(reducer.exact_over_all());
  expect_same_graph(ours, expected_graph(Reduction::mutual_proximity, g, Dense{&d, &d, {}, {}}, 0), 0.0, "grid");
  // The top k, with rows cut short by the key bound, is the prefix of the full
  // re-ranking (many tied keys here).
  for (const std::int64_t k : {1, 3, 10, 40}) {
    const DistanceGraph top = reducer.transform(g, k);
    EXPECT_TRUE((top.ids.array() == ours.ids.leftCols(k).array()).all()) << "k=" << k;
    EXPECT_TRUE((top.distances.array() == ours.distances.leftCols(k).array()).all()) << "k=" << k;
  }
  // The O(n^2)-per-pair definition, literally: x and y never count.
  for (std::int64_t a = 0; a < 64; a += 7) {
    for (std::int64_t p = 0; p < 63; p += 5) {
      const std::int64_t b = ours.ids(a, p);
      std::int64_t count = 0;
      for (std::int64_t j = 0; j < 64; ++j) count += (d(a, j) > d(a, b) && d(b, j) > d(b, a)) ? 1 : 0;
      EXPECT_EQ(ours.distances(a, p), 1.0 - static_cast<double>(count) / 64.0);
    }
  }
}

// The candidate rule of golden README 5.4, transcribed from its statement.
DistanceGraph mp_candidates_reference(const DistanceGraph& g, const DistanceGraph& indexed, const RowMatrixd& dq,
                                      const RowMatrixd& dn) {
  const std::int64_t n = indexed.n_queries(), c = g.k(), ci = indexed.k();
  DistanceGraph out = g;
  for (std::int64_t x = 0; x < g.n_queries(); ++x) {
    std::vector<std::int64_t> cand_x;
    if (g.self_excluded) cand_x.push_back(x);
    for (std::int64_t p = 0; p < c; ++p) cand_x.push_back(g.ids(x, p));
    const auto in = [](const std::vector<std::int64_t>& v, std::int64_t j) { return std::find(v.begin(), v.end(), j) != v.end(); };
    std::vector<std::tuple<double, double, std::int64_t>> entries;
    const std::size_t first = g.self_excluded ? 1 : 0;
    for (std::size_t p = first; p < cand_x.size(); ++p) {
      const std::int64_t y = cand_x[p];
      const double dxy = dq(x, y);
      std::vector<std::int64_t> cand_y = {y};
      for (std::int64_t t = 0; t < ci; ++t) cand_y.push_back(indexed.ids(y, t));
      std::int64_t count = 0;
      if (dxy < indexed.distances(y, ci - 1)) {
        for (std::size_t q = p + 1; q < cand_x.size(); ++q) {
          const std::int64_t j = cand_x[q];
          if (!in(cand_y, j) || dn(y, j) > dxy) ++count;
        }
        for (const std::int64_t j : cand_y)
          if (!in(cand_x, j) && dn(y, j) > dxy) ++count;
      }
      entries.emplace_back(1.0 - static_cast<double>(count) / static_cast<double>(n), dxy, y);
    }
    std::sort(entries.begin(), entries.end());
    for (std::int64_t p = 0; p < c; ++p) {
      out.ids(x, p) = std::get<2>(entries[static_cast<std::size_t>(p)]);
      out.distances(x, p) = std::get<0>(entries[static_cast<std::size_t>(p)]);
    }
  }
  return out;
}

TEST(HubnessReduction, MutualProximityCandidateRule) {
  const RowMatrixf x = gaussian(120, 10, 11);
  const RowMatrixd d = testing::dense_distances(x, Metric::l2);
  for (const std::int64_t c : {1, 6, 20}) {
    const DistanceGraph g = testing::graph_from_dense(d, c, Metric::l2);
    HubnessReducer reducer(ReductionOptions{Reduction::mutual_proximity, 0, 1.0, {}});
    const DistanceGraph ours = reducer.fit_transform(g);
    EXPECT_FALSE(reducer.exact_over_all());
    expect_same_graph(ours, mp_candidates_reference(g, g, d, d), 0.0, "C=" + std::to_string(c));
  }
}

// Queries outside the indexed set: every statistic of a query comes from its
// own row; MP empiric over all points when the query rows are complete.
TEST(HubnessReduction, OutsideQueries) {
  const RowMatrixf all = gaussian(90, 10, 5);
  const RowMatrixf indexed = all.topRows(70), queries = all.bottomRows(20);
  RowMatrixd d_all = testing::dense_distances(all, Metric::l2);
  const RowMatrixd dn = d_all.topLeftCorner(70, 70), dq = d_all.bottomLeftCorner(20, 70);
  // Query graphs: each query's nearest indexed points by (d, id).
  const auto query_graph = [&](std::int64_t c) {
    DistanceGraph g;
    g.ids.resize(20, c);
    g.distances.resize(20, c);
    g.metric = Metric::l2;
    for (std::int64_t i = 0; i < 20; ++i) {
      std::vector<std::int64_t> order(70);
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](auto a, auto b) { return dq(i, a) != dq(i, b) ? dq(i, a) < dq(i, b) : a < b; });
      for (std::int64_t p = 0; p < c; ++p) {
        g.ids(i, p) = order[static_cast<std::size_t>(p)];
        g.distances(i, p) = dq(i, order[static_cast<std::size_t>(p)]);
      }
    }
    return g;
  };
  const DistanceGraph complete = testing::graph_from_dense(dn, 69, Metric::l2);
  Dense dense{&dq, &dn, queries.cast<double>(), indexed.cast<double>()};
  for (const Reduction method : {Reduction::mutual_proximity, Reduction::local_scaling, Reduction::nicdm,
                                 Reduction::csls, Reduction::dis_sim_local, Reduction::dis_sim_global}) {
    HubnessReducer reducer(ReductionOptions{method, 0, 1.0, {}});
    reducer.fit(complete, indexed);
    const DistanceGraph ours = reducer.transform(query_graph(70), queries);
    expect_same_graph(ours, expected_graph(method, query_graph(70), dense, reducer.k_local()), 1e-12,
                      std::string(to_string(method)));
  }
  const DistanceGraph indexed_c12 = testing::graph_from_dense(dn, 12, Metric::l2);
  HubnessReducer mp(ReductionOptions{Reduction::mutual_proximity, 0, 1.0, {}});
  mp.fit(indexed_c12);
  expect_same_graph(mp.transform(query_graph(12)), mp_candidates_reference(query_graph(12), indexed_c12, dq, dn), 0.0,
                    "mp candidates, outside queries");
  // Keeping the top 3 is a prefix of the full re-ranking.
  const DistanceGraph full = mp.transform(query_graph(12));
  const DistanceGraph top = mp.transform(query_graph(12), 3);
  EXPECT_TRUE((top.ids.array() == full.ids.leftCols(3).array()).all());
}

TEST(HubnessReduction, IdenticalForAnyThreadCount) {
  const RowMatrixf x = gaussian(700, 24, 9);
  const DistanceGraph g = exact_candidate_graph(x, 45, Metric::cosine);
  const RowMatrixd d = testing::dense_distances(x.topRows(300).eval(), Metric::cosine);
  const DistanceGraph complete = testing::graph_from_dense(d, 299, Metric::cosine);
  for (int m = 1; m < 8; ++m) {
    const auto method = static_cast<Reduction>(m);
    std::vector<DistanceGraph> results;
    for (const int threads : {1, 2, 3}) {
      ReductionOptions options{method, 0, 1.0, Parallel{threads}};
      results.push_back(HubnessReducer(options).fit_transform(g, x, 10));
      if (method == Reduction::mutual_proximity) {
        results.push_back(HubnessReducer(options).fit_transform(complete, 10));
      }
    }
    const std::size_t stride = method == Reduction::mutual_proximity ? 2 : 1;
    for (std::size_t r = stride; r < results.size(); ++r) {
      EXPECT_TRUE((results[r].ids.array() == results[r % stride].ids.array()).all()) << to_string(method);
      EXPECT_TRUE((results[r].distances.array() == results[r % stride].distances.array()).all()) << to_string(method);
    }
  }
}

class HubnessReducerFiles : public testing::TempDirTest {};

TEST_F(HubnessReducerFiles, SaveLoadGivesTheSameTransformForEveryMethod) {
  const RowMatrixf x = gaussian(300, 16, 21);
  for (const Metric metric : {Metric::l2, Metric::cosine}) {
    const DistanceGraph g = exact_candidate_graph(x, 50, metric);
    const DistanceGraph complete = exact_candidate_graph(x, 299, metric);
    for (int m = 0; m <= static_cast<int>(Reduction::dis_sim_global); ++m) {
      const auto method = static_cast<Reduction>(m);
      if (method == Reduction::localized_centering && metric != Metric::cosine) continue;
      for (const DistanceGraph* indexed : {&g, &complete}) {
        if (indexed == &complete && method != Reduction::mutual_proximity) continue;
        HubnessReducer reducer(ReductionOptions{method, 0, 1.0, {}});
        reducer.fit(*indexed, x);
        reducer.save(path("reducer.bin"));
        const HubnessReducer loaded = HubnessReducer::load(path("reducer.bin"));
        EXPECT_EQ(loaded.options().method, method);
        EXPECT_EQ(loaded.point_statistic(), reducer.point_statistic());
        EXPECT_EQ(loaded.exact_over_all(), reducer.exact_over_all());
        const DistanceGraph a = reducer.transform(*indexed, x, 10);
        const DistanceGraph b = loaded.transform(*indexed, x, 10);
        EXPECT_TRUE((a.ids.array() == b.ids.array()).all()) << to_string(method);
        EXPECT_TRUE((a.distances.array() == b.distances.array()).all()) << to_string(method);
      }
    }
  }
  HubnessReducer unfitted;
  EXPECT_THROW(unfitted.save(path("never.bin")), NotFitted);
  ModelWriter other("whitening", 1);
  other.put("n", std::int64_t{3});
  other.save(path("other.bin"));
  EXPECT_CONTAINS(testing::message_of<IoError>([&] { HubnessReducer::load(path("other.bin")); }), "another kind");
  std::ofstream(path("garbage.bin")) << "LATENTMF and then nothing of use";
  EXPECT_THROW(HubnessReducer::load(path("garbage.bin")), IoError);
}

// Hubness of i.i.d. Gaussian data in 100 dimensions: every reduction cuts the
// k-skewness by at least 20% (the scikit-hubness tests require the same). The
// mean is shifted off the origin (0.3 per coordinate), which leaves l2 unchanged
// and gives cosine the hubs localized centering is designed for.
TEST(HubnessReduction, LowersSkewnessOnHighDimensionalGaussians) {
  const RowMatrixf x = (gaussian(1500, 100, 42).array() + 0.3f).matrix();
  for (int m = 1; m < 8; ++m) {
    const auto method = static_cast<Reduction>(m);
    const Metric metric = method == Reduction::localized_centering ? Metric::cosine : Metric::l2;
    HubnessPipelineOptions options;
    options.reduction.method = method;
    const HubnessPipelineResult r = reduce_hubness(x, 10, metric, options);
    EXPECT_GT(r.before.k_skewness, 0.5) << to_string(method);
    EXPECT_LE(r.after.k_skewness, 0.8 * r.before.k_skewness) << to_string(method) << ": " << r.before.k_skewness
                                                             << " -> " << r.after.k_skewness;
  }
}

TEST(HubnessReduction, PipelineMatchesTheSteps) {
  const RowMatrixf x = gaussian(300, 16, 1);
  HubnessPipelineOptions options;
  options.reduction.method = Reduction::local_scaling;
  options.candidates = 25;
  const HubnessPipelineResult r = reduce_hubness(x, 5, Metric::l2, options);
  const RowMatrixd d = testing::dense_distances(x, Metric::l2);
  const DistanceGraph g = testing::graph_from_dense(d, 25, Metric::l2);
  EXPECT_TRUE((r.candidates.ids.array() == g.ids.array()).all());
  EXPECT_LE((r.candidates.distances - g.distances).cwiseAbs().maxCoeff(), 1e-12);
  const DistanceGraph expected = HubnessReducer(options.reduction).fit_transform(g, 5);
  EXPECT_TRUE((r.reduced.ids.array() == expected.ids.array()).all());
  EXPECT_EQ(r.after.k_skewness, hubness_measures(expected.ids, 300).k_skewness);
  EXPECT_EQ(r.before.k_skewness, hubness_measures(IdMatrix(g.ids.leftCols(5)), 300).k_skewness);
  // candidates = 0: all other points.
  options.candidates = 0;
  EXPECT_EQ(reduce_hubness(x, 5, Metric::l2, options).candidates.k(), 299);
}

TEST(HubnessReduction, ConversionsFromKnnGraph) {
  KnnGraph knn;
  knn.ids.resize(2, 1);
  knn.ids << 1, 0;
  knn.scores.resize(2, 1);
  knn.scores << 0.75f, 0.75f;
  knn.metric = Metric::cosine;
  knn.self_excluded = true;
  const DistanceGraph g = to_distance_graph(knn);
  EXPECT_EQ(g.distances(0, 0), 0.25);
  EXPECT_TRUE(g.self_excluded);
  knn.metric = Metric::ip;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { to_distance_graph(knn); }), "ip");
  knn.metric = Metric::l2;
  knn.scores.resize(0, 0);
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { to_distance_graph(knn); }), "without distances");
}

TEST(HubnessReduction, Errors) {
  const RowMatrixf x = gaussian(40, 6, 2);
  const RowMatrixd d = testing::dense_distances(x, Metric::l2);
  const DistanceGraph g = testing::graph_from_dense(d, 8, Metric::l2);
  const auto reducer = [](Reduction method) { return HubnessReducer(ReductionOptions{method, 0, 1.0, {}}); };

  EXPECT_CONTAINS(testing::message_of<NotFitted>([&] { reducer(Reduction::local_scaling).transform(g); }), "fit");
  // k >= n, and more neighbours than candidates.
  EXPECT_CONTAINS(testing::message_of<InvalidK>([&] { reduce_hubness(x, 40, Metric::l2); }), "k=40");
  EXPECT_CONTAINS(testing::message_of<InvalidK>([&] { reducer(Reduction::nicdm).fit(g).transform(g, 9); }), "k=9");
  EXPECT_CONTAINS(testing::message_of<InvalidK>(
                      [&] { HubnessReducer(ReductionOptions{Reduction::csls, 0, 1.0, {}}).fit(g); }),
                  "k_local=10");
  // A graph without distances.
  DistanceGraph bare = g;
  bare.distances.resize(0, 0);
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { reducer(Reduction::local_scaling).fit(bare); }),
                  "without distances");
  // DisSimLocal without vectors, or with vectors of another shape.
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { reducer(Reduction::dis_sim_local).fit(g); }), "vectors");
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { reducer(Reduction::dis_sim_global).fit(g); }), "vectors");
  EXPECT_CONTAINS(testing::message_of<DimensionMismatch>(
                      [&] { reducer(Reduction::dis_sim_local).fit(g, x.topRows(39).eval()); }),
                  "vectors=39");
  HubnessReducer dsl = reducer(Reduction::dis_sim_local);
  dsl.fit(g, x);
  const RowMatrixf narrow = x.leftCols(5);
  EXPECT_CONTAINS(testing::message_of<DimensionMismatch>([&] { dsl.transform(g, narrow); }),
                  "query_vectors");
  // NaN in the distances or the vectors.
  DistanceGraph nan_graph = g;
  nan_graph.distances(3, 2) = std::nan("");
  EXPECT_CONTAINS(testing::message_of<NonFiniteValue>([&] { reducer(Reduction::nicdm).fit(nan_graph); }), "row 3");
  RowMatrixf nan_x = x;
  nan_x(5, 1) = std::nanf("");
  EXPECT_CONTAINS(testing::message_of<NonFiniteValue>([&] { reducer(Reduction::dis_sim_local).fit(g, nan_x); }),
                  "vectors");
  // Unsorted rows, ids out of range, self ids, the wrong metric.
  DistanceGraph unsorted = g;
  std::swap(unsorted.distances(0, 0), unsorted.distances(0, 1));
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { reducer(Reduction::nicdm).fit(unsorted); }), "sorted");
  DistanceGraph bad_id = g;
  bad_id.ids(1, 1) = 40;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { reducer(Reduction::nicdm).fit(bad_id); }), "id 40");
  DistanceGraph self_id = g;
  self_id.ids(2, 0) = 2;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { reducer(Reduction::nicdm).fit(self_id); }), "own id");
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { reducer(Reduction::localized_centering).fit(g); }),
                  "cosine");
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([] { parse_reduction("mpx", "--reduce"); }), "--reduce");
  DistanceGraph empty;
  EXPECT_CONTAINS(testing::message_of<EmptyInput>([&] { reducer(Reduction::nicdm).fit(empty); }), "indexed");
}

}  // namespace
}  // namespace latent

namespace latent {
namespace {

// Two-set CSLS against its definition in double, written out pair by pair.
TEST(CslsSearch, TwoSetFormEqualsItsDefinition) {
  const RowMatrixd source = testing::random_normal<double>(60, 7, 81), target = testing::random_normal<double>(45, 7, 82);
  const std::int64_t k = 6, k_local = 4;
  RowMatrixd cos(60, 45);
  for (std::int64_t i = 0; i < 60; ++i)
    for (std::int64_t j = 0; j < 45; ++j)
      cos(i, j) = source.row(i).dot(target.row(j)) / (source.row(i).norm() * target.row(j).norm());
  const auto mean_top = [&](const RowMatrixd& m, std::int64_t row) {
    std::vector<double> values(m.row(row).data(), m.row(row).data() + m.cols());
    RowMatrixd copy = m.row(row);
    std::vector<double> sorted(copy.data(), copy.data() + copy.size());
    std::sort(sorted.rbegin(), sorted.rend());
    double sum = 0;
    for (std::int64_t r = 0; r < k_local; ++r) sum += sorted[static_cast<std::size_t>(r)];
    return sum / static_cast<double>(k_local);
  };
  const RowMatrixd cos_t = cos.transpose();
  for (const bool as_float : {false, true}) {
    const CslsMatches found = as_float ? csls_search(RowMatrixf(source.cast<float>()),
                                                     RowMatrixf(target.cast<float>()), k, k_local, SearchOptions{Parallel{2}})
                                       : csls_search(source, target, k, k_local);
    const double tolerance = as_float ? 1e-5 : 1e-12;
    for (std::int64_t j = 0; j < 45; ++j)
      EXPECT_NEAR(found.r_target[static_cast<std::size_t>(j)], mean_top(cos_t, j), tolerance);
    for (std::int64_t i = 0; i < 60; ++i) {
      const double r_x = mean_top(cos, i);
      EXPECT_NEAR(found.r_source[static_cast<std::size_t>(i)], r_x, tolerance);
      std::vector<std::pair<double, std::int64_t>> all;
      for (std::int64_t j = 0; j < 45; ++j) all.emplace_back(-(2 * cos(i, j) - r_x - mean_top(cos_t, j)), j);
      std::sort(all.begin(), all.end());
      for (std::int64_t r = 0; r < k; ++r) {
        EXPECT_EQ(found.matches.ids(i, r), all[static_cast<std::size_t>(r)].second) << i << " " << r;
        EXPECT_NEAR(found.matches.scores(i, r), -all[static_cast<std::size_t>(r)].first, 1e-5);
      }
    }
  }
  EXPECT_THROW(csls_search(source, target, 46, k_local), InvalidK);
  EXPECT_CONTAINS(testing::message_of<InvalidK>([&] { csls_search(source, RowMatrixd(target.topRows(3)), 2, 4); }),
                  "k_local");
  RowMatrixd bad = target;
  bad(5, 2) = std::nan("");
  EXPECT_CONTAINS(testing::message_of<NonFiniteValue>([&] { csls_search(source, bad, 2, 4); }), "target");
  bad.row(5).setZero();
  EXPECT_CONTAINS(testing::message_of<NumericalError>([&] { csls_search(source, bad, 2, 4); }), "target");
  EXPECT_THROW(csls_search(source, RowMatrixd(target.leftCols(5)), 2, 4), DimensionMismatch);
}

}  // namespace
}  // namespace latent
