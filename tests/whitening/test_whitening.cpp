// Whitening and moments against the golden values of ../shared/golden/whitening
// (encA, numpy svd/eigh in double; README section 6), their invariants (whitened
// covariance = I, ZCA symmetric, inverse), streaming equality, rank-deficient
// inputs, shrinkage against scikit-learn, save/load, and every error path.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/linalg.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/metrics.hpp"
#include "latent/whitening.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

const std::string kGolden = LATENT_GOLDEN_DIR;

bool have_golden() { return std::ifstream(kGolden + "/whitening/mu.npy").good(); }

RowMatrixd golden_matrix(const std::string& name) { return read_npy_matrix<double>(kGolden + "/whitening/" + name); }
std::vector<double> golden_vector(const std::string& name) {
  return read_npy_vector<double>(kGolden + "/whitening/" + name);
}

// max |a - b| / max |b|
double relative_max_diff(const RowMatrixd& a, const RowMatrixd& b) {
  EXPECT_EQ(a.rows(), b.rows());
  EXPECT_EQ(a.cols(), b.cols());
  return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
}

RowMatrixd covariance_of(const RowMatrixd& y) {
  const Eigen::RowVectorXd mean = y.colwise().mean();
  const RowMatrixd centred = y.rowwise() - mean;
  return centred.transpose() * centred / static_cast<double>(y.rows());
}

RowMatrixd gram50(const RowMatrixd& y) { return y.topRows(50) * y.topRows(50).transpose(); }

RowMatrixd random_gaussian(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  return testing::random_normal<double>(rows, cols, seed);
}

class GoldenWhitening : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_golden()) GTEST_SKIP() << "golden kit not found at " << kGolden;
    x32_ = read_npy_matrix<float>(kGolden + "/inputs/encA.npy");
    x64_ = x32_.cast<double>();
  }
  RowMatrixf x32_;
  RowMatrixd x64_;
};

TEST_F(GoldenWhitening, MeanEigenvaluesAndMatricesMatchNumpyInDouble) {  // whitening/{mu,eigenvalues,W_pca,W_zca}.npy
  const std::vector<double> mu = golden_vector("mu.npy"), eigenvalues = golden_vector("eigenvalues.npy");
  for (const bool float_input : {false, true}) {
    Whitening<double> pca64;
    Whitening<float> pca32;
    WhiteningOptions zca_options;
    zca_options.method = WhiteningMethod::zca;
    Whitening<double> zca(zca_options);
    if (float_input) {
      pca32.fit(x32_);  // float rows, double statistics: the same numbers
    } else {
      pca64.fit(x64_);
    }
    zca.fit(x64_);
    const std::vector<double>& got_mu = float_input ? pca32.mean() : pca64.mean();
    const std::vector<double>& got_values = float_input ? pca32.eigenvalues() : pca64.eigenvalues();
    const RowMatrixd& w = float_input ? pca32.matrix() : pca64.matrix();
    ASSERT_EQ(got_mu.size(), 64u);
    for (std::size_t j = 0; j < 64; ++j) {
      EXPECT_NEAR(got_mu[j], mu[j], 1e-12) << j;
      EXPECT_NEAR(got_values[j], eigenvalues[j], 1e-9 * eigenvalues[j]) << j;
    }
    EXPECT_LT(relative_max_diff(w, golden_matrix("W_pca.npy")), 1e-9);  // same sign convention
    EXPECT_LT(relative_max_diff(zca.matrix(), golden_matrix("W_zca.npy")), 1e-9);
    EXPECT_EQ(float_input ? pca32.n_floored() : pca64.n_floored(), 0);
  }
}

TEST_F(GoldenWhitening, GramMatricesOfWhitenedRowsMatch) {  // whitening/gram50_*.npy, Xw_first5_pca_all.npy
  WhiteningOptions pca_32;
  pca_32.dim = 32;
  WhiteningOptions zca;
  zca.method = WhiteningMethod::zca;
  const std::vector<std::pair<WhiteningOptions, std::string>> cases = {
      {WhiteningOptions{}, "gram50_pca_all.npy"}, {pca_32, "gram50_pca_32.npy"}, {zca, "gram50_zca.npy"}};
  for (const auto& [options, file] : cases) {
    const RowMatrixd expected = golden_matrix(file);
    Whitening<double> model64(options);
    const RowMatrixd y64 = model64.fit_transform(x64_);
    EXPECT_LT(relative_max_diff(gram50(y64), expected), 1e-9) << file << " (double transform)";
    Whitening<float> model32(options);
    const RowMatrixd y32 = model32.fit_transform(x32_).cast<double>();
    EXPECT_LT(relative_max_diff(gram50(y32), expected), 5e-6) << file << " (float transform)";
    EXPECT_EQ(y64.cols(), options.dim > 0 ? options.dim : 64);
  }
  Whitening<double> pca;
  EXPECT_LT(relative_max_diff(pca.fit_transform(x64_).topRows(5), golden_matrix("Xw_first5_pca_all.npy")), 1e-9);
}

