// The bad-input matrix of the `latent` tool (issue 10): every subcommand x every
// bad input that applies to it. Each cell runs the tool and asserts the exit
// status (2 usage, 1 other), nothing on stdout, exactly one line on stderr naming
// the file or option at fault, no signal, and no output file (nor temporary file)
// left behind.
//
// Layout: `kColumns` are the bad inputs (each puts a file at {X}, or sets {K} or
// {OUT}); `rows()` are command lines with those placeholders and the expected
// status of each column that applies ("column=status"). A subcommand added later
// is one row; LATENT_MATRIX_PRINT=1 prints observed statuses to fill one in (after
// checking each is right).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "support/sanitizers.hpp"
#include "support/spawn_support.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

namespace fs = std::filesystem;

struct Row {
  std::string args;      ///< the command line; {X} {K} {OUT} are replaced per column
  std::string names;     ///< what the error line must contain for a file column ({X} = the file's name)
  std::string expected;  ///< "column=status ..."
};

// Fixture files every row may use: x.npy, y.npy [30 x 6] float32, ids.npy int64
// anchors / fit ids, labels.npy int64 [30].
std::vector<Row> rows() {
  const std::string file_columns =
      "missing=1 directory=1 text=1 truncated=1 absurd_shape=1 empty_absurd_rows=1 int64_matrix=1 three_d=1 "
      "nan_first=1 inf_last=1 empty_rows=1 ";
  return {
      // info describes any array (other dtypes and ranks included) and reports NaN rather than failing.
      {"info {X}", "{X}",
       "missing=1 directory=1 text=1 truncated=1 absurd_shape=1 empty_absurd_rows=1 three_d=0 nan_first=0 "
       "empty_rows=0"},
      {"knn --base {X} -k {K} --metric cosine --ids {OUT}", "{X}",
       file_columns +
           "single_row=1 zero_row=1 duplicated_rows=0 k0=2 k_eq_n=1 k_gt_n=1 out_missing_dir=1 out_is_directory=1"},
      {"knn --base x.npy --query {X} -k 3 --metric l2 --ids {OUT} --scores {OUT}.scores", "{X}",
       file_columns + "single_row=0 out_missing_dir=1 out_is_directory=1"},
      // x.npy lies in the ball of radius 1/sqrt(0.01) = 10; no row of it is on the hyperboloid.
      {"knn --base {X} -k {K} --metric poincare --curvature 0.01 --ids {OUT}", "{X}",
       file_columns +
           "single_row=1 zero_row=0 duplicated_rows=0 k0=2 k_eq_n=1 k_gt_n=1 out_missing_dir=1 out_is_directory=1"},
      {"knn --base {X} --query {X} -k 3 --metric lorentz --ids {OUT}", "{X}",
       file_columns + "single_row=1 zero_row=1 duplicated_rows=1 out_missing_dir=1 out_is_directory=1"},
      {"quantize {X} --type pq --subquantizers 2 --bits 2 -o {OUT}", "{X}",
       file_columns + "single_row=1 zero_row=0 duplicated_rows=0 out_missing_dir=1 out_is_directory=1"},
      {"quantize {X} --type int4 -o {OUT}", "{X}",
       file_columns + "single_row=1 zero_row=0 duplicated_rows=1 out_missing_dir=1 out_is_directory=1"},
      {"sweep x.npy {X} --dims 2,4 --measure recall -k 2 -o {OUT}", "{X}",
       file_columns + "single_row=1 zero_row=1 duplicated_rows=0 out_missing_dir=1 out_is_directory=1"},
      // {X} read as rows, as CSR codes (no .npy is an .npz of codes) and as the weights folder.
      {"sae encode {X} --weights {SAE} --activation topk --k 2 -o {OUT}", "{X}",
       file_columns + "single_row=0 zero_row=0 duplicated_rows=0 out_missing_dir=1 out_is_directory=1"},
      {"sae stats {X} --weights {SAE} --activation jumprelu --threshold 0.5", "{X}",
       file_columns + "single_row=0 zero_row=0 duplicated_rows=0"},
      {"sae decode {X} --weights {SAE} -o {OUT}", "{X}",
       "missing=1 directory=1 text=1 truncated=1 nan_first=1 out_missing_dir=1 out_is_directory=1"},
      {"sae encode x.npy --weights {X} --activation relu -o {OUT}", "{X}", "missing=1 directory=1"},
      {"whiten --fit {X} -o {OUT} --save {OUT}.model", "{X}",
       file_columns + "single_row=1 zero_row=0 duplicated_rows=1 out_missing_dir=1 out_is_directory=1"},
      {"whiten --load {X} --apply x.npy -o {OUT}", "{X}", "missing=1 directory=1 text=1 truncated=1 out_missing_dir=1"},
      {"isotropy {X}", "{X}", file_columns + "single_row=1 duplicated_rows=0"},
      {"hubness {X} -k {K} --metric l2 --reduce mp --ids {OUT}", "{X}",
       file_columns + "single_row=1 duplicated_rows=0 k0=2 k_eq_n=1 k_gt_n=1 out_missing_dir=1 out_is_directory=1"},
      {"hubness x.npy -k 3 --metric l2 --labels {X}", "{X}", "missing=1 directory=1 text=1 truncated=1 three_d=1"},
      {"relative {X} --anchors ids.npy --similarity cosine,l2 -o {OUT}", "{X}",
       file_columns + "single_row=1 zero_row=1 duplicated_rows=0 out_missing_dir=1 out_is_directory=1"},
      {"relative x.npy --anchors {X} -o {OUT}", "{X}",
       "missing=1 directory=1 text=1 truncated=1 three_d=1 nan_first=1"},
      {"align --source {X} --target y.npy --fit-ids ids.npy -o {OUT} --save {OUT}.model", "{X}",
       file_columns + "single_row=1 zero_row=0 duplicated_rows=1 out_missing_dir=1 out_is_directory=1"},
      {"align --source x.npy --target y.npy --fit-ids {X} -o {OUT}", "{X}", "missing=1 directory=1 text=1 truncated=1"},
      {"compare {X} y.npy --anchors ids.npy -k {K} --rows 30", "{X}",
       file_columns + "single_row=1 zero_row=1 duplicated_rows=0 k0=2 k_eq_n=1 k_gt_n=1"},
      // Added with the report, quantize, eval and index subcommands.
      {"report {X} -k {K} --html {OUT}", "{X}",
       file_columns +
           "single_row=1 zero_row=1 duplicated_rows=1 k0=2 k_eq_n=1 k_gt_n=1 out_missing_dir=1 out_is_directory=1"},
      {"report x.npy --labels {X} --html {OUT}", "{X}",
       "missing=1 directory=1 text=1 truncated=1 three_d=1 nan_first=1"},
      {"report x.npy --compare {X} --anchors ids.npy --html {OUT}", "{X}",
       file_columns + "single_row=1 zero_row=1 out_missing_dir=1 out_is_directory=1"},
      {"quantize {X} --type int8 -o {OUT} --save {OUT}.model", "{X}",
       file_columns + "single_row=1 zero_row=0 duplicated_rows=1 out_missing_dir=1 out_is_directory=1"},
      {"quantize x.npy --type int8 --calibration {X} -o {OUT}", "{X}",
       file_columns + "single_row=1 zero_row=0 duplicated_rows=1"},
      {"eval --ids {X} --relevance labels.npy -k {K}", "{X}",
       "missing=1 directory=1 text=1 truncated=1 absurd_shape=1 empty_absurd_rows=1 int64_matrix=0 three_d=1 "
       "nan_first=1 "
       "empty_rows=1 k0=2"},
      {"index build {X} --factory Flat --metric cosine -o {OUT}", "{X}",
       file_columns + "single_row=0 zero_row=1 duplicated_rows=0 out_missing_dir=1 out_is_directory=1"},
      {"index search {X} --query x.npy -k 3 --ids {OUT}", "{X}",
       "missing=1 directory=1 text=1 truncated=1 absurd_shape=1 int64_matrix=1 nan_first=1 out_missing_dir=1"},
      // Binary factories read uint8 codes: every float or int64 file is refused by name.
      {"index build {X} --factory BFlat --metric hamming -o {OUT}", "{X}",
       file_columns + "single_row=1 out_missing_dir=1 out_is_directory=1"},
  };
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

class CliBadInputs : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    x_ = testing::random_normal<float>(30, 6, 21);
    write_npy(path("x.npy"), x_);
    const RowMatrixf y = testing::random_normal<float>(30, 6, 22);
    write_npy(path("y.npy"), y);
    write_npy(path("ids.npy"), std::vector<std::int64_t>{0, 4, 9, 14, 19, 24, 29});
    std::vector<std::int64_t> labels(30);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 3);
    write_npy(path("labels.npy"), labels);
    fs::create_directory(path("out"));
    // A sparse autoencoder over x's 6 dims with 10 features ({SAE}).
    fs::create_directory(path("sae"));
    write_npy(path("sae/W_enc.npy"), RowMatrixf(testing::random_normal<float>(6, 10, 23)));
    write_npy(path("sae/b_enc.npy"), std::vector<float>(10, 0.1f));
    write_npy(path("sae/W_dec.npy"), RowMatrixf(testing::random_normal<float>(10, 6, 24)));
    write_npy(path("sae/b_dec.npy"), std::vector<float>(6, 0.0f));
  }

  // Sets up `column` in the folder and returns the replacements {X} {K} {OUT}.
  std::map<std::string, std::string> prepare(const std::string& column) const {
    std::map<std::string, std::string> values = {
        {"{X}", path("bad.npy")}, {"{K}", "3"}, {"{OUT}", path("out/result.npy")}, {"{SAE}", path("sae")}};
    const std::string bad = path("bad.npy");
    RowMatrixf x = x_;
    const auto header = testing::npy_v1_header;
    if (column == "missing") {
    } else if (column == "directory") {
      fs::create_directory(bad);
    } else if (column == "text") {
      std::ofstream(bad) << "0.5 0.25\n1 2\n";
    } else if (column == "truncated") {
      const std::string bytes = testing::read_text_file(path("x.npy"));
      std::ofstream(bad, std::ios::binary) << bytes.substr(0, bytes.size() - 10);
    } else if (column == "absurd_shape") {
      std::ofstream(bad, std::ios::binary)
          << header("{'descr': '<f4', 'fortran_order': False, 'shape': (2305843009213693952, 6), }") << "abcd";
    } else if (column == "empty_absurd_rows") {  // (10^18, 0): no data bound the rows
      std::ofstream(bad, std::ios::binary)
          << header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000000000, 0), }");
    } else if (column == "int64_matrix") {
      const RowMatrix<std::int64_t> ints = x_.cast<std::int64_t>();
      write_npy(bad, ints);
    } else if (column == "three_d") {
      std::ofstream(bad, std::ios::binary)
          << header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }") << std::string(16, '\0');
    } else if (column == "nan_first" || column == "inf_last" || column == "zero_row" || column == "duplicated_rows") {
      if (column == "nan_first") x(0, 0) = std::numeric_limits<float>::quiet_NaN();
      if (column == "inf_last") x(29, 5) = std::numeric_limits<float>::infinity();
      if (column == "zero_row") x.row(7).setZero();
      if (column == "duplicated_rows") x.rowwise() = x.row(0);
      write_npy(bad, x);
    } else if (column == "empty_rows") {
      write_npy(bad, static_cast<const float*>(nullptr), {0, 6});
    } else if (column == "single_row") {
      const RowMatrixf one = x_.topRows(1);
      write_npy(bad, one);
    } else if (column == "k0" || column == "k_eq_n" || column == "k_gt_n") {
      values["{X}"] = path("x.npy");
      values["{K}"] = column == "k0" ? "0" : column == "k_eq_n" ? "30" : "31";
    } else if (column == "out_missing_dir" || column == "out_is_directory") {
      values["{X}"] = path("x.npy");
      values["{OUT}"] = column == "out_missing_dir" ? path("no-such-dir/result.npy") : path("out");
    } else {
      ADD_FAILURE() << "unknown column " << column;
    }
    return values;
  }

  using Outcome = testing::ProgramOutcome;

  // Runs the tool, or (with `program`, found on PATH) another program given the
  // tool's path among its arguments. A signal fails the test unless `signal_allowed`.
  Outcome run(const std::vector<std::string>& args, const std::string& program = LATENT_TOOL_PATH,
              bool signal_allowed = false) const {
    return testing::run_program(program, args, path("std"), environ, signal_allowed);
  }

  RowMatrixf x_;
};

