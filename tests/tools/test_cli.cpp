// The `latent` tool's contract (DESIGN.md section 5): exit 0 / 2 (usage) / 1
// (other errors) with one line on stderr naming the file or option, `--json`
// prints exactly one JSON object, and `info` reports the right figures.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/core/parallel.hpp"
#include "latent/embedding.hpp"
#include "latent/hubness.hpp"
#include "latent/metrics.hpp"
#include "latent/relative.hpp"
#include "latent/similarity.hpp"
#include "latent/whitening.hpp"
#include "support/spawn_support.hpp"
#include "support/test_support.hpp"
#ifdef LATENT_TEST_HDF5
#include "core/hdf5_writer.hpp"
#endif

extern char** environ;

namespace latent {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int status = -1;  // exit status; -1 if killed by a signal
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class CliTest : public testing::TempDirTest {
 protected:
  Outcome run(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) const {
    std::vector<std::string> env_strings = extra_env;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& entry : env_strings) envp.push_back(entry.data());
    envp.push_back(nullptr);
    const testing::ProgramOutcome o = testing::run_program(LATENT_TOOL_PATH, args, path("std"), envp.data());
    return {o.status, o.out, o.err};
  }

  // Asserts the error contract: the status, no stdout, exactly one line on stderr
  // that contains `needle`.
  void expect_error(const std::vector<std::string>& args, int status, const std::string& needle,
                    const std::vector<std::string>& extra_env = {}) const {
    const Outcome o = run(args, extra_env);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    SCOPED_TRACE("latent " + joined);
    EXPECT_EQ(o.status, status) << o.err;
    EXPECT_EQ(o.out, "");
    ASSERT_FALSE(o.err.empty());
    EXPECT_EQ(o.err.back(), '\n');
    EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << "more than one line: " << o.err;
    EXPECT_NE(o.err.find(needle), std::string::npos) << o.err;
  }
};

const std::string kImages = std::string(LATENT_SOURCE_DIR) + "/data/fashion-mnist/images.npy";

