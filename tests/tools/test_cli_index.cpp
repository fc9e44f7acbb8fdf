// `latent index build` / `latent index search` (DESIGN.md section 5): results
// equal the library's, --json is one object, re-ranking options work, and bad
// input exits 1 (2 for usage) with one line on stderr naming the file or option,
// never a crash or a partial output file.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/embedding/quantization.hpp"
#include "latent/index/faiss_index.hpp"
#include "latent/similarity.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

namespace fs = std::filesystem;
using testing::random_normal;

// FAISS's k-means and HNSW open many short OpenMP regions; with 2 threads on a
// loaded CI machine their spinning barriers made these tests ~50x slower (200 s
// against 4 s, measured). Results do not depend on the thread count (checked
// with explicit counts in ThreadCountIsPerCallAndRestored), so the tests (and the tool they start) run
// single-threaded unless LATENT_NUM_THREADS is set by the caller.
const bool kSingleThreadedByDefault = ::setenv("LATENT_NUM_THREADS", "1", 0) == 0;

struct Result {
  int status = -1;
  std::string out, err;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class CliIndexTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    base_ = random_normal<float>(600, 24, 31);
    queries_ = random_normal<float>(40, 24, 32);
    write_npy(path("x.npy"), base_);
    write_npy(path("q.npy"), queries_);
  }

  // Runs the tool through the shell with stdout / stderr in files; every
  // argument single-quoted (the test's paths hold no quote).
  Result latent(const std::vector<std::string>& args) const {
    std::string command = "'" + std::string(LATENT_TOOL_PATH) + "'";
    for (const auto& arg : args) command += " '" + arg + "'";
    command += " >'" + path("out.txt") + "' 2>'" + path("err.txt") + "'";
    const int raw = std::system(command.c_str());
    Result result;
    EXPECT_TRUE(WIFEXITED(raw)) << "not a normal exit: " << command;
    result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    result.out = read_all(path("out.txt"));
    result.err = read_all(path("err.txt"));
    return result;
  }

  void expect_failure(const std::vector<std::string>& args, int status, const std::string& needle) const {
    const Result r = latent(args);
    EXPECT_EQ(r.status, status) << r.err;
    EXPECT_EQ(r.out, "");
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  }

  RowMatrixf base_, queries_;
};

TEST_F(CliIndexTest, FlatBuildAndSearchEqualTheExactKnn) {
  for (const std::string metric : {"l2", "cosine", "ip"}) {
    const Result build = latent({"index", "build", path("x.npy"), "--factory", "Flat", "--metric", metric, "-o",
                                 path("flat.index")});
    ASSERT_EQ(build.status, 0) << build.err;
    EXPECT_NE(build.out.find("600 rows"), std::string::npos) << build.out;
    const Result search = latent({"index", "search", path("flat.index"), "--query", path("q.npy"), "-k", "7",
                                  "--ids", path("ids.npy"), "--scores", path("scores.npy")});
    ASSERT_EQ(search.status, 0) << search.err;
    const IdMatrix ids = read_npy_matrix<std::int64_t>(path("ids.npy"));
    const RowMatrixf scores = read_npy_matrix<float>(path("scores.npy"));
    const KnnGraph want = knn(queries_, base_, 7, parse_metric(metric));
    ASSERT_EQ(ids.rows(), 40);
    ASSERT_EQ(ids.cols(), 7);
    for (Eigen::Index i = 0; i < ids.size(); ++i) {
      const float scale = std::max(1.0f, std::abs(want.scores.data()[i]));
      EXPECT_NEAR(scores.data()[i], want.scores.data()[i], 2e-5f * scale) << metric;
      if (ids.data()[i] != want.ids.data()[i]) {
        EXPECT_NEAR(scores.data()[i], want.scores.data()[i], 2e-5f * scale) << metric << ": not a tie";
      }
    }
  }
}

