// The relative module on random data: the invariance matrix of relative
// representations, planted translations recovered, anchor selection, aggregation,
// save/load, thread-count determinism, and one test per error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <Eigen/LU>
#include <Eigen/QR>

#include "core/linalg.hpp"
#include "latent/core/errors.hpp"
#include "latent/relative.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using testing::message_of;

RowMatrixd gaussian(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  return testing::random_normal<double>(rows, cols, seed);
}

RowMatrixd random_orthogonal(std::int64_t d, std::uint32_t seed) {
  const Eigen::MatrixXd g = gaussian(d, d, seed);
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  return qr.householderQ();
}

RowMatrixd signed_permutation(std::int64_t d, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int> order(static_cast<std::size_t>(d));
  for (int i = 0; i < d; ++i) order[static_cast<std::size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), rng);
  RowMatrixd p = RowMatrixd::Zero(d, d);
  for (std::int64_t i = 0; i < d; ++i) p(i, order[static_cast<std::size_t>(i)]) = (rng() & 1u) ? 1.0 : -1.0;
  return p;
}

RowMatrixd relative(const RowMatrixd& x, const RowMatrixd& anchors, RelativeOptions options) {
  RelativeProjection<double> projection(options);
  projection.fit(anchors);
  return projection.transform(x);
}

RelativeOptions with(RelativeSimilarity similarity, PreTransform pre = PreTransform::none) {
  RelativeOptions options;
  options.similarities = {similarity};
  options.pre = pre;
  return options;
}

double max_diff(const RowMatrixd& a, const RowMatrixd& b) { return (a - b).cwiseAbs().maxCoeff(); }

class Invariance : public ::testing::Test {
 protected:
  const std::int64_t d_ = 12;
  RowMatrixd x_ = gaussian(40, 12, 1);
  RowMatrixd anchors_ = gaussian(16, 12, 2);
  RowMatrixd shift_ = gaussian(1, 12, 3) * 5.0;
  // Applies x -> x m + shift to x and anchors and returns both representations.
  std::pair<RowMatrixd, RowMatrixd> pair(const RelativeOptions& options, const RowMatrixd& m, bool translate) const {
    RowMatrixd x2 = x_ * m, a2 = anchors_ * m;
    if (translate) {
      x2.rowwise() += shift_.row(0);
      a2.rowwise() += shift_.row(0);
    }
    return {relative(x_, anchors_, options), relative(x2, a2, options)};
  }
};

TEST_F(Invariance, CosineAndAngularUnderRotationAndScaling) {
  const RowMatrixd m = random_orthogonal(d_, 4) * 3.7;
  for (const auto s : {RelativeSimilarity::cosine, RelativeSimilarity::angular}) {
    const auto [before, after] = pair(with(s), m, false);
    EXPECT_LT(max_diff(before, after), 1e-12) << to_string(s);
    // A translation breaks them ...
    const auto [b2, a2] = pair(with(s), RowMatrixd::Identity(d_, d_), true);
    EXPECT_GT(max_diff(b2, a2), 1e-2) << to_string(s);
    // ... unless the anchors' mean is removed first.
    const auto [b3, a3] = pair(with(s, PreTransform::center), m, true);
    EXPECT_LT(max_diff(b3, a3), 1e-12) << to_string(s);
  }
}

TEST_F(Invariance, L2UnderRotationAndTranslationButNotScaling) {
  const auto [before, after] = pair(with(RelativeSimilarity::l2), random_orthogonal(d_, 5), true);
  EXPECT_LT(max_diff(before, after), 1e-11);
  const auto [b2, a2] = pair(with(RelativeSimilarity::l2), RowMatrixd::Identity(d_, d_) * 2.0, false);
  EXPECT_GT(max_diff(b2, a2), 1e-1);
  // With the rows L2-normalised per row after projection, scaling is absorbed too.
  RelativeOptions normalised = with(RelativeSimilarity::l2);
  normalised.post = PostTransform::l2;
  const auto [b3, a3] = pair(normalised, RowMatrixd::Identity(d_, d_) * 2.0, false);
  EXPECT_LT(max_diff(b3, a3), 1e-12);
}