TEST_F(CliBadInputs, EverySubcommandEveryBadInput) {
  const bool print = std::getenv("LATENT_MATRIX_PRINT") != nullptr;
  const std::vector<std::string> all_columns = {
      "missing", "directory", "text",     "truncated",       "absurd_shape",    "empty_absurd_rows", "int64_matrix",
      "three_d", "nan_first", "inf_last", "empty_rows",      "single_row",      "zero_row",          "duplicated_rows",
      "k0",      "k_eq_n",    "k_gt_n",   "out_missing_dir", "out_is_directory"};
  int cells = 0;
  for (const Row& row : rows()) {
    std::map<std::string, int> expected;
    std::istringstream words(row.expected);
    for (std::string word; words >> word;)
      expected[word.substr(0, word.find('='))] = std::stoi(word.substr(word.find('=') + 1));
    std::string observed;
    for (const std::string& column : all_columns) {
      if (expected.count(column) == 0 && !print) continue;
      if (expected.count(column) == 0 && column.rfind("k", 0) == 0 && row.args.find("{K}") == std::string::npos)
        continue;
      if (expected.count(column) == 0 && column.rfind("out", 0) == 0 && row.args.find("{OUT}") == std::string::npos)
        continue;
      const auto values = prepare(column);
      std::string line = row.args;
      for (const auto& [key, value] : values) replace_all(line, key, value);
      std::vector<std::string> args;
      std::istringstream split(line);
      for (std::string arg; split >> arg;)
        args.push_back(fs::path(arg).is_relative() && arg.size() > 4 && arg.substr(arg.size() - 4) == ".npy" ? path(arg)
                                                                                                             : arg);
      const Outcome o = run(args);
      observed += column + "=" + std::to_string(o.status) + " ";
      if (expected.count(column) != 0) {
        ++cells;
        SCOPED_TRACE("latent " + line + "   [" + column + "]");
        EXPECT_EQ(o.status, expected[column]) << o.err;
        if (o.status != 0) {
          EXPECT_EQ(o.out, "");
          ASSERT_FALSE(o.err.empty());
          EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << "not one line: " << o.err;
          std::string needle = row.names;
          replace_all(needle, "{X}", fs::path(values.at("{X}")).filename().string());
          if (column == "k0" || column == "k_eq_n" || column == "k_gt_n") needle = "k";
          if (column.rfind("out", 0) == 0) needle = fs::path(values.at("{OUT}")).parent_path().filename().string();
          EXPECT_CONTAINS(o.err, needle);
          // No output and no temporary file left behind.
          EXPECT_TRUE(fs::is_empty(path("out"))) << "left: " << fs::directory_iterator(path("out"))->path();
        }
      }
      std::error_code ignored;
      fs::remove_all(path("bad.npy"), ignored);
      for (const auto& entry : fs::directory_iterator(path("out"))) fs::remove_all(entry.path(), ignored);
    }
    if (print) std::cout << row.args << ": " << observed << "\n";
  }
  std::cout << "CLI bad-input matrix: " << cells << " cells over " << rows().size() << " command lines\n";
}

