// Relative representations, cross-space comparison and latent translation against
// ../shared/golden/relative.json and ../shared/golden/relative/*.npy (inputs
// inputs/encA.npy, encB.npy, encC.npy, anchor_ids.npy; numpy/scipy in double,
// reference/relative_golden.py). Tolerances: golden README section 7.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/relative.hpp"

namespace latent {
namespace {

const std::string kGolden = LATENT_GOLDEN_DIR;

const std::vector<std::string> kKinds = {"cosine", "l2", "l1", "linf", "concat"};

RelativeOptions options_for(const std::string& kind) {
  RelativeOptions options;
  options.similarities = kind == "concat" ? parse_relative_similarities("cosine,l2,l1,linf")
                                          : std::vector<RelativeSimilarity>{parse_relative_similarity(kind)};
  return options;  // concat: aggregation concat, each block scaled to unit L2 norm (the defaults)
}

class GoldenRelative : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::ifstream(kGolden + "/relative.json").good()) return;
    for (const char* space : {"A", "B", "C"}) {
      spaces32()[space] = read_npy_matrix<float>(kGolden + "/inputs/enc" + space + ".npy");
      spaces64()[space] = spaces32()[space].cast<double>();
    }
    anchors() = read_npy_vector<std::int64_t>(kGolden + "/inputs/anchor_ids.npy");
    std::ifstream in(kGolden + "/relative.json");
    json() = nlohmann::json::parse(in);
  }
  void SetUp() override {
    if (spaces32().empty()) GTEST_SKIP() << "golden kit not found at " << kGolden;
  }
  static std::map<std::string, RowMatrixf>& spaces32() {
    static std::map<std::string, RowMatrixf> m;
    return m;
  }
  static std::map<std::string, RowMatrixd>& spaces64() {
    static std::map<std::string, RowMatrixd> m;
    return m;
  }
  static std::vector<std::int64_t>& anchors() {
    static std::vector<std::int64_t> a;
    return a;
  }
  static nlohmann::json& json() {
    static nlohmann::json j;
    return j;
  }
  template <class T>
  static RowMatrix<T> relative(const RowMatrix<T>& x, const std::string& kind) {
    RelativeProjection<T> projection(options_for(kind));
    projection.fit(MatrixView<T>(x), anchors());
    return projection.transform(MatrixView<T>(x));
  }
};

// relative/first20_<kind>.npy = rows 0..19 of A, B, C stacked: 1e-12 relative to
// the row's max abs in double, 1e-5 in float.
TEST_F(GoldenRelative, First20RowsOfEverySimilarity) {
  const char* names[] = {"A", "B", "C"};
  for (const auto& kind : kKinds) {
    const NpyArray array = read_npy(kGolden + "/relative/first20_" + kind + ".npy");
    ASSERT_EQ(array.header.shape.size(), 3u);
    const std::int64_t rows = array.header.shape[1], cols = array.header.shape[2];
    ASSERT_EQ(rows, 20);
    const auto* values = reinterpret_cast<const double*>(array.bytes.data());
    for (int s = 0; s < 3; ++s) {
      const Eigen::Map<const RowMatrixd> expected(values + s * rows * cols, rows, cols);
      const RowMatrixd got64 = relative<double>(spaces64()[names[s]], kind).topRows(20);
      const RowMatrixd got32 = relative<float>(spaces32()[names[s]], kind).topRows(20).cast<double>();
      ASSERT_EQ(got64.cols(), cols) << kind;
      for (std::int64_t i = 0; i < rows; ++i) {
        const double scale = expected.row(i).cwiseAbs().maxCoeff();
        EXPECT_LE((got64.row(i) - expected.row(i)).cwiseAbs().maxCoeff() / scale, 1e-12)
            << kind << " " << names[s] << i;
        EXPECT_LE((got32.row(i) - expected.row(i)).cwiseAbs().maxCoeff() / scale, 1e-5) << kind << " " << names[s] << i;
      }
    }
  }
}

