// The FAISS adapter on synthetic data: equality with the exact `knn` for every
// metric, ids, -1 padding, per-call parameters and threads, range search,
// removal, reconstruction, re-ranking, save/load (and corrupt files), errors.
// Real-data recall and hubness tests: test_index_fmnist.cpp.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <omp.h>
#include <cstdlib>

#include <faiss/Index.h>
#include <faiss/IndexBinaryHNSW.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/IndexIVF.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "support/sanitizers.hpp"
#ifdef LATENT_TEST_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/embedding/quantization.hpp"
#include "latent/index/faiss_binary_index.hpp"
#include "latent/similarity.hpp"
#include "support/test_support.hpp"

namespace latent::index {
namespace {

using latent::testing::message_of;
using latent::testing::random_normal;

// FAISS's k-means and HNSW open many short OpenMP regions; with 2 threads on a
// loaded CI machine their spinning barriers made these tests ~50x slower (200 s
// against 4 s, measured). Results do not depend on the thread count (checked
// with explicit counts in ThreadCountIsPerCallAndRestored), so the tests run
// single-threaded unless LATENT_NUM_THREADS is set by the caller.
const bool kSingleThreadedByDefault = ::setenv("LATENT_NUM_THREADS", "1", 0) == 0;

TEST(FaissIndex, ReportsTheLinkedFaissVersion) {
  // The test includes FAISS itself (the public header does not) to know the truth.
  const std::string expected = std::to_string(FAISS_VERSION_MAJOR) + "." + std::to_string(FAISS_VERSION_MINOR) + "." +
                               std::to_string(FAISS_VERSION_PATCH);
  EXPECT_EQ(faiss_version(), expected);
}

// Same neighbours as the exact reference: at every position the ids agree, or
// the two lists hold a near tie there (the scores agree to float rounding).
void expect_same_graph(const KnnGraph& got, const KnnGraph& want, float tolerance) {
  ASSERT_EQ(got.ids.rows(), want.ids.rows());
  ASSERT_EQ(got.ids.cols(), want.ids.cols());
  EXPECT_EQ(got.metric, want.metric);
  for (Eigen::Index i = 0; i < got.ids.rows(); ++i) {
    for (Eigen::Index j = 0; j < got.ids.cols(); ++j) {
      const float scale = std::max(1.0f, std::abs(want.scores(i, j)));
      EXPECT_NEAR(got.scores(i, j), want.scores(i, j), tolerance * scale) << "row " << i << " col " << j;
      if (got.ids(i, j) != want.ids(i, j)) {
        EXPECT_NEAR(got.scores(i, j), want.scores(i, j), tolerance * scale)
            << "different ids " << got.ids(i, j) << " vs " << want.ids(i, j) << " without a tie";
      }
    }
  }
}

class FlatEqualsExact : public ::testing::TestWithParam<Metric> {};

TEST_P(FlatEqualsExact, IdsAndScoresOfTheSimilarityModule) {
  const Metric metric = GetParam();
  const RowMatrixf base = random_normal<float>(600, 24, 1);
  const RowMatrixf queries = random_normal<float>(70, 24, 2);
  FaissIndex index(24, "Flat", metric);
  index.add(base);
  const KnnGraph got = index.search(queries, 10);
  const KnnGraph want = knn(queries, base, 10, metric);
  expect_same_graph(got, want, 2e-5f);
  EXPECT_FALSE(got.self_excluded);
  if (metric == Metric::cosine) {
    EXPECT_LE(got.scores.maxCoeff(), 1.0f);
    EXPECT_GE(got.scores.minCoeff(), -1.0f);
  }
}

INSTANTIATE_TEST_SUITE_P(Metrics, FlatEqualsExact,
                         ::testing::Values(Metric::cosine, Metric::ip, Metric::l2, Metric::sqeuclidean,
                                           Metric::angular),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

TEST(FaissIndex, CosineOfAQueryWithItselfIsOneNotMore) {
  // Large, unnormalised rows: FAISS's inner product of the normalised copies can
  // round above 1; the adapter reports a cosine.
  RowMatrixf base = random_normal<float>(200, 128, 3) * 1000.0f;
  FaissIndex index(128, "Flat", Metric::cosine);
  index.add(base);
  const KnnGraph graph = index.search(base, 1);
  for (Eigen::Index i = 0; i < base.rows(); ++i) {
    EXPECT_EQ(graph.ids(i, 0), i);
    EXPECT_LE(graph.scores(i, 0), 1.0f);
    EXPECT_NEAR(graph.scores(i, 0), 1.0f, 1e-6f);
  }
}

TEST(FaissIndex, IdsFromAddWithIdsAndContinuingAdd) {
  const RowMatrixf base = random_normal<float>(50, 8, 4);
  FaissIndex index(8, "Flat", Metric::l2);
  std::vector<std::int64_t> ids(30);
  for (int i = 0; i < 30; ++i) ids[i] = 1000 + 7 * i;
  index.add_with_ids(base.topRows(30), ids);
  EXPECT_EQ(index.next_id(), 1000 + 7 * 29 + 1);
  index.add(base.bottomRows(20));  // numbered from next_id
  EXPECT_EQ(index.ntotal(), 50);
  const KnnGraph graph = index.search(base, 1);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(graph.ids(i, 0), ids[i]);
  for (int i = 30; i < 50; ++i) EXPECT_EQ(graph.ids(i, 0), 1000 + 7 * 29 + 1 + (i - 30));
  EXPECT_EQ(index.row_of(ids[3]), 3);
  EXPECT_EQ(index.row_of(5), -1);
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { index.add_with_ids(base.topRows(1), {ids[0]}); }), "id=1000");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { index.add_with_ids(base.topRows(2), {5, 5}); }), "id=5");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { index.add_with_ids(base.topRows(1), {-3}); }), "negative");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { index.add_with_ids(base.topRows(2), {1}); }), "ids=1");
}