// Numbers (and options) that would mean nothing: a sentinel such as 0 taken for
// "all" or "default", a negative count, a fraction outside its interval, or a
// value given where the command ignores it. Each is a usage error (status 2)
// naming the option, before any work: nothing on stdout, one line on stderr, no
// output left. {OUT} is an output path in out/.
TEST_F(CliBadInputs, MeaninglessNumbersAreRefused) {
  struct Case {
    std::string args;    ///< the command line
    std::string option;  ///< what the error line must contain
  };
  const std::vector<Case> cases = {
      // global
      {"--threads 0 info x.npy", "--threads"},
      {"--threads -2 info x.npy", "--threads"},
      {"--threads 5000 info x.npy", "--threads"},
      // knn
      {"knn --base x.npy -k -1 --metric l2 --ids {OUT}", "-k"},
      {"knn --base x.npy -k 3 --metric l2 --zero-norm zero --ids {OUT}", "--zero-norm"},
      {"knn --base x.npy -k 3 --metric l2 --curvature 1 --ids {OUT}", "--curvature"},
      {"knn --base x.npy -k 3 --metric poincare --curvature 0 --ids {OUT}", "--curvature"},
      {"knn --base x.npy -k 3 --metric lorentz --curvature -1 --ids {OUT}", "--curvature"},
      {"knn --base x.npy -k 3 --metric poincare --compute int8 --ids {OUT}", "--metric poincare"},
      {"knn --base x.npy -k 3 --metric lorentz --graph mutual --ids {OUT}", "--metric lorentz"},
      {"knn --base x.npy -k 3 --metric klein --ids {OUT}", "--metric"},
      // quantize with the trained codecs
      {"quantize x.npy --type pq --subquantizers 0 -o {OUT}", "--subquantizers"},
      {"quantize x.npy --type pq --bits 17 -o {OUT}", "--bits"},
      {"quantize x.npy --type opq --centroids 4 -o {OUT}", "--centroids"},
      {"quantize x.npy --type vq --bits 4 -o {OUT}", "--bits"},
      {"quantize x.npy --type int4 --subquantizers 2 -o {OUT}", "--subquantizers"},
      {"quantize x.npy --type vq --centroids 0 -o {OUT}", "--centroids"},
      // sweep
      {"sweep x.npy --dims 0,2 --measure recall -o {OUT}", "--dims"},
      {"sweep x.npy --dims 2 --measure recall -k 0 -o {OUT}", "-k"},
      {"sweep x.npy --dims 2 --measure silhouette -o {OUT}", "--labels"},
      {"sweep x.npy --dims 2 --measure recall --labels labels.npy -o {OUT}", "--labels"},
      {"sweep x.npy --dims 2 --measure entropy -o {OUT}", "--measure"},
      // sae
      {"sae encode x.npy --weights sae --activation topk --k 0 -o {OUT}", "--k"},
      {"sae encode x.npy --weights sae --activation topk -o {OUT}", "--k"},
      {"sae encode x.npy --weights sae --activation relu --k 3 -o {OUT}", "--k"},
      {"sae encode x.npy --weights sae --activation jumprelu -o {OUT}", "--threshold"},
      {"sae stats x.npy --weights sae --activation topk --k 2 --threshold 1", "--threshold"},
      {"sae stats x.npy --weights sae --activation gelu", "--activation"},
      // whiten: --dim 0 is not "all" (omitting --dim is), for pca, zca and abtt
      {"whiten --fit x.npy --dim 0 -o {OUT}", "--dim"},
      {"whiten --fit x.npy --dim -2 -o {OUT}", "--dim"},
      {"whiten --fit x.npy --method zca --dim 0 -o {OUT}", "--dim"},
      {"whiten --fit x.npy --method zca --dim 2 -o {OUT}", "--dim"},
      {"whiten --fit x.npy --method abtt --dim 0 -o {OUT}", "--dim"},
      {"whiten --fit x.npy --alpha 0.5 -o {OUT}", "--alpha"},
      {"whiten --fit x.npy --shrinkage ridge --alpha 0 -o {OUT}", "--alpha"},
      {"whiten --fit x.npy --shrinkage ridge -o {OUT}", "--alpha"},
      {"whiten --fit x.npy --epsilon 1 -o {OUT}", "--epsilon"},
      {"whiten --fit x.npy --epsilon -0.1 -o {OUT}", "--epsilon"},
      {"whiten --fit x.npy --method abtt --epsilon 0.1 -o {OUT}", "--epsilon"},
      {"whiten --fit x.npy --method abtt --covariance sample -o {OUT}", "--covariance"},
      {"whiten --load model.bin --apply x.npy --dim 3 -o {OUT}", "--dim"},
      // hubness
      {"hubness x.npy -k 0 --metric l2", "-k"},
      {"hubness x.npy -k 3 --metric l2 --reduce mp --candidates 0", "--candidates"},
      {"hubness x.npy -k 3 --metric l2 --reduce mp --candidates -5", "--candidates"},
      {"hubness x.npy -k 3 --metric l2 --candidates 10", "--candidates"},
      // relative
      {"relative x.npy --anchors ids.npy --p 2 -o {OUT}", "--p"},
      {"relative x.npy --anchors ids.npy --similarity lp --p 0.5 -o {OUT}", "--p"},
      {"relative x.npy --anchors ids.npy --aggregate sum -o {OUT}", "--aggregate"},
      // align
      {"align --source x.npy --target y.npy --fit-ids ids.npy --alpha 2 -o {OUT}", "--alpha"},
      {"align --source x.npy --target y.npy --fit-ids ids.npy --method ridge --alpha 0 -o {OUT}", "--alpha"},
      {"align --source x.npy --target y.npy --fit-ids ids.npy --method ridge --alpha -1 -o {OUT}", "--alpha"},
      // compare
      {"compare x.npy y.npy --anchors ids.npy -k -3", "-k"},
      {"compare x.npy y.npy --anchors ids.npy --rows 1", "--rows"},
      {"compare x.npy y.npy --anchors ids.npy --rows 0", "--rows"},
      // report
      {"report x.npy -k -1 --html {OUT}", "-k"},
      {"report x.npy --candidates 0 --html {OUT}", "--candidates"},
      {"report x.npy --compare y.npy --n-anchors 0 --html {OUT}", "--n-anchors"},
      {"report x.npy --seed 3 --html {OUT}", "--seed"},
      {"report x.npy --compare y.npy --anchors ids.npy --seed 3 --html {OUT}", "--seed"},
      // quantize
      {"quantize x.npy --type f16 --range-quantile 0 -o {OUT}", "--range-quantile"},
      {"quantize x.npy --type int8 --range-quantile 0.5 -o {OUT}", "--range-quantile"},
      {"quantize x.npy --type int8 --range-quantile -0.1 -o {OUT}", "--range-quantile"},
      // eval
      {"eval --ids ids.npy --relevance labels.npy -k 0", "-k"},
      {"eval --ids ids.npy --relevance labels.npy -k -2", "-k"},
      // index search (the checks run before the index is read)
      {"index search x.npy --query x.npy -k 0 --ids {OUT}", "-k"},
      {"index search x.npy --query x.npy -k 3 --nprobe 0 --ids {OUT}", "--nprobe"},
      {"index search x.npy --query x.npy -k 3 --ef 0 --ids {OUT}", "--ef"},
  };
  for (const Case& c : cases) {
    std::string line = c.args;
    replace_all(line, "{OUT}", path("out/result.npy"));
    std::vector<std::string> args;
    std::istringstream split(line);
    for (std::string arg; split >> arg;)
      args.push_back(arg.size() > 4 && (arg.substr(arg.size() - 4) == ".npy" || arg.substr(arg.size() - 4) == ".bin") &&
                             fs::path(arg).is_relative()
                         ? path(arg)
                         : arg);
    SCOPED_TRACE("latent " + line);
    const Outcome o = run(args);
    EXPECT_EQ(o.status, 2) << o.err;
    EXPECT_EQ(o.out, "");
    ASSERT_FALSE(o.err.empty());
    EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << "not one line: " << o.err;
    EXPECT_CONTAINS(o.err, c.option);
    EXPECT_TRUE(fs::is_empty(path("out"))) << "left: " << fs::directory_iterator(path("out"))->path();
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(path("out"))) fs::remove_all(entry.path(), ignored);
  }
  std::cout << "meaningless numbers: " << cases.size() << " command lines\n";
}