TEST_F(Invariance, L1AndLinfUnderSignedPermutationNotRotation) {
  for (const auto s : {RelativeSimilarity::l1, RelativeSimilarity::linf}) {
    const auto [before, after] = pair(with(s), signed_permutation(d_, 6), true);
    EXPECT_LT(max_diff(before, after), 1e-11) << to_string(s);
    const auto [b2, a2] = pair(with(s), random_orthogonal(d_, 7), false);
    EXPECT_GT(max_diff(b2, a2), 1e-2) << to_string(s);
  }
}

TEST_F(Invariance, ChangeOfBasisUnderAnyInvertibleMap) {
  // 16 anchors span R^12: the minimum-norm coordinates do not depend on the basis.
  const RowMatrixd m = gaussian(d_, d_, 8) + RowMatrixd::Identity(d_, d_) * 3.0;
  const auto [before, after] = pair(with(RelativeSimilarity::basis), m, false);
  EXPECT_LT(max_diff(before, after), 1e-9);
  // The coordinates reproduce the rows: c A = x.
  EXPECT_LT(max_diff(before * anchors_, x_), 1e-10);
  // Cosine is not invariant under a general linear map.
  const auto [b2, a2] = pair(with(RelativeSimilarity::cosine), m, false);
  EXPECT_GT(max_diff(b2, a2), 1e-2);
}

TEST(RelativeProjection, EverySimilarityAgainstADirectDefinition) {
  const RowMatrixd x = gaussian(7, 5, 10), anchors = gaussian(4, 5, 11);
  RelativeOptions options;
  options.similarities = parse_relative_similarities("cosine,angular,dot,l2,l1,linf,lp");
  options.p = 3.0;
  options.normalize_blocks = false;
  const RowMatrixd r = relative(x, anchors, options);
  ASSERT_EQ(r.cols(), 7 * 4);
  for (std::int64_t i = 0; i < 7; ++i) {
    for (std::int64_t j = 0; j < 4; ++j) {
      const Eigen::RowVectorXd a = x.row(i), b = anchors.row(j), diff = a - b;
      const double cosine = a.dot(b) / (a.norm() * b.norm());
      const double expected[] = {cosine,
                                 1.0 - std::acos(cosine) / 3.14159265358979323846,
                                 a.dot(b),
                                 diff.norm(),
                                 diff.cwiseAbs().sum(),
                                 diff.cwiseAbs().maxCoeff(),
                                 std::cbrt(diff.cwiseAbs().array().cube().sum())};
      for (int s = 0; s < 7; ++s) EXPECT_NEAR(r(i, s * 4 + j), expected[s], 1e-12) << s;
    }
  }
}

TEST(RelativeProjection, FloatMatchesDoubleAndThreadsDoNotMatter) {
  const RowMatrixd x = gaussian(300, 33, 12), anchors = gaussian(50, 33, 13);
  const RowMatrixf x32 = x.cast<float>(), anchors32 = anchors.cast<float>();
  RelativeOptions options;
  options.similarities = parse_relative_similarities("cosine,dot,l2,l1,linf,basis");
  options.normalize_blocks = false;
  const RowMatrixd expected = relative(x, anchors, options);
  RelativeProjection<float> one(options), many(options);
  options.parallel.threads = 1;
  one = RelativeProjection<float>(options);
  one.fit(anchors32);
  options.parallel.threads = 2;
  many = RelativeProjection<float>(options);
  many.fit(anchors32);
  const RowMatrixf a = one.transform(x32), b = many.transform(x32);
  EXPECT_TRUE((a.array() == b.array()).all());
  for (int s = 0; s < 6; ++s) {
    const RowMatrixd got = a.middleCols(s * 50, 50).cast<double>(), want = expected.middleCols(s * 50, 50);
    EXPECT_LT(max_diff(got, want) / want.cwiseAbs().maxCoeff(), 2e-5) << s;
  }
}