TEST(FaissIndex, IvfWithNprobeOneLeavesMissingNeighboursAtTheEnd) {
  const RowMatrixf base = random_normal<float>(400, 16, 5);
  FaissIndex index(16, "IVF8,Flat", Metric::l2);
  index.train(base);
  std::vector<std::int64_t> ids(400);
  for (int i = 0; i < 400; ++i) ids[i] = 10 * i;  // IVF stores our ids natively
  index.add_with_ids(base, ids);
  IndexSearchOptions options;
  options.nprobe = 1;
  const KnnGraph graph = index.search(base.topRows(5), 400, options);
  for (Eigen::Index i = 0; i < 5; ++i) {
    Eigen::Index present = 0;
    while (present < 400 && graph.ids(i, present) >= 0) ++present;
    EXPECT_LT(present, 400);  // one list of eight cannot hold every row
    EXPECT_GT(present, 0);
    EXPECT_EQ(graph.ids(i, 0), 10 * i);
    for (Eigen::Index j = present; j < 400; ++j) {
      EXPECT_EQ(graph.ids(i, j), -1);
      EXPECT_TRUE(std::isnan(graph.scores(i, j)));
    }
    for (Eigen::Index j = 1; j < present; ++j) EXPECT_LE(graph.scores(i, j - 1), graph.scores(i, j));
  }
}

TEST(FaissIndex, PerCallNprobeAndEfSearchLeaveTheIndexUnchanged) {
  const RowMatrixf base = random_normal<float>(1000, 16, 6);
  const RowMatrixf queries = random_normal<float>(40, 16, 7);
  const KnnGraph exact = knn(queries, base, 5, Metric::l2);
  FaissIndex ivf(16, "IVF16,Flat", Metric::l2);
  ivf.train(base);
  ivf.add(base);
  IndexSearchOptions all_lists;
  all_lists.nprobe = 16;  // every list visited: exact
  expect_same_graph(ivf.search(queries, 5, all_lists), exact, 1e-4f);
  EXPECT_EQ(dynamic_cast<const faiss::IndexIVF*>(ivf.native())->nprobe, 1u);  // untouched

  FaissIndex hnsw(16, "HNSW8", Metric::l2);
  hnsw.add(base);
  IndexSearchOptions wide;
  wide.ef_search = 1000;
  expect_same_graph(hnsw.search(queries, 5, wide), exact, 1e-4f);
}

TEST(FaissIndex, ThreadCountIsPerCallAndRestored) {
  const RowMatrixf base = random_normal<float>(2000, 32, 8);
  const RowMatrixf queries = random_normal<float>(300, 32, 9);
  FaissIndex index(32, "HNSW16", Metric::cosine);
  index.add(base, Parallel{2});
  const int before = omp_get_max_threads();
  // OpenBLAS (pthread build, loaded with FAISS) is also set per call and restored.
  using GetThreads = int (*)();
  const auto blas_threads = reinterpret_cast<GetThreads>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  const int blas_before = blas_threads != nullptr ? blas_threads() : 0;
  IndexSearchOptions one, two;
  one.parallel.threads = 1;
  two.parallel.threads = 2;
  const KnnGraph a = index.search(queries, 10, one);
  EXPECT_EQ(omp_get_max_threads(), before);
  const KnnGraph b = index.search(queries, 10, two);
  EXPECT_EQ(omp_get_max_threads(), before);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.scores, b.scores);
  one.parallel.threads = -1;
  EXPECT_THROW(index.search(queries, 10, one), InvalidArgument);
  EXPECT_EQ(omp_get_max_threads(), before);
  FaissIndex flat(32, "Flat", Metric::l2);  // brute force through BLAS (>= 20 queries)
  flat.add(base);
  flat.search(queries, 10, IndexSearchOptions{0, 0, Rerank::none, 0, Parallel{1}, true});
  if (blas_threads != nullptr) {
    EXPECT_EQ(blas_threads(), blas_before);
  }
}

TEST(FaissIndex, RangeSearchMatchesBruteForce) {
  const RowMatrixf base = random_normal<float>(300, 12, 10);
  const RowMatrixf queries = random_normal<float>(20, 12, 11);
  for (const Metric metric : {Metric::l2, Metric::cosine, Metric::angular}) {
    const float radius = metric == Metric::l2 ? 3.5f : (metric == Metric::angular ? 0.6f : 0.5f);
    FaissIndex index(12, "Flat", metric);
    index.add(base);
    const RangeResult result = index.range_search(queries, radius);
    const RowMatrixf all = similarity(queries, base, metric);
    ASSERT_EQ(result.offsets.size(), 21u);
    for (Eigen::Index i = 0; i < queries.rows(); ++i) {
      std::set<std::int64_t> want, got;
      for (Eigen::Index j = 0; j < base.rows(); ++j) {
        const float s = all(i, j);
        const bool near_edge = std::abs(s - radius) < 1e-4f;
        if (near_edge) continue;
        if (metric == Metric::l2 ? s < radius : s > radius) want.insert(j);
      }
      for (auto h = result.offsets[i]; h < result.offsets[i + 1]; ++h) {
        const float s = all(i, result.ids[h]);
        EXPECT_NEAR(result.scores[h], s, 1e-4f);
        if (std::abs(s - radius) >= 1e-4f) got.insert(result.ids[h]);
        if (h > result.offsets[i]) {
          if (metric == Metric::l2)
            EXPECT_LE(result.scores[h - 1], result.scores[h]);
          else
            EXPECT_GE(result.scores[h - 1], result.scores[h]);
        }
      }
      EXPECT_EQ(got, want) << to_string(metric) << " query " << i;
    }
  }
}