// pairs.A_vs_B and pairs.A_vs_C: jaccard@10, mrr, top1, mean_rank, mean_cos for
// absolute and every relative representation, in double (1e-12, top1 exact).
TEST_F(GoldenRelative, CrossSpaceScoresInDouble) {
  for (const char* other : {"B", "C"}) {
    const auto& pair = json()["pairs"][std::string("A_vs_") + other];
    for (const std::string kind : {"absolute", "cosine", "l2", "l1", "linf", "concat"}) {
      SCOPED_TRACE(std::string("A_vs_") + other + " " + kind);
      const RowMatrixd a = kind == "absolute" ? spaces64()["A"] : relative<double>(spaces64()["A"], kind);
      const RowMatrixd b = kind == "absolute" ? spaces64()[other] : relative<double>(spaces64()[other], kind);
      const CrossSpaceScores scores = compare_spaces(a, b);
      const auto& expected = pair[kind];
      EXPECT_EQ(scores.rows, 2000);
      EXPECT_NEAR(scores.jaccard, expected["jaccard"].get<double>(), 1e-12);
      EXPECT_NEAR(scores.mrr, expected["mrr"].get<double>(), 1e-12);
      EXPECT_EQ(scores.top1, expected["top1"].get<double>());
      EXPECT_NEAR(scores.mean_rank, expected["mean_rank"].get<double>(), 1e-9);
      EXPECT_NEAR(scores.mean_cos, expected["mean_cos"].get<double>(), 1e-12);
    }
  }
}

// The same in float32 (README: jaccard, mrr, top1 within 1e-3, mean_cos 1e-6).
TEST_F(GoldenRelative, CrossSpaceScoresInFloat) {
  const auto& pair = json()["pairs"]["A_vs_B"];
  for (const std::string kind : {"absolute", "cosine", "l2", "l1", "linf", "concat"}) {
    SCOPED_TRACE(kind);
    const RowMatrixf a = kind == "absolute" ? spaces32()["A"] : relative<float>(spaces32()["A"], kind);
    const RowMatrixf b = kind == "absolute" ? spaces32()["B"] : relative<float>(spaces32()["B"], kind);
    const CrossSpaceScores scores = compare_spaces(a, b);
    const auto& expected = pair[kind];
    EXPECT_NEAR(scores.jaccard, expected["jaccard"].get<double>(), 1e-3);
    EXPECT_NEAR(scores.mrr, expected["mrr"].get<double>(), 1e-3);
    EXPECT_NEAR(scores.top1, expected["top1"].get<double>(), 1e-3);
    EXPECT_NEAR(scores.mean_cos, expected["mean_cos"].get<double>(), 1e-6);
  }
}

// same_space_check_A_vs_A: a space against itself scores 1 exactly.
TEST_F(GoldenRelative, SameSpaceScoresOneExactly) {
  for (const std::string kind : {"absolute", "cosine"}) {
    const RowMatrixd a = kind == "absolute" ? spaces64()["A"] : relative<double>(spaces64()["A"], kind);
    const CrossSpaceScores scores = compare_spaces(a, a);
    EXPECT_EQ(scores.jaccard, 1.0) << kind;
    EXPECT_EQ(scores.mrr, 1.0) << kind;
    EXPECT_EQ(scores.top1, 1.0) << kind;
    EXPECT_EQ(scores.mean_rank, 1.0) << kind;
    EXPECT_NEAR(scores.mean_cos, 1.0, 1e-15) << kind;
    EXPECT_NEAR(scores.cka, 1.0, 1e-12) << kind;
    const RowMatrixf a32 = a.cast<float>();
    const CrossSpaceScores scores32 = compare_spaces(a32, a32);
    EXPECT_EQ(scores32.jaccard, 1.0) << kind;
    EXPECT_EQ(scores32.mrr, 1.0) << kind;
    EXPECT_EQ(scores32.top1, 1.0) << kind;
  }
}

