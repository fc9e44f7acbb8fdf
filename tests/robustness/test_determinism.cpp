// Determinism: every parallel entry point gives bitwise identical results for 1,
// 2 and 4 threads and for different block sizes, and the seeded algorithms
// reproduce with the same seed. This executable is also the `threads` test set
// the tsan preset runs (label `threads`): it opens every parallel region of the
// library with several threads, so ThreadSanitizer sees each of them.
//
// Adding a parallel function: one TEST below calling expect_thread_invariant with
// a lambda from Parallel to its result (and a bits() overload if it returns a new type).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/embedding.hpp"
#include "latent/hubness.hpp"
#include "latent/kernels/batched.hpp"
#include "latent/metrics.hpp"
#include "latent/relative.hpp"
#include "latent/similarity.hpp"
#include "latent/whitening.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using testing::random_normal;

// The bytes of a result: equal bytes = bitwise equal results (NaN payloads included).
template <class Scalar, int R, int C, int O>
std::string bits(const Eigen::Matrix<Scalar, R, C, O>& m) {
  std::string out(reinterpret_cast<const char*>(m.data()), static_cast<std::size_t>(m.size()) * sizeof(Scalar));
  return std::to_string(m.rows()) + "x" + std::to_string(m.cols()) + ":" + out;
}
template <class T>
std::string bits(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}
std::string bits(const std::string& already) { return already; }
std::string bits(double value) { return std::string(reinterpret_cast<const char*>(&value), sizeof value); }
std::string bits(const KnnGraph& g) { return bits(g.ids) + bits(g.scores); }
std::string bits(const DistanceGraph& g) { return bits(g.ids) + bits(g.distances); }
std::string bits(const SparseGraph& g) { return bits(g.offsets) + bits(g.ids) + bits(g.scores); }
std::string bits(const CslsMatches& m) { return bits(m.matches) + bits(m.r_source) + bits(m.r_target); }
std::string bits(const HubnessMeasures& m) {
  return bits(m.k_skewness) + bits(m.robinhood) + bits(m.antihub_occurrence) + bits(m.hub_occurrence) + bits(m.gini) +
         bits(m.atkinson) + bits(m.groupie_ratio) + std::to_string(m.n_hubs) + std::to_string(m.n_antihubs) +
         std::to_string(m.k_occurrence_max);
}
std::string bits(const std::vector<ScoredPair>& pairs) {
  std::string out;
  for (const auto& p : pairs)
    out += bits(static_cast<double>(p.score)) + std::to_string(p.i) + "," + std::to_string(p.j);
  return out;
}
std::string bits(const CrossSpaceScores& s) {
  return bits(s.jaccard) + bits(s.mrr) + bits(s.top1) + bits(s.mean_rank) + bits(s.mean_cos) + bits(s.cka);
}
std::string bits(const IsotropyReport& r) {
  return bits(r.eigenvalues) + bits(r.explained_variance_ratio) + bits(r.average_cosine) + bits(r.partition_isotropy) +
         std::to_string(r.components_90) + std::to_string(r.components_99);
}

constexpr int kThreadCounts[] = {1, 2, 4};

// run(Parallel) for 1, 2 and 4 threads: the same bytes each time.
template <class F>
void expect_thread_invariant(const std::string& what, F&& run) {
  const std::string reference = bits(run(Parallel{1}));
  ASSERT_FALSE(reference.empty()) << what;
  for (int threads : kThreadCounts) {
    EXPECT_EQ(bits(run(Parallel{threads})), reference) << what << " with " << threads << " threads";
  }
}

class Determinism : public ::testing::Test {
 protected:
  // 257 rows: several parallel chunks and a ragged last block.
  RowMatrixf x_ = random_normal<float>(257, 19, 101);
  RowMatrixf q_ = random_normal<float>(45, 19, 102);
  RowMatrixd xd_ = x_.cast<double>();
};