TEST(RelativeProjection, AggregationAndPostTransforms) {
  const RowMatrixd x = gaussian(9, 6, 14), anchors = gaussian(5, 6, 15);
  RelativeOptions options;
  options.similarities = parse_relative_similarities("cosine,l2");
  const RowMatrixd concat = relative(x, anchors, options);
  ASSERT_EQ(concat.cols(), 10);
  for (std::int64_t i = 0; i < 9; ++i) {
    EXPECT_NEAR(concat.row(i).head(5).norm(), 1.0, 1e-14);
    EXPECT_NEAR(concat.row(i).tail(5).norm(), 1.0, 1e-14);
  }
  options.aggregation = Aggregation::sum;
  const RowMatrixd sum = relative(x, anchors, options);
  EXPECT_LT(max_diff(sum, concat.leftCols(5) + concat.rightCols(5)), 1e-15);
  options.aggregation = Aggregation::mean;
  EXPECT_LT(max_diff(relative(x, anchors, options), sum / 2.0), 1e-15);

  RelativeOptions standardized = with(RelativeSimilarity::l1);
  standardized.post = PostTransform::standardize;
  const RowMatrixd z = relative(x, anchors, standardized);
  for (std::int64_t i = 0; i < 9; ++i) {
    EXPECT_NEAR(z.row(i).mean(), 0.0, 1e-14);
    EXPECT_NEAR(z.row(i).squaredNorm() / 5.0, 1.0, 1e-13);
  }
  // standardize pre-transform: columns scaled by the anchors' sd, so l2 is then
  // invariant to a per-column scaling of the space.
  RowMatrixd column_scale = RowMatrixd::Zero(6, 6);
  for (int j = 0; j < 6; ++j) column_scale(j, j) = 1.0 + j;
  const RelativeOptions scaled = with(RelativeSimilarity::l2, PreTransform::standardize);
  EXPECT_LT(max_diff(relative(x, anchors, scaled), relative(x * column_scale, anchors * column_scale, scaled)), 1e-12);
  const RelativeOptions unit = with(RelativeSimilarity::dot, PreTransform::l2);
  EXPECT_LT(max_diff(relative(x, anchors, unit), relative(x, anchors, with(RelativeSimilarity::cosine))), 1e-14);
}

TEST(RelativeProjection, SaveAndLoadTransformBitwiseAlike) {
  const RowMatrixf x = gaussian(20, 8, 16).cast<float>(), anchors = gaussian(6, 8, 17).cast<float>();
  RelativeOptions options;
  options.similarities = parse_relative_similarities("cosine,linf,basis");
  options.pre = PreTransform::center;
  options.post = PostTransform::standardize;
  RelativeProjection<float> projection(options);
  projection.fit(anchors);
  const std::string path = (std::filesystem::temp_directory_path() / "latent-test-relative.model").string();
  projection.save(path);
  const auto loaded = RelativeProjection<float>::load(path);
  EXPECT_TRUE((loaded.transform(x).array() == projection.transform(x).array()).all());
  EXPECT_EQ(loaded.output_dim(), 18);
  std::filesystem::remove(path);
  EXPECT_CONTAINS(message_of<IoError>([&] { RelativeProjection<float>::load(path); }), path);
  EXPECT_CONTAINS(message_of<NotFitted>([&] { RelativeProjection<float>().save(path); }), "fit");
}

// ---------------------------------------------------------------- translation

TEST(Translation, ProcrustesRecoversAPlantedRotationAndScale) {
  const RowMatrixd source = gaussian(100, 10, 20);
  RowMatrixd rotation = random_orthogonal(10, 21);
  const RowMatrixd offset = gaussian(1, 10, 22);
  RowMatrixd target = source * rotation * 2.5;
  target.rowwise() += offset.row(0);
  LatentTranslator<double> procrustes;
  procrustes.fit(source, target);
  EXPECT_LT(max_diff(procrustes.matrix(), rotation * 2.5), 1e-12);
  EXPECT_LT(max_diff(procrustes.rotation(), rotation), 1e-12);
  const RowMatrixd fresh = gaussian(30, 10, 23);
  RowMatrixd expected = fresh * rotation * 2.5;
  expected.rowwise() += offset.row(0);
  EXPECT_LT(max_diff(procrustes.transform(fresh), expected), 1e-11);
  // Without the scale: a pure rotation.
  TranslationOptions rigid;
  rigid.scale = false;
  LatentTranslator<double> rotation_only(rigid);
  rotation_only.fit(source, target);
  EXPECT_LT(max_diff(rotation_only.matrix(), rotation), 1e-12);
  // A reflection is kept unless det = +1 is asked for.
  if (rotation.determinant() > 0) rotation.col(0) *= -1.0;  // a reflection
  const RowMatrixd reflected = source * rotation;
  procrustes.fit(source, reflected);
  EXPECT_NEAR(procrustes.rotation().determinant(), -1.0, 1e-12);
  TranslationOptions proper;
  proper.proper_rotation = true;
  LatentTranslator<double> det_one(proper);
  det_one.fit(source, reflected);
  EXPECT_NEAR(det_one.rotation().determinant(), 1.0, 1e-12);
}