TEST_F(CliTest, VersionAndHelp) {
  const Outcome version = run({"--version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_NE(version.out.find(LATENT_VERSION_STRING), std::string::npos) << version.out;

  const Outcome help = run({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("info"), std::string::npos);
  // Every subcommand listed by --help has a --help of its own with examples of itself.
  const std::size_t list = help.out.find("Subcommands:");
  ASSERT_NE(list, std::string::npos) << help.out;
  std::istringstream lines(help.out.substr(list));
  std::string line;
  std::getline(lines, line);
  int subcommands = 0;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name;
    if (!(words >> name)) continue;
    ++subcommands;
    const Outcome sub = run({name, "--help"});
    EXPECT_EQ(sub.status, 0) << name;
    EXPECT_NE(sub.out.find("Example"), std::string::npos) << name << " --help has no examples";
    EXPECT_NE(sub.out.find("  latent " + name + " "), std::string::npos)
        << name << " --help shows no example of itself";
  }
  EXPECT_GE(subcommands, 9);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  expect_error({}, 2, "subcommand");
  expect_error({"frobnicate"}, 2, "frobnicate");
  expect_error({"info"}, 2, "FILE");
  expect_error({"info", kImages, "--bogus"}, 2, "--bogus");
  expect_error({"info", kImages, "--threads", "0"}, 2, "--threads");
  expect_error({"info", kImages, "--threads", "many"}, 2, "--threads");
}

TEST_F(CliTest, InfoReportsShapeDtypeAndNorms) {
  const Outcome text = run({"info", kImages});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("float32 [1000, 784]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("all finite"), std::string::npos) << text.out;

  const Outcome json = run({"info", kImages, "--json"});
  ASSERT_EQ(json.status, 0) << json.err;
  const auto report = nlohmann::json::parse(json.out);  // exactly one object: parse fails on trailing text
  EXPECT_EQ(report["dtype"], "float32");
  EXPECT_EQ(report["shape"], nlohmann::json::array({1000, 784}));
  EXPECT_EQ(report["finite"], true);
  EXPECT_EQ(report["zero_norm_rows"], 0);

  // Reference: the row norms in double, computed here.
  const RowMatrixd x = read_npy_matrix<float>(kImages).cast<double>();
  const Eigen::VectorXd norms = x.rowwise().norm();
  EXPECT_NEAR(report["norm"]["min"].get<double>(), norms.minCoeff(), 1e-12);
  EXPECT_NEAR(report["norm"]["max"].get<double>(), norms.maxCoeff(), 1e-12);
  EXPECT_NEAR(report["norm"]["mean"].get<double>(), norms.mean(), 1e-9);
}

TEST_F(CliTest, InfoIsIdenticalForAnyThreadCount) {
  const Outcome one = run({"info", kImages, "--json", "--threads", "1"});
  const Outcome two = run({"--threads", "2", "info", kImages, "--json"});
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(one.out, two.out);
}

// More threads than the machine has only add contention: the count is clamped to
// the processors, with one line on stderr saying so, and the result is the same.
TEST_F(CliTest, ThreadsAboveTheMachineAreClampedWithANotice) {
  const int processors = available_processors();
  const std::string notice = "latent: 4096 threads requested (--threads) but this machine has " +
                             std::to_string(processors) + " processors: using " + std::to_string(processors) + "\n";
  const auto graph = [&](const std::string& ids, const std::vector<std::string>& global,
                         const std::vector<std::string>& env) {
    std::vector<std::string> args = global;
    for (const char* word : {"knn", "--base"}) args.emplace_back(word);
    args.push_back(kImages);
    for (const char* word : {"-k", "5", "--metric", "cosine", "--json", "--ids"}) args.emplace_back(word);
    args.push_back(path(ids));
    return run(args, env);
  };
  const Outcome two = graph("two.npy", {"--threads", "2", "--quiet"}, {});
  const Outcome many = graph("many.npy", {"--threads", "4096"}, {});
  ASSERT_EQ(two.status, 0) << two.err;
  ASSERT_EQ(many.status, 0) << many.err;
  EXPECT_EQ(many.err, notice);
  EXPECT_EQ(slurp(path("many.npy")), slurp(path("two.npy")));
  EXPECT_EQ(nlohmann::json::parse(many.out)["k"], 5);

  // LATENT_NUM_THREADS is clamped the same way; --quiet silences the notice.
  const Outcome from_env = graph("env.npy", {}, {"LATENT_NUM_THREADS=4096"});
  ASSERT_EQ(from_env.status, 0) << from_env.err;
  EXPECT_EQ(from_env.err, "latent: 4096 threads requested (LATENT_NUM_THREADS) but this machine has " +
                              std::to_string(processors) + " processors: using " + std::to_string(processors) + "\n");
  EXPECT_EQ(slurp(path("env.npy")), slurp(path("two.npy")));
  const Outcome quiet = graph("quiet.npy", {"--threads", "4096", "--quiet"}, {});
  ASSERT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
  // Within the machine: no notice.
  const Outcome fits = graph("fits.npy", {"--threads", "1"}, {});
  ASSERT_EQ(fits.status, 0) << fits.err;
  EXPECT_EQ(fits.err, "");
}

TEST_F(CliTest, InfoCountsNonFiniteValuesAndReadsVecs) {
  RowMatrixf m = RowMatrixf::Ones(3, 4);
  m(2, 1) = std::nanf("");
  write_npy(path("nan.npy"), m);
  const auto report = nlohmann::json::parse(run({"info", path("nan.npy"), "--json"}).out);
  EXPECT_EQ(report["finite"], false);
  EXPECT_EQ(report["non_finite_values"], 1);
  EXPECT_DOUBLE_EQ(report["norm"]["max"].get<double>(), 2.0);

  const RowMatrixf zeros = RowMatrixf::Zero(5, 3);
  write_fvecs(path("x.fvecs"), MatrixView<float>(zeros));
  const auto vecs = nlohmann::json::parse(run({"info", path("x.fvecs"), "--json"}).out);
  EXPECT_EQ(vecs["format"], "fvecs");
  EXPECT_EQ(vecs["shape"], nlohmann::json::array({5, 3}));
  EXPECT_EQ(vecs["zero_norm_rows"], 5);

  const std::vector<std::int64_t> labels = {1, 2, 3};
  write_npy(path("labels.npy"), labels);
  const auto ints = nlohmann::json::parse(run({"info", path("labels.npy"), "--json"}).out);
  EXPECT_EQ(ints["dtype"], "int64");
  EXPECT_EQ(ints["shape"], nlohmann::json::array({3}));
}

TEST_F(CliTest, CorruptFilesExitOneWithOneLineNamingTheFile) {
  const std::string good = slurp(kImages);
  struct Case {
    const char* name;
    std::string bytes;
    const char* needle;
  };
  std::string bad_magic = good.substr(0, 4096);
  bad_magic[0] = 'X';
  std::string lying = good.substr(0, 128);  // header of [1000, 784] but almost no data
  std::string absurd = good.substr(0, 128);
  const auto at = absurd.find("(1000, 784)");
  ASSERT_NE(at, std::string::npos);
  absurd.replace(at, 11, "(9999999999999, 9999999)");
  const std::vector<Case> cases = {
      {"empty.npy", "", "too short"},
      {"bad_magic.npy", bad_magic, "bad magic"},
      {"truncated.npy", good.substr(0, good.size() - 1), "truncated"},
      {"lying.npy", lying, "promises more data"},
      {"absurd.npy", absurd, "absurd"},
      {"header_only.npy", good.substr(0, 40), "truncated inside the header"},
      {"garbage.fvecs", std::string("\x05\x00\x00\x00\x01\x02", 6), "whole number of records"},
  };
  for (const Case& c : cases) {
    std::ofstream(path(c.name), std::ios::binary) << c.bytes;
    expect_error({"info", path(c.name)}, 1, path(c.name));
    expect_error({"info", path(c.name), "--json"}, 1, c.needle);
  }
  expect_error({"info", path("missing.npy")}, 1, "missing.npy");
  expect_error({"info", dir_.string()}, 1, "is a directory");
}

TEST_F(CliTest, IsaOverrideIsValidated) {
  expect_error({"info", kImages}, 1, "LATENT_ISA", {"LATENT_ISA=sse9"});
  const Outcome scalar = run({"info", kImages, "--json"}, {"LATENT_ISA=scalar"});
  ASSERT_EQ(scalar.status, 0) << scalar.err;
  EXPECT_EQ(nlohmann::json::parse(scalar.out)["isa"], "scalar");
}

// whiten reproduces the golden Gram matrices of ../shared/golden/whitening
// (float32 output of a double model: within 5e-6 of the maximum, README section 6).
TEST_F(CliTest, WhitenReproducesTheGoldenGramMatrices) {
  const std::string golden = LATENT_GOLDEN_DIR;
  if (!fs::exists(golden + "/whitening/gram50_pca_all.npy")) GTEST_SKIP() << "golden kit not found";
  const std::string enc_a = golden + "/inputs/encA.npy";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "gram50_pca_all.npy"}, {{"--dim", "32"}, "gram50_pca_32.npy"}, {{"--method", "zca"}, "gram50_zca.npy"}};
  for (const auto& [extra, file] : cases) {
    std::vector<std::string> args = {"whiten", "--fit", enc_a, "-o", path("white.npy"), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Outcome o = run(args);
    ASSERT_EQ(o.status, 0) << o.err;
    const auto report = nlohmann::json::parse(o.out);
    EXPECT_EQ(report["n_floored"], 0);
    EXPECT_NEAR(report["eigenvalues_top10"][0].get<double>(), 113.14337204119775, 1e-9);
    const RowMatrixd y = read_npy_matrix<float>(path("white.npy")).cast<double>();
    const RowMatrixd gram = y.topRows(50) * y.topRows(50).transpose();
    const RowMatrixd expected = read_npy_matrix<double>(golden + "/whitening/" + file);
    EXPECT_LT((gram - expected).cwiseAbs().maxCoeff() / expected.cwiseAbs().maxCoeff(), 5e-6) << file;
  }
  // A saved model applied later gives the same rows.
  ASSERT_EQ(run({"whiten", "--fit", enc_a, "--method", "zca", "-o", path("a.npy"), "--save", path("zca.model")}).status,
            0);
  ASSERT_EQ(run({"whiten", "--load", path("zca.model"), "--apply", enc_a, "-o", path("b.npy")}).status, 0);
  EXPECT_EQ(slurp(path("a.npy")), slurp(path("b.npy")));
  // The unscaled projection with a variance share: the width the library chooses.
  const Outcome projected =
      run({"whiten", "--fit", enc_a, "--method", "projection", "--variance", "0.9", "-o", path("p.npy"), "--json"});
  ASSERT_EQ(projected.status, 0) << projected.err;
  WhiteningOptions options;
  options.method = WhiteningMethod::projection;
  options.variance = 0.9;
  Whitening<double> model(options);
  model.fit(read_npy_matrix<float>(enc_a).cast<double>().eval());
  EXPECT_EQ(nlohmann::json::parse(projected.out)["output_dim"], model.output_dim());
  EXPECT_EQ(read_npy_matrix<float>(path("p.npy")).cols(), model.output_dim());
  // Cholesky whitening: the library's transform of the same rows.
  ASSERT_EQ(run({"whiten", "--fit", enc_a, "--method", "cholesky", "-o", path("c.npy")}).status, 0);
  WhiteningOptions cholesky;
  cholesky.method = WhiteningMethod::cholesky;
  Whitening<float> triangular(cholesky);
  EXPECT_EQ(read_npy_matrix<float>(path("c.npy")), triangular.fit_transform(read_npy_matrix<float>(enc_a)));
  expect_error({"whiten", "--fit", enc_a, "--method", "cholesky", "--dim", "3", "-o", path("c2.npy")}, 2, "cholesky");
}

TEST_F(CliTest, WhitenAndIsotropyRefuseBadInputWithoutPartialOutput) {
  const std::string out = path("out.npy");
  expect_error({"whiten", "-o", out}, 2, "--fit");
  expect_error({"whiten", "--fit", kImages, "--load", kImages, "-o", out}, 2, "--load");
  expect_error({"whiten", "--fit", kImages, "--method", "abtt", "--normalize", "-o", out}, 2, "abtt");
  expect_error({"whiten", "--fit", kImages, "--method", "wavelet", "-o", out}, 2, "--method");
  expect_error({"whiten", "--fit", kImages, "--dim", "-3", "-o", out}, 2, "--dim");
  // 0 is not "all": omitting --dim is.
  expect_error({"whiten", "--fit", kImages, "--dim", "0", "-o", out}, 2, "--dim: must be at least 1, got 0 (omit it");
  expect_error({"whiten", "--fit", kImages, "--method", "abtt", "--dim", "0", "-o", out}, 2, "--dim");
  expect_error({"whiten", "--fit", kImages, "--method", "zca", "--dim", "0", "-o", out}, 2, "--dim");
  expect_error({"whiten", "--fit", kImages, "--method", "zca", "--variance", "0.9", "-o", out}, 2, "--variance");
  expect_error({"whiten", "--fit", kImages, "--dim", "3", "--variance", "0.9", "-o", out}, 2, "give one");
  expect_error({"whiten", "--fit", kImages, "--variance", "1.5", "-o", out}, 2, "--variance");
  expect_error({"whiten", "--fit", kImages, "--alpha", "0.5", "-o", out}, 2, "--alpha applies to --shrinkage ridge");
  expect_error({"whiten", "--fit", kImages, "--dim", "1000", "-o", out}, 1, "dim=1000");
  expect_error({"whiten", "--fit", kImages, "--load", "x", "-o", out}, 2, "exactly one");
  expect_error({"whiten", "--load", kImages, "--apply", kImages, "-o", out}, 1, "--load");
  RowMatrixf nan_rows = RowMatrixf::Ones(4, 3);
  nan_rows(0, 0) = std::nanf("");
  write_npy(path("nan.npy"), nan_rows);
  expect_error({"whiten", "--fit", path("nan.npy"), "-o", out}, 1, "nan.npy");
  const RowMatrixf one_row = RowMatrixf::Ones(1, 3);
  write_npy(path("one.npy"), one_row);
  expect_error({"whiten", "--fit", path("one.npy"), "-o", out}, 1, "2 rows");
  expect_error({"whiten", "--fit", kImages, "--apply", path("one.npy"), "-o", out}, 1, "--apply");
  expect_error({"isotropy", path("nan.npy")}, 1, "NaN");
  expect_error({"isotropy", path("missing.npy")}, 1, "missing.npy");
  EXPECT_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
}

TEST_F(CliTest, IsotropyReportsTheMeasures) {
  const Outcome o = run({"isotropy", kImages, "--json"});
  ASSERT_EQ(o.status, 0) << o.err;
  const auto report = nlohmann::json::parse(o.out);
  const RowMatrixf images = read_npy_matrix<float>(kImages);
  EXPECT_EQ(report["rows"], 1000);
  EXPECT_NEAR(report["average_cosine"].get<double>(), average_cosine(images), 1e-12);
  EXPECT_EQ(report["eigenvalues"].size(), 784u);
  EXPECT_GT(report["effective_rank"].get<double>(), 1.0);
  EXPECT_LT(report["partition_isotropy"].get<double>(), 1.0);
}

// compare reproduces pairs.A_vs_B of ../shared/golden/relative.json (double
// inside: jaccard, mrr, mean_cos to 1e-12, top1 exact).
TEST_F(CliTest, CompareReproducesTheGoldenCrossSpaceNumbers) {
  const std::string golden = LATENT_GOLDEN_DIR;
  if (!fs::exists(golden + "/relative.json")) GTEST_SKIP() << "golden kit not found";
  const std::string inputs = golden + "/inputs/";
  const Outcome o = run({"compare", inputs + "encA.npy", inputs + "encB.npy", "--anchors", inputs + "anchor_ids.npy",
                         "-k", "10", "--rows", "2000", "--similarity", "cosine,l2,l1,linf", "--json"});
  ASSERT_EQ(o.status, 0) << o.err;
  const auto report = nlohmann::json::parse(o.out);
  const auto expected = nlohmann::json::parse(slurp(golden + "/relative.json"))["pairs"]["A_vs_B"];
  EXPECT_EQ(report["rows"], 2000);
  for (const std::string kind : {"absolute", "cosine", "l2", "l1", "linf", "concat"}) {
    SCOPED_TRACE(kind);
    ASSERT_TRUE(report.contains(kind));
    for (const char* key : {"jaccard", "mrr", "mean_cos"})
      EXPECT_NEAR(report[kind][key].get<double>(), expected[kind][key].get<double>(), 1e-12) << key;
    EXPECT_EQ(report[kind]["top1"].get<double>(), expected[kind]["top1"].get<double>());
    EXPECT_NEAR(report[kind]["mean_rank"].get<double>(), expected[kind]["mean_rank"].get<double>(), 1e-9);
  }
}

// relative gives relative/first20_cosine.npy[0] in its first rows (float32: 1e-5
// relative to the row's max), and align reproduces the Procrustes translation scores.
TEST_F(CliTest, RelativeAndAlignReproduceTheGoldenValues) {
  const std::string golden = LATENT_GOLDEN_DIR;
  if (!fs::exists(golden + "/relative.json")) GTEST_SKIP() << "golden kit not found";
  const std::string inputs = golden + "/inputs/";
  const Outcome rel = run({"relative", inputs + "encA.npy", "--anchors", inputs + "anchor_ids.npy", "--similarity",
                           "cosine", "-o", path("rel.npy")});
  ASSERT_EQ(rel.status, 0) << rel.err;
  const RowMatrixd got = read_npy_matrix<float>(path("rel.npy")).cast<double>();
  const NpyArray first20 = read_npy(golden + "/relative/first20_cosine.npy");
  const Eigen::Map<const RowMatrixd> expected(reinterpret_cast<const double*>(first20.bytes.data()), 20, 128);
  ASSERT_EQ(got.rows(), 2000);
  ASSERT_EQ(got.cols(), 128);
  for (int i = 0; i < 20; ++i)
    EXPECT_LE((got.row(i) - expected.row(i)).cwiseAbs().maxCoeff() / expected.row(i).cwiseAbs().maxCoeff(), 1e-5);

  const auto translation = nlohmann::json::parse(slurp(golden + "/relative.json"))["pairs"]["A_vs_B"]["translation"];
  for (const auto& [method, key] : std::vector<std::pair<std::string, std::string>>{
           {"procrustes", "procrustes"}, {"affine", "lstsq_affine"}, {"lstsq", "lstsq_linear_no_bias"}}) {
    SCOPED_TRACE(method);
    const Outcome o = run({"align", "--source", inputs + "encA.npy", "--target", inputs + "encB.npy", "--fit-ids",
                           inputs + "anchor_ids.npy", "--method", method, "-o", path("ab.npy"), "--json"});
    ASSERT_EQ(o.status, 0) << o.err;
    const auto report = nlohmann::json::parse(o.out);
    EXPECT_EQ(report["top1_cosine"].get<double>(), translation[key]["top1_cosine"].get<double>());
    EXPECT_NEAR(report["mrr_cosine"].get<double>(), translation[key]["mrr_cosine"].get<double>(), 1e-12);
    EXPECT_EQ(report["top1_l2"].get<double>(), translation[key]["top1_l2"].get<double>());
    EXPECT_NEAR(report["mse"].get<double>() / translation[key]["mse"].get<double>(), 1.0, 1e-10);
    EXPECT_EQ(read_npy_matrix<float>(path("ab.npy")).rows(), 2000);
  }
  // A saved map applied later writes the same rows.
  ASSERT_EQ(run({"align", "--source", inputs + "encA.npy", "--target", inputs + "encB.npy", "--fit-ids",
                 inputs + "anchor_ids.npy", "-o", path("a.npy"), "--save", path("map.model")})
                .status,
            0);
  ASSERT_EQ(run({"align", "--source", inputs + "encA.npy", "--target", inputs + "encB.npy", "--fit-ids",
                 inputs + "anchor_ids.npy", "--apply", inputs + "encA.npy", "-o", path("b.npy")})
                .status,
            0);
  EXPECT_EQ(slurp(path("a.npy")), slurp(path("b.npy")));
  EXPECT_TRUE(fs::exists(path("map.model")));
}

TEST_F(CliTest, AlignLoadMapAppliesTheGivenMatrixAndBias) {
  const RowMatrixf x = testing::random_normal<float>(10, 3, 50);
  const RowMatrixd w = testing::random_normal<double>(3, 2, 51);
  const std::vector<double> bias = {0.25, -4.0};
  write_npy(path("x.npy"), x);
  write_npy(path("w.npy"), w);
  write_npy(path("b.npy"), bias);
  const Outcome o = run({"align", "--load-map", path("w.npy"), "--bias", path("b.npy"), "--apply", path("x.npy"), "-o",
                         path("y.npy"), "--save", path("map.model"), "--json"});
  ASSERT_EQ(o.status, 0) << o.err;
  const RowMatrixf y = read_npy_matrix<float>(path("y.npy"));
  const RowMatrixd expected = (x.cast<double>() * w).rowwise() + Eigen::RowVector2d(0.25, -4.0);
  EXPECT_LT((y.cast<double>() - expected).cwiseAbs().maxCoeff(), 1e-5);
  EXPECT_EQ(nlohmann::json::parse(o.out)["target_dim"], 2);
  EXPECT_EQ(LinearMap<double>::load(path("map.model")).bias(), bias);

  const std::string out = path("out.npy");
  expect_error({"align", "--load-map", path("w.npy"), "-o", out}, 2, "--apply");
  expect_error({"align", "--load-map", path("w.npy"), "--source", path("x.npy"), "--apply", path("x.npy"), "-o", out},
               2, "--load-map");
  expect_error({"align", "--bias", path("b.npy"), "--source", path("x.npy"), "--target", path("x.npy"), "--fit-ids",
                path("b.npy"), "-o", out},
               2, "--bias");
  expect_error({"align", "--target", path("x.npy"), "--fit-ids", path("b.npy"), "-o", out}, 2, "--source");
  const std::vector<double> wide_bias = {1.0, 2.0, 3.0};
  write_npy(path("wide.npy"), wide_bias);
  expect_error({"align", "--load-map", path("w.npy"), "--bias", path("wide.npy"), "--apply", path("x.npy"), "-o", out},
               1, "--bias");
  expect_error({"align", "--load-map", path("w.npy"), "--apply", path("w.npy"), "-o", out}, 1, "--apply");
  expect_error({"align", "--load-map", path("b.npy"), "--apply", path("x.npy"), "-o", out}, 1, "--load-map");
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(CliTest, RelativeAlignCompareRefuseBadInputWithoutPartialOutput) {
  const std::string out = path("out.npy");
  const std::vector<std::int64_t> ids = {0, 5, 9};
  write_npy(path("ids.npy"), ids);
  const std::vector<std::int64_t> far = {0, 5000};
  write_npy(path("far.npy"), far);
  const std::string anchors = path("ids.npy");
  expect_error({"relative", kImages, "-o", out}, 2, "--anchors");
  expect_error({"relative", kImages, "--anchors", anchors, "--similarity", "euclid", "-o", out}, 2, "euclid");
  expect_error({"relative", kImages, "--anchors", anchors, "--aggregate", "max", "-o", out}, 2, "--aggregate");
  expect_error({"relative", kImages, "--anchors", path("far.npy"), "-o", out}, 1, "anchor id out of range");
  expect_error({"relative", kImages, "--anchors", kImages, "-o", out}, 1, "--anchors");
  expect_error({"relative", path("missing.npy"), "--anchors", anchors, "-o", out}, 1, "missing.npy");
  RowMatrixf nan_rows = RowMatrixf::Ones(12, 3);
  nan_rows(4, 1) = std::nanf("");
  write_npy(path("nan.npy"), nan_rows);
  expect_error({"relative", path("nan.npy"), "--anchors", anchors, "-o", out}, 1, "nan.npy");
  expect_error(
      {"align", "--source", kImages, "--target", kImages, "--fit-ids", anchors, "--method", "magic", "-o", out}, 2,
      "--method");
  const RowMatrixf short_rows = RowMatrixf::Ones(6, 4);
  write_npy(path("short.npy"), short_rows);
  expect_error({"align", "--source", kImages, "--target", path("short.npy"), "--fit-ids", anchors, "-o", out}, 1,
               "anchor id out of range");
  expect_error({"compare", kImages, kImages, "--anchors", anchors, "--similarity", "cosine,cosine"}, 2, "twice");
  expect_error({"compare", kImages, kImages, "--anchors", anchors, "--rows", "5000"}, 1, "--rows");
  expect_error({"compare", kImages, kImages, "--anchors", anchors, "--rows", "20", "-k", "20"}, 1, "k=20");
  expect_error({"compare", kImages, path("nan.npy"), "--anchors", anchors, "--rows", "12"}, 1, "nan.npy");
  // A space against itself: 1 exactly.
  const Outcome same = run({"compare", kImages, kImages, "--anchors", anchors, "--rows", "200", "--json"});
  ASSERT_EQ(same.status, 0) << same.err;
  const auto report = nlohmann::json::parse(same.out);
  for (const char* kind : {"absolute", "cosine"})
    for (const char* key : {"jaccard", "mrr", "top1"}) EXPECT_EQ(report[kind][key].get<double>(), 1.0) << kind << key;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
}

// report: the hubness figures of the space as given and of the graph repairs
// (mp, ls, csls over 50 candidates) are the golden ones; the comparison equals
// `latent compare` and the golden cross-space numbers; the HTML page has its plots.
TEST_F(CliTest, ReportReproducesTheGoldenHubnessAndComparison) {
  const std::string golden = LATENT_GOLDEN_DIR;
  if (!fs::exists(golden + "/hubness.json") || !fs::exists(golden + "/relative.json"))
    GTEST_SKIP() << "golden kit not found";
  const std::string inputs = golden + "/inputs/";
  const std::string html = path("report.html");
  const Outcome o = run({"report", inputs + "encA.npy", "--labels", inputs + "enc_labels.npy", "--compare",
                         inputs + "encB.npy", "--anchors", inputs + "anchor_ids.npy", "--html", html, "--json"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");  // no progress output when stderr is not a terminal
  const auto report = nlohmann::json::parse(o.out);
  EXPECT_EQ(report["rows"], 2000);
  EXPECT_EQ(report["dim"], 64);
  EXPECT_EQ(report["metric"], "cosine");
  EXPECT_EQ(report["candidates"], 50);

  const auto kit = nlohmann::json::parse(slurp(golden + "/hubness.json"))["results"]["encA"]["cosine"];
  std::map<std::string, nlohmann::json> methods;
  for (const auto& m : report["methods"]) methods[m["name"].get<std::string>()] = m;
  ASSERT_EQ(methods.size(), 7u);
  const std::map<std::string, nlohmann::json> expected = {{"none", kit["before"]},
                                                          {"mp", kit["methods"]["mp"]["candidates50"]["own"]},
                                                          {"ls", kit["methods"]["ls"]["candidates50"]["own"]},
                                                          {"csls", kit["methods"]["csls"]["candidates50"]["own"]}};
  for (const auto& [name, values] : expected) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(methods.count(name));
    for (const char* key :
         {"k_skewness", "robinhood", "antihub_occurrence", "hub_occurrence", "gini", "atkinson", "groupie_ratio"})
      EXPECT_NEAR(methods[name][key].get<double>(), values[key].get<double>(), 1e-12) << key;
    EXPECT_EQ(methods[name]["knn_accuracy"].get<double>(), values["knn_accuracy"].get<double>());
  }
  // The recommendation is the repair closest to k-skewness 0 within 0.01 accuracy.
  const auto& chosen = methods[report["recommendation"]["method"].get<std::string>()];
  const double base_accuracy = methods["none"]["knn_accuracy"].get<double>();
  EXPECT_GE(chosen["knn_accuracy"].get<double>(), base_accuracy - 0.01);
  for (const auto& [name, m] : methods) {
    if (m["knn_accuracy"].get<double>() >= base_accuracy - 0.01) {
      EXPECT_LE(std::abs(chosen["k_skewness"].get<double>()), std::abs(m["k_skewness"].get<double>())) << name;
    }
  }
  EXPECT_EQ(report["hubness"]["k_occurrence"].size(), 2000u);

  const auto pair = nlohmann::json::parse(slurp(golden + "/relative.json"))["pairs"]["A_vs_B"];
  const auto& representations = report["compare"]["representations"];
  for (const std::string kind : {"absolute", "cosine", "l1"}) {
    SCOPED_TRACE(kind);
    for (const char* key : {"jaccard", "mrr", "mean_cos"})
      EXPECT_NEAR(representations[kind][key].get<double>(), pair[kind][key].get<double>(), 1e-12) << key;
  }
  const Outcome compare =
      run({"compare", inputs + "encA.npy", inputs + "encB.npy", "--anchors", inputs + "anchor_ids.npy", "--rows",
           "2000", "--similarity", "cosine,l1", "--translate", "procrustes,affine", "--json"});
  ASSERT_EQ(compare.status, 0) << compare.err;
  const auto direct = nlohmann::json::parse(compare.out);
  for (const std::string kind : {"concat", "translated_procrustes", "translated_affine"})
    EXPECT_EQ(representations[kind]["mrr"], direct[kind]["mrr"]) << kind;
  EXPECT_GT(representations["translated_affine"]["mrr"].get<double>(),
            10 * representations["absolute"]["mrr"].get<double>());

  // The analysis section: the library's measures on the same rows.
  const RowMatrixf enc_a = read_npy_matrix<float>(inputs + "encA.npy"),
                   enc_b = read_npy_matrix<float>(inputs + "encB.npy");
  const std::vector<std::int64_t> enc_labels = read_npy_vector<std::int64_t>(inputs + "enc_labels.npy");
  const std::vector<std::int64_t> anchors = read_npy_vector<std::int64_t>(inputs + "anchor_ids.npy");
  const auto& analysis = report["analysis"];
  const CollapseDiagnostics collapse = collapse_diagnostics(enc_a);
  EXPECT_DOUBLE_EQ(analysis["rankme"].get<double>(), collapse.rankme);
  EXPECT_DOUBLE_EQ(analysis["vicreg_variance"].get<double>(), collapse.vicreg_variance);
  EXPECT_EQ(analysis["active_units"].get<std::int64_t>(), collapse.active_units);
  EXPECT_DOUBLE_EQ(analysis["lidar"].get<double>(), lidar(enc_a, enc_labels));
  EXPECT_DOUBLE_EQ(analysis["svcca"].get<double>(), svcca(enc_a, enc_b));
  EXPECT_DOUBLE_EQ(analysis["cka"].get<double>(), representations["absolute"]["cka"].get<double>());
  std::vector<std::int64_t> even, odd;
  for (std::int64_t i = 0; i < 2000; ++i) (i % 2 == 0 ? even : odd).push_back(i);
  const StitchingResult stitched = stitching_accuracy(enc_a, enc_b, enc_labels, anchors, even, odd);
  EXPECT_DOUBLE_EQ(analysis["stitching"].get<double>(), stitched.accuracy);
  EXPECT_DOUBLE_EQ(analysis["stitching_ceiling"].get<double>(), stitched.target_accuracy);
  EXPECT_GT(analysis["stitching"].get<double>(), 0.5);  // far above the 0.1 of chance on ten classes

  const std::string page = slurp(html);
  for (const char* plot : {"data-plot=\"k-occurrence\"", "data-plot=\"skewness\"", "data-plot=\"spectrum\"",
                           "data-plot=\"mrr\"", "id=\"methods\"", "id=\"comparison\"", "id=\"analysis\""})
    EXPECT_NE(page.find(plot), std::string::npos) << plot;
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("http"), std::string::npos);  // nothing fetched from the network
}

TEST_F(CliTest, ReportRefusesBadInputWithoutPartialOutput) {
  const std::string html = path("r.html");
  const std::string labels = std::string(LATENT_SOURCE_DIR) + "/data/encoders/labels.npy";  // 2000 labels
  expect_error({"report", kImages, "-k", "1000", "--html", html}, 1, "-k");
  expect_error({"report", kImages, "--labels", labels, "--html", html}, 1, "--labels");
  expect_error({"report", kImages, "--anchors", labels}, 2, "--compare");
  expect_error({"report", kImages, "--metric", "ip"}, 2, "--metric");
  expect_error({"report", kImages, "--html", path("missing/dir/r.html")}, 1, "--html");
  expect_error({"report", path("absent.npy")}, 1, "absent.npy");
  expect_error({"report", kImages, "--compare", kImages, "--n-anchors", "5000"}, 1, "--n-anchors");
  RowMatrixf bad = read_npy_matrix<float>(kImages).topRows(50);
  bad(49, 783) = std::numeric_limits<float>::quiet_NaN();
  write_npy(path("nan.npy"), bad);
  expect_error({"report", path("nan.npy"), "--html", html}, 1, "nan.npy");
  // Nothing but the input is left: no report, no temporary file.
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir_)) left.push_back(entry.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"nan.npy"});
}