TEST_F(GoldenWhitening, SampleConventionScalesTheEigenvalues) {  // whitening.json eigenvalues_ddof1_first4
  WhiteningOptions options;
  options.covariance = CovarianceConvention::sample;
  Whitening<double> model(options);
  model.fit(x64_);
  const double expected[] = {113.19997202721136, 45.6938994917643, 22.10844138642847, 16.213868431981613};
  for (int j = 0; j < 4; ++j)
    EXPECT_NEAR(model.eigenvalues()[static_cast<std::size_t>(j)], expected[j], 1e-9 * expected[j]);
}

TEST_F(GoldenWhitening, WhitenedCovarianceIsTheIdentityAndZcaIsSymmetric) {
  for (const WhiteningMethod method : {WhiteningMethod::pca, WhiteningMethod::zca}) {
    WhiteningOptions options;
    options.method = method;
    Whitening<double> model64(options);
    const RowMatrixd y64 = model64.fit_transform(x64_);
    EXPECT_LT((covariance_of(y64) - RowMatrixd::Identity(64, 64)).cwiseAbs().maxCoeff(), 1e-10);
    Whitening<float> model32(options);
    const RowMatrixd y32 = model32.fit_transform(x32_).cast<double>();
    EXPECT_LT((covariance_of(y32) - RowMatrixd::Identity(64, 64)).cwiseAbs().maxCoeff(), 1e-4);
    if (method == WhiteningMethod::zca) {
      EXPECT_EQ(model64.matrix(), model64.matrix().transpose());
    }
    // Full rank: the inverse gives the rows back.
    EXPECT_LT(relative_max_diff(model64.inverse_transform(y64), x64_), 1e-10);
    const RowMatrixf back32 = model32.inverse_transform(model32.transform(x32_));
    EXPECT_LT(relative_max_diff(back32.cast<double>(), x64_), 1e-5);
  }
}

TEST_F(GoldenWhitening, PartialFitOverBatchesEqualsFit) {
  Whitening<float> whole;
  whole.fit(x32_);
  for (const int batches : {1, 7, 100}) {
    Whitening<float> streamed;
    const std::int64_t n = x32_.rows();
    for (int b = 0; b < batches; ++b) {
      const std::int64_t begin = n * b / batches, end = n * (b + 1) / batches;
      streamed.partial_fit(MatrixView<float>(x32_.data() + begin * 64, end - begin, 64));
    }
    EXPECT_EQ(streamed.n_samples(), n);
    for (std::size_t j = 0; j < 64; ++j) {
      EXPECT_NEAR(streamed.mean()[j], whole.mean()[j], 1e-12) << batches;
      EXPECT_NEAR(streamed.eigenvalues()[j], whole.eigenvalues()[j], 1e-10 * whole.eigenvalues()[j]) << batches;
    }
    EXPECT_LT(relative_max_diff(streamed.matrix(), whole.matrix()), 1e-10) << batches;
  }
}

TEST_F(GoldenWhitening, LedoitWolfMatchesScikitLearn) {
  // sklearn.covariance.ledoit_wolf_shrinkage(encA as float64), scikit-learn 1.2.1:
  // 0.0023042654184915862, and with assume_centered=True 0.002302930291125568.
  MomentAccumulator centred(true, true, true);
  centred.add(x32_);
  EXPECT_NEAR(centred.ledoit_wolf_shrinkage(), 0.0023042654184915862, 1e-12);
  MomentAccumulator about_zero(false, true, true);
  about_zero.add(x32_);
  EXPECT_NEAR(about_zero.ledoit_wolf_shrinkage(), 0.002302930291125568, 1e-12);
  // Streaming keeps the fourth-order sums exact under merges.
  MomentAccumulator streamed(true, true, true);
  for (int b = 0; b < 13; ++b) {
    const std::int64_t begin = 2000 * b / 13, end = 2000 * (b + 1) / 13;
    streamed.add(MatrixView<float>(x32_.data() + begin * 64, end - begin, 64));
  }
  EXPECT_NEAR(streamed.ledoit_wolf_shrinkage(), 0.0023042654184915862, 1e-12);
  EXPECT_THROW(MomentAccumulator().ledoit_wolf_shrinkage(), InvalidArgument);
  EXPECT_THROW(MomentAccumulator(true, false, true), InvalidArgument);
  // The one-pass (shifted) and two-pass (centred) covariances agree.
  MomentAccumulator one_pass;
  one_pass.add(x32_);
  EXPECT_LT(relative_max_diff(one_pass.covariance(), centred.covariance()), 1e-14);

  WhiteningOptions options;
  options.shrinkage = Shrinkage::ledoit_wolf;
  Whitening<double> shrunk(options);
  shrunk.fit(x64_);
  const double s = shrunk.shrinkage_intensity(), mu = 231.92752970666947 / 64;  // trace_Sigma / d
  EXPECT_NEAR(s, 0.0023042654184915862, 1e-12);
  const std::vector<double> plain = golden_vector("eigenvalues.npy");
  for (std::size_t j = 0; j < 64; ++j)
    EXPECT_NEAR(shrunk.eigenvalues()[j], (1 - s) * plain[j] + s * mu, 1e-9 * plain[0]);

  options.shrinkage = Shrinkage::ridge;
  options.alpha = 0.5;
  Whitening<double> ridge(options);
  ridge.fit(x64_);
  for (std::size_t j = 0; j < 64; ++j) EXPECT_NEAR(ridge.eigenvalues()[j], plain[j] + 0.5, 1e-9 * plain[0]);
}