// Procrustes through LAPACK (dgesdd, from 64 dimensions) and through Eigen's
// BDCSVD: the same maps, with and without det = +1, on noisy pairs whose
// cross-covariance has distinct singular values.
TEST(Translation, ProcrustesIsTheSameThroughLapackAndEigen) {
  if (!detail::lapack_built()) GTEST_SKIP() << "built without LAPACKE";
  for (const std::int64_t d : {64, 200}) {
    const RowMatrixd source = gaussian(500, d, 30);
    const RowMatrixd target = source * random_orthogonal(d, 31) + 0.3 * gaussian(500, d, 32);
    for (const bool proper : {false, true}) {
      TranslationOptions options;
      options.proper_rotation = proper;
      LatentTranslator<double> with_lapack(options), with_eigen(options);
      with_lapack.fit(source, target);
      {
        const detail::ScopedLapack eigen_only(false);
        with_eigen.fit(source, target);
      }
      EXPECT_LT(max_diff(with_lapack.matrix(), with_eigen.matrix()), 1e-10 * with_eigen.matrix().cwiseAbs().maxCoeff())
          << "d=" << d;
      for (std::size_t i = 0; i < with_eigen.singular_values().size(); ++i)
        EXPECT_NEAR(with_lapack.singular_values()[i], with_eigen.singular_values()[i],
                    1e-12 * with_eigen.singular_values()[0]);
    }
  }
}

TEST(Translation, ZeroPaddingWhenDimensionsDiffer) {
  const RowMatrixd source = gaussian(50, 6, 24);
  const RowMatrixd rotation = random_orthogonal(9, 25);
  RowMatrixd padded = RowMatrixd::Zero(50, 9);
  padded.leftCols(6) = source;
  const RowMatrixd target = padded * rotation;  // 9-d target of a 6-d source
  LatentTranslator<double> up;
  up.fit(source, target);
  EXPECT_EQ(up.target_dim(), 9);
  EXPECT_LT(max_diff(up.transform(source), target), 1e-11);
  LatentTranslator<double> down;  // and back: 9-d -> 6-d
  down.fit(target, source);
  EXPECT_LT(max_diff(down.transform(target), source), 1e-11);
}

TEST(Translation, LeastSquaresRecoversAPlantedAffineMap) {
  const RowMatrixd source = gaussian(60, 7, 26);
  const RowMatrixd w = gaussian(7, 5, 27), bias = gaussian(1, 5, 28);
  RowMatrixd target = source * w;
  target.rowwise() += bias.row(0);
  TranslationOptions options;
  options.method = TranslationMethod::affine;
  LatentTranslator<double> affine(options);
  affine.fit(source, target);
  EXPECT_LT(max_diff(affine.matrix(), w), 1e-12);
  for (int j = 0; j < 5; ++j) EXPECT_NEAR(affine.output_shift()[static_cast<std::size_t>(j)], bias(0, j), 1e-12);
  // Without the bias, lstsq cannot fit it but recovers a linear map exactly.
  options.method = TranslationMethod::lstsq;
  LatentTranslator<double> linear(options);
  const RowMatrixd linear_target = source * w;
  linear.fit(source, linear_target);
  EXPECT_LT(max_diff(linear.matrix(), w), 1e-12);
  // Ridge with a tiny alpha approaches the affine fit; standard scaling changes nothing for an exact map.
  options.method = TranslationMethod::ridge;
  options.alpha = 1e-10;
  LatentTranslator<double> ridge(options);
  ridge.fit(source, target);
  EXPECT_LT(max_diff(ridge.transform(source), target), 1e-8);
  options.method = TranslationMethod::affine;
  options.standardize = true;
  LatentTranslator<double> scaled(options);
  scaled.fit(source, target);
  EXPECT_LT(max_diff(scaled.transform(source), target), 1e-11);
  // orthogonal_lstsq of a planted rotation is that rotation.
  const RowMatrixd rotation = random_orthogonal(7, 29);
  options = TranslationOptions{};
  options.method = TranslationMethod::orthogonal_lstsq;
  LatentTranslator<double> orthogonal(options);
  const RowMatrixd rotated = source * rotation;
  orthogonal.fit(source, rotated);
  EXPECT_LT(max_diff(orthogonal.matrix(), rotation), 1e-12);
}