// Progress: drawn on stderr only when it is a terminal (here a pseudo-terminal),
// erased before the summary, and silenced by --quiet.
std::string run_on_terminal(const std::vector<std::string>& args) {
  int terminal = -1;
  const pid_t pid = ::forkpty(&terminal, nullptr, nullptr, nullptr);
  if (pid == 0) {
    std::vector<std::string> all = {LATENT_TOOL_PATH};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : all) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv(LATENT_TOOL_PATH, argv.data());
    ::_exit(127);
  }
  std::string seen;
  char buffer[4096];
  while (true) {
    const ssize_t got = ::read(terminal, buffer, sizeof buffer);
    if (got <= 0) break;  // EIO once the child has exited
    seen.append(buffer, static_cast<std::size_t>(got));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(terminal);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << seen;
  return seen;
}

TEST_F(CliTest, ProgressIsDrawnOnTerminalsOnlyAndQuietSilencesIt) {
  const std::vector<std::string> args = {"report", kImages, "--html", path("r.html")};
  const std::string drawn = run_on_terminal(args);
  EXPECT_CONTAINS(drawn, "] 2/9 kNN graph");
  EXPECT_CONTAINS(drawn, "] 9/9 analysis");
  EXPECT_CONTAINS(drawn, "\r\033[K");  // the bar is erased before the summary
  EXPECT_CONTAINS(drawn, "latent report:");
  std::vector<std::string> quiet = args;
  quiet.push_back("--quiet");
  const std::string silent = run_on_terminal(quiet);
  EXPECT_EQ(silent.find("kNN graph"), std::string::npos);
  EXPECT_CONTAINS(silent, "latent report:");
}

