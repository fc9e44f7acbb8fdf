// The exception hierarchy and the require_* checks every entry point uses.
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"
#include "latent/embedding.hpp"
#include "latent/embedding/quantization.hpp"
#include "latent/hubness.hpp"
#include "latent/kernels/isa.hpp"
#include "latent/metrics.hpp"
#include "latent/relative.hpp"
#include "latent/similarity.hpp"
#include "latent/whitening.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

template <class E>
void expect_is_latent_error() {
  static_assert(std::is_base_of_v<Error, E>, "derives from latent::Error");
  try {
    throw E("boom");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
}

TEST(Errors, EveryTypeIsALatentErrorAndARuntimeError) {
  static_assert(std::is_base_of_v<std::runtime_error, Error>);
  expect_is_latent_error<InvalidArgument>();
  expect_is_latent_error<DimensionMismatch>();
  expect_is_latent_error<NonFiniteValue>();
  expect_is_latent_error<EmptyInput>();
  expect_is_latent_error<InvalidK>();
  expect_is_latent_error<NotFitted>();
  expect_is_latent_error<NumericalError>();
  expect_is_latent_error<IoError>();
  expect_is_latent_error<UnsupportedIsa>();
  expect_is_latent_error<BackendError>();
}

TEST(Errors, MessageFormat) {
  EXPECT_EQ(error_message("knn", "k", "exceeds the rows of base", "k=20, rows=10"),
            "latent::knn: k: exceeds the rows of base (k=20, rows=10)");
  EXPECT_EQ(error_message("fit", "x", "is empty"), "latent::fit: x: is empty");
}

using testing::message_of;

TEST(RequireNonEmpty, ThrowsOnNoRowsOrNoColumns) {
  RowMatrixf none(0, 4), thin(3, 0), fine(2, 2);
  EXPECT_EQ(message_of<EmptyInput>([&] { require_non_empty("knn", "base", MatrixView<float>(none)); }),
            "latent::knn: base: is empty (rows=0, cols=4)");
  EXPECT_THROW(require_non_empty("knn", "base", MatrixView<float>(thin)), EmptyInput);
  EXPECT_NO_THROW(require_non_empty("knn", "base", MatrixView<float>(fine)));
}

TEST(RequireSameDim, NamesBothArguments) {
  EXPECT_NO_THROW(require_same_dim("knn", "base", 64, "queries", 64));
  const std::string message = message_of<DimensionMismatch>([] { require_same_dim("knn", "base", 64, "queries", 32); });
  EXPECT_EQ(message.rfind("latent::knn: queries: ", 0), 0u) << message;
  EXPECT_NE(message.find("base"), std::string::npos) << message;
  EXPECT_NE(message.find("64"), std::string::npos) << message;
  EXPECT_NE(message.find("32"), std::string::npos) << message;
}

TEST(RequireFinite, FindsNanAndInfAtFirstAndLastElement) {
  RowMatrixd m = RowMatrixd::Ones(5, 7);
  EXPECT_NO_THROW(require_finite("fit", "x", MatrixView<double>(m)));

  m(0, 0) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(message_of<NonFiniteValue>([&] { require_finite("fit", "x", MatrixView<double>(m)); }),
            "latent::fit: x: contains a non-finite value (NaN at row 0, column 0)");
  m(0, 0) = 1;
  m(4, 6) = -std::numeric_limits<double>::infinity();
  EXPECT_EQ(message_of<NonFiniteValue>([&] { require_finite("fit", "x", MatrixView<double>(m)); }),
            "latent::fit: x: contains a non-finite value (-Inf at row 4, column 6)");

  RowMatrixf f = RowMatrixf::Zero(3, 3);
  f(1, 2) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(require_finite("fit", "x", MatrixView<float>(f)), NonFiniteValue);
}

TEST(RequireFinite, LargeFiniteValuesPass) {
  // x * 0 stays 0 for the largest finite values, so the fast path must not flag them.
  RowMatrixf f = RowMatrixf::Constant(2, 3, std::numeric_limits<float>::max());
  f(1, 1) = std::numeric_limits<float>::denorm_min();
  EXPECT_NO_THROW(require_finite("fit", "x", MatrixView<float>(f)));
}

TEST(RequireFinite, HonoursTheRowStride) {
  // The padding between rows holds a NaN that is not part of the view.
  RowMatrixf storage = RowMatrixf::Ones(3, 4);
  storage(1, 3) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NO_THROW(require_finite("fit", "x", MatrixView<float>(storage.data(), 3, 3, 4)));
  EXPECT_THROW(require_finite("fit", "x", MatrixView<float>(storage.data(), 3, 4, 4)), NonFiniteValue);
}

TEST(RequireK, RejectsZeroNegativeAndTooLarge) {
  EXPECT_NO_THROW(require_k("knn", 1, 10, "base"));
  EXPECT_NO_THROW(require_k("knn", 10, 10, "base"));
  EXPECT_EQ(message_of<InvalidK>([] { require_k("knn", 0, 10, "base"); }), "latent::knn: k: must be at least 1 (k=0)");
  EXPECT_THROW(require_k("knn", -3, 10, "base"), InvalidK);
  EXPECT_EQ(message_of<InvalidK>([] { require_k("knn", 20, 10, "base"); }),
            "latent::knn: k: exceeds the 10 candidates in base (k=20, available=10)");
}

// ---------------------------------------------------------------- name tables

enum class Fruit { apple, pear, quince };
constexpr NamedValue<Fruit> kFruitNames[] = {{"apple", Fruit::apple}, {"pear", Fruit::pear}};

TEST(NameTable, ParsesExactNamesAndNamesValues) {
  EXPECT_EQ(parse_name(kFruitNames, "pear", "parse_fruit", "--fruit", "fruit"), Fruit::pear);
  EXPECT_EQ(name_of(kFruitNames, Fruit::apple), "apple");
  EXPECT_EQ(name_of(kFruitNames, Fruit::quince), "unknown");  // not in the table
  static_assert(name_of(kFruitNames, Fruit::pear) == "pear", "usable at compile time");
  EXPECT_EQ(name_list(kFruitNames), "apple, pear");
  EXPECT_THROW(parse_name(kFruitNames, "Pear", "parse_fruit", "--fruit", "fruit"), InvalidArgument);  // exact
  EXPECT_THROW(parse_name(kFruitNames, " pear", "parse_fruit", "--fruit", "fruit"), InvalidArgument);
  EXPECT_THROW(parse_name(kFruitNames, "", "parse_fruit", "--fruit", "fruit"), InvalidArgument);
}

TEST(NameTable, RefusalNamesTheArgumentTheTextAndEveryName) {
  EXPECT_EQ(
      testing::message_of<InvalidArgument>([] { parse_name(kFruitNames, "fig", "parse_fruit", "--fruit", "fruit"); }),
      "latent::parse_fruit: --fruit: unknown fruit 'fig' (expected one of: apple, pear)");
  EXPECT_EQ(testing::message_of<InvalidArgument>([] { parse_name(kFruitNames, "fig", "parse_fruit", "", "fruit"); }),
            "latent::parse_fruit: unknown fruit 'fig' (expected one of: apple, pear)");
  // Another exception type when the caller needs one.
  EXPECT_THROW(parse_name<UnsupportedIsa>(kFruitNames, "fig", "f", "a", "fruit"), UnsupportedIsa);
}

// Every parser of an enum the API and the CLI name by text reads one table: the
// names it prints are the names it accepts, and a refusal lists all of them.
template <class E, class Parse>
void expect_one_table(Parse parse, std::initializer_list<E> values) {
  std::string names;
  for (const E value : values) {
    const std::string name(to_string(value));
    EXPECT_EQ(parse(name, "--option"), value) << name;
    names += (names.empty() ? "" : ", ") + name;
  }
  try {
    parse("no-such-name", "--option");
    ADD_FAILURE() << "accepted no-such-name";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("--option: unknown "), std::string::npos) << message;
    EXPECT_NE(message.find("'no-such-name' (expected one of: " + names + ")"), std::string::npos) << message;
  }
}