TEST(Translation, SaveLoadAndFloatRows) {
  const RowMatrixf source = gaussian(40, 8, 30).cast<float>(), target = gaussian(40, 8, 31).cast<float>();
  TranslationOptions options;
  options.method = TranslationMethod::ridge;
  options.standardize = true;
  LatentTranslator<float> ridge(options);
  ridge.fit(source, target);
  const std::string path = (std::filesystem::temp_directory_path() / "latent-test-translation.model").string();
  ridge.save(path);
  const auto loaded = LatentTranslator<float>::load(path);
  EXPECT_TRUE((loaded.transform(source).array() == ridge.transform(source).array()).all());
  EXPECT_EQ(loaded.options().method, TranslationMethod::ridge);
  // A corrupt file is refused with IoError naming it.
  std::ofstream(path, std::ios::binary) << "LATENTMF garbage";
  EXPECT_CONTAINS(message_of<IoError>([&] { LatentTranslator<float>::load(path); }), path);
  std::filesystem::remove(path);
  EXPECT_EQ(parse_translation_method("orthogonal-lstsq"), TranslationMethod::orthogonal_lstsq);
}

TEST(LinearMap, AppliesTheGivenMatrixAndBias) {
  const RowMatrixd w = gaussian(9, 4, 40), x = gaussian(50, 9, 41);
  const std::vector<double> bias = {0.5, -1.0, 2.0, 0.0};
  const LinearMap<double> map(w, bias);
  const RowMatrixd expected = (x * w).rowwise() + Eigen::Map<const Eigen::RowVectorXd>(bias.data(), 4);
  EXPECT_LT(max_diff(map.transform(x), expected), 1e-12);
  EXPECT_EQ(map.input_dim(), 9);
  EXPECT_EQ(map.output_dim(), 4);
  // Float rows through the GEMM path; no bias means zeros.
  const LinearMap<float> plain(w);
  EXPECT_EQ(plain.bias(), std::vector<double>(4, 0.0));
  const RowMatrixf xf = x.cast<float>();
  EXPECT_LT(max_diff(plain.transform(xf).cast<double>(), xf.cast<double>() * w), 1e-4);
  // Saved and loaded bitwise alike.
  const std::string path = (std::filesystem::temp_directory_path() / "latent-test-linear-map.model").string();
  map.save(path);
  const LinearMap<double> loaded = LinearMap<double>::load(path);
  EXPECT_TRUE((loaded.transform(x).array() == map.transform(x).array()).all());
  std::ofstream(path, std::ios::binary) << "LATENTMF garbage";
  EXPECT_CONTAINS(message_of<IoError>([&] { LinearMap<double>::load(path); }), path);
  std::filesystem::remove(path);
}

TEST(LinearMap, ATranslatorHandsOutItsFittedMap) {
  const RowMatrixd source = gaussian(60, 6, 42), target = gaussian(60, 5, 43);
  for (const TranslationMethod method : {TranslationMethod::procrustes, TranslationMethod::affine}) {
    TranslationOptions options;
    options.method = method;
    LatentTranslator<double> translator(options);
    translator.fit(source, target);
    const LinearMap<double> map = translator.linear_map();
    EXPECT_LT(max_diff(map.transform(source), translator.transform(source)), 1e-12) << to_string(method);
  }
  EXPECT_THROW(LatentTranslator<double>().linear_map(), NotFitted);
}