TEST_F(CliTest, KnnWritesWhatTheLibraryComputes) {
  const Outcome graph = run({"knn", "--base", kImages, "-k", "5", "--metric", "cosine", "--ids", path("ids.npy"),
                             "--scores", path("scores.npy"), "--json"});
  ASSERT_EQ(graph.status, 0) << graph.err;
  const auto summary = nlohmann::json::parse(graph.out);
  EXPECT_EQ(summary["self_excluded"], true);
  EXPECT_EQ(summary["queries"], 1000);
  const RowMatrixf x = read_npy_matrix<float>(kImages);
  const KnnGraph expected = knn_graph(x, 5, Metric::cosine);
  EXPECT_TRUE((read_npy_matrix<std::int64_t>(path("ids.npy")).array() == expected.ids.array()).all());
  EXPECT_TRUE((read_npy_matrix<float>(path("scores.npy")).array() == expected.scores.array()).all());
  // Angular: cosine's lists, each score 1 - arccos(cosine) / pi.
  const Outcome angular = run({"knn", "--base", kImages, "-k", "5", "--metric", "angular", "--ids",
                               path("angular_ids.npy"), "--scores", path("angular_scores.npy")});
  ASSERT_EQ(angular.status, 0) << angular.err;
  EXPECT_TRUE((read_npy_matrix<std::int64_t>(path("angular_ids.npy")).array() == expected.ids.array()).all());
  const RowMatrixf angular_scores = read_npy_matrix<float>(path("angular_scores.npy"));
  for (int r = 0; r < 5; ++r)
    EXPECT_FLOAT_EQ(angular_scores(17, r), static_cast<float>(1.0 - std::acos(expected.scores(17, r)) / M_PI));

  // With --query, and float64 input converted.
  const RowMatrixd queries = x.topRows(7).cast<double>();
  write_npy(path("q.npy"), queries);
  const Outcome search =
      run({"knn", "--base", kImages, "--query", path("q.npy"), "-k", "3", "--metric", "l2", "--ids", path("qids.npy")});
  ASSERT_EQ(search.status, 0) << search.err;
  const IdMatrix ids = read_npy_matrix<std::int64_t>(path("qids.npy"));
  ASSERT_EQ(ids.rows(), 7);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(ids(i, 0), i);  // each query is a base row: distance 0
}