TEST(Whitening, RankDeficientAndConstantInputsAreFlooredNotNaN) {
  const RowMatrixd few = random_gaussian(20, 64, 3);  // n < d: 45 zero eigenvalues
  Whitening<double> model;
  const RowMatrixd y = model.fit_transform(few);
  EXPECT_TRUE(y.allFinite());
  EXPECT_GE(model.n_floored(), 44);
  EXPECT_DOUBLE_EQ(model.eigenvalue_floor(), 1e-9 * model.eigenvalues()[0]);
  // The 19 real directions are still whitened.
  WhiteningOptions top;
  top.dim = 19;
  Whitening<double> kept(top);
  const RowMatrixd z = kept.fit_transform(few);
  EXPECT_LT((covariance_of(z) - RowMatrixd::Identity(19, 19)).cwiseAbs().maxCoeff(), 1e-9);

  RowMatrixf constant = random_gaussian(300, 8, 4).cast<float>();
  constant.col(2).setConstant(5.0f);
  constant.col(6).setZero();
  Whitening<float> with_constants;
  EXPECT_TRUE(with_constants.fit_transform(constant).allFinite());
  EXPECT_EQ(with_constants.n_floored(), 2);

  WhiteningOptions no_floor;
  no_floor.epsilon = 0;
  Whitening<float> unfloored(no_floor);
  EXPECT_CONTAINS(testing::message_of<NumericalError>([&] { unfloored.fit(constant); }), "epsilon");
  const RowMatrixf all_constant = RowMatrixf::Constant(10, 4, 2.0f);
  EXPECT_THROW(Whitening<float>().fit(all_constant), NumericalError);
}

TEST(Whitening, CholeskyIsTriangularAndWhitens) {
  const RowMatrixd x = random_gaussian(400, 6, 12) * random_gaussian(6, 6, 13);
  WhiteningOptions options;
  options.method = WhiteningMethod::cholesky;
  Whitening<double> model(options);
  const RowMatrixd y = model.fit_transform(x);
  EXPECT_LT((covariance_of(y) - RowMatrixd::Identity(6, 6)).cwiseAbs().maxCoeff(), 1e-9);
  // W = L^-T is upper triangular: output j depends on inputs 0..j only.
  EXPECT_EQ(model.matrix().triangularView<Eigen::StrictlyLower>().toDenseMatrix().cwiseAbs().maxCoeff(), 0.0);
  EXPECT_LT((model.inverse_transform(y) - x).cwiseAbs().maxCoeff(), 1e-9);
  options.dim = 3;
  EXPECT_THROW(Whitening<double>{options}, InvalidArgument);
}

TEST(Whitening, ResultsDoNotDependOnThreads) {
  const RowMatrixf x = random_gaussian(3000, 100, 9).cast<float>();
  WhiteningOptions one, two;
  one.parallel = Parallel{1};
  two.parallel = Parallel{2};
  Whitening<float> a(one), b(two);
  const RowMatrixf ya = a.fit_transform(x), yb = b.fit_transform(x);
  EXPECT_EQ(a.matrix(), b.matrix());
  EXPECT_EQ(ya, yb);
}

