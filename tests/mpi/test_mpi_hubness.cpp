// reduce_hubness over rows sharded across the ranks, against the single-process
// pipeline on the same rows: candidate and reduced graphs identical (ids, and
// double distances compared exactly) and the measures of the whole set equal.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/hubness.hpp"
#include "latent/mpi.hpp"
#include "mpi_test_support.hpp"

namespace latent {
namespace {

using testing::encoder_rows;
using testing::my_block;

void expect_same_rows(const DistanceGraph& whole, const DistanceGraph& part, const mpi::RowBlock& block,
                      const std::string& what) {
  ASSERT_EQ(part.n_queries(), block.rows) << what;
  ASSERT_EQ(part.k(), whole.k()) << what;
  EXPECT_EQ(part.metric, whole.metric) << what;
  EXPECT_EQ(part.self_excluded, whole.self_excluded) << what;
  for (std::int64_t i = 0; i < block.rows; ++i) {
    for (std::int64_t p = 0; p < whole.k(); ++p) {
      ASSERT_EQ(part.ids(i, p), whole.ids(block.begin + i, p))
          << what << ": row " << block.begin + i << ", column " << p;
      ASSERT_EQ(part.distances(i, p), whole.distances(block.begin + i, p))
          << what << ": row " << block.begin + i << ", column " << p;
    }
  }
}

void expect_same_measures(const HubnessMeasures& a, const HubnessMeasures& b, const std::string& what) {
  EXPECT_EQ(a.k_skewness, b.k_skewness) << what;
  EXPECT_EQ(a.robinhood, b.robinhood) << what;
  EXPECT_EQ(a.antihub_occurrence, b.antihub_occurrence) << what;
  EXPECT_EQ(a.hub_occurrence, b.hub_occurrence) << what;
  EXPECT_EQ(a.gini, b.gini) << what;
  EXPECT_EQ(a.atkinson, b.atkinson) << what;
  EXPECT_EQ(a.groupie_ratio, b.groupie_ratio) << what;
  EXPECT_EQ(a.n_hubs, b.n_hubs) << what;
  EXPECT_EQ(a.n_antihubs, b.n_antihubs) << what;
  EXPECT_EQ(a.k_occurrence_max, b.k_occurrence_max) << what;
}

// Every method (and a non-default k_local and lc_gamma) under cosine and l2;
// localized centering needs cosine and fails under l2 on every rank alike.
TEST(MpiHubness, EveryMethodEqualsOneProcess) {
  const RowMatrixf x = encoder_rows();
  mpi::RowBlock block;
  const MatrixView<float> mine = my_block(x, &block);
  std::vector<ReductionOptions> variants;
  for (const Reduction method :
       {Reduction::none, Reduction::mutual_proximity, Reduction::mutual_proximity_normal, Reduction::local_scaling,
        Reduction::nicdm, Reduction::dis_sim_local, Reduction::csls, Reduction::localized_centering}) {
    ReductionOptions options;
    options.method = method;
    variants.push_back(options);
  }
  variants.push_back(variants[3]);
  variants.back().k_local = 7;  // ls
  variants.push_back(variants[7]);
  variants.back().lc_gamma = 2.0;  // lc
  variants.back().k_local = 20;
  for (const Metric metric : {Metric::cosine, Metric::l2}) {
    for (const ReductionOptions& reduction : variants) {
      HubnessPipelineOptions options;
      options.reduction = reduction;
      options.candidates = 50;
      // Ranks share the cores: more threads than that only spin against each other.
      options.reduction.parallel.threads = mpi::threads_per_rank(MPI_COMM_WORLD);
      options.search.parallel.threads = options.reduction.parallel.threads;
      const std::string what = std::string(to_string(reduction.method)) + " k_local " +
                               std::to_string(reduction.k_local) + " " + std::string(to_string(metric));
      if (reduction.method == Reduction::localized_centering && metric != Metric::cosine) {
        EXPECT_THROW(reduce_hubness(x, 10, metric, options), InvalidArgument);
        testing::expect_fails_on_rank<InvalidArgument>(
            0, [&] { mpi::distributed_reduce_hubness(MPI_COMM_WORLD, mine, 10, metric, options); }, what);
        continue;
      }
      const HubnessPipelineResult whole = reduce_hubness(x, 10, metric, options);
      const HubnessPipelineResult part = mpi::distributed_reduce_hubness(MPI_COMM_WORLD, mine, 10, metric, options);
      expect_same_rows(whole.candidates, part.candidates, block, what + " candidates");
      expect_same_rows(whole.reduced, part.reduced, block, what + " reduced");
      expect_same_measures(whole.before, part.before, what + " before");
      expect_same_measures(whole.after, part.after, what + " after");
    }
  }
}

TEST(MpiHubness, BadInputOnOneRankEndsEveryRank) {
  RowMatrixf x = encoder_rows(200);
  const int last = testing::world_size() - 1;
  x(199, 3) = std::numeric_limits<float>::quiet_NaN();  // in the last rank's block
  HubnessPipelineOptions options;
  options.candidates = 20;
  testing::expect_fails_on_rank<NonFiniteValue>(
      last, [&] { mpi::distributed_reduce_hubness(MPI_COMM_WORLD, my_block(x), 5, Metric::l2, options); }, "NaN",
      testing::kGlobalRowsNote);
}

// Arguments every rank sees alike fail on every rank: rank 0 reports them, the
// others learn that it failed.
template <class Expected>
void expect_refused_alike(const MatrixView<float>& mine, std::int64_t k, const HubnessPipelineOptions& options,
                          const std::string& what) {
  testing::expect_fails_on_rank<Expected>(
      0, [&] { mpi::distributed_reduce_hubness(MPI_COMM_WORLD, mine, k, Metric::cosine, options); }, what);
}

TEST(MpiHubness, BadArgumentsFailAliveOnEveryRank) {
  const RowMatrixf x = encoder_rows(60);
  const MatrixView<float> mine = my_block(x);
  HubnessPipelineOptions options;
  options.candidates = 20;
  expect_refused_alike<InvalidK>(mine, 21, options, "k > candidates");
  expect_refused_alike<InvalidK>(mine, 60, options, "k >= n");
  options.candidates = 59;
  expect_refused_alike<InvalidArgument>(mine, 5, options, "the complete graph");
  options.candidates = 0;
  expect_refused_alike<InvalidArgument>(mine, 5, options, "candidates 0 (the complete graph)");
  options.candidates = 20;
  options.reduction.k_local = 21;
  options.reduction.method = Reduction::csls;
  expect_refused_alike<InvalidK>(mine, 5, options, "k_local > candidates");
}

}  // namespace
}  // namespace latent