TEST_F(Determinism, KernelSimilarityAndKnnOverThreadsAndBlocks) {
  for (Metric metric :
       {Metric::cosine, Metric::ip, Metric::l2, Metric::sqeuclidean, Metric::l1, Metric::linf, Metric::angular}) {
    const std::string name = std::string(to_string(metric));
    std::string reference_f32, reference_knn, reference_f64;
    for (int threads : kThreadCounts) {
      for (std::int64_t query_block : {0, 1, 7, 64}) {
        for (std::int64_t base_block : {0, 5, 100}) {
          kernels::BlockOptions options{Parallel{threads}, query_block, base_block};
          RowMatrixf sim(q_.rows(), x_.rows());
          kernels::similarity_f32(metric, q_, x_, sim.data(), sim.cols(), options);
          IdMatrix ids(q_.rows(), 9);
          RowMatrixf scores(q_.rows(), 9);
          kernels::knn_f32(metric, q_, x_, 9, kernels::kNoSelf, ids.data(), scores.data(), options);
          RowMatrixd sim64(q_.rows(), x_.rows());
          const RowMatrixd qd = q_.cast<double>();
          kernels::similarity_f64(metric, qd, xd_, sim64.data(), sim64.cols(), options);
          if (reference_f32.empty()) {
            reference_f32 = bits(sim);
            reference_knn = bits(ids) + bits(scores);
            reference_f64 = bits(sim64);
          }
          const std::string where = name + " threads " + std::to_string(threads) + " blocks " +
                                    std::to_string(query_block) + "/" + std::to_string(base_block);
          EXPECT_EQ(bits(sim), reference_f32) << where;
          EXPECT_EQ(bits(ids) + bits(scores), reference_knn) << where;
          EXPECT_EQ(bits(sim64), reference_f64) << where;
        }
      }
    }
  }
}

TEST_F(Determinism, SearchOverThreadsAndBlocks) {
  for (Metric metric : {Metric::cosine, Metric::l2, Metric::l1}) {
    for (std::int64_t block : {0, 3, 50}) {
      const auto options = [&](Parallel parallel) {
        SearchOptions search;
        search.parallel = parallel;
        search.query_block_rows = block;
        search.base_block_rows = block == 0 ? 0 : block + 1;
        return search;
      };
      const std::string name = std::string(to_string(metric)) + " block " + std::to_string(block);
      expect_thread_invariant("similarity " + name, [&](Parallel p) { return similarity(q_, x_, metric, options(p)); });
      expect_thread_invariant("knn " + name, [&](Parallel p) { return knn(q_, x_, 10, metric, options(p)); });
      expect_thread_invariant("knn f64 " + name,
                              [&](Parallel p) { return knn(q_.cast<double>().eval(), xd_, 10, metric, options(p)); });
      expect_thread_invariant("knn_graph " + name, [&](Parallel p) { return knn_graph(x_, 10, metric, options(p)); });
      const std::vector<MatrixView<float>> shards = {MatrixView<float>(x_.data(), 100, x_.cols()),
                                                     MatrixView<float>(x_.data() + 100 * x_.cols(), 157, x_.cols())};
      expect_thread_invariant("semantic_search " + name,
                              [&](Parallel p) { return semantic_search(q_, shards, 10, metric, options(p)); });
    }
  }
  expect_thread_invariant("knn with an id filter", [&](Parallel p) {
    return knn(q_, x_, 10, Metric::l2, IdFilter::deny({3, 50, 200}), SearchOptions{p});
  });
  expect_thread_invariant("epsilon_graph", [&](Parallel p) { return epsilon_graph(x_, 0.3, Metric::cosine, {p}); });
  expect_thread_invariant("csls_search", [&](Parallel p) { return csls_search(q_, x_, 5, 10, SearchOptions{p}); });
  const KnnGraph graph = knn_graph(x_, 10, Metric::l2);
  const RowMatrixd distances = graph.scores.cast<double>();
  expect_thread_invariant("knn_predict_weighted", [&](Parallel p) {
    std::vector<std::int64_t> labels(257);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 4);
    return knn_predict_weighted(graph.ids, distances, labels, 0, p);
  });
  expect_thread_invariant("knn_regress", [&](Parallel p) {
    const RowMatrixd t =
        RowMatrixd::NullaryExpr(257, 3, [](Eigen::Index i, Eigen::Index j) { return double(i * 3 + j); });
    return knn_regress(graph.ids, t, 0, &distances, p);
  });
  expect_thread_invariant("mobius_add",
                          [&](Parallel p) { return mobius_add((x_ * 0.02f).eval(), (x_ * 0.01f).eval(), 1.0, p); });
  expect_thread_invariant("lorentz_inner_products", [&](Parallel p) { return lorentz_inner_products(q_, x_, 1.0, p); });
  ParaphraseOptions paraphrase;
  paraphrase.top_k = 5;
  expect_thread_invariant("paraphrase_mining", [&](Parallel p) {
    ParaphraseOptions options = paraphrase;
    options.search.parallel = p;
    return paraphrase_mining(x_, options);
  });
}