TEST(Whitening, NormalizeGivesUnitRowsAndNoCenterUsesTheSecondMoment) {
  const RowMatrixd x = (random_gaussian(500, 10, 5).array() + 3.0).matrix();
  WhiteningOptions options;
  options.normalize = true;
  Whitening<double> normalized(options);
  const RowMatrixd y = normalized.fit_transform(x);
  for (Eigen::Index i = 0; i < y.rows(); ++i) EXPECT_NEAR(y.row(i).norm(), 1.0, 1e-12);
  EXPECT_THROW(normalized.inverse_transform(y), InvalidArgument);

  WhiteningOptions raw;
  raw.center = false;
  Whitening<double> uncentred(raw);
  const RowMatrixd z = uncentred.fit_transform(x);
  const RowMatrixd second = z.transpose() * z / static_cast<double>(z.rows());
  EXPECT_LT((second - RowMatrixd::Identity(10, 10)).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_EQ(uncentred.mean(), std::vector<double>(10, 0.0));
}

TEST_F(GoldenWhitening, ProjectionKeepsTheComponentsUnscaled) {
  // y = (x - mu) U: with every component the centred inner products survive
  // (U is orthogonal); with the top k the covariance of y is diag(lambda_1..k).
  WhiteningOptions options;
  options.method = WhiteningMethod::projection;
  Whitening<double> all(options);
  const RowMatrixd y = all.fit_transform(x64_);
  const RowMatrixd centred = x64_.rowwise() - x64_.colwise().mean();
  EXPECT_LT(relative_max_diff(gram50(y), gram50(centred)), 1e-10);
  options.dim = 5;
  const RowMatrixd top = Whitening<double>(options).fit_transform(x64_);
  ASSERT_EQ(top.cols(), 5);
  const RowMatrixd cov = covariance_of(top);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      EXPECT_NEAR(cov(i, j), i == j ? all.eigenvalues()[static_cast<std::size_t>(i)] : 0.0,
                  1e-9 * all.eigenvalues()[0]);
  // The inverse maps back onto the top-5 subspace; with all components exactly.
  EXPECT_LT(relative_max_diff(all.inverse_transform(y), x64_), 1e-10);
}

TEST_F(GoldenWhitening, VarianceChoosesTheFewestComponentsAboveTheShare) {
  Whitening<double> reference;
  reference.fit(x64_);
  const std::vector<double>& lambda = reference.eigenvalues();
  double total = 0;
  for (const double value : lambda) total += value;
  for (const double share : {0.5, 0.9, 0.99}) {
    std::int64_t expected = 0;
    for (double running = 0; running / total <= share;) running += lambda[static_cast<std::size_t>(expected++)];
    for (const WhiteningMethod method : {WhiteningMethod::pca, WhiteningMethod::projection}) {
      WhiteningOptions options;
      options.method = method;
      options.variance = share;
      Whitening<double> model(options);
      EXPECT_EQ(model.fit(x64_).output_dim(), expected) << share;
    }
  }
  WhiteningOptions options;
  options.variance = 1.0;
  EXPECT_EQ(Whitening<double>(options).fit(x64_).output_dim(), x64_.cols());
}

TEST(Whitening, ErrorsNameTheArgument) {
  const RowMatrixf x = random_gaussian(50, 6, 1).cast<float>();
  Whitening<float> model;
  EXPECT_CONTAINS(testing::message_of<NotFitted>([&] { model.transform(x); }), "Whitening::transform");
  EXPECT_THROW(model.save("/nonexistent/never"), NotFitted);
  EXPECT_CONTAINS(testing::message_of<EmptyInput>([&] { model.fit(RowMatrixf(1, 6)); }), "at least 2 rows");
  EXPECT_THROW(model.fit(RowMatrixf(0, 6)), EmptyInput);
  RowMatrixf bad = x;
  bad(49, 5) = std::nanf("");
  EXPECT_THROW(model.fit(bad), NonFiniteValue);
  bad(49, 5) = 0;
  bad(0, 0) = INFINITY;
  EXPECT_THROW(model.fit(bad), NonFiniteValue);
  WhiteningOptions too_many;
  too_many.dim = 7;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { Whitening<float>(too_many).fit(x); }), "dim");
  model.fit(x);
  EXPECT_CONTAINS(testing::message_of<DimensionMismatch>([&] { model.transform(RowMatrixf(3, 5)); }), "x");
  EXPECT_THROW(model.transform(bad), NonFiniteValue);
  EXPECT_THROW(model.inverse_transform(RowMatrixf(3, 4)), DimensionMismatch);
  WhiteningOptions options;
  options.epsilon = 1.0;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { Whitening<float>{options}; }), "epsilon");
  options.epsilon = 1e-9;
  options.alpha = -1;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { Whitening<float>{options}; }), "alpha");
  options.alpha = 0;
  options.dim = -2;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { Whitening<float>{options}; }), "dim");
  options.dim = 3;
  options.variance = 0.9;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { Whitening<float>{options}; }), "give one");
  options.dim = 0;
  options.variance = 1.5;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { Whitening<float>{options}; }), "variance");
  options.variance = 0.9;
  options.method = WhiteningMethod::zca;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { Whitening<float>{options}; }), "zca");
  options.method = WhiteningMethod::pca;
  EXPECT_THROW(model.partial_fit(RowMatrixf(3, 5)), DimensionMismatch);
  EXPECT_EQ(model.n_samples(), 50);  // a failed partial_fit changes nothing
}