TEST(NameTable, EveryEnumParserUsesOneTable) {
  expect_one_table(parse_metric, {Metric::cosine, Metric::ip, Metric::l2, Metric::sqeuclidean, Metric::l1, Metric::linf,
                                  Metric::angular});
  expect_one_table(kernels::parse_isa, {kernels::Isa::scalar, kernels::Isa::avx2, kernels::Isa::avx512});
  expect_one_table([](const std::string& n, const std::string& a) { return parse_quantization_type(n, a); },
                   {QuantizationType::f16, QuantizationType::bf16, QuantizationType::int8, QuantizationType::int4,
                    QuantizationType::binary});
  expect_one_table([](const std::string& n, const std::string& a) { return parse_compute_precision(n, a); },
                   {ComputePrecision::f32, ComputePrecision::bf16, ComputePrecision::int8});
  expect_one_table(parse_reduction, {Reduction::none, Reduction::mutual_proximity, Reduction::mutual_proximity_normal,
                                     Reduction::local_scaling, Reduction::nicdm, Reduction::dis_sim_local,
                                     Reduction::csls, Reduction::localized_centering, Reduction::dis_sim_global});
  expect_one_table(
      parse_relative_similarity,
      {RelativeSimilarity::cosine, RelativeSimilarity::angular, RelativeSimilarity::dot, RelativeSimilarity::l2,
       RelativeSimilarity::l1, RelativeSimilarity::linf, RelativeSimilarity::lp, RelativeSimilarity::basis});
  expect_one_table(parse_translation_method,
                   {TranslationMethod::procrustes, TranslationMethod::lstsq, TranslationMethod::affine,
                    TranslationMethod::ridge, TranslationMethod::orthogonal_lstsq});
  expect_one_table(parse_aggregation, {Aggregation::concat, Aggregation::sum, Aggregation::mean});
  expect_one_table(parse_stitch_method, {StitchMethod::translation, StitchMethod::relative});
  expect_one_table(parse_analogy_method, {AnalogyMethod::add, AnalogyMethod::mul});
  expect_one_table(parse_random_projection,
                   {RandomProjection::gaussian, RandomProjection::sign, RandomProjection::count_sketch});
  expect_one_table(parse_post_transform, {PostTransform::none, PostTransform::l2, PostTransform::standardize});
  expect_one_table(parse_whitening_method, {WhiteningMethod::pca, WhiteningMethod::zca, WhiteningMethod::projection,
                                            WhiteningMethod::cholesky});
  expect_one_table(parse_shrinkage, {Shrinkage::none, Shrinkage::ridge, Shrinkage::ledoit_wolf});
  expect_one_table(parse_covariance_convention, {CovarianceConvention::population, CovarianceConvention::sample});
  expect_one_table(parse_zero_norm_policy, {ZeroNormPolicy::raise, ZeroNormPolicy::zero});
  expect_one_table(parse_hyperbolic_model, {HyperbolicModel::poincare, HyperbolicModel::lorentz});
  expect_one_table(parse_kl_direction, {KlDirection::forward, KlDirection::reverse, KlDirection::symmetric});
  expect_one_table(parse_sae_activation, {SaeActivation::topk, SaeActivation::relu, SaeActivation::jumprelu});
  expect_one_table(parse_pre_transform,
                   {PreTransform::none, PreTransform::center, PreTransform::standardize, PreTransform::l2});
  expect_one_table(parse_anchor_method, {AnchorMethod::uniform, AnchorMethod::first, AnchorMethod::farthest_point,
                                         AnchorMethod::kmeans_plus_plus, AnchorMethod::kmeans});
  expect_one_table(parse_pooling, {Pooling::mean, Pooling::max, Pooling::min, Pooling::mean_max, Pooling::first,
                                   Pooling::last, Pooling::sum, Pooling::weighted_mean});
  expect_one_table(parse_padding, {Padding::any, Padding::right, Padding::left});
  expect_one_table([](const std::string& n, const std::string& a) { return parse_qr_combine(n, a); },
                   {QrCombine::multiply, QrCombine::add, QrCombine::concat});
}

}  // namespace
}  // namespace latent