TEST(FaissIndex, RemoveIdsFromFlatAndIvfButNotHnsw) {
  const RowMatrixf base = random_normal<float>(500, 16, 12);
  const std::vector<std::int64_t> gone = {0, 7, 123, 499, 100000};
  for (const std::string factory : {"Flat", "IVF8,Flat", "PQ4"}) {
    FaissIndex index(16, factory, Metric::l2, IndexOptions{ZeroNormPolicy::raise, true, 0});
    index.train(base);
    index.add(base);
    EXPECT_EQ(index.remove_ids(gone), 4) << factory;
    EXPECT_EQ(index.ntotal(), 496);
    IndexSearchOptions options;
    options.nprobe = 8;
    const KnnGraph graph = index.search(base, 20, options);
    for (Eigen::Index i = 0; i < graph.ids.size(); ++i) {
      const std::int64_t id = graph.ids.data()[i];
      EXPECT_TRUE(id != 0 && id != 7 && id != 123 && id != 499) << factory;
    }
    // The kept rows still match their ids after compaction.
    const std::vector<float> row = index.reconstruct(124);
    for (int j = 0; j < 16; ++j) EXPECT_EQ(row[j], base(124, j));
    options.rerank = Rerank::exact;
    EXPECT_EQ(index.search(base.row(124), 1, options).ids(0, 0), 124) << factory;
  }
  // Without kept rows an IVF reconstructs through FAISS's direct map (a hashtable),
  // after which FAISS removes only through another selector: still works.
  FaissIndex ivf(16, "IVF8,Flat", Metric::l2);
  ivf.train(base);
  ivf.add(base);
  EXPECT_EQ(ivf.reconstruct(3), std::vector<float>(base.row(3).data(), base.row(3).data() + 16));
  EXPECT_EQ(ivf.remove_ids(gone), 4);
  EXPECT_EQ(ivf.ntotal(), 496);
  EXPECT_EQ(ivf.reconstruct(124), std::vector<float>(base.row(124).data(), base.row(124).data() + 16));
  EXPECT_THROW(ivf.reconstruct(7), InvalidArgument);
  FaissIndex hnsw(16, "HNSW8", Metric::l2);
  hnsw.add(base);
  EXPECT_CONTAINS(message_of<BackendError>([&] { hnsw.remove_ids({1}); }), "FAISS");
}

TEST(FaissIndex, ReconstructReturnsStoredRows) {
  const RowMatrixf base = random_normal<float>(300, 8, 13);
  FaissIndex flat(8, "Flat", Metric::l2);
  flat.add(base);
  const std::vector<float> row = flat.reconstruct(17);
  for (int j = 0; j < 8; ++j) EXPECT_EQ(row[j], base(17, j));
  FaissIndex cosine(8, "Flat", Metric::cosine);
  cosine.add(base);
  const std::vector<float> unit = cosine.reconstruct(17);
  const RowMatrixf expected = base.row(17).normalized();
  for (int j = 0; j < 8; ++j) EXPECT_NEAR(unit[j], expected(0, j), 1e-6f);
  FaissIndex ivf(8, "IVF4,Flat", Metric::l2);
  ivf.train(base);
  std::vector<std::int64_t> ids(300);
  for (int i = 0; i < 300; ++i) ids[i] = 5 * i + 3;
  ivf.add_with_ids(base, ids);
  const std::vector<float> by_id = ivf.reconstruct(5 * 17 + 3);
  for (int j = 0; j < 8; ++j) EXPECT_EQ(by_id[j], base(17, j));
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { ivf.reconstruct(4); }), "id=4");
}

TEST(FaissIndex, ExactRescoringOfPqCandidates) {
  const RowMatrixf base = random_normal<float>(2000, 32, 14);
  const RowMatrixf queries = random_normal<float>(50, 32, 15);
  FaissIndex index(32, "PQ4", Metric::l2);
  index.train(base);
  index.add(base);
  IndexSearchOptions options;
  options.rerank = Rerank::exact;
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { index.search(queries, 5, options); }), "keep_vectors");
  index.attach_vectors(base);
  options.candidates = 2000;  // every row re-scored: exact
  expect_same_graph(index.search(queries, 5, options), knn(queries, base, 5, Metric::l2), 1e-4f);
}

TEST(FaissIndex, ApproximateKnnGraphWithFlatIsTheExactGraph) {
  const RowMatrixf base = random_normal<float>(400, 16, 16);
  for (const Metric metric : {Metric::cosine, Metric::sqeuclidean}) {
    const KnnGraph got = approximate_knn_graph(base, 7, "Flat", metric);
    const KnnGraph want = knn_graph(base, 7, metric);
    EXPECT_TRUE(got.self_excluded);
    expect_same_graph(got, want, 2e-5f);
  }
  EXPECT_THROW(approximate_knn_graph(base, 400, "Flat", Metric::l2), InvalidK);
}