TEST_F(CliIndexTest, JsonAndParametersAndReranking) {
  const Result build = latent({"index", "build", path("x.npy"), "--factory", "IVF8,PQ4", "--metric", "l2", "-o",
                               path("pq.index"), "--json"});
  ASSERT_EQ(build.status, 0) << build.err;
  const auto built = nlohmann::json::parse(build.out);
  EXPECT_EQ(built["rows"], 600);
  EXPECT_EQ(built["metric"], "l2");
  EXPECT_EQ(built["csls_statistics"], true);

  const KnnGraph exact = knn(queries_, base_, 5, Metric::l2);
  auto recall = [&](const std::string& ids_path) {
    const IdMatrix ids = read_npy_matrix<std::int64_t>(ids_path);
    double found = 0;
    for (Eigen::Index i = 0; i < ids.rows(); ++i) {
      const std::set<std::int64_t> truth(exact.ids.row(i).data(), exact.ids.row(i).data() + 5);
      for (Eigen::Index j = 0; j < 5; ++j) found += static_cast<double>(truth.count(ids(i, j)));
    }
    return found / static_cast<double>(ids.size());
  };
  const Result plain = latent({"index", "search", path("pq.index"), "--query", path("q.npy"), "-k", "5", "--nprobe",
                               "8", "--ids", path("plain.npy"), "--json"});
  ASSERT_EQ(plain.status, 0) << plain.err;
  const auto report = nlohmann::json::parse(plain.out);
  EXPECT_EQ(report["queries"], 40);
  EXPECT_EQ(report["nprobe"], 8);
  EXPECT_EQ(report["rerank"], "none");
  EXPECT_EQ(report["missing"], 0);
  // Every list visited and the 100 best PQ candidates re-scored: near exact.
  const Result rescored = latent({"index", "search", path("pq.index"), "--query", path("q.npy"), "-k", "5",
                                  "--nprobe", "8", "--rerank", "exact", "--ids", path("exact.npy")});
  ASSERT_EQ(rescored.status, 0) << rescored.err;
  EXPECT_GT(recall(path("exact.npy")), recall(path("plain.npy")));
  EXPECT_GE(recall(path("exact.npy")), 0.95);
  const Result csls = latent({"index", "search", path("pq.index"), "--query", path("q.npy"), "-k", "5", "--nprobe",
                              "8", "--rerank", "csls", "--ids", path("csls.npy"), "--threads", "1"});
  ASSERT_EQ(csls.status, 0) << csls.err;
  EXPECT_EQ(read_npy_matrix<std::int64_t>(path("csls.npy")).cols(), 5);

  const Result hnsw = latent({"index", "build", path("x.npy"), "--factory", "HNSW8", "--metric", "cosine", "-o",
                              path("hnsw.index")});
  ASSERT_EQ(hnsw.status, 0) << hnsw.err;
  const Result wide = latent({"index", "search", path("hnsw.index"), "--query", path("q.npy"), "-k", "5", "--ef",
                              "600", "--ids", path("wide.npy")});
  ASSERT_EQ(wide.status, 0) << wide.err;
  EXPECT_EQ(read_npy_matrix<std::int64_t>(path("wide.npy")), knn(queries_, base_, 5, Metric::cosine).ids);
}

TEST_F(CliIndexTest, BinaryFactoriesIndexQuantizedCodesByHamming) {
  // The codes come from `latent quantize`, the reference from the library.
  ASSERT_EQ(latent({"quantize", path("x.npy"), "--type", "binary", "-o", path("codes.npy")}).status, 0);
  ASSERT_EQ(latent({"quantize", path("q.npy"), "--type", "binary", "-o", path("qcodes.npy")}).status, 0);
  Quantizer binary(QuantizerOptions{QuantizationType::binary});
  binary.fit_dim(24);
  const QuantizedMatrix base_codes = binary.encode(base_), query_codes = binary.encode(queries_);
  const KnnGraph want = binary_knn(base_codes, query_codes, 6);
  for (const std::string factory : {"BFlat", "BIVF4", "BHNSW8"}) {
    const Result build = latent({"index", "build", path("codes.npy"), "--factory", factory, "--metric", "hamming",
                                 "-o", path("codes.index"), "--json"});
    ASSERT_EQ(build.status, 0) << build.err;
    const auto built = nlohmann::json::parse(build.out);
    EXPECT_EQ(built["dim"], 24);
    EXPECT_EQ(built["metric"], "hamming");
    const Result search = latent({"index", "search", path("codes.index"), "--query", path("qcodes.npy"), "-k", "6",
                                  "--nprobe", "4", "--ef", "600", "--ids", path("ids.npy"), "--scores",
                                  path("scores.npy")});
    ASSERT_EQ(search.status, 0) << search.err;
    EXPECT_NE(search.out.find("hamming"), std::string::npos) << search.out;
    // Exact (all lists, wide beam): the distances are the exact Hamming top 6.
    EXPECT_EQ(read_npy_matrix<float>(path("scores.npy")), want.scores) << factory;
  }
  expect_failure({"index", "build", path("codes.npy"), "--factory", "BFlat", "--metric", "l2", "-o",
                  path("bad.index")},
                 2, "--metric");
  expect_failure({"index", "build", path("x.npy"), "--factory", "BFlat", "--metric", "hamming", "-o",
                  path("bad.index")},
                 1, "uint8");
  expect_failure({"index", "search", path("codes.index"), "--query", path("q.npy"), "-k", "3", "--ids",
                  path("o.npy")},
                 1, "--query");
  expect_failure({"index", "search", path("codes.index"), "--query", path("qcodes.npy"), "-k", "3", "--rerank",
                  "exact", "--ids", path("o.npy")},
                 2, "binary");
  EXPECT_FALSE(fs::exists(path("bad.index")));
  EXPECT_FALSE(fs::exists(path("o.npy")));
}