// Scores of translated rows f(A_i) against B_j (pairs.<pair>.translation).
void expect_translation_scores(const RowMatrixd& f, const RowMatrixd& y, const nlohmann::json& expected) {
  CompareOptions options;
  options.jaccard = false;
  options.cka = false;
  const CrossSpaceScores cosine = compare_spaces(f, y, options);
  options.rank_metric = Metric::l2;
  const CrossSpaceScores l2 = compare_spaces(f, y, options);
  EXPECT_EQ(cosine.top1, expected["top1_cosine"].get<double>());
  EXPECT_NEAR(cosine.mrr, expected["mrr_cosine"].get<double>(), 1e-12);
  EXPECT_EQ(l2.top1, expected["top1_l2"].get<double>());
  EXPECT_NEAR(l2.mrr, expected["mrr_l2"].get<double>(), 1e-12);
  EXPECT_NEAR(cosine.mean_cos, expected["mean_cos_to_target"].get<double>(), 1e-12);
  const double mse = (f - y).squaredNorm() / static_cast<double>(f.size());
  EXPECT_NEAR(mse / expected["mse"].get<double>(), 1.0, 1e-10);
  const double relative_sq_error = (f - y).squaredNorm() / (y.rowwise() - y.colwise().mean()).squaredNorm();
  EXPECT_NEAR(relative_sq_error / expected["relative_sq_error"].get<double>(), 1.0, 1e-10);
}

// Procrustes R (relative/procrustes_R_*.npy, 1e-8 absolute), lstsq M
// (relative/lstsq_M_*.npy, 1e-8 relative to max abs) and the translation scores.
TEST_F(GoldenRelative, TranslationFittedOnTheAnchors) {
  for (const char* other : {"B", "C"}) {
    SCOPED_TRACE(std::string("A -> ") + other);
    const auto& expected = json()["pairs"][std::string("A_vs_") + other]["translation"];
    const RowMatrixd& a = spaces64()["A"];
    const RowMatrixd& b = spaces64()[other];

    LatentTranslator<double> procrustes;
    procrustes.fit(a, b, anchors());
    const RowMatrixd r = read_npy_matrix<double>(kGolden + "/relative/procrustes_R_A" + other + ".npy");
    EXPECT_LE((procrustes.rotation() - r).cwiseAbs().maxCoeff(), 1e-8);
    const auto& sp_sq = expected["procrustes"]["sP_sQ"];
    EXPECT_LE((procrustes.matrix() - r * (sp_sq[1].get<double>() / sp_sq[0].get<double>())).cwiseAbs().maxCoeff(),
              1e-8);
    double sum = 0;
    for (const double s : procrustes.singular_values()) sum += s;
    EXPECT_NEAR(sum, expected["procrustes"]["sum_singular_values"].get<double>(), 1e-12);
    expect_translation_scores(procrustes.transform(a), b, expected["procrustes"]);

    TranslationOptions affine_options;
    affine_options.method = TranslationMethod::affine;
    LatentTranslator<double> affine(affine_options);
    affine.fit(a, b, anchors());
    const RowMatrixd m = read_npy_matrix<double>(kGolden + "/relative/lstsq_M_A" + other + ".npy");
    RowMatrixd got(m.rows(), m.cols());
    got.topRows(m.rows() - 1) = affine.matrix();
    for (std::int64_t j = 0; j < m.cols(); ++j)
      got(m.rows() - 1, j) = affine.output_shift()[static_cast<std::size_t>(j)];
    for (const double shift : affine.input_shift()) EXPECT_EQ(shift, 0.0);
    EXPECT_LE((got - m).cwiseAbs().maxCoeff() / m.cwiseAbs().maxCoeff(), 1e-8);
    expect_translation_scores(affine.transform(a), b, expected["lstsq_affine"]);

    TranslationOptions linear_options;
    linear_options.method = TranslationMethod::lstsq;
    LatentTranslator<double> linear(linear_options);
    linear.fit(a, b, anchors());
    expect_translation_scores(linear.transform(a), b, expected["lstsq_linear_no_bias"]);

    // float32 rows through a double fit (README: scores within 1e-3).
    LatentTranslator<float> procrustes32;
    procrustes32.fit(spaces32()["A"], spaces32()[other], anchors());
    const RowMatrixf f32 = procrustes32.transform(spaces32()["A"]);
    CompareOptions options;
    options.jaccard = false;
    const CrossSpaceScores s32 = compare_spaces(f32, spaces32()[other], options);
    EXPECT_NEAR(s32.top1, expected["procrustes"]["top1_cosine"].get<double>(), 1e-3);
    EXPECT_NEAR(s32.mrr, expected["procrustes"]["mrr_cosine"].get<double>(), 1e-3);
  }
}

}  // namespace
}  // namespace latent