TEST(LinearMap, Errors) {
  const RowMatrixd w = gaussian(3, 2, 44);
  EXPECT_THROW(LinearMap<float>(RowMatrixd(0, 2)), EmptyInput);
  RowMatrixd bad = w;
  bad(1, 1) = std::nan("");
  EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { LinearMap<float>{bad}; }), "matrix");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { LinearMap<float>(w, {1.0, 2.0, 3.0}); }), "bias");
  EXPECT_THROW(LinearMap<float>(w, {1.0, std::numeric_limits<double>::infinity()}), NonFiniteValue);
  const LinearMap<float> map(w);
  EXPECT_THROW(map.transform(RowMatrixf(gaussian(4, 5, 45).cast<float>())), DimensionMismatch);
  RowMatrixf nan_rows = gaussian(4, 3, 46).cast<float>();
  nan_rows(2, 0) = std::nanf("");
  EXPECT_THROW(map.transform(nan_rows), NonFiniteValue);
  EXPECT_THROW(LinearMap<float>().transform(nan_rows), NotFitted);
  EXPECT_THROW(LinearMap<float>().save("unused.model"), NotFitted);
}

TEST(Translation, FittedOnlyAfterFit) {
  const RowMatrixd source = gaussian(20, 4, 32), target = gaussian(20, 3, 33);
  LatentTranslator<double> translator;
  EXPECT_FALSE(translator.is_fitted());
  translator.fit(MatrixView<double>(source), MatrixView<double>(target));
  EXPECT_TRUE(translator.is_fitted());
  RelativeProjection<double> projection;
  EXPECT_FALSE(projection.is_fitted());
  projection.fit(MatrixView<double>(source));
  EXPECT_TRUE(projection.is_fitted());
}

// ---------------------------------------------------------------- comparison

TEST(Compare, RotatedCopyTiesAndBlocks) {
  const RowMatrixd a = gaussian(200, 16, 40);
  const RowMatrixd b = a * random_orthogonal(16, 41);
  const CrossSpaceScores rotated = compare_spaces(a, b);
  EXPECT_EQ(rotated.jaccard, 1.0);  // neighbourhoods survive a rotation ...
  EXPECT_LT(rotated.top1, 0.5);     // ... counterparts do not
  EXPECT_NEAR(rotated.cka, 1.0, 1e-12);
  // Relative representations of both restore the counterparts.
  const RowMatrixd ra = relative(a, a.topRows(30), with(RelativeSimilarity::cosine));
  const RowMatrixd rb = relative(b, b.topRows(30), with(RelativeSimilarity::cosine));
  const CrossSpaceScores rel = compare_spaces(ra, rb);
  EXPECT_EQ(rel.top1, 1.0);
  EXPECT_NEAR(rel.mean_cos, 1.0, 1e-12);
  // Different dims: jaccard and CKA only.
  const RowMatrixd narrow = a.leftCols(5);
  const CrossSpaceScores mixed = compare_spaces(a, narrow);
  EXPECT_TRUE(std::isnan(mixed.mrr));
  EXPECT_GT(mixed.jaccard, 0.0);
  // A strict rank: ties do not hurt; duplicate rows in b rank 1.
  RowMatrixd twins = a;
  twins.row(1) = twins.row(0);
  CompareOptions options;
  options.jaccard = false;
  const CrossSpaceScores tie = compare_spaces(twins, twins, options);
  EXPECT_EQ(tie.top1, 1.0);
  // Blocked ranks equal unblocked ones.
  options.block_rows = 7;
  const CrossSpaceScores small = compare_spaces(a, b, options);
  EXPECT_EQ(small.mrr, rotated.mrr);
  EXPECT_EQ(small.mean_rank, rotated.mean_rank);
}

TEST(Compare, FloatScoresDoNotDependOnThreadsOrBlocks) {
  const RowMatrixf a = gaussian(300, 24, 42).cast<float>(), b = gaussian(300, 24, 43).cast<float>();
  CompareOptions options;
  options.parallel.threads = 1;
  const CrossSpaceScores one = compare_spaces(a, b, options);
  options.parallel.threads = 2;
  options.block_rows = 13;
  const CrossSpaceScores two = compare_spaces(a, b, options);
  EXPECT_EQ(one.jaccard, two.jaccard);
  EXPECT_EQ(one.mrr, two.mrr);
  EXPECT_EQ(one.mean_rank, two.mean_rank);
  EXPECT_EQ(one.mean_cos, two.mean_cos);
  EXPECT_EQ(one.cka, two.cka);
  EXPECT_GT(one.mean_rank, 1.0);  // independent spaces: counterparts are not found
}