TEST_F(CliTest, KnnAllowAndDenyIdsFilterTheBase) {
  const RowMatrixf x = read_npy_matrix<float>(kImages);
  const RowMatrixf queries = x.middleRows(100, 6);
  write_npy(path("q.npy"), queries);
  std::vector<std::int64_t> listed;
  for (std::int64_t id = 0; id < 1000; id += 3) listed.push_back(id);
  write_npy(path("listed.npy"), listed);
  for (const std::string option : {"--allow-ids", "--deny-ids"}) {
    const Outcome out = run({"knn", "--base", kImages, "--query", path("q.npy"), "-k", "4", "--metric", "cosine",
                             option, path("listed.npy"), "--ids", path("ids.npy"), "--scores", path("scores.npy")});
    ASSERT_EQ(out.status, 0) << out.err;
    const IdFilter filter = option == "--allow-ids" ? IdFilter::allow(listed) : IdFilter::deny(listed);
    const KnnGraph expected = knn(queries, x, 4, Metric::cosine, filter);
    const IdMatrix ids = read_npy_matrix<std::int64_t>(path("ids.npy"));
    EXPECT_TRUE((ids.array() == expected.ids.array()).all()) << option;
    EXPECT_TRUE((read_npy_matrix<float>(path("scores.npy")).array() == expected.scores.array()).all()) << option;
    for (Eigen::Index j = 0; j < ids.size(); ++j) EXPECT_EQ(ids.data()[j] % 3 == 0, option == "--allow-ids");
  }
  const std::string ids = path("refused.npy");
  expect_error({"knn", "--base", kImages, "--query", path("q.npy"), "-k", "4", "--metric", "l2", "--allow-ids",
                path("listed.npy"), "--deny-ids", path("listed.npy"), "--ids", ids},
               2, "--deny-ids");
  expect_error({"knn", "--base", kImages, "-k", "4", "--metric", "l2", "--deny-ids", path("listed.npy"), "--ids", ids},
               2, "--query");
  const std::vector<std::int64_t> outside = {5, 1000};
  write_npy(path("outside.npy"), outside);
  expect_error({"knn", "--base", kImages, "--query", path("q.npy"), "-k", "1", "--metric", "l2", "--allow-ids",
                path("outside.npy"), "--ids", ids},
               1, "id 1000");
  const std::vector<std::int64_t> two = {5, 7};
  write_npy(path("two.npy"), two);
  expect_error({"knn", "--base", kImages, "--query", path("q.npy"), "-k", "3", "--metric", "l2", "--allow-ids",
                path("two.npy"), "--ids", ids},
               1, "k=3");
  EXPECT_FALSE(fs::exists(ids));
}

// --compute bf16|int8 writes the library's low-precision lists (bitwise), close
// to the exact graph on the bundled images, and exact with --rescore.
TEST_F(CliTest, KnnComputesInBf16AndInt8WithOptionalRescoring) {
  const RowMatrixf x = read_npy_matrix<float>(kImages);
  const KnnGraph exact = knn_graph(x, 10, Metric::l2);
  for (const auto& [compute, precision] :
       {std::pair{"bf16", ComputePrecision::bf16}, std::pair{"int8", ComputePrecision::int8}}) {
    for (const std::int64_t rescore : {std::int64_t{0}, std::int64_t{50}}) {
      std::vector<std::string> args = {"knn",
                                       "--base",
                                       kImages,
                                       "-k",
                                       "10",
                                       "--metric",
                                       "l2",
                                       "--compute",
                                       compute,
                                       "--ids",
                                       path("ids.npy"),
                                       "--scores",
                                       path("scores.npy"),
                                       "--json"};
      if (rescore > 0) args.insert(args.end(), {"--rescore", std::to_string(rescore)});
      const Outcome out = run(args);
      ASSERT_EQ(out.status, 0) << out.err;
      const auto report = nlohmann::json::parse(out.out);
      EXPECT_EQ(report["compute"], compute);
      EXPECT_EQ(report["self_excluded"], true);
      const KnnGraph expected =
          low_precision_knn_graph(x, 10, Metric::l2, LowPrecisionOptions{precision, rescore, Parallel{}, {}});
      const IdMatrix ids = read_npy_matrix<std::int64_t>(path("ids.npy"));
      EXPECT_TRUE((ids.array() == expected.ids.array()).all()) << compute;
      EXPECT_TRUE((read_npy_matrix<float>(path("scores.npy")).array() == expected.scores.array()).all()) << compute;
      EXPECT_GE(neighbor_recall(ids, exact.ids, 10), rescore > 0 ? 0.999 : 0.99) << compute << " " << rescore;
    }
  }
  const std::string ids = path("refused.npy");
  expect_error({"knn", "--base", kImages, "-k", "10", "--metric", "l2", "--rescore", "50", "--ids", ids}, 2,
               "--rescore");
  expect_error(
      {"knn", "--base", kImages, "-k", "10", "--metric", "l2", "--compute", "int8", "--rescore", "5", "--ids", ids}, 2,
      "--rescore");
  expect_error({"knn", "--base", kImages, "-k", "10", "--metric", "l1", "--compute", "bf16", "--ids", ids}, 2,
               "--metric");
  expect_error(
      {"knn", "--base", kImages, "-k", "10", "--metric", "l2", "--compute", "bf16", "--graph", "mutual", "--ids", ids},
      2, "--graph");
  expect_error({"knn", "--base", kImages, "-k", "10", "--metric", "l2", "--compute", "fp8", "--ids", ids}, 2,
               "--compute");
  EXPECT_FALSE(fs::exists(ids));
}