TEST(FaissIndex, HubnessRerankingUsesTheFittedStatistics) {
  const RowMatrixf base = random_normal<float>(500, 16, 17);
  const RowMatrixf queries = random_normal<float>(30, 16, 18);
  FaissIndex index(16, "Flat", Metric::cosine, IndexOptions{ZeroNormPolicy::raise, true, 0});
  index.add(base);
  IndexSearchOptions options;
  options.rerank = Rerank::hubness;
  EXPECT_THROW(index.search(queries, 5, options), NotFitted);
  ReductionOptions csls;
  csls.method = Reduction::csls;
  index.fit_hubness(csls, 20);
  ASSERT_TRUE(index.hubness_fitted());
  options.candidates = 50;
  const KnnGraph got = index.search(queries, 5, options);
  // Reference: the hubness module on the exact candidate lists.
  HubnessReducer reducer(csls);
  const DistanceGraph fitted = to_distance_graph(knn_graph(base, 20, Metric::cosine));
  reducer.fit(fitted);
  const DistanceGraph want = reducer.transform(to_distance_graph(knn(queries, base, 50, Metric::cosine)), 5);
  EXPECT_EQ(got.ids, want.ids);
  const RowMatrixf cosines = similarity(queries, base, Metric::cosine);
  for (Eigen::Index i = 0; i < got.ids.rows(); ++i)
    for (Eigen::Index j = 0; j < got.ids.cols(); ++j) EXPECT_NEAR(got.scores(i, j), cosines(i, got.ids(i, j)), 1e-5f);
  index.add(queries);  // new rows: the fitted statistics no longer apply
  EXPECT_FALSE(index.hubness_fitted());
  FaissIndex ip(16, "Flat", Metric::ip);
  ip.add(base);
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { ip.fit_hubness(csls); }), "metric=ip");
}

TEST(FaissIndex, ValidationErrorsNameTheArgument) {
  const RowMatrixf base = random_normal<float>(100, 8, 19);
  FaissIndex index(8, "Flat", Metric::l2);
  index.add(base);
  const RowMatrixf wrong = random_normal<float>(3, 9, 20);
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { index.search(wrong, 1); }), "queries");
  EXPECT_CONTAINS(message_of<InvalidK>([&] { index.search(base, 101); }), "k");
  EXPECT_THROW(index.search(base, 0), InvalidK);
  RowMatrixf nan = base.topRows(2);
  nan(1, 3) = std::nanf("");
  EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { index.search(nan, 1); }), "queries");
  EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { index.add(nan); }), "x");
  EXPECT_THROW(index.search(RowMatrixf(0, 8), 1), EmptyInput);
  FaissIndex ivf(8, "IVF4,Flat", Metric::l2);
  EXPECT_CONTAINS(message_of<NotFitted>([&] { ivf.add(base); }), "trained");
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { ivf.search(base, 1); }), "no rows");
  EXPECT_CONTAINS(message_of<BackendError>([] { FaissIndex bad(8, "IVF4,Nonsense", Metric::l2); }), "FAISS");
  EXPECT_CONTAINS(message_of<BackendError>([&] { FaissIndex(8, "IVF64,Flat", Metric::l2).train(base.topRows(10)); }),
                  "FAISS");
  EXPECT_CONTAINS(message_of<InvalidArgument>([] { FaissIndex bad(8, "Flat", Metric::l1); }), "metric=l1");
  // A binary factory builds a FaissBinaryIndex: refused here, naming the factory.
  EXPECT_CONTAINS(message_of<InvalidArgument>([] { FaissIndex bad(8, "BFlat", Metric::l2); }), "binary");
  EXPECT_CONTAINS(message_of<InvalidArgument>([] { FaissIndex bad(8, "BHNSW8", Metric::l2); }), "'BHNSW8'");
  EXPECT_CONTAINS(message_of<InvalidArgument>([] { FaissIndex bad(0, "Flat", Metric::l2); }), "dim=0");
  FaissIndex cosine(8, "Flat", Metric::cosine);
  RowMatrixf zero = base.topRows(3);
  zero.row(2).setZero();
  EXPECT_CONTAINS(message_of<NumericalError>([&] { cosine.add(zero); }), "row 2");
  FaissIndex lenient(8, "Flat", Metric::cosine, IndexOptions{ZeroNormPolicy::zero, false, 0});
  lenient.add(zero);
  EXPECT_EQ(lenient.search(zero.topRows(1), 3).scores(0, 2), 0.0f);
  FaissIndex hnsw(8, "HNSW8", Metric::l2);
  hnsw.add(base);
  EXPECT_CONTAINS(message_of<BackendError>([&] { hnsw.range_search(base, 1.0f); }), "FAISS");
  EXPECT_THROW(index.range_search(base, -1.0f), InvalidArgument);
}

// ---------------------------------------------------------------- binary indexes

// Sign codes (numpy.packbits layout) of random rows: 256 bits, so Hamming ties
// are rare but present.
QuantizedMatrix sign_codes(const RowMatrixf& rows) {
  Quantizer binary(QuantizerOptions{QuantizationType::binary});
  binary.fit_dim(rows.cols());
  return binary.encode(rows);
}

int hamming(const QuantizedMatrix& a, std::int64_t i, const QuantizedMatrix& b, std::int64_t j) {
  int bits = 0;
  for (std::int64_t byte = 0; byte < a.bytes_per_row; ++byte)
    bits += __builtin_popcount(a.row(i)[byte] ^ b.row(j)[byte]);
  return bits;
}