TEST_F(Determinism, LowPrecisionSearch) {
  for (const ComputePrecision compute : {ComputePrecision::bf16, ComputePrecision::int8}) {
    for (const Metric metric : {Metric::cosine, Metric::l2}) {
      const std::string name =
          std::string("low_precision_knn ") + to_string(compute) + " " + std::string(to_string(metric));
      expect_thread_invariant(name, [&](Parallel p) {
        return low_precision_knn(q_, x_, 7, metric, {compute, 0, p, {}});
      });
      expect_thread_invariant(name + " graph, rescore", [&](Parallel p) {
        return low_precision_knn_graph(x_, 7, metric, {compute, 20, p, {}});
      });
    }
  }
}

TEST_F(Determinism, Hyperbolic) {
  const RowMatrixf ball = (x_ * 0.02f).eval();
  const RowMatrixf ball_q = (q_ * 0.02f).eval();
  expect_thread_invariant("poincare_distances", [&](Parallel p) { return poincare_distances(ball_q, ball, 1.0, p); });
  expect_thread_invariant("lorentz_distances", [&](Parallel p) { return lorentz_distances(ball_q, ball, 1.0, p); });
  expect_thread_invariant("poincare_expmap0", [&](Parallel p) { return poincare_expmap0(ball, 1.0, p); });
  expect_thread_invariant("poincare_logmap0", [&](Parallel p) { return poincare_logmap0(ball, 1.0, p); });
  expect_thread_invariant("lorentz_expmap0", [&](Parallel p) { return lorentz_expmap0(ball, 1.0, p); });
  expect_thread_invariant("poincare_to_lorentz", [&](Parallel p) { return poincare_to_lorentz(ball, 1.0, p); });
  for (const HyperbolicModel model : {HyperbolicModel::poincare, HyperbolicModel::lorentz}) {
    const HyperbolicEmbedding space{model, 1.0};
    expect_thread_invariant("hyperbolic_knn", [&](Parallel p) {
      SearchOptions options;
      options.parallel = p;
      return hyperbolic_knn(ball_q, ball, 5, space, options);
    });
    expect_thread_invariant("hyperbolic_knn_graph", [&](Parallel p) {
      SearchOptions options;
      options.parallel = p;
      return hyperbolic_knn_graph(ball, 5, space, options);
    });
    expect_thread_invariant("hyperbolic_norms", [&](Parallel p) { return hyperbolic_norms(ball, space, p); });
    expect_thread_invariant("subsumption_scores",
                            [&](Parallel p) { return subsumption_scores(ball, ball, space, 0.5, p); });
  }
}

TEST_F(Determinism, ProbabilisticEmbeddings) {
  const GaussianEmbedding<float> base(x_, RowMatrixf((x_.array().abs() * 0.1f + 0.05f).matrix()));
  const GaussianEmbedding<float> queries(q_, RowMatrixf((q_.array().abs() * 0.1f + 0.05f).matrix()));
  for (const KlDirection direction : {KlDirection::forward, KlDirection::reverse, KlDirection::symmetric}) {
    expect_thread_invariant("kl_divergence", [&](Parallel p) { return kl_divergence(queries, base, direction, p); });
    expect_thread_invariant("kl_knn", [&](Parallel p) {
      SearchOptions options;
      options.parallel = p;
      return kl_knn(queries, base, 5, direction, options);
    });
  }
  expect_thread_invariant("wasserstein2_distance", [&](Parallel p) { return wasserstein2_distance(queries, base, p); });
  expect_thread_invariant("bhattacharyya_distance",
                          [&](Parallel p) { return bhattacharyya_distance(queries, base, p); });
  expect_thread_invariant("match_probability", [&](Parallel p) {
    MatchProbabilityOptions options;
    options.samples = 2;
    return match_probability(queries, base, options, p);
  });
  const VmfEmbedding<float> vmf(x_, std::vector<float>(static_cast<std::size_t>(x_.rows()), 3.0f));
  expect_thread_invariant("vmf_kl_divergence", [&](Parallel p) { return vmf_kl_divergence(vmf, vmf, p); });
}