TEST(Moments, SpectrumAndAccumulatorErrorsNameTheArgument) {
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([] { symmetric_spectrum(RowMatrixd(2, 3)); }), "symmetric");
  RowMatrixd nan_matrix = RowMatrixd::Identity(3, 3);
  nan_matrix(1, 2) = std::nan("");
  EXPECT_THROW(symmetric_spectrum(nan_matrix), NonFiniteValue);
  MomentAccumulator moments;
  moments.add(RowMatrixd(RowMatrixd::Ones(3, 4)));
  EXPECT_CONTAINS(testing::message_of<DimensionMismatch>([&] { moments.add(RowMatrixd(RowMatrixd::Ones(3, 5))); }),
                  "rows");
  MomentAccumulator diagonal(true, false);
  diagonal.add(RowMatrixd(RowMatrixd::Ones(3, 4)));
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { moments.merge(diagonal); }), "other");
  EXPECT_THROW(diagonal.covariance(), InvalidArgument);
  EXPECT_THROW(MomentAccumulator().variances(), EmptyInput);
}

class WhiteningFiles : public testing::TempDirTest {};

TEST_F(WhiteningFiles, SaveLoadRoundTripsAndKeepsFitting) {
  const RowMatrixf x = random_gaussian(400, 12, 2).cast<float>();
  WhiteningOptions options;
  options.method = WhiteningMethod::zca;
  options.shrinkage = Shrinkage::ledoit_wolf;
  Whitening<float> model(options);
  model.fit(MatrixView<float>(x.data(), 200, 12));
  model.save(path("model.bin"));
  Whitening<float> loaded = Whitening<float>::load(path("model.bin"));
  EXPECT_EQ(loaded.transform(x), model.transform(x));
  EXPECT_EQ(loaded.options().method, WhiteningMethod::zca);
  EXPECT_EQ(loaded.shrinkage_intensity(), model.shrinkage_intensity());
  // A projection chosen by variance keeps its width through save and load.
  WhiteningOptions projection;
  projection.method = WhiteningMethod::projection;
  projection.variance = 0.6;
  Whitening<float> projected(projection);
  projected.fit(x);
  projected.save(path("projection.bin"));
  const Whitening<float> reloaded = Whitening<float>::load(path("projection.bin"));
  EXPECT_EQ(reloaded.output_dim(), projected.output_dim());
  EXPECT_EQ(reloaded.transform(x), projected.transform(x));
  EXPECT_EQ(reloaded.options().variance, 0.6);
  // The moments travel with the model: continuing the stream equals fitting all.
  loaded.partial_fit(MatrixView<float>(x.data() + 200 * 12, 200, 12));
  Whitening<float> all(options);
  all.fit(x);
  EXPECT_LT(relative_max_diff(loaded.matrix(), all.matrix()), 1e-12);

  AllButTheTop<float> other;
  other.fit(x);
  other.save(path("abtt.bin"));
  EXPECT_CONTAINS(testing::message_of<IoError>([&] { Whitening<float>::load(path("abtt.bin")); }),
                  "another kind of model");
  EXPECT_THROW(Whitening<float>::load(path("missing.bin")), IoError);
}

// ---------------------------------------------------------------- is_fitted

// Every fitted model says whether it is fitted: false before fit, true after.
template <class Model>
void expect_fitted_only_after_fit(Model model, const RowMatrixd& x) {
  EXPECT_FALSE(model.is_fitted());
  model.fit(x);
  EXPECT_TRUE(model.is_fitted());
}

TEST(Whitening, EveryModelIsFittedOnlyAfterFit) {
  const RowMatrixd x = random_gaussian(50, 4, 11);
  expect_fitted_only_after_fit(Whitening<double>(), x);
  expect_fitted_only_after_fit(AllButTheTop<double>(), x);
  expect_fitted_only_after_fit(Centering<double>(), x);
  expect_fitted_only_after_fit(Standardizer<double>(), x);
  expect_fitted_only_after_fit(FNorm<double>(), x);
  // partial_fit with one row keeps the rows but cannot fit a covariance yet.
  Whitening<double> streaming;
  streaming.partial_fit(MatrixView<double>(x.data(), 1, x.cols()));
  EXPECT_FALSE(streaming.is_fitted());
  streaming.partial_fit(MatrixView<double>(x.data() + x.cols(), 1, x.cols()));
  EXPECT_TRUE(streaming.is_fitted());
}

// ---------------------------------------------------------------- other transforms