// `got` is an exact Hamming top-k: its distances equal `want`'s position by
// position, every id's distance is its true distance, and below the k-th
// distance (where no tie can choose between ids) the ids are identical.
void expect_exact_hamming(const KnnGraph& got, const KnnGraph& want, const QuantizedMatrix& queries,
                          const QuantizedMatrix& base, const std::vector<std::int64_t>& row_of_id = {}) {
  ASSERT_EQ(got.ids.rows(), want.ids.rows());
  ASSERT_EQ(got.ids.cols(), want.ids.cols());
  EXPECT_EQ(got.metric, Metric::l1);
  for (std::int64_t i = 0; i < got.n_queries(); ++i) {
    const float last = want.scores(i, want.k() - 1);
    for (std::int64_t j = 0; j < got.k(); ++j) {
      ASSERT_EQ(got.scores(i, j), want.scores(i, j)) << "query " << i << " slot " << j;
      const std::int64_t id = got.ids(i, j);
      const std::int64_t row = row_of_id.empty() ? id : row_of_id[static_cast<std::size_t>(id)];
      EXPECT_EQ(static_cast<float>(hamming(queries, i, base, row)), got.scores(i, j));
      if (got.scores(i, j) < last) {
        EXPECT_EQ(id, want.ids(i, j)) << "query " << i << " slot " << j;
      }
    }
  }
}

TEST(FaissBinaryIndex, BFlatEqualsTheEmbeddingModulesBinaryKnn) {
  const QuantizedMatrix base = sign_codes(random_normal<float>(1500, 256, 41));
  const QuantizedMatrix queries = sign_codes(random_normal<float>(40, 256, 42));
  FaissBinaryIndex index(256, "BFlat");
  EXPECT_EQ(index.metric(), Metric::l1);
  ASSERT_NE(index.native(), nullptr);
  index.add(base.view());
  const KnnGraph want = binary_knn(base, queries, 10);
  expect_exact_hamming(index.search(queries.view(), 10), want, queries, base);
  // BIVF visiting every list is exact too; with its own ids.
  FaissBinaryIndex ivf(256, "BIVF16");
  EXPECT_FALSE(ivf.is_trained());
  EXPECT_CONTAINS(message_of<NotFitted>([&] { ivf.add(base.view()); }), "trained");
  ivf.train(base.view());
  std::vector<std::int64_t> ids(1500), row_of_id(3 * 1500 + 7);
  for (std::int64_t r = 0; r < 1500; ++r) {
    ids[r] = 3 * r + 7;
    row_of_id[static_cast<std::size_t>(ids[r])] = r;
  }
  ivf.add_with_ids(base.view(), ids);
  IndexSearchOptions all_lists;
  all_lists.nprobe = 16;
  KnnGraph want_ids = want;
  for (Eigen::Index e = 0; e < want_ids.ids.size(); ++e) want_ids.ids.data()[e] = 3 * want_ids.ids.data()[e] + 7;
  expect_exact_hamming(ivf.search(queries.view(), 10, all_lists), want_ids, queries, base, row_of_id);
  // nprobe 1 is approximate but every present neighbour's distance is true.
  const KnnGraph one_list = ivf.search(queries.view(), 10);
  for (std::int64_t i = 0; i < one_list.n_queries(); ++i) {
    for (std::int64_t j = 0; j < 10; ++j) {
      if (one_list.ids(i, j) < 0) continue;
      EXPECT_EQ(one_list.scores(i, j),
                hamming(queries, i, base, row_of_id[static_cast<std::size_t>(one_list.ids(i, j))]));
    }
  }
}

TEST(FaissBinaryIndex, BHnswFindsMostExactNeighboursAndEfSearchIsPerCall) {
  const QuantizedMatrix base = sign_codes(random_normal<float>(2000, 256, 43));
  const QuantizedMatrix queries = sign_codes(random_normal<float>(50, 256, 44));
  FaissBinaryIndex index(256, "BHNSW16");
  index.add(base.view());
  const KnnGraph exact = binary_knn(base, queries, 10);
  auto recall = [&](const KnnGraph& graph) {
    std::int64_t found = 0;
    for (std::int64_t i = 0; i < graph.n_queries(); ++i) {
      const std::set<float> within(exact.scores.row(i).data(), exact.scores.row(i).data() + 10);
      // a neighbour counts when it is at most the k-th exact distance (ties are equally good)
      for (std::int64_t j = 0; j < 10; ++j) found += graph.scores(i, j) <= exact.scores(i, 9) ? 1 : 0;
    }
    return static_cast<double>(found) / static_cast<double>(graph.n_queries() * 10);
  };
  IndexSearchOptions wide;
  wide.ef_search = 256;
  const double r_wide = recall(index.search(queries.view(), 10, wide));
  const double r_default = recall(index.search(queries.view(), 10));
  EXPECT_GE(r_wide, 0.95);
  EXPECT_GE(r_wide, r_default);
  EXPECT_EQ(recall(index.search(queries.view(), 10)), r_default);  // efSearch restored
  EXPECT_THROW(index.range_search(queries.view(), 100.0f), BackendError);
  EXPECT_THROW(index.remove_ids({0}), BackendError);
}