// ---------------------------------------------------------------- anchors

TEST(Anchors, EveryMethodIsSeededDistinctAndInRange) {
  const RowMatrixf x = gaussian(300, 6, 50).cast<float>();
  for (const auto method : {AnchorMethod::uniform, AnchorMethod::first, AnchorMethod::farthest_point,
                            AnchorMethod::kmeans_plus_plus, AnchorMethod::kmeans}) {
    AnchorOptions options;
    options.method = method;
    options.seed = 7;
    const auto ids = select_anchors(x, 25, options);
    ASSERT_EQ(ids.size(), 25u);
    EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), 25u);
    for (const auto id : ids) EXPECT_TRUE(id >= 0 && id < 300);
    EXPECT_EQ(ids, select_anchors(x, 25, options));
    options.parallel.threads = 2;
    EXPECT_EQ(ids, select_anchors(x, 25, options));
    options.seed = 8;
    if (method != AnchorMethod::first) {
      EXPECT_NE(ids, select_anchors(x, 25, options));
    }
  }
  // Farthest point: the second anchor is the row farthest from the first.
  AnchorOptions fps;
  fps.method = AnchorMethod::farthest_point;
  const auto ids = select_anchors(x, 2, fps);
  const RowMatrixd xd = x.cast<double>();
  double best = -1;
  std::int64_t farthest = -1;
  for (std::int64_t i = 0; i < 300; ++i) {
    const double value = (xd.row(i) - xd.row(ids[0])).squaredNorm();
    if (value > best) best = value, farthest = i;
  }
  EXPECT_EQ(ids[1], farthest);
  // k-means on well separated clusters: one medoid per cluster, centroids at the cluster means.
  RowMatrixd clusters = gaussian(90, 2, 51) * 0.01;
  for (std::int64_t i = 0; i < 90; ++i) clusters(i, 0) += 10.0 * static_cast<double>(i / 30);
  AnchorOptions kmeans;
  kmeans.method = AnchorMethod::kmeans;
  auto medoids = select_anchors(clusters, 3, kmeans);
  std::set<std::int64_t> groups;
  for (const auto id : medoids) groups.insert(id / 30);
  EXPECT_EQ(groups.size(), 3u);
  const RowMatrixd centroids = kmeans_centroids(clusters, 3, kmeans);
  for (std::int64_t c = 0; c < 3; ++c) EXPECT_NEAR(std::fmod(centroids(c, 0) + 0.5, 10.0), 0.5, 0.01);
}

TEST(Anchors, StratifiedByLabels) {
  const RowMatrixd x = gaussian(100, 4, 52);
  std::vector<std::int64_t> labels(100);
  for (std::size_t i = 0; i < 100; ++i) labels[i] = i < 60 ? 3 : (i < 90 ? 1 : 2);  // 30 / 10 / 60
  const auto ids = select_anchors_stratified(x, labels, 10);
  ASSERT_EQ(ids.size(), 10u);
  std::map<std::int64_t, int> per_label;
  for (const auto id : ids) ++per_label[labels[static_cast<std::size_t>(id)]];
  EXPECT_EQ(per_label[3], 6);
  EXPECT_EQ(per_label[1], 3);
  EXPECT_EQ(per_label[2], 1);
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), 10u);
}

// ---------------------------------------------------------------- errors