TEST(AllButTheTop, RemovesTheMeanAndTheTopDirections) {
  RowMatrixd x = random_gaussian(1000, 20, 6);
  x.col(0) *= 10.0;  // a dominant direction
  x.array() += 4.0;
  AllButTheTop<double> model(AllButTheTopOptions{2, {}});
  const RowMatrixd y = model.fit_transform(x);
  EXPECT_LT(y.colwise().mean().cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((y * model.directions()).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_GT(std::fabs(model.directions()(0, 0)), 0.99);
  EXPECT_EQ(AllButTheTop<double>().fit(x).directions().cols(), 1);  // d / 100 rounded, at least 1
  EXPECT_THROW(AllButTheTop<double>(AllButTheTopOptions{20, {}}).fit(x), InvalidArgument);
  EXPECT_THROW(AllButTheTop<double>().transform(x), NotFitted);
  // Float rows through the GEMM path agree with the double ones.
  AllButTheTop<float> model32(AllButTheTopOptions{2, {}});
  const RowMatrixf y32 = model32.fit_transform(RowMatrixf(x.cast<float>()));
  EXPECT_LT(relative_max_diff(y32.cast<double>(), y), 1e-5);
}

TEST(Standardizer, GivesZeroMeanUnitVarianceAndInverts) {
  RowMatrixd x = random_gaussian(500, 5, 7);
  x.col(1) = x.col(1) * 3.0 + Eigen::VectorXd::Constant(500, 2.0);
  x.col(4).setConstant(1.5);
  Standardizer<double> model;
  const RowMatrixd y = model.fit_transform(x);
  for (Eigen::Index j = 0; j < 4; ++j) {
    EXPECT_NEAR(y.col(j).mean(), 0.0, 1e-12);
    EXPECT_NEAR(y.col(j).squaredNorm() / 500.0, 1.0, 1e-12);
  }
  EXPECT_EQ(model.scale()[4], 1.0);  // constant column: centred only
  EXPECT_TRUE(y.col(4).isZero());
  EXPECT_LT(relative_max_diff(model.inverse_transform(y), x), 1e-14);
  Centering<double> centring;
  EXPECT_LT(centring.fit_transform(x).colwise().mean().cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_THROW(Standardizer<double>().transform(x), NotFitted);
  EXPECT_THROW(model.transform(RowMatrixd(2, 4)), DimensionMismatch);
}

TEST(FNorm, NormalQuantileMatchesScipy) {  // scipy.stats.norm.ppf, scipy 1.10.1
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-15);
  EXPECT_NEAR(normal_quantile(0.3), -0.5244005127080409, 1e-15);
  EXPECT_NEAR(normal_quantile(1e-10), -6.361340902404056, 1e-13);
  EXPECT_EQ(normal_quantile(0.5), 0.0);
  EXPECT_THROW(normal_quantile(0.0), InvalidArgument);
  EXPECT_THROW(normal_quantile(1.0), InvalidArgument);
  EXPECT_THROW(normal_quantile(std::nan("")), InvalidArgument);
}

TEST(FNorm, RanksMapToNormalQuantilesThenUnitRows) {
  RowMatrixd x(4, 2);
  x << 3.0, 10.0,  //
      1.0, 20.0,   //
      2.0, 20.0,   // a tie in column 1: ranks 3 and 4 -> 3.5
      4.0, 0.0;
  FNorm<double> model;
  const RowMatrixd y = model.fit_transform(x);
  auto score = [](double rank) { return normal_quantile(rank / 5.0); };
  const double raw[4][2] = {{score(3), score(2)}, {score(1), score(3.5)}, {score(2), score(3.5)}, {score(4), score(1)}};
  for (int i = 0; i < 4; ++i) {
    const double norm = std::hypot(raw[i][0], raw[i][1]);
    for (int j = 0; j < 2; ++j) EXPECT_NEAR(y(i, j), raw[i][j] / norm, 1e-15) << i << "," << j;
  }
  // New rows: interpolated between reference ranks, beyond the ends at 0.5 and n + 0.5.
  RowMatrixd fresh(2, 2);
  fresh << 2.5, 15.0,  //
      -1.0, 99.0;
  const RowMatrixd z = model.transform(fresh);
  const double first[2] = {score(2.5), score(2 + 0.5 * (3.5 - 2))};
  const double second[2] = {score(0.5), score(4.5)};
  EXPECT_NEAR(z(0, 0), first[0] / std::hypot(first[0], first[1]), 1e-15);
  EXPECT_NEAR(z(1, 1), second[1] / std::hypot(second[0], second[1]), 1e-15);
  EXPECT_EQ(model.transform(x), y);
  EXPECT_THROW(FNorm<double>().transform(x), NotFitted);
  EXPECT_THROW(FNorm<double>().fit(RowMatrixd(1, 3)), EmptyInput);
  EXPECT_THROW(model.transform(RowMatrixd(1, 3)), DimensionMismatch);
}

// The one-sort fit_transform equals fit + transform bitwise on real data full of
// ties (pixel values repeat), for any thread count; new rows interpolate.
TEST(FNorm, FitTransformEqualsFitThenTransformOnPixels) {
  const RowMatrixf x = read_npy_matrix<float>(std::string(LATENT_SOURCE_DIR) + "/data/fashion-mnist/images.npy");
  const RowMatrixf fit_rows = x.topRows(600), fresh = x.bottomRows(400);
  FNorm<float> one(Parallel{1}), two(Parallel{2}), separate(Parallel{2});
  const RowMatrixf y1 = one.fit_transform(fit_rows);
  EXPECT_EQ(two.fit_transform(fit_rows), y1);
  separate.fit(fit_rows);
  EXPECT_EQ(separate.transform(fit_rows), y1);
  EXPECT_EQ(one.transform(fresh), separate.transform(fresh));
  EXPECT_TRUE(y1.allFinite());
  EXPECT_NEAR(y1.row(17).norm(), 1.0f, 1e-5f);
}

TEST_F(WhiteningFiles, FNormStandardizerAndCenteringSaveAndLoad) {
  const RowMatrixf x = random_gaussian(100, 6, 8).cast<float>();
  FNorm<float> fnorm;
  fnorm.fit(x);
  fnorm.save(path("fnorm.bin"));
  EXPECT_EQ(FNorm<float>::load(path("fnorm.bin")).transform(x), fnorm.transform(x));
  Standardizer<float> z;
  z.fit(x);
  z.save(path("z.bin"));
  EXPECT_EQ(Standardizer<float>::load(path("z.bin")).transform(x), z.transform(x));
  Centering<float> c;
  c.fit(x);
  c.save(path("c.bin"));
  EXPECT_EQ(Centering<float>::load(path("c.bin")).transform(x), c.transform(x));
  EXPECT_THROW(FNorm<float>::load(path("z.bin")), IoError);
}

// ---------------------------------------------------------------- isotropy

TEST(Isotropy, AverageCosineEqualsThePairwiseDefinition) {
  const RowMatrixd x = (random_gaussian(60, 7, 10).array() + 0.5).matrix();
  double total = 0;
  for (Eigen::Index i = 0; i < 60; ++i)
    for (Eigen::Index j = 0; j < 60; ++j)
      if (i != j) total += x.row(i).dot(x.row(j)) / (x.row(i).norm() * x.row(j).norm());
  EXPECT_NEAR(average_cosine(x), total / (60.0 * 59.0), 1e-14);
  RowMatrixd zero_row = x;
  zero_row.row(3).setZero();
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { average_cosine(zero_row); }), "row 3");
}