TEST(FaissBinaryIndex, ConcurrentSearchesWithDifferentParametersMatchSerialOnes) {
  // Binary IVF / HNSW read nprobe / efSearch from the index in FAISS 1.7.3: the
  // adapter sets them under the index's exclusive lock. Four threads with four
  // settings at once give what each gives alone, and the index keeps its own.
  const QuantizedMatrix base = sign_codes(random_normal<float>(1200, 128, 52));
  const QuantizedMatrix queries = sign_codes(random_normal<float>(30, 128, 53));
  for (const std::string factory : {"BIVF16", "BHNSW8"}) {
    FaissBinaryIndex index(128, factory);
    index.train(base.view());
    index.add(base.view());
    std::vector<IndexSearchOptions> settings(4);
    for (int s = 0; s < 4; ++s) {
      settings[s].nprobe = 1 + 5 * s;
      settings[s].ef_search = 8 + 40 * s;
    }
    std::vector<KnnGraph> serial;
    for (const IndexSearchOptions& o : settings) serial.push_back(index.search(queries.view(), 10, o));
    std::vector<KnnGraph> concurrent(4);
    std::vector<std::thread> threads;
    for (int s = 0; s < 4; ++s) {
      threads.emplace_back([&, s] {
        for (int repeat = 0; repeat < 5; ++repeat) concurrent[s] = index.search(queries.view(), 10, settings[s]);
      });
    }
    for (std::thread& t : threads) t.join();
    for (int s = 0; s < 4; ++s) {
      EXPECT_EQ(concurrent[s].ids, serial[s].ids) << factory << " setting " << s;
      EXPECT_EQ(concurrent[s].scores, serial[s].scores) << factory << " setting " << s;
    }
    if (const auto* ivf = dynamic_cast<const faiss::IndexBinaryIVF*>(index.native())) {
      EXPECT_EQ(ivf->nprobe, 1u);  // FAISS's default, restored
    } else {
      EXPECT_EQ(dynamic_cast<const faiss::IndexBinaryHNSW*>(index.native())->hnsw.efSearch, 16);
    }
  }
}

TEST(FaissBinaryIndex, RangeSearchIsInclusiveInBits) {
  const QuantizedMatrix base = sign_codes(random_normal<float>(600, 64, 45));
  const QuantizedMatrix queries = sign_codes(random_normal<float>(12, 64, 46));
  for (const std::string factory : {"BFlat", "BIVF4"}) {
    FaissBinaryIndex index(64, factory);
    index.train(base.view());
    index.add(base.view());
    IndexSearchOptions all_lists;
    all_lists.nprobe = 4;
    const int radius = 22;
    const RangeResult found = index.range_search(queries.view(), static_cast<float>(radius), all_lists);
    for (std::int64_t i = 0; i < queries.rows; ++i) {
      std::vector<std::int64_t> want;
      for (std::int64_t r = 0; r < base.rows; ++r)
        if (hamming(queries, i, base, r) <= radius) want.push_back(r);
      std::vector<std::int64_t> got(found.ids.begin() + found.offsets[i], found.ids.begin() + found.offsets[i + 1]);
      for (std::size_t h = 0; h < got.size(); ++h)
        EXPECT_EQ(found.scores[found.offsets[i] + h], hamming(queries, i, base, got[h]));
      std::sort(got.begin(), got.end());
      EXPECT_EQ(got, want) << factory << " query " << i;
    }
  }
}

TEST(FaissBinaryIndex, RemoveReconstructAndExactRescoring) {
  const RowMatrixf rows = random_normal<float>(800, 64, 47);
  const RowMatrixf query_rows = random_normal<float>(20, 64, 48);
  const QuantizedMatrix base = sign_codes(rows), queries = sign_codes(query_rows);
  for (const std::string factory : {"BFlat", "BIVF8"}) {
    FaissBinaryIndex index(64, factory);
    index.train(base.view());
    index.add(base.view());
    // reconstruct: the stored bits, as 0 / 1 in packbits order (bit j = row_j > 0)
    const std::vector<float> bits = index.reconstruct(5);
    ASSERT_EQ(bits.size(), 64u);
    for (std::int64_t j = 0; j < 64; ++j) EXPECT_EQ(bits[j], rows(5, j) > 0 ? 1.0f : 0.0f) << factory << " bit " << j;
    // Exact re-scoring of every row is the exact cosine search; of 100 it is close.
    EXPECT_CONTAINS(
        message_of<InvalidArgument>([&] { index.search_rescored(queries.view(), query_rows, 5, Metric::cosine); }),
        "attach_vectors");
    index.attach_vectors(rows);
    IndexSearchOptions all;
    all.nprobe = 8;
    all.candidates = 800;
    const KnnGraph rescored = index.search_rescored(queries.view(), query_rows, 5, Metric::cosine, all);
    EXPECT_EQ(rescored.metric, Metric::cosine);
    expect_same_graph(rescored, knn(query_rows, rows, 5, Metric::cosine), 1e-5f);
    EXPECT_EQ(index.remove_ids({5, 6, 7, 1000}), 3);
    EXPECT_EQ(index.ntotal(), 797);
    EXPECT_EQ(index.row_of(8), 5);
    EXPECT_FALSE(index.has_vectors());  // the lent rows no longer match
    const KnnGraph after = index.search(queries.view(), 797, all);
    for (std::int64_t j = 0; j < 797; ++j) EXPECT_GT(after.ids(0, j), -1);
    for (std::int64_t j = 0; j < 797; ++j) EXPECT_TRUE(after.ids(0, j) < 5 || after.ids(0, j) > 7);
  }
}