TEST(RelativeErrors, OnePerException) {
  const RowMatrixf x = gaussian(10, 4, 60).cast<float>();
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { gather_rows(x, {0, 10}); }), "anchor id out of range");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { RelativeProjection<float>().fit(x, {-1}); }), "id=-1");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { select_anchors(x, 11); }), "fewer rows than anchors");
  const RowMatrixf one = x.topRows(1);
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] {
                    RelativeProjection<float>(with(RelativeSimilarity::cosine, PreTransform::standardize)).fit(one);
                  }),
                  "fewer anchors than needed");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { LatentTranslator<float>().fit(one, one); }), "fewer pairs");
  RelativeProjection<float> fitted;
  fitted.fit(x);
  const RowMatrixf wide = gaussian(3, 5, 61).cast<float>();
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { fitted.transform(wide); }), "x");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { LatentTranslator<float>().fit(x, wide); }), "rows");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { compare_spaces(x, wide); }), "rows");
  RowMatrixf nan = x;
  nan(2, 1) = std::nanf("");
  EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { fitted.transform(nan); }), "NaN");
  EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { RelativeProjection<float>().fit(nan); }), "anchors");
  CompareOptions k3;
  k3.k = 3;
  EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { compare_spaces(nan, x, k3); }), "NaN");
  EXPECT_CONTAINS(message_of<NotFitted>([&] { RelativeProjection<float>().transform(x); }), "fit");
  EXPECT_CONTAINS(message_of<NotFitted>([&] { LatentTranslator<float>().transform(x); }), "fit");
  RowMatrixf zero = x;
  zero.row(3).setZero();
  EXPECT_CONTAINS(message_of<NumericalError>([&] { fitted.transform(zero); }), "row=3");
  CompareOptions too_many;
  too_many.k = 10;
  EXPECT_CONTAINS(message_of<InvalidK>([&] { compare_spaces(x, x, too_many); }), "k=10");
  EXPECT_CONTAINS(message_of<EmptyInput>([&] { RelativeProjection<float>().fit(x.topRows(0)); }), "empty");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { parse_relative_similarities("cosine,,l2"); }), "empty");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { parse_relative_similarities("cosine,cosine"); }), "twice");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { parse_relative_similarity("euclid"); }), "euclid");
  RelativeOptions bad_p;
  bad_p.p = 0.5;
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { RelativeProjection<float>{bad_p}; }), "p");
}

// Zero-shot stitching on a planted pair of spaces: the target is a rotation and
// scaling of the source, so a head fitted on the target reads translated (and
// relative) source rows as well as its own; labels are clusters of the source.
TEST(Stitching, APlantedRotationStitchesWithoutLoss) {
  const std::int64_t n = 600, d = 6;
  RowMatrixf source = testing::random_normal<float>(n, d, 90);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    labels[static_cast<std::size_t>(i)] = i % 3;
    source(i, i % 3) += 6.0f;
  }
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(gaussian(d, d, 91));
  const RowMatrixf target = (source.cast<double>() * Eigen::MatrixXd(qr.householderQ()) * 3.0).cast<float>();
  std::vector<std::int64_t> anchors, train, test;
  for (std::int64_t i = 0; i < n; ++i) {
    (i % 2 == 0 ? train : test).push_back(i);
    if (i % 10 == 0) anchors.push_back(i);
  }
  for (const StitchMethod method : {StitchMethod::translation, StitchMethod::relative}) {
    SCOPED_TRACE(std::string(to_string(method)));
    StitchingOptions options;
    options.method = method;
    const StitchingResult result = stitching_accuracy(source, target, labels, anchors, train, test, options);
    EXPECT_GT(result.target_accuracy, 0.9);
    EXPECT_NEAR(result.accuracy, result.target_accuracy, 1e-12);
  }
  // An unrelated source space stitches at chance.
  const RowMatrixf noise = testing::random_normal<float>(n, d, 92);
  EXPECT_LT(stitching_accuracy(noise, target, labels, anchors, train, test).accuracy, 0.5);
  EXPECT_THROW(stitching_accuracy(source, target, labels, anchors, train, {}), InvalidArgument);
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { stitching_accuracy(source, target, labels, {n}, train, test); }),
                  "anchors");
  EXPECT_THROW(stitching_accuracy(source, target, {1, 2}, anchors, train, test), DimensionMismatch);
  EXPECT_THROW(stitching_accuracy(source, RowMatrixf(target.topRows(10)), labels, anchors, train, test),
               DimensionMismatch);
  EXPECT_EQ(parse_stitch_method("relative"), StitchMethod::relative);
  EXPECT_THROW(parse_stitch_method("glue"), InvalidArgument);
}

}  // namespace
}  // namespace latent