TEST_F(CliIndexTest, BadInputExitsWithOneLineAndNoOutputFile) {
  const std::string index = path("flat.index");
  ASSERT_EQ(latent({"index", "build", path("x.npy"), "--factory", "Flat", "--metric", "l2", "-o", index}).status, 0);
  // Usage errors: exit 2.
  expect_failure({"index"}, 2, "subcommand");
  expect_failure({"index", "build", path("x.npy"), "--factory", "Flat", "--metric", "l1", "-o", index}, 2,
                 "--metric");
  expect_failure({"index", "search", index, "--query", path("q.npy"), "--ids", path("o.npy")}, 2, "-k");
  expect_failure({"index", "search", index, "--query", path("q.npy"), "-k", "3", "--ids", path("o.npy"), "--rerank",
                  "mp"},
                 2, "--rerank");
  // Other errors: exit 1, the file or option named, nothing written.
  expect_failure({"index", "build", path("x.npy"), "--factory", "IVF4,Bogus", "--metric", "l2", "-o",
                  path("bad.index")},
                 1, "IVF4,Bogus");
  expect_failure({"index", "build", path("missing.npy"), "--factory", "Flat", "--metric", "l2", "-o",
                  path("bad.index")},
                 1, "missing.npy");
  EXPECT_FALSE(fs::exists(path("bad.index")));
  expect_failure({"index", "search", path("missing.index"), "--query", path("q.npy"), "-k", "3", "--ids",
                  path("o.npy")},
                 1, "missing.index");
  expect_failure({"index", "search", index, "--query", path("q.npy"), "-k", "601", "--ids", path("o.npy")}, 1,
                 "k=601");
  write_npy(path("wide.npy"), MatrixView<float>(random_normal<float>(3, 25, 33)));
  expect_failure({"index", "search", index, "--query", path("wide.npy"), "-k", "3", "--ids", path("o.npy")}, 1,
                 "--query");
  const std::string bytes = read_all(index);
  for (const std::size_t length : {std::size_t{0}, std::size_t{12}, bytes.size() / 2, bytes.size() - 3}) {
    std::ofstream(path("cut.index"), std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(length));
    expect_failure({"index", "search", path("cut.index"), "--query", path("q.npy"), "-k", "3", "--ids",
                    path("o.npy")},
                   1, "cut.index");
  }
  std::string flipped = bytes;
  flipped[flipped.size() / 3] = static_cast<char>(flipped[flipped.size() / 3] ^ 0x21);
  std::ofstream(path("flip.index"), std::ios::binary | std::ios::trunc)
      .write(flipped.data(), static_cast<std::streamsize>(flipped.size()));
  expect_failure({"index", "search", path("flip.index"), "--query", path("q.npy"), "-k", "3", "--ids",
                  path("o.npy")},
                 1, "flip.index");
  EXPECT_FALSE(fs::exists(path("o.npy")));
  // Exact re-scoring reads X.npy: a rewritten file is refused, not misused.
  write_npy(path("x.npy"), MatrixView<float>(random_normal<float>(600, 24, 34)));
  expect_failure({"index", "search", index, "--query", path("q.npy"), "-k", "3", "--rerank", "exact", "--ids",
                  path("o.npy")},
                 1, "changed");
  ASSERT_EQ(latent({"index", "build", path("q.npy"), "--factory", "Flat", "--metric", "ip", "-o", path("ip.index")})
                .status,
            0);
  expect_failure({"index", "search", path("ip.index"), "--query", path("q.npy"), "-k", "3", "--rerank", "csls",
                  "--ids", path("o.npy")},
                 1, "CSLS");
  EXPECT_FALSE(fs::exists(path("o.npy")));
}

}  // namespace
}  // namespace latent