TEST_F(Determinism, SparseCodes) {
  RowMatrixf w_dec = random_normal<float>(40, 19, 103);
  w_dec.rowwise().normalize();
  const SparseAutoencoder sae(RowMatrixf(w_dec.transpose()), std::vector<float>(40, 0.0f), w_dec,
                              std::vector<float>(19, 0.0f));
  for (const SaeActivation activation : {SaeActivation::topk, SaeActivation::relu}) {
    expect_thread_invariant("SparseAutoencoder::encode", [&](Parallel p) {
      SaeEncodeOptions options;
      options.activation = activation;
      options.k = 4;
      options.parallel = p;
      const SparseMatrix codes = sae.encode(x_, options);
      return bits(sae.decode(codes, p)) +
             std::string(reinterpret_cast<const char*>(codes.values()), static_cast<std::size_t>(codes.nnz()) * 4);
    });
  }
  SaeEncodeOptions topk;
  topk.k = 4;
  const SparseMatrix base = sae.encode(x_, topk), queries = sae.encode(q_, topk);
  const SparseIndex index(base);
  expect_thread_invariant("SparseIndex::search", [&](Parallel p) { return index.search(queries, 5, p); });
  expect_thread_invariant("sparse_products", [&](Parallel p) { return sparse_products(queries, base, p); });
  const RowMatrixf dense_base = base.to_dense();
  expect_thread_invariant("sparse_dense_products",
                          [&](Parallel p) { return sparse_dense_products(queries, dense_base, p); });
  expect_thread_invariant("funnel_knn", [&](Parallel p) {
    FunnelOptions options;
    options.shortlist_dim = 6;
    options.shortlist = 20;
    options.parallel = p;
    return funnel_knn(q_, x_, 5, options);
  });
}

TEST_F(Determinism, Whitening) {
  for (WhiteningMethod method : {WhiteningMethod::pca, WhiteningMethod::zca}) {
    expect_thread_invariant("whitening", [&](Parallel p) {
      WhiteningOptions options;
      options.method = method;
      options.parallel = p;
      Whitening<float> model(options);
      return model.fit_transform(x_);
    });
  }
  expect_thread_invariant("whitening double", [&](Parallel p) {
    WhiteningOptions options;
    options.parallel = p;
    return Whitening<double>(options).fit_transform(xd_);
  });
  expect_thread_invariant("all-but-the-top", [&](Parallel p) {
    AllButTheTopOptions options;
    options.components = 2;
    options.parallel = p;
    return AllButTheTop<float>(options).fit_transform(x_);
  });
  expect_thread_invariant("fnorm", [&](Parallel p) { return FNorm<float>(p).fit(x_).transform(q_); });
  expect_thread_invariant("isotropy", [&](Parallel p) { return isotropy(x_, p); });
  expect_thread_invariant("whitening partial_fit", [&](Parallel p) {
    WhiteningOptions options;
    options.parallel = p;
    Whitening<float> model(options);
    model.partial_fit(x_.topRows(100)).partial_fit(x_.bottomRows(157));
    return model.transform(q_);
  });
}

TEST_F(Determinism, HubnessReductions) {
  for (const char* method : {"none", "mp", "mp-normal", "ls", "nicdm", "dsl", "csls"}) {
    for (std::int64_t candidates : {0, 20}) {
      expect_thread_invariant(std::string("reduce_hubness ") + method, [&](Parallel p) {
        HubnessPipelineOptions options;
        options.reduction.method = parse_reduction(method);
        options.reduction.parallel = p;
        options.search.parallel = p;
        options.candidates = candidates;
        const HubnessPipelineResult result = reduce_hubness(x_, 10, Metric::l2, options);
        return bits(result.reduced) + bits(result.after) + bits(result.before);
      });
    }
  }
  expect_thread_invariant("reduce_hubness lc", [&](Parallel p) {
    HubnessPipelineOptions options;
    options.reduction.method = Reduction::localized_centering;
    options.reduction.parallel = p;
    options.search.parallel = p;
    return bits(reduce_hubness(x_, 10, Metric::cosine, options).reduced);
  });
}

