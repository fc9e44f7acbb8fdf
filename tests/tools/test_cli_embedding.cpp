// `latent quantize` and `latent eval`: outputs numpy can read back (dtype, shape,
// values), the JSON keys, and the error contract (exit 2 for usage, 1 otherwise,
// one line on stderr naming the option or file, no output file left behind).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/embedding.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

struct Result {
  int status = -1;
  std::string out, err;
};

class CliEmbeddingTest : public testing::TempDirTest {
 protected:
  // Runs the tool with stdout and stderr captured in files of the test folder.
  Result latent(std::vector<std::string> args) const {
    const std::string out = path("out.txt"), err = path("err.txt");
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out_fd, 1);
      ::dup2(err_fd, 2);
      std::vector<char*> argv{const_cast<char*>(LATENT_TOOL_PATH)};
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(LATENT_TOOL_PATH, argv.data());
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_FALSE(WIFSIGNALED(status));
    auto slurp = [](const std::string& file) {
      std::ifstream in(file);
      std::stringstream buffer;
      buffer << in.rdbuf();
      return buffer.str();
    };
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  }
  void expect_error(const std::vector<std::string>& args, int status, const std::string& needle) const {
    const Result r = latent(args);
    EXPECT_EQ(r.status, status) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_CONTAINS(r.err, needle);
  }
};

TEST_F(CliEmbeddingTest, QuantizeWritesEveryTypeAsNumpyReadsIt) {
  const RowMatrixf x = testing::random_normal<float>(50, 20, 1);
  write_npy(path("x.npy"), x);
  for (const std::string type : {"f16", "bf16", "int8", "binary"}) {
    const Result r = latent({"quantize", path("x.npy"), "--type", type, "-o", path(type + ".npy"), "--save",
                             path(type + ".model"), "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto report = nlohmann::json::parse(r.out);
    EXPECT_EQ(report["type"], type);
    const NpyHeader header = read_npy_header(path(type + ".npy"));
    const char* dtype = type == "f16" ? "float16" : type == "bf16" ? "uint16" : type == "int8" ? "int8" : "uint8";
    EXPECT_EQ(to_string(header.dtype), dtype);
    EXPECT_EQ(header.shape, (std::vector<std::int64_t>{50, type == "binary" ? 3 : 20}));
    EXPECT_DOUBLE_EQ(report["memory_ratio"].get<double>(), type == "binary" ? 80.0 / 3.0 : type == "int8" ? 4.0 : 2.0);
    // The file holds the library's codes, and the saved calibration reproduces them.
    const Quantizer loaded = Quantizer::load(path(type + ".model"));
    const QuantizedMatrix codes = loaded.encode(x);
    const NpyArray array = read_npy(path(type + ".npy"));
    EXPECT_EQ(array.bytes, codes.codes) << type;
  }
  // float16 converts back exactly to the decoded values.
  const RowMatrixf halves = to_matrix<float>(read_npy(path("f16.npy")), "f16");
  Quantizer f16(QuantizerOptions{QuantizationType::f16});
  f16.fit_dim(20);
  EXPECT_EQ(halves, f16.decode(f16.encode(x)));
  // int8 round trip within half a step of the calibration (X itself).
  const Result summary = latent({"quantize", path("x.npy"), "--type", "int8", "-o", path("i8.npy")});
  EXPECT_EQ(summary.status, 0);
  EXPECT_CONTAINS(summary.out, "4.0x smaller");
}

TEST_F(CliEmbeddingTest, QuantizeErrors) {
  RowMatrixf x = testing::random_normal<float>(10, 4, 2);
  x.col(1).setConstant(3.0f);
  write_npy(path("x.npy"), x);
  expect_error({"quantize", path("x.npy"), "--type", "int2", "-o", path("o.npy")}, 2, "--type");
  expect_error({"quantize", path("x.npy"), "--type", "f16", "--calibration", path("x.npy"), "-o", path("o.npy")}, 2,
               "--calibration");
  expect_error({"quantize", path("x.npy"), "--type", "int8", "-o", path("o.npy")}, 1, "dimension 1");
  expect_error({"quantize", path("missing.npy"), "--type", "f16", "-o", path("o.npy")}, 1, "missing.npy");
  expect_error({"quantize", path("x.npy"), "--type", "f16", "-o", path("no/such/o.npy")}, 1, "-o");
  EXPECT_FALSE(std::filesystem::exists(path("o.npy")));
}

TEST_F(CliEmbeddingTest, EvalFromNpyAndTextJudgements) {
  IdMatrix ids(2, 3);
  ids << 1, 2, 3, 4, 5, 6;
  write_npy(path("ids.npy"), ids);
  std::ofstream(path("qrels.txt")) << "# query doc gain\n0 2\n0 9 1\n\n1 7 2\n";
  const Result r = latent({"eval", "--ids", path("ids.npy"), "--relevance", path("qrels.txt"), "-k", "3", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(report["recall"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(report["mrr"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(report["map"].get<double>(), 0.125);
  EXPECT_EQ(report["queries"], 2);
  for (const char* key : {"k", "skipped", "precision", "ndcg"}) EXPECT_TRUE(report.contains(key)) << key;
  // Query 0 finds id 2 at rank 2; query 1 lists no relevant id: rank K + 1 = 4.
  EXPECT_DOUBLE_EQ(report["hit@k"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(report["r_precision"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(report["median_rank"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(report["mean_rank"].get<double>(), 3.0);
  EXPECT_EQ(report["unranked"], 1);
  // One relevant id per query as a .npy; query 1 has none (-1) and is skipped.
  IdMatrix relevant(2, 1);
  relevant << 1, -1;
  write_npy(path("rel.npy"), relevant);
  const Result one = latent({"eval", "--ids", path("ids.npy"), "--relevance", path("rel.npy"), "-k", "1", "--json"});
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(one.out)["recall"].get<double>(), 1.0);
  EXPECT_EQ(nlohmann::json::parse(one.out)["skipped"], 1);
}

TEST_F(CliEmbeddingTest, EvalErrors) {
  IdMatrix ids(2, 3);
  ids << 1, 2, 3, 4, 5, 6;
  write_npy(path("ids.npy"), ids);
  std::ofstream(path("bad.txt")) << "0 x\n";
  std::ofstream(path("far.txt")) << "5 1\n";
  expect_error({"eval", "--ids", path("ids.npy"), "--relevance", path("bad.txt"), "-k", "3"}, 1, "line 1");
  expect_error({"eval", "--ids", path("ids.npy"), "--relevance", path("far.txt"), "-k", "2"}, 1, "query row 5");
  expect_error({"eval", "--ids", path("ids.npy"), "--relevance", path("bad.txt"), "-k", "4"}, 2, "-k 4");
  expect_error({"eval", "--ids", path("none.npy"), "--relevance", path("bad.txt")}, 1, "--ids");
}

}  // namespace
}  // namespace latent