// Resource bounds: the main operations run within the peak memory documented in
// the README (the tool's base address space, measured here, plus each
// operation's working set), enforced as an address-space limit (prlimit --as)
// sized from that table for [4000 x 64] inputs; 4 MB below the base each
// operation fails cleanly (status 1 from the tool, or the loader's 127 when a
// shared library cannot even be mapped; no signal, no output file).
// Sanitizer builds reserve terabytes of shadow memory, so the test only runs in
// plain builds.
TEST_F(CliBadInputs, MainOperationsRunWithinTheDocumentedMemory) {
#if defined(LATENT_TEST_ASAN) || defined(LATENT_TEST_TSAN)
  GTEST_SKIP() << "address-space limits do not apply under sanitizers";
#else
  if (std::system("prlimit --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "prlimit (util-linux) not found";
  const RowMatrixf x = testing::random_normal<float>(4000, 64, 31);
  const RowMatrixf y = testing::random_normal<float>(4000, 48, 32);
  write_npy(path("x4000.npy"), x);
  write_npy(path("y4000.npy"), y);
  std::vector<std::int64_t> anchors;
  for (std::int64_t i = 0; i < 4000; i += 40) anchors.push_back(i);
  write_npy(path("anchors.npy"), anchors);
  ::setenv("MALLOC_ARENA_MAX", "2", 1);  // glibc reserves 64 MB of address space per arena otherwise
  // The tool links FAISS and so OpenBLAS, which reserves buffers per thread when it
  // is loaded (and can hang there when the reservation fails); one OpenBLAS thread
  // keeps that reservation small. The tool's base then depends on the shared
  // libraries of this machine: measured as the smallest limit (4 MB steps) that
  // runs a kNN graph of 30 rows with 2 threads (thread stacks included). Each operation's budget is that
  // base plus its working set from the README's table (the table's figure minus
  // its 24 MB base).
  ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
  const auto run_limited = [&](int megabytes, const std::vector<std::string>& tool_args, bool signal_allowed = false) {
    std::vector<std::string> args = {"--as=" + std::to_string(std::int64_t{megabytes} << 20), LATENT_TOOL_PATH,
                                     "--threads", "2"};
    args.insert(args.end(), tool_args.begin(), tool_args.end());
    return run(args, "prlimit", signal_allowed);
  };
  const std::string out = path("out/result.npy");
  const std::vector<std::string> tiny_knn = {"knn", "--base", path("x.npy"), "-k", "3", "--metric", "l2", "--ids", out};
  // Below the base, the shared libraries do not all load; some of them (GnuTLS,
  // which Open MPI brings in) crash in their own initialisers, before main, when
  // an allocation fails there. The search only looks for the first limit that runs.
  int base_mb = 16;
  while (base_mb < 1024 && run_limited(base_mb, tiny_knn, true).status != 0) base_mb += 4;
  for (const auto& entry : fs::directory_iterator(path("out"))) fs::remove_all(entry.path());
  ASSERT_LT(base_mb, 1024) << "latent info does not start within 1 GB of address space";
  std::cout << "the tool's base: " << base_mb << " MB of address space\n";
  struct Operation {
    std::vector<std::string> args;
    int budget_mb;  ///< the README's figure for these inputs
  };
  const std::vector<Operation> operations = {
      {{"info", path("x4000.npy")}, 24},
      {{"knn", "--base", path("x4000.npy"), "-k", "10", "--metric", "cosine", "--ids", out}, 32},
      {{"whiten", "--fit", path("x4000.npy"), "-o", out}, 32},
      {{"isotropy", path("x4000.npy")}, 32},
      {{"hubness", path("x4000.npy"), "-k", "10", "--metric", "l2", "--reduce", "mp", "--ids", out}, 32},
      {{"relative", path("x4000.npy"), "--anchors", path("anchors.npy"), "-o", out}, 32},
      {{"align", "--source", path("x4000.npy"), "--target", path("y4000.npy"), "--fit-ids", path("anchors.npy"), "-o",
        out},
       40},
      {{"compare", path("x4000.npy"), path("y4000.npy"), "--anchors", path("anchors.npy"), "--rows", "4000"}, 64},
  };
  for (const Operation& operation : operations) {
    SCOPED_TRACE(operation.args.front());
    const int budget = base_mb + operation.budget_mb - 24;
    for (const int megabytes : {budget, base_mb - 4}) {
      const Outcome o = run_limited(megabytes, operation.args);
      if (megabytes == budget) {
        EXPECT_EQ(o.status, 0) << "within " << megabytes << " MB: " << o.err;
      } else {  // info may still fit; the others run out: cleanly, with nothing left behind
        EXPECT_TRUE(o.status == 1 || o.status == 127 || (o.status == 0 && operation.args.front() == "info"))
            << "within " << megabytes << " MB: status " << o.status << " " << o.err;
        if (o.status == 1) {
          EXPECT_TRUE(fs::is_empty(path("out"))) << "output left after a failure";
        }
      }
      for (const auto& entry : fs::directory_iterator(path("out"))) fs::remove_all(entry.path());
    }
  }
  ::unsetenv("MALLOC_ARENA_MAX");
  ::unsetenv("OPENBLAS_NUM_THREADS");
#endif
}

}  // namespace
}  // namespace latent