TEST_F(CliTest, KnnWritesSymmetricMutualAndEpsilonGraphsAsEdges) {
  const RowMatrixf x = read_npy_matrix<float>(kImages);
  const KnnGraph directed = knn_graph(x, 6, Metric::l2);
  const std::vector<std::pair<std::vector<std::string>, SparseGraph>> cases = {
      {{"-k", "6", "--graph", "symmetric"}, symmetric_knn_graph(directed, Symmetry::either)},
      {{"-k", "6", "--graph", "mutual"}, symmetric_knn_graph(directed, Symmetry::mutual)},
      {{"--epsilon", "1500"}, epsilon_graph(x, 1500.0, Metric::l2)}};
  for (const auto& [options, expected] : cases) {
    std::vector<std::string> args = {"knn",   "--base",          kImages,    "--metric",         "l2",
                                     "--ids", path("edges.npy"), "--scores", path("scores.npy"), "--json"};
    args.insert(args.end(), options.begin(), options.end());
    const Outcome out = run(args);
    ASSERT_EQ(out.status, 0) << out.err;
    EXPECT_EQ(nlohmann::json::parse(out.out)["edges"], expected.edges());
    ASSERT_GT(expected.edges(), 1000) << options[1];
    const IdMatrix edges = read_npy_matrix<std::int64_t>(path("edges.npy"));
    const std::vector<float> scores = read_npy_vector<float>(path("scores.npy"));
    ASSERT_EQ(edges.rows(), expected.edges());
    EXPECT_EQ(scores, expected.scores);
    for (std::int64_t i = 0; i < expected.n(); ++i)
      for (auto e = expected.offsets[static_cast<std::size_t>(i)];
           e < expected.offsets[static_cast<std::size_t>(i) + 1]; ++e) {
        EXPECT_EQ(edges(e, 0), i);
        EXPECT_EQ(edges(e, 1), expected.ids[static_cast<std::size_t>(e)]);
      }
  }
  const std::string ids = path("refused.npy");
  expect_error({"knn", "--base", kImages, "--metric", "l2", "--ids", ids}, 2, "-k");
  expect_error({"knn", "--base", kImages, "--metric", "l2", "--epsilon", "1", "-k", "3", "--ids", ids}, 2, "--epsilon");
  expect_error({"knn", "--base", kImages, "--metric", "l2", "--graph", "both", "-k", "3", "--ids", ids}, 2, "--graph");
  expect_error(
      {"knn", "--base", kImages, "--query", kImages, "--metric", "l2", "--graph", "mutual", "-k", "3", "--ids", ids}, 2,
      "--query");
  expect_error({"knn", "--base", kImages, "--metric", "l2", "--epsilon", "nan", "--ids", ids}, 1, "epsilon");
  EXPECT_FALSE(fs::exists(ids));
}

TEST_F(CliTest, KnnCslsRanksByTwoSetCsls) {
  const std::string golden = LATENT_GOLDEN_DIR;
  if (!fs::exists(golden + "/inputs/encA.npy")) GTEST_SKIP() << "golden inputs absent";
  const RowMatrixf a = read_npy_matrix<float>(golden + "/inputs/encA.npy");
  const RowMatrixf queries = a.topRows(300), base = a.bottomRows(700);
  write_npy(path("q.npy"), queries);
  write_npy(path("b.npy"), base);
  const Outcome out = run({"knn", "--base", path("b.npy"), "--query", path("q.npy"), "-k", "5", "--metric", "cosine",
                           "--csls", "7", "--ids", path("ids.npy"), "--scores", path("scores.npy"), "--json"});
  ASSERT_EQ(out.status, 0) << out.err;
  EXPECT_EQ(nlohmann::json::parse(out.out)["csls"], 7);
  const CslsMatches expected = csls_search(queries, base, 5, 7);
  EXPECT_TRUE((read_npy_matrix<std::int64_t>(path("ids.npy")).array() == expected.matches.ids.array()).all());
  EXPECT_TRUE((read_npy_matrix<float>(path("scores.npy")).array() == expected.matches.scores.array()).all());
  const std::string ids = path("refused.npy");
  expect_error({"knn", "--base", path("b.npy"), "--query", path("q.npy"), "-k", "5", "--metric", "l2", "--csls", "7",
                "--ids", ids},
               2, "--metric cosine");
  expect_error({"knn", "--base", path("b.npy"), "-k", "5", "--metric", "cosine", "--csls", "7", "--ids", ids}, 2,
               "--query");
  expect_error({"knn", "--base", path("b.npy"), "--query", path("q.npy"), "-k", "5", "--metric", "cosine", "--csls",
                "400", "--ids", ids},
               1, "k_local");
  EXPECT_FALSE(fs::exists(ids));
}

TEST_F(CliTest, AnalyzePrintsTheLibrarysMeasures) {
  const std::string a = std::string(LATENT_SOURCE_DIR) + "/data/encoders/mlp_seed0.npy";
  const std::string b = std::string(LATENT_SOURCE_DIR) + "/data/encoders/mlp_seed1.npy";
  const std::string y = std::string(LATENT_SOURCE_DIR) + "/data/encoders/labels.npy";
  const Outcome two = run({"analyze", a, b, "--measures", "cka,rsa,cka_rbf,r2", "--rows", "300", "--json"});
  ASSERT_EQ(two.status, 0) << two.err;
  const auto out = nlohmann::json::parse(two.out);
  const RowMatrixf x = read_npy_matrix<float>(a), z = read_npy_matrix<float>(b);
  EXPECT_DOUBLE_EQ(out["cka"].get<double>(), linear_cka(x, z));
  EXPECT_DOUBLE_EQ(out["r2"].get<double>(), affine_r2(x, z));
  const RowMatrixf x300 = x.topRows(300), z300 = z.topRows(300);
  EXPECT_DOUBLE_EQ(out["rsa"].get<double>(), rsa(x300, z300));
  EXPECT_DOUBLE_EQ(out["cka_rbf"].get<double>(), rbf_cka(x300, z300));
  const Outcome one = run({"analyze", a, "--labels", y, "--measures", "silhouette,prototype_accuracy", "--json"});
  ASSERT_EQ(one.status, 0) << one.err;
  const std::vector<std::int64_t> labels = read_npy_vector<std::int64_t>(y);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(one.out)["silhouette"].get<double>(), silhouette(x, labels));
  const Outcome cca = run({"analyze", a, b, "--measures", "cca,svcca,pwcca,feature_match,cka_minibatch", "--json"});
  ASSERT_EQ(cca.status, 0) << cca.err;
  const auto cca_out = nlohmann::json::parse(cca.out);
  EXPECT_DOUBLE_EQ(cca_out["cca"].get<double>(), svcca(x, z, 1.0));
  EXPECT_DOUBLE_EQ(cca_out["svcca"].get<double>(), svcca(x, z, 0.99));
  EXPECT_DOUBLE_EQ(cca_out["pwcca"].get<double>(), pwcca(x, z));
  EXPECT_DOUBLE_EQ(cca_out["feature_match"].get<double>(), match_features(x, z, true).mean_correlation);
  EXPECT_DOUBLE_EQ(cca_out["cka_minibatch"].get<double>(), minibatch_cka(x, z, 1000, 0));
  const Outcome spectra = run({"analyze", a, "--labels", y, "--measures",
                               "lidar,rankme,min_std,vicreg_variance,vicreg_covariance,active_units", "--json"});
  ASSERT_EQ(spectra.status, 0) << spectra.err;
  const auto spectra_out = nlohmann::json::parse(spectra.out);
  const CollapseDiagnostics collapse = collapse_diagnostics(x);
  EXPECT_DOUBLE_EQ(spectra_out["lidar"].get<double>(), lidar(x, labels));
  EXPECT_DOUBLE_EQ(spectra_out["rankme"].get<double>(), collapse.rankme);
  EXPECT_DOUBLE_EQ(spectra_out["min_std"].get<double>(), collapse.min_std);
  EXPECT_DOUBLE_EQ(spectra_out["vicreg_variance"].get<double>(), collapse.vicreg_variance);
  EXPECT_DOUBLE_EQ(spectra_out["vicreg_covariance"].get<double>(), collapse.vicreg_covariance);
  EXPECT_EQ(spectra_out["active_units"].get<double>(), static_cast<double>(collapse.active_units));
  // The k-means behind nmi, ari and cluster_accuracy is seeded: the same for any thread count.
  const std::vector<std::string> clustering = {
      "analyze", a,   b,       "--labels", y, "--measures", "nmi,ari,cluster_accuracy,cka_minibatch,stitching",
      "--seed",  "3", "--json"};
  std::vector<std::string> two_threads = clustering;
  two_threads.insert(two_threads.end(), {"--threads", "2"});
  const Outcome clusters_one = run(clustering), clusters_two = run(two_threads);
  ASSERT_EQ(clusters_one.status, 0) << clusters_one.err;
  EXPECT_EQ(clusters_one.out, clusters_two.out);
  const auto clusters_out = nlohmann::json::parse(clusters_one.out);
  EXPECT_GT(clusters_out["nmi"].get<double>(), 0.5);  // the encoder separates the ten classes well
  EXPECT_LE(clusters_out["nmi"].get<double>(), 1.0);
  EXPECT_GT(clusters_out["cluster_accuracy"].get<double>(), 0.5);
  const Outcome probes =
      run({"analyze", a, "--labels", y, "--measures", "ridge_probe,renyi_entropy,curvature", "--json"});
  ASSERT_EQ(probes.status, 0) << probes.err;
  const auto probes_out = nlohmann::json::parse(probes.out);
  RidgeProbe probe;
  probe.fit_cv(x, labels, {0.01, 0.1, 1.0, 10.0, 100.0, 1000.0}, 5);
  EXPECT_DOUBLE_EQ(probes_out["ridge_probe"].get<double>(),
                   *std::max_element(probe.cv_accuracy().begin(), probe.cv_accuracy().end()));
  EXPECT_DOUBLE_EQ(probes_out["renyi_entropy"].get<double>(), renyi_entropy(x));
  EXPECT_DOUBLE_EQ(probes_out["curvature"].get<double>(), trajectory_curvature(x));
  expect_error({"analyze", a, "--measures", "bogus"}, 2, "bogus");
  expect_error({"analyze", a, "--measures", "lidar"}, 2, "--labels");
  expect_error({"analyze", a, "--measures", "cka"}, 2, "B.npy");
  expect_error({"analyze", a, "--measures", "silhouette"}, 2, "--labels");
  expect_error({"analyze", a, kImages, "--measures", "cka"}, 1, "rows");
}