TEST_F(Determinism, KnnClassification) {
  const KnnGraph graph = knn_graph(x_, 7, Metric::l2);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(x_.rows()));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>((i * 7) % 5);
  expect_thread_invariant("knn_predict", [&](Parallel p) { return knn_predict(graph.ids, labels, 5, p); });
  expect_thread_invariant("loo_knn_accuracy", [&](Parallel p) { return loo_knn_accuracy(graph.ids, labels, 5, p); });
}

TEST_F(Determinism, AnalysisMeasures) {
  std::vector<std::int64_t> labels(257);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 5);
  expect_thread_invariant("silhouette", [&](Parallel p) { return silhouette(x_, labels, Metric::cosine, p); });
  IdMatrix questions(40, 3), pairs(40, 2);
  for (Eigen::Index i = 0; i < 40; ++i) {
    questions.row(i) << i, i + 50, i + 100;
    pairs.row(i) << i, i + 7;
  }
  expect_thread_invariant("solve_analogies",
                          [&](Parallel p) { return solve_analogies(x_, questions, AnalogyMethod::mul, p); });
  expect_thread_invariant("evalrank", [&](Parallel p) {
    const EvalRankScores s = evalrank(x_, pairs, p);
    return bits(s.mrr) + bits(s.hits1) + bits(s.hits3);
  });
  expect_thread_invariant("mine_hard_negatives", [&](Parallel p) {
    HardNegativeOptions options;
    options.count = 4;
    options.rank_min = 2;
    options.rank_max = 30;
    options.margin = 0.01;
    options.parallel = p;
    std::vector<std::vector<std::int64_t>> positives(static_cast<std::size_t>(q_.rows()));
    for (std::size_t i = 0; i < positives.size(); ++i) positives[i] = {static_cast<std::int64_t>(i)};
    return mine_hard_negatives(q_, x_, positives, options);
  });
}

TEST_F(Determinism, AnchorsReproduceWithTheSeedAndAnyThreads) {
  for (AnchorMethod method :
       {AnchorMethod::uniform, AnchorMethod::farthest_point, AnchorMethod::kmeans_plus_plus, AnchorMethod::kmeans}) {
    for (std::uint64_t seed : {0u, 7u}) {
      expect_thread_invariant("select_anchors", [&](Parallel p) {
        AnchorOptions options;
        options.method = method;
        options.seed = seed;
        options.parallel = p;
        return select_anchors(x_, 12, options);
      });
    }
    AnchorOptions seven;
    seven.method = method;
    seven.seed = 7;
    AnchorOptions eight = seven;
    eight.seed = 8;
    // A different seed draws differently (else the seed would not be used).
    EXPECT_NE(select_anchors(x_, 12, seven), select_anchors(x_, 12, eight));
  }
  expect_thread_invariant("kmeans_centroids", [&](Parallel p) {
    AnchorOptions options;
    options.seed = 3;
    options.parallel = p;
    return kmeans_centroids(x_, 6, options);
  });
}

TEST_F(Determinism, RelativeTranslationCompare) {
  const std::vector<std::int64_t> anchors = {0, 10, 20, 30, 40, 50, 60, 70};
  expect_thread_invariant("relative projection", [&](Parallel p) {
    RelativeOptions options;
    options.similarities = {RelativeSimilarity::cosine, RelativeSimilarity::l2, RelativeSimilarity::linf};
    options.parallel = p;
    RelativeProjection<float> projection(options);
    projection.fit(x_, anchors);
    return projection.transform(q_);
  });
  const RowMatrixf y = random_normal<float>(257, 11, 103);
  expect_thread_invariant("translator", [&](Parallel p) {
    TranslationOptions options;
    options.parallel = p;
    LatentTranslator<float> translator(options);
    translator.fit(x_, y);
    return translator.transform(q_);
  });
  for (std::int64_t block : {1, 16, 256}) {
    expect_thread_invariant("compare_spaces", [&](Parallel p) {
      CompareOptions options;
      options.block_rows = block;
      options.parallel = p;
      return compare_spaces(x_, y, options);
    });
  }
}

}  // namespace
}  // namespace latent
