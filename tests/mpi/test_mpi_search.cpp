// Exact and approximate kNN over rows sharded across the ranks, against the
// single-process functions on the same rows: ids identical, scores bitwise equal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "latent/core/errors.hpp"
#include "latent/mpi.hpp"
#include "latent/similarity.hpp"
#include "mpi_test_support.hpp"
#include "test_support.hpp"

namespace latent {
namespace {

using testing::encoder_rows;
using testing::my_block;

// The rows [block] of the single-process graph must equal the distributed graph
// bit for bit (ids, and scores compared as bytes).
void expect_same_rows(const KnnGraph& whole, const KnnGraph& part, const mpi::RowBlock& block) {
  ASSERT_EQ(part.n_queries(), block.rows);
  ASSERT_EQ(part.k(), whole.k());
  EXPECT_EQ(part.self_excluded, whole.self_excluded);
  for (std::int64_t i = 0; i < block.rows; ++i) {
    for (std::int64_t p = 0; p < whole.k(); ++p) {
      ASSERT_EQ(part.ids(i, p), whole.ids(block.begin + i, p)) << "row " << block.begin + i << ", column " << p;
      const float a = part.scores(i, p), b = whole.scores(block.begin + i, p);
      ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "row " << block.begin + i << ": " << a << " vs " << b;
    }
  }
}

TEST(MpiRowBlock, SplitsConsecutivelyWithTheRemainderFirst) {
  EXPECT_EQ(mpi::row_block(10, 0, 4).begin, 0);
  EXPECT_EQ(mpi::row_block(10, 0, 4).rows, 3);
  EXPECT_EQ(mpi::row_block(10, 1, 4).begin, 3);
  EXPECT_EQ(mpi::row_block(10, 2, 4).begin, 6);
  EXPECT_EQ(mpi::row_block(10, 2, 4).rows, 2);
  EXPECT_EQ(mpi::row_block(10, 3, 4).end(), 10);
  EXPECT_EQ(mpi::row_block(2, 3, 4).rows, 0);
  EXPECT_THROW(mpi::row_block(10, 4, 4), InvalidArgument);
  EXPECT_THROW(mpi::row_block(-1, 0, 1), InvalidArgument);
}

TEST(MpiKnn, GraphEqualsOneProcessBitwise) {
  const RowMatrixf x = encoder_rows();
  for (const Metric metric : {Metric::cosine, Metric::l2, Metric::ip}) {
    const KnnGraph whole = knn_graph(x, 10, metric);
    mpi::RowBlock block;
    const KnnGraph part = mpi::distributed_knn_graph(MPI_COMM_WORLD, my_block(x, &block), 10, metric);
    expect_same_rows(whole, part, block);
  }
}

TEST(MpiKnn, KLargerThanABlockStillEqualsOneProcess) {
  // k = 400 exceeds every block from 3 ranks on: lists fill from several blocks.
  const RowMatrixf x = encoder_rows(601);
  const KnnGraph whole = knn_graph(x, 400, Metric::l2);
  mpi::RowBlock block;
  expect_same_rows(whole, mpi::distributed_knn_graph(MPI_COMM_WORLD, my_block(x, &block), 400, Metric::l2), block);
}

TEST(MpiKnn, QueriesAgainstAShardedBaseEqualOneProcess) {
  const RowMatrixf all = encoder_rows(1000);
  const RowMatrixf base = all.topRows(900), queries = all.bottomRows(100);
  for (const Metric metric : {Metric::cosine, Metric::l2}) {
    const KnnGraph whole = knn(queries, base, 7, metric);
    mpi::RowBlock query_block;
    const KnnGraph part =
        mpi::distributed_knn(MPI_COMM_WORLD, my_block(queries, &query_block), my_block(base), 7, metric);
    expect_same_rows(whole, part, query_block);
  }
}

TEST(MpiKnn, BadInputOnOneRankEndsEveryRank) {
  RowMatrixf x = encoder_rows(200);
  const int last = testing::world_size() - 1;
  x(199, 5) = std::numeric_limits<float>::quiet_NaN();  // in the last rank's block
  testing::expect_fails_on_rank<NonFiniteValue>(
      last, [&] { mpi::distributed_knn_graph(MPI_COMM_WORLD, my_block(x), 5, Metric::cosine); }, "NaN",
      testing::kGlobalRowsNote);
}

TEST(MpiKnn, KBeyondTheWholeSetFailsAliveOnEveryRank) {
  const RowMatrixf x = encoder_rows(50);
  // Every rank sees the same k: rank 0 reports it, the others learn it failed.
  testing::expect_fails_on_rank<InvalidK>(
      0, [&] { mpi::distributed_knn_graph(MPI_COMM_WORLD, my_block(x), 50, Metric::l2); });
}

#ifdef LATENT_TEST_MPI_FAISS
TEST(MpiApproximateKnn, HnswRecallAgainstTheExactGraph) {
  const RowMatrixf x = encoder_rows(1000);
  const KnnGraph exact = knn_graph(x, 10, Metric::l2);
  mpi::RowBlock block;
  const KnnGraph approx =
      mpi::distributed_approximate_knn_graph(MPI_COMM_WORLD, my_block(x, &block), 10, Metric::l2, "HNSW32");
  ASSERT_EQ(approx.n_queries(), block.rows);
  std::int64_t hits = 0;
  for (std::int64_t i = 0; i < block.rows; ++i) {
    for (std::int64_t p = 0; p < 10; ++p) {
      const std::int64_t id = approx.ids(i, p);
      EXPECT_NE(id, block.begin + i) << "self listed";
      for (std::int64_t q = 0; q < 10; ++q) hits += exact.ids(block.begin + i, q) == id ? 1 : 0;
    }
  }
  std::int64_t total_hits = 0;
  MPI_Allreduce(&hits, &total_hits, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_GE(static_cast<double>(total_hits) / (10.0 * 1000), 0.95);
}
#endif

}  // namespace
}  // namespace latent