TEST(FaissBinaryIndex, ValidationErrorsNameTheArgument) {
  const RowMatrixf rows = random_normal<float>(100, 64, 49);
  const QuantizedMatrix codes = sign_codes(rows);
  // A float factory builds a FaissIndex: refused here, naming the factory.
  EXPECT_CONTAINS(message_of<InvalidArgument>([] { FaissBinaryIndex bad(64, "Flat"); }), "'Flat'");
  EXPECT_CONTAINS(message_of<InvalidArgument>([] { FaissBinaryIndex bad(64, "IVF4,Flat"); }), "FaissIndex");
  EXPECT_CONTAINS(message_of<InvalidArgument>([] { FaissBinaryIndex bad(60, "BFlat"); }), "dim=60");
  EXPECT_CONTAINS(message_of<InvalidArgument>([] { FaissBinaryIndex bad(0, "BFlat"); }), "dim=0");
  EXPECT_CONTAINS(message_of<InvalidArgument>([] { FaissBinaryIndex bad(64, "BHNSW8", BinaryIndexOptions{-1}); }),
                  "ef_construction");
  EXPECT_CONTAINS(message_of<BackendError>([] { FaissBinaryIndex bad(64, "BNonsense"); }), "FAISS");
  FaissBinaryIndex index(64, "BFlat");
  const RowMatrix<std::uint8_t> narrow = RowMatrix<std::uint8_t>::Zero(2, 7);
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { index.train(narrow); }), "codes");
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { index.add(RowMatrix<std::uint8_t>(0, 8)); }), "codes");
  const MatrixView<std::uint8_t> two_rows(codes.codes.data(), 2, 8);
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { index.add_with_ids(two_rows, {3, 3}); }), "id=3");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { index.add_with_ids(codes.view(), {1, 2}); }), "ids");
  EXPECT_EQ(index.ntotal(), 0);  // nothing was added by the failed calls
  index.add(codes.view());
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { index.search(narrow, 1); }), "codes");
  EXPECT_THROW(index.search(RowMatrix<std::uint8_t>(0, 8), 1), EmptyInput);
  EXPECT_THROW(index.search(codes.view(), 101), InvalidK);
  IndexSearchOptions exact;
  exact.rerank = Rerank::exact;
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { index.search(codes.view(), 1, exact); }), "search_rescored");
  index.attach_vectors(rows);
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { index.search_rescored(codes.view(), rows, 1, Metric::l1); }),
                  "metric");
  EXPECT_THROW(index.search_rescored(codes.view(), rows.topRows(3), 1, Metric::cosine), DimensionMismatch);
  RowMatrixf nan = rows;
  nan(4, 2) = std::nanf("");
  EXPECT_THROW(index.search_rescored(codes.view(), nan, 1, Metric::cosine), NonFiniteValue);
  EXPECT_THROW(index.range_search(codes.view(), -1.0f), InvalidArgument);
}

class FaissIndexFiles : public latent::testing::TempDirTest {};

TEST_F(FaissIndexFiles, SaveLoadRoundTripGivesIdenticalResults) {
  const RowMatrixf base = random_normal<float>(800, 16, 21);
  const RowMatrixf queries = random_normal<float>(30, 16, 22);
  for (const std::string factory : {"Flat", "IVF8,Flat", "HNSW8", "IVF8,PQ4", "OPQ4,IVF8,PQ4", "HNSW8,SQ8"}) {
    FaissIndex index(16, factory, Metric::cosine, IndexOptions{ZeroNormPolicy::raise, true, 0});
    index.train(base);
    std::vector<std::int64_t> ids(800);
    for (int i = 0; i < 800; ++i) ids[i] = 3 * i + 1;
    index.add_with_ids(base, ids);
    ReductionOptions ls;
    ls.method = Reduction::local_scaling;
    IndexSearchOptions options;
    options.nprobe = 4;
    options.ef_search = 32;
    index.fit_hubness(ls, 10, options);
    const std::string file = path("index.latent");
    index.save(file);
    const FaissIndex loaded = FaissIndex::load(file);
    EXPECT_EQ(loaded.factory(), factory);
    EXPECT_EQ(loaded.metric(), Metric::cosine);
    EXPECT_EQ(loaded.ntotal(), 800);
    EXPECT_EQ(loaded.next_id(), index.next_id());
    EXPECT_TRUE(loaded.hubness_fitted());
    for (const Rerank rerank : {Rerank::none, Rerank::exact, Rerank::hubness}) {
      options.rerank = rerank;
      const KnnGraph a = index.search(queries, 10, options);
      const KnnGraph b = loaded.search(queries, 10, options);
      EXPECT_EQ(a.ids, b.ids) << factory;
      EXPECT_EQ(a.scores, b.scores) << factory;
    }
  }
}