TEST_F(CliTest, KnnRefusesBadInputWithoutPartialOutput) {
  const std::string ids = path("ids.npy");
  expect_error({"knn", "--base", kImages, "-k", "5", "--ids", ids}, 2, "--metric");
  expect_error({"knn", "--base", kImages, "-k", "0", "--metric", "l2", "--ids", ids}, 2, "-k");
  expect_error({"knn", "--base", kImages, "-k", "5", "--metric", "euclid", "--ids", ids}, 2, "--metric");
  expect_error({"knn", "--base", kImages, "-k", "1000", "--metric", "l2", "--ids", ids}, 1, "k=1000");
  expect_error({"knn", "--base", path("missing.npy"), "-k", "5", "--metric", "l2", "--ids", ids}, 1, "missing.npy");
  expect_error({"knn", "--base", kImages, "-k", "5", "--metric", "l2", "--ids", path("no/such/ids.npy")}, 1, "--ids");

  const std::vector<std::int64_t> labels = {1, 2, 3};
  write_npy(path("labels.npy"), labels);
  expect_error({"knn", "--base", path("labels.npy"), "-k", "1", "--metric", "l2", "--ids", ids}, 1, "--base");
  RowMatrixf nan_rows = RowMatrixf::Ones(4, 3);
  nan_rows(3, 2) = std::nanf("");
  write_npy(path("nan.npy"), nan_rows);
  expect_error({"knn", "--base", path("nan.npy"), "-k", "1", "--metric", "l2", "--ids", ids}, 1, "NaN at row 3");
  RowMatrixf zero_rows = RowMatrixf::Ones(4, 3);
  zero_rows.row(1).setZero();
  write_npy(path("zero.npy"), zero_rows);
  expect_error({"knn", "--base", path("zero.npy"), "-k", "1", "--metric", "cosine", "--ids", ids}, 1, "zero row");
  expect_error({"knn", "--base", path("zero.npy"), "-k", "1", "--metric", "angular", "--ids", ids}, 1, "zero row");
  expect_error({"knn", "--base", path("zero.npy"), "-k", "1", "--metric", "l2", "--zero-norm", "zero", "--ids", ids}, 2,
               "--zero-norm");
  EXPECT_EQ(
      run({"knn", "--base", path("zero.npy"), "-k", "1", "--metric", "cosine", "--zero-norm", "zero", "--ids", ids})
          .status,
      0);
  fs::remove(ids);
  const RowMatrixf narrow = RowMatrixf::Ones(3, 2);
  write_npy(path("narrow.npy"), narrow);
  expect_error({"knn", "--base", kImages, "--query", path("narrow.npy"), "-k", "1", "--metric", "l2", "--ids", ids}, 1,
               "columns");
  // No output file was left behind by any failure.
  EXPECT_FALSE(fs::exists(ids));
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
}

// latent hubness: the golden values of ../shared/golden/hubness.json (encA, README
// section 5) through the tool, with 50 candidates (the default) and over all rows.
TEST_F(CliTest, HubnessReproducesTheGoldenValues) {
  const std::string golden = LATENT_GOLDEN_DIR;
  if (!fs::exists(golden + "/hubness.json")) GTEST_SKIP() << "golden kit not available";
  const auto kit = nlohmann::json::parse(slurp(golden + "/hubness.json"))["results"]["encA"];
  const std::string x = golden + "/inputs/encA.npy", labels = golden + "/inputs/enc_labels.npy";
  const auto expect_measures = [](const nlohmann::json& ours, const nlohmann::json& expected) {
    for (const char* key :
         {"k_skewness", "robinhood", "antihub_occurrence", "hub_occurrence", "gini", "atkinson", "groupie_ratio"}) {
      EXPECT_NEAR(ours[key].get<double>(), expected[key].get<double>(), 1e-12) << key;
    }
    EXPECT_EQ(ours["knn_accuracy"].get<double>(), expected["knn_accuracy"].get<double>());
  };
  const Outcome mp = run({"hubness", x, "-k", "10", "--metric", "l2", "--reduce", "mp", "--labels", labels, "--ids",
                          path("mp.npy"), "--json"});
  ASSERT_EQ(mp.status, 0) << mp.err;
  const auto mp_json = nlohmann::json::parse(mp.out);
  EXPECT_EQ(mp_json["candidates"], 50);
  EXPECT_EQ(mp_json["exact"], false);
  expect_measures(mp_json["before"], kit["l2"]["before"]);
  expect_measures(mp_json["after"], kit["l2"]["methods"]["mp"]["candidates50"]["own"]);
  const NpyArray lists = read_npy(golden + "/hubness/encA_l2_knn_candidates50.npy");  // axis 0: mp first
  const IdMatrix expected =
      Eigen::Map<const IdMatrix>(reinterpret_cast<const std::int64_t*>(lists.bytes.data()), 2000, 10);
  EXPECT_TRUE((read_npy_matrix<std::int64_t>(path("mp.npy")).array() == expected.array()).all());

  const Outcome ls = run({"hubness", x, "-k", "10", "--metric", "cosine", "--reduce", "ls", "--candidates", "all",
                          "--labels", labels, "--json"});
  ASSERT_EQ(ls.status, 0) << ls.err;
  const auto ls_json = nlohmann::json::parse(ls.out);
  EXPECT_EQ(ls_json["exact"], true);
  expect_measures(ls_json["after"], kit["cosine"]["methods"]["ls"]["exact"]);
  // Without --reduce: no "after".
  const Outcome none = run({"hubness", x, "-k", "10", "--metric", "cosine", "--json"});
  ASSERT_EQ(none.status, 0) << none.err;
  EXPECT_FALSE(nlohmann::json::parse(none.out).contains("after"));
}