TEST(Isotropy, SeparatesIsotropicFromAnisotropicData) {
  const RowMatrixd round = random_gaussian(4000, 16, 11);
  const IsotropyReport good = isotropy(round);
  EXPECT_NEAR(good.average_cosine, 0.0, 0.01);
  EXPECT_GT(good.partition_isotropy, 0.5);
  EXPECT_GT(good.effective_rank, 15.5);
  EXPECT_LE(good.effective_rank, 16.0);
  double shares = 0;
  for (const double share : good.explained_variance_ratio) shares += share;
  EXPECT_NEAR(shares, 1.0, 1e-12);

  RowMatrixd skewed = round;
  skewed.col(0) = skewed.col(0) * 20.0;
  skewed.array() += 3.0;  // a common direction: every cosine is positive
  const IsotropyReport bad = isotropy(RowMatrixf(skewed.cast<float>()));
  EXPECT_GT(bad.average_cosine, 0.1);
  EXPECT_LT(bad.partition_isotropy, 1e-3);
  EXPECT_LT(bad.effective_rank, good.effective_rank);
  EXPECT_EQ(bad.components_90, 1);
  EXPECT_EQ(effective_rank({2.0, 2.0, 2.0, 2.0}), 4.0);
  EXPECT_NEAR(effective_rank({1.0, 0.0, 0.0}), 1.0, 1e-15);
  EXPECT_THROW(effective_rank({0.0, 0.0}), InvalidArgument);
  EXPECT_THROW(effective_rank({1.0, -1.0}), InvalidArgument);
  EXPECT_THROW(isotropy(RowMatrixd(1, 4)), EmptyInput);
}

