// Models fitted on rows sharded across the ranks equal the single-process fit
// within 1e-12 relative (moments merged in rank order); rows gathered by id.
#include <gtest/gtest.h>

#include <vector>

#include "latent/mpi.hpp"
#include "latent/whitening.hpp"
#include "mpi_test_support.hpp"
#include "test_support.hpp"

namespace latent {
namespace {

using testing::encoder_rows;
using testing::my_block;

// max |a - b| / max |b| over the entries.
double relative_difference(const RowMatrixd& a, const RowMatrixd& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1e-300, b.cwiseAbs().maxCoeff());
}
double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  return relative_difference(Eigen::Map<const RowMatrixd>(a.data(), 1, static_cast<Eigen::Index>(a.size())),
                             Eigen::Map<const RowMatrixd>(b.data(), 1, static_cast<Eigen::Index>(b.size())));
}

TEST(MpiMoments, MergedMomentsEqualOneAccumulator) {
  const RowMatrixd x = encoder_rows().cast<double>();
  MomentAccumulator whole(true, true, true);
  whole.add(x);
  MomentAccumulator local(true, true, true);
  local.add(my_block(x));
  const MomentAccumulator merged = mpi::allreduce_moments(MPI_COMM_WORLD, local);
  EXPECT_EQ(merged.count(), whole.count());
  EXPECT_LT(relative_difference(merged.mean(), whole.mean()), 1e-12);
  EXPECT_LT(relative_difference(merged.covariance(), whole.covariance()), 1e-12);
  EXPECT_NEAR(merged.ledoit_wolf_shrinkage(), whole.ledoit_wolf_shrinkage(), 1e-12);
}

TEST(MpiMoments, FittedModelsEqualOneProcess) {
  const RowMatrixf x = encoder_rows();
  for (const WhiteningMethod method : {WhiteningMethod::pca, WhiteningMethod::zca}) {
    WhiteningOptions options;
    options.method = method;
    options.dim = method == WhiteningMethod::pca ? 32 : 0;
    Whitening<float> whole(options), sharded(options);
    whole.fit(x);
    mpi::fit(MPI_COMM_WORLD, sharded, my_block(x));
    EXPECT_EQ(sharded.n_samples(), whole.n_samples());
    EXPECT_LT(relative_difference(sharded.matrix(), whole.matrix()), 1e-10);
    EXPECT_LT(relative_difference(sharded.eigenvalues(), whole.eigenvalues()), 1e-12);
    EXPECT_LT(relative_difference(sharded.mean(), whole.mean()), 1e-12);
  }
  AllButTheTop<float> abtt_whole, abtt_sharded;
  abtt_whole.fit(x);
  mpi::fit(MPI_COMM_WORLD, abtt_sharded, my_block(x));
  EXPECT_LT(relative_difference(abtt_sharded.mean(), abtt_whole.mean()), 1e-12);
  Centering<float> centering_whole, centering_sharded;
  centering_whole.fit(x);
  mpi::fit(MPI_COMM_WORLD, centering_sharded, my_block(x));
  EXPECT_LT(relative_difference(centering_sharded.mean(), centering_whole.mean()), 1e-12);
  Standardizer<double> standardizer_whole, standardizer_sharded;
  const RowMatrixd xd = x.cast<double>();
  standardizer_whole.fit(xd);
  mpi::fit(MPI_COMM_WORLD, standardizer_sharded, my_block(xd));
  const RowMatrixd probe = xd.topRows(20);
  EXPECT_LT(relative_difference(standardizer_sharded.transform(probe), standardizer_whole.transform(probe)), 1e-12);
}

TEST(MpiMoments, TooFewRowsInTotalFailOnEveryRankAlike) {
  const RowMatrixf x = encoder_rows(1);  // one row: rank 0 holds it, the others none
  Whitening<float> model;
  testing::expect_fails_on_rank<EmptyInput>(0, [&] { mpi::fit(MPI_COMM_WORLD, model, my_block(x)); });
  EXPECT_FALSE(model.is_fitted());
}

TEST(MpiRows, GatheredRowsAreTheRowsOfTheIds) {
  const RowMatrixf x = encoder_rows();
  const std::vector<std::int64_t> ids = {996, 0, 500, 0, 250, 749};
  const RowMatrixf rows = mpi::gather_rows(MPI_COMM_WORLD, my_block(x), ids);
  ASSERT_EQ(rows.rows(), 6);
  for (std::size_t q = 0; q < ids.size(); ++q) {
    EXPECT_EQ(rows.row(static_cast<Eigen::Index>(q)), x.row(ids[q])) << "id " << ids[q];
  }
  // Rank 0 reports the id, the others learn it failed.
  EXPECT_THROW(mpi::gather_rows(MPI_COMM_WORLD, my_block(x), {997}), Error);
}

}  // namespace
}  // namespace latent