TEST_F(CliTest, HubnessReducesByLocalizedCenteringUnderCosineOnly) {
  // The CLI's lists are the library's localized centering over 50 exact candidates.
  const Outcome o = run({"hubness", kImages, "-k", "10", "--metric", "cosine", "--reduce", "localized-centering",
                         "--ids", path("lc.npy"), "--json"});
  ASSERT_EQ(o.status, 0) << o.err;
  const RowMatrixf x = read_npy_matrix<float>(kImages);
  const DistanceGraph candidates = exact_candidate_graph(x, 50, Metric::cosine);
  ReductionOptions options;
  options.method = Reduction::localized_centering;
  const DistanceGraph reduced = HubnessReducer(options).fit_transform(candidates, x, 10);
  EXPECT_TRUE((read_npy_matrix<std::int64_t>(path("lc.npy")).array() == reduced.ids.array()).all());
  const auto report = nlohmann::json::parse(o.out);
  EXPECT_EQ(report["reduce"], "localized-centering");
  EXPECT_LT(std::abs(report["after"]["k_skewness"].get<double>()),
            std::abs(report["before"]["k_skewness"].get<double>()));
  expect_error({"hubness", kImages, "-k", "10", "--metric", "l2", "--reduce", "lc"}, 1, "cosine");
}

TEST_F(CliTest, HubnessReducesByDisSimGlobal) {
  // The CLI's lists are the library's DisSimGlobal over 50 exact candidates.
  const Outcome o =
      run({"hubness", kImages, "-k", "10", "--metric", "l2", "--reduce", "dsg", "--ids", path("dsg.npy"), "--json"});
  ASSERT_EQ(o.status, 0) << o.err;
  const RowMatrixf x = read_npy_matrix<float>(kImages);
  const DistanceGraph candidates = exact_candidate_graph(x, 50, Metric::l2);
  ReductionOptions options;
  options.method = Reduction::dis_sim_global;
  const DistanceGraph reduced = HubnessReducer(options).fit_transform(candidates, x, 10);
  EXPECT_TRUE((read_npy_matrix<std::int64_t>(path("dsg.npy")).array() == reduced.ids.array()).all());
  EXPECT_EQ(nlohmann::json::parse(o.out)["reduce"], "dsg");
  expect_error({"hubness", kImages, "-k", "10", "--metric", "angular", "--reduce", "dsg"}, 1, "DisSimGlobal");
}

TEST_F(CliTest, HubnessRefusesBadInputWithoutPartialOutput) {
  const std::string ids = path("ids.npy");
  expect_error({"hubness", kImages, "-k", "5", "--metric", "l2", "--reduce", "bogus"}, 2, "--reduce");
  expect_error({"hubness", kImages, "-k", "5", "--metric", "ip"}, 2, "--metric");
  expect_error({"hubness", kImages, "-k", "5"}, 2, "--metric");
  expect_error({"hubness", kImages, "-k", "5", "--metric", "l2", "--candidates", "0"}, 2, "--candidates");
  expect_error({"hubness", path("missing.npy"), "-k", "5", "--metric", "l2", "--ids", ids}, 1, "missing.npy");
  expect_error({"hubness", kImages, "-k", "1000", "--metric", "l2", "--reduce", "mp", "--ids", ids}, 1, "k=1000");
  const std::vector<std::int64_t> short_labels = {1, 2, 3};
  write_npy(path("labels.npy"), short_labels);
  expect_error({"hubness", kImages, "-k", "5", "--metric", "l2", "--labels", path("labels.npy"), "--ids", ids}, 1,
               "--labels");
  RowMatrixf nan_rows = RowMatrixf::Ones(6, 3);
  nan_rows(4, 1) = std::nanf("");
  write_npy(path("nan.npy"), nan_rows);
  expect_error({"hubness", path("nan.npy"), "-k", "2", "--metric", "l2", "--reduce", "ls", "--ids", ids}, 1, "nan.npy");
  EXPECT_FALSE(fs::exists(ids));
}

// ---------------------------------------------------------------- .npz and HDF5 inputs

const std::string kNpzFixture = std::string(LATENT_SOURCE_DIR) + "/tests/core/fixtures/stored.npz";

TEST_F(CliTest, NpzMembersAreInputsAndInfoListsThem) {
  const std::string archive = path("emb.npz");
  fs::copy_file(kNpzFixture, archive);
  const Outcome list = run({"info", archive});
  EXPECT_EQ(list.status, 0) << list.err;
  EXPECT_NE(list.out.find("npz, 3 arrays"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("x            float32 [3, 4]"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("ids          int64 [5]"), std::string::npos) << list.out;
  const Outcome json = run({"info", archive, "--json"});
  ASSERT_EQ(json.status, 0) << json.err;
  const nlohmann::json listed = nlohmann::json::parse(json.out);
  EXPECT_EQ(listed["format"], "npz");
  ASSERT_EQ(listed["arrays"].size(), 3u);
  EXPECT_EQ(listed["arrays"][1]["name"], "y");
  EXPECT_EQ(listed["arrays"][1]["dtype"], "float64");
  EXPECT_EQ(listed["arrays"][1]["shape"], nlohmann::json::array({2, 3}));
  const Outcome member = run({"info", archive + ":y", "--json"});
  ASSERT_EQ(member.status, 0) << member.err;
  EXPECT_EQ(nlohmann::json::parse(member.out)["shape"], nlohmann::json::array({2, 3}));

  // knn on a member equals knn on the same rows as a .npy (float64 member: converted).
  const RowMatrixf y = open_array(archive + ":y").matrix<float>();
  write_npy(path("y.npy"), y);
  for (const std::string& input : {archive + ":y", path("y.npy")}) {
    const std::string ids = path(input == path("y.npy") ? "ids_npy.npy" : "ids_npz.npy");
    const Outcome o = run({"knn", "--base", input, "-k", "1", "--metric", "l2", "--ids", ids});
    ASSERT_EQ(o.status, 0) << o.err;
  }
  EXPECT_TRUE((read_npy_matrix<std::int64_t>(path("ids_npy.npy")).array() ==
               read_npy_matrix<std::int64_t>(path("ids_npz.npy")).array())
                  .all());
  // Row ids from a member: the anchors of `relative`.
  fs::copy_file(kNpzFixture, path("anchors.npz"));
  write_npy(path("anchor_ids.npy"), std::vector<std::int64_t>{0, 1});
  const Outcome relative =
      run({"relative", archive + ":x", "--anchors", path("anchor_ids.npy"), "-o", path("rel.npy")});
  EXPECT_EQ(relative.status, 0) << relative.err;
}

TEST_F(CliTest, MissingMemberOrBadArchiveIsOneLineNamingOptionAndFile) {
  const std::string archive = path("emb.npz");
  fs::copy_file(kNpzFixture, archive);
  const std::string ids = path("ids.npy");
  expect_error({"knn", "--base", archive + ":nope", "-k", "1", "--metric", "l2", "--ids", ids}, 1, "--base");
  expect_error({"knn", "--base", archive + ":nope", "-k", "1", "--metric", "l2", "--ids", ids}, 1,
               archive + ": has no array named 'nope' (members: x, y, ids)");
  expect_error({"knn", "--base", archive, "-k", "1", "--metric", "l2", "--ids", ids}, 1, "name one as");
  expect_error({"knn", "--base", archive + ":ids", "-k", "1", "--metric", "l2", "--ids", ids}, 1,
               "expected a 2-D float32 or float64 array");
  expect_error({"info", archive + ":nope"}, 1, "no array named 'nope'");
  std::string bytes = slurp(archive);
  std::ofstream(path("cut.npz"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  expect_error({"info", path("cut.npz")}, 1, path("cut.npz"));
  expect_error({"isotropy", path("cut.npz") + ":x"}, 1, "FILE: ");
}

#ifdef LATENT_TEST_HDF5
TEST_F(CliTest, Hdf5DatasetsAreInputs) {
  const std::string file = path("ann.hdf5");
  testing::write_ann_benchmarks_file(file);
  const Outcome list = run({"info", file});
  EXPECT_EQ(list.status, 0) << list.err;
  EXPECT_NE(list.out.find("train        float32 [5, 3]"), std::string::npos) << list.out;
  const std::string ids = path("ids.npy");
  const Outcome knn =
      run({"knn", "--base", file + ":train", "--query", file + ":test", "-k", "2", "--metric", "l2", "--ids", ids});
  ASSERT_EQ(knn.status, 0) << knn.err;
  EXPECT_EQ(read_npy_matrix<std::int64_t>(ids).rows(), 2);
  // The ann-benchmarks ground truth as the ranked lists of `eval`.
  const Outcome eval = run({"eval", "--ids", file + ":neighbors", "--relevance", ids, "-k", "2", "--json"});
  EXPECT_EQ(eval.status, 0) << eval.err;
  expect_error({"knn", "--base", file + ":queries", "-k", "1", "--metric", "l2", "--ids", ids}, 1,
               "no dataset named 'queries'");
  expect_error({"knn", "--base", file + ":queries", "-k", "1", "--metric", "l2", "--ids", ids}, 1, "--base");
}
#endif

}  // namespace
}  // namespace latent