TEST(MomentsFit, FittingOnGivenMomentsEqualsFittingOnTheRows) {
  const RowMatrixd x = testing::random_normal<double>(300, 12, 5);
  MomentAccumulator halves(true, true, false);
  halves.add(MatrixView<double>(x).map().topRows(100).eval());
  MomentAccumulator rest(true, true, false);
  rest.add(MatrixView<double>(x).map().bottomRows(200).eval());
  halves.merge(MomentAccumulator::from_doubles(rest.to_doubles()));  // as sent between processes
  Whitening<double> direct, from_moments;
  direct.fit(x);
  from_moments.fit(halves);
  EXPECT_LT((direct.matrix() - from_moments.matrix()).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_EQ(from_moments.n_samples(), 300);
}

TEST(MomentsFit, MomentsOfAnotherKindOrTooFewRowsAreRefused) {
  const RowMatrixd x = testing::random_normal<double>(50, 6, 6);
  MomentAccumulator diagonal(true, false);
  diagonal.add(x);
  Whitening<double> whitening;
  EXPECT_THROW(whitening.fit(diagonal), InvalidArgument);  // whitening needs the full covariance
  EXPECT_FALSE(whitening.is_fitted());
  Standardizer<double> standardizer;
  EXPECT_THROW(standardizer.fit(MomentAccumulator(true, true)), InvalidArgument);
  EXPECT_THROW(standardizer.fit(standardizer.new_moments()), EmptyInput);
  // A list to_doubles could not have written.
  std::vector<double> values = diagonal.to_doubles();
  values.pop_back();
  EXPECT_THROW(MomentAccumulator::from_doubles(values), InvalidArgument);
  EXPECT_THROW(MomentAccumulator::from_doubles({1, 0, 0}), InvalidArgument);
  values = diagonal.to_doubles();
  values[0] = 0.5;  // a mode flag
  EXPECT_THROW(MomentAccumulator::from_doubles(values), InvalidArgument);
}

// LAPACK (dsyevd) and Eigen's solver give the same models, on the golden data
// (64-d: the smallest size that takes LAPACK) and on 300-d correlated rows,
// for every method that decomposes a covariance.
TEST_F(GoldenWhitening, LapackAndEigenGiveTheSameModels) {
  if (!detail::lapack_built()) GTEST_SKIP() << "built without LAPACKE";
  const RowMatrixd wide = random_gaussian(2000, 300, 71) * random_gaussian(300, 300, 72);
  for (const RowMatrixd* x : {static_cast<const RowMatrixd*>(&x64_), &wide}) {
    for (const auto method :
         {WhiteningMethod::pca, WhiteningMethod::zca, WhiteningMethod::projection, WhiteningMethod::cholesky}) {
      for (const Shrinkage shrinkage : {Shrinkage::none, Shrinkage::ledoit_wolf}) {
        WhiteningOptions options;
        options.method = method;
        options.shrinkage = shrinkage;
        Whitening<double> with_lapack(options), with_eigen(options);
        with_lapack.fit(*x);
        {
          const detail::ScopedLapack eigen_only(false);
          with_eigen.fit(*x);
        }
        SCOPED_TRACE(std::string(to_string(method)) + " d=" + std::to_string(x->cols()));
        EXPECT_LT(relative_max_diff(with_lapack.matrix(), with_eigen.matrix()), 1e-10);
        for (std::size_t j = 0; j < with_eigen.eigenvalues().size(); ++j)
          EXPECT_NEAR(with_lapack.eigenvalues()[j], with_eigen.eigenvalues()[j], 1e-12 * with_eigen.eigenvalues()[0]);
      }
    }
  }
}

}  // namespace
}  // namespace latent

// OpenBLAS's thread control (weak: absent when the LAPACK is not OpenBLAS's).
extern "C" {
int openblas_get_num_threads(void) __attribute__((weak));
void openblas_set_num_threads(int) __attribute__((weak));
}

namespace latent {
namespace {

// The LAPACK path runs OpenBLAS on one thread, so a model's bits do not depend
// on OpenBLAS's thread count, and the caller's count is left as it was.
TEST_F(GoldenWhitening, ModelsDoNotDependOnOpenBlasThreads) {
  if (!detail::lapack_built() || openblas_set_num_threads == nullptr || openblas_get_num_threads == nullptr)
    GTEST_SKIP() << "LAPACK is not OpenBLAS's here";
  const int before = openblas_get_num_threads();
  RowMatrixd matrices[2];
  for (const int threads : {1, 2}) {
    openblas_set_num_threads(threads);
    Whitening<double> model;
    model.fit(x64_);
    matrices[threads - 1] = model.matrix();
    EXPECT_EQ(openblas_get_num_threads(), threads) << "the library changed OpenBLAS's thread count";
  }
  openblas_set_num_threads(before);
  EXPECT_TRUE((matrices[0].array() == matrices[1].array()).all());
}

}  // namespace
}  // namespace latent