TEST_F(FaissIndexFiles, BinaryIndexesRoundTrip) {
  const QuantizedMatrix base = sign_codes(random_normal<float>(700, 128, 50));
  const QuantizedMatrix queries = sign_codes(random_normal<float>(25, 128, 51));
  for (const std::string factory : {"BFlat", "BIVF8", "BHNSW8", "BIVF8_HNSW4"}) {
    FaissBinaryIndex index(128, factory);
    index.train(base.view());
    std::vector<std::int64_t> ids(700);
    for (int i = 0; i < 700; ++i) ids[i] = 2 * i + 5;
    index.add_with_ids(base.view(), ids);
    index.set_metadata("source", "sign codes");
    const std::string file = path("binary.latent");
    index.save(file);
    const FaissBinaryIndex loaded = FaissBinaryIndex::load(file);
    EXPECT_TRUE(std::holds_alternative<FaissBinaryIndex>(load_any_faiss_index(file)));
    EXPECT_EQ(loaded.metric(), Metric::l1);
    EXPECT_EQ(loaded.dim(), 128);
    EXPECT_EQ(loaded.metadata("source"), "sign codes");
    IndexSearchOptions options;
    options.nprobe = 3;
    options.ef_search = 40;
    const KnnGraph a = index.search(queries.view(), 10, options);
    const KnnGraph b = loaded.search(queries.view(), 10, options);
    EXPECT_EQ(a.ids, b.ids) << factory;
    EXPECT_EQ(a.scores, b.scores) << factory;
    EXPECT_EQ(index.reconstruct(9), loaded.reconstruct(9)) << factory;
  }
}

TEST_F(FaissIndexFiles, LoadingTheOtherKindIsAnIoErrorNamingTheFile) {
  const RowMatrixf rows = random_normal<float>(40, 16, 54);
  FaissIndex floats(16, "Flat", Metric::l2);
  floats.add(rows);
  const std::string float_file = path("float.latent");
  floats.save(float_file);
  FaissBinaryIndex bits(16, "BFlat");
  bits.add(sign_codes(rows).view());
  const std::string binary_file = path("binary.latent");
  bits.save(binary_file);
  const std::string as_float = message_of<IoError>([&] { FaissIndex::load(binary_file); });
  EXPECT_CONTAINS(as_float, binary_file);
  EXPECT_CONTAINS(as_float, "FaissBinaryIndex::load");
  const std::string as_binary = message_of<IoError>([&] { FaissBinaryIndex::load(float_file); });
  EXPECT_CONTAINS(as_binary, float_file);
  EXPECT_CONTAINS(as_binary, "FaissIndex::load");
  // load_any_faiss_index reads either and gives back the kind that was saved.
  auto any_float = load_any_faiss_index(float_file);
  ASSERT_TRUE(std::holds_alternative<FaissIndex>(any_float));
  EXPECT_EQ(std::get<FaissIndex>(any_float).search(rows, 3).ids, floats.search(rows, 3).ids);
  auto any_binary = load_any_faiss_index(binary_file);
  ASSERT_TRUE(std::holds_alternative<FaissBinaryIndex>(any_binary));
  EXPECT_EQ(std::get<FaissBinaryIndex>(any_binary).ntotal(), 40);
  EXPECT_THROW(load_any_faiss_index(path("missing.latent")), IoError);
}

TEST_F(FaissIndexFiles, TruncatedOrCorruptFilesRaiseTypedErrors) {
  const RowMatrixf base = random_normal<float>(300, 8, 23);
  FaissIndex index(8, "IVF4,Flat", Metric::l2);
  index.train(base);
  index.add(base);
  const std::string file = path("index.latent");
  index.save(file);
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string damaged = path("damaged.latent");
  auto write = [&](const std::string& content) {
    std::ofstream out(damaged, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  };
  for (const std::size_t length : {std::size_t{0}, std::size_t{5}, std::size_t{40}, bytes.size() / 3, bytes.size() / 2,
                                   bytes.size() - 9, bytes.size() - 1}) {
    write(bytes.substr(0, length));
    EXPECT_THROW(FaissIndex::load(damaged), IoError) << "truncated at " << length;
  }
  for (std::size_t position = 0; position < bytes.size(); position += bytes.size() / 23 + 1) {
    std::string flipped = bytes;
    flipped[position] = static_cast<char>(flipped[position] ^ 0x5a);
    write(flipped);
    EXPECT_THROW(FaissIndex::load(damaged), IoError) << "byte " << position << " flipped";
  }
  EXPECT_THROW(FaissIndex::load(path("missing.latent")), IoError);

  // A well-formed container whose FAISS payload FAISS rejects: BackendError with
  // FAISS's message, not a crash.
  // Binary indexes go through FAISS's read_index_binary: the same guarantee.
  for (const std::string& payload :
       {std::string("IwFl"), std::string("IBxF"), std::string("garbage bytes that are not an index"),
        bytes.substr(bytes.size() / 2, 64)}) {
    for (const bool binary : {false, true}) {
      ModelWriter model("faiss-index", 1);
      model.put("factory", std::string(binary ? "BFlat" : "Flat"));
      model.put("metric", std::string(binary ? "l1" : "l2"));
      model.put("dim", std::int64_t{8});
      model.put("zero_norm", std::int64_t{0});
      model.put("ef_construction", std::int64_t{0});
      model.put("next_id", std::int64_t{0});
      model.put("ids", std::vector<std::int64_t>{});
      model.put("faiss", payload);
      model.put("keep_vectors", std::int64_t{0});
      model.save(damaged);
#ifdef LATENT_TEST_ASAN
      // FAISS 1.7.3's read_index leaks the index object it had begun to read when a
      // later read throws (a raw `new` with no cleanup: 248 bytes for "IwFl"). The
      // leak is FAISS's, on its error path; the adapter owns everything it returns.
      __lsan::ScopedDisabler faiss_leaks_on_error;
#endif
      EXPECT_CONTAINS(message_of<BackendError>([&] {
                        if (binary) {
                          FaissBinaryIndex::load(damaged);
                        } else {
                          FaissIndex::load(damaged);
                        }
                      }),
                      "FAISS")
          << binary;
    }
  }
}

}  // namespace
}  // namespace latent::index
