// The bad-input matrix of the file readers and writers (issue 10): every reader x
// every bad file, each cell asserting IoError (or "ok") with a one-line message
// naming the file; the writers against unwritable targets and interrupted writes,
// asserting that no partial file (target or temporary) is left; and the fitted
// objects before fit (NotFitted).
//
// Adding a reader: one row in `readers()`. Adding a bad file: one entry in
// `bad_files()` (a name and a function writing it) and its expectation in the rows.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/core/parallel.hpp"
#include "latent/hubness.hpp"
#include "latent/metrics.hpp"
#include "latent/relative.hpp"
#include "latent/whitening.hpp"
#include "support/spawn_support.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

namespace fs = std::filesystem;
using testing::message_of;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}
std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

using testing::npy_v1_header;

class BadFiles : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    const RowMatrixf x = testing::random_normal<float>(20, 4, 5);
    write_npy(path("good.npy"), x);
    Whitening<float> whitening;
    whitening.fit(x);
    whitening.save(path("good.model"));
  }

  using Writer = std::function<void(const std::string& path)>;
  // The columns: each writes one bad file at the given path (or makes it a folder).
  std::map<std::string, Writer> bad_files() const {
    const std::string good_npy = read_bytes(path("good.npy"));
    const std::string good_model = read_bytes(path("good.model"));
    const std::string good_npz = read_bytes(std::string(LATENT_SOURCE_DIR) + "/tests/core/fixtures/stored.npz");
    return {
        {"missing", [](const std::string&) {}},
        {"directory", [](const std::string& p) { fs::create_directory(p); }},
        {"empty_file", [](const std::string& p) { write_bytes(p, ""); }},
        {"text", [](const std::string& p) { write_bytes(p, "hello, not a vector file\n"); }},
        {"npy_truncated", [=](const std::string& p) { write_bytes(p, good_npy.substr(0, good_npy.size() - 7)); }},
        {"npy_header_only", [=](const std::string& p) { write_bytes(p, good_npy.substr(0, 128)); }},
        {"npy_absurd_shape",
         [](const std::string& p) {
           write_bytes(p,
                       npy_v1_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }") +
                           std::string(16, '\0'));
         }},
        {"npy_overflowing_shape",
         [](const std::string& p) {
           write_bytes(p,
                       npy_v1_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }") +
                           std::string(16, '\0'));
         }},
        // Found by fuzz_npy_mmap: no data bound an empty array's rows, so a caller
        // looping or allocating per row hung or ran out of memory.
        {"npy_empty_absurd_rows",
         [](const std::string& p) {
           write_bytes(p,
                       npy_v1_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000000000, 0), }"));
         }},
        {"npy_negative_shape",
         [](const std::string& p) {
           write_bytes(p, npy_v1_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }"));
         }},
        {"npy_int64",
         [](const std::string& p) {
           write_npy(p, std::vector<std::int64_t>{1, 2, 3});
         }},
        {"npy_3d",
         [](const std::string& p) {
           write_bytes(p, npy_v1_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }") +
                              std::string(16, '\0'));
         }},
        // Converted on read (transposed to C order); MappedNpy cannot map it.
        {"npy_fortran",
         [](const std::string& p) {
           write_bytes(
               p, npy_v1_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }") + std::string(16, '\0'));
         }},
        {"npz_truncated", [=](const std::string& p) { write_bytes(p, good_npz.substr(0, good_npz.size() / 2)); }},
        {"npz_crc_mismatch",
         [=](const std::string& p) {
           std::string bytes = good_npz;
           const float value = 23.5f;  // x[2][3] of the fixture, inside member x.npy's data
           const std::size_t at = bytes.find(std::string(reinterpret_cast<const char*>(&value), 4));
           bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
           write_bytes(p, bytes);
         }},
        {"npy_object",
         [](const std::string& p) {
           write_bytes(
               p, npy_v1_header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }") + std::string(16, '\0'));
         }},
        {"vecs_absurd_dim",
         [](const std::string& p) { write_bytes(p, std::string("\xff\xff\xff\x7f\x01\x02\x03\x04", 8)); }},
        {"vecs_truncated_record",
         [](const std::string& p) { write_bytes(p, std::string("\x04\x00\x00\x00\x01\x02", 6)); }},
        {"model_truncated", [=](const std::string& p) { write_bytes(p, good_model.substr(0, good_model.size() / 2)); }},
        {"model_bit_flip",
         [=](const std::string& p) {
           std::string bytes = good_model;
           bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
           write_bytes(p, bytes);
         }},
        {"model_other_kind",
         [](const std::string& p) {
           ModelWriter writer("some-other-kind", 1);
           writer.put("x", std::int64_t{1});
           writer.save(p);
         }},
        {"model_future_version",
         [](const std::string& p) {
           ModelWriter writer("whitening", 999);
           writer.put("x", std::int64_t{1});
           writer.save(p);
         }},
        {"model_missing_fields",
         [](const std::string& p) {
           ModelWriter writer("whitening", 1);
           writer.put("unrelated", std::int64_t{1});
           writer.save(p);
         }},
    };
  }
};

struct Reader {
  std::string name;
  std::function<void(const std::string&)> read;
  std::string expected;  ///< "column=Outcome ..."; unlisted columns expect IoError
};

std::vector<Reader> readers() {
  return {
      {"read_npy_header", [](const std::string& p) { (void)read_npy_header(p); },
       "npy_int64=ok npy_3d=ok npy_fortran=ok"},
      {"read_npy", [](const std::string& p) { (void)read_npy(p); }, "npy_int64=ok npy_3d=ok npy_fortran=ok"},
      {"read_npy_matrix<float>", [](const std::string& p) { (void)read_npy_matrix<float>(p); }, "npy_fortran=ok"},
      {"open_array", [](const std::string& p) { (void)open_array(p); }, "npy_int64=ok npy_3d=ok npy_fortran=ok"},
      // The same files named as archives (a link FILE.npz to each): every member read.
      {"open_array(.npz)",
       [](const std::string& p) {
         fs::create_symlink(p, p + ".npz");
         for (const ArrayInfo& info : list_arrays(p + ".npz")) (void)open_array(p + ".npz:" + info.name);
       },
       ""},
      {"read_npy_vector<int64>", [](const std::string& p) { (void)read_npy_vector<std::int64_t>(p); }, "npy_int64=ok"},
      {"MappedNpy<float>", [](const std::string& p) { (void)MappedNpy(p).view<float>(); }, ""},
      {"read_fvecs", [](const std::string& p) { (void)read_fvecs(p); }, "empty_file=ok"},
      {"read_ivecs", [](const std::string& p) { (void)read_ivecs(p); }, "empty_file=ok"},
      {"read_bvecs", [](const std::string& p) { (void)read_bvecs(p); }, "empty_file=ok"},
      {"ModelReader", [](const std::string& p) { (void)ModelReader(p, "whitening", 1); }, "model_missing_fields=ok"},
      {"Whitening::load", [](const std::string& p) { (void)Whitening<float>::load(p); }, ""},
      {"AllButTheTop::load", [](const std::string& p) { (void)AllButTheTop<float>::load(p); }, ""},
      {"Centering::load", [](const std::string& p) { (void)Centering<float>::load(p); }, ""},
      {"Standardizer::load", [](const std::string& p) { (void)Standardizer<float>::load(p); }, ""},
      {"FNorm::load", [](const std::string& p) { (void)FNorm<float>::load(p); }, ""},
      {"HubnessReducer::load", [](const std::string& p) { (void)HubnessReducer::load(p); }, ""},
      {"RelativeProjection::load", [](const std::string& p) { (void)RelativeProjection<float>::load(p); }, ""},
      {"LatentTranslator::load", [](const std::string& p) { (void)LatentTranslator<float>::load(p); }, ""},
  };
}

TEST_F(BadFiles, EveryReaderEveryBadFile) {
  const auto files = bad_files();
  int cells = 0;
  for (const Reader& reader : readers()) {
    std::map<std::string, std::string> expected;
    std::istringstream words(reader.expected);
    for (std::string word; words >> word;) expected[word.substr(0, word.find('='))] = word.substr(word.find('=') + 1);
    for (const auto& [column, write] : files) {
      const std::string file = path("case-" + std::to_string(cells++));
      write(file);
      const std::string want = expected.count(column) != 0 ? expected[column] : "IoError";
      SCOPED_TRACE(reader.name + " x " + column);
      std::string got = "ok", message;
      try {
        reader.read(file);
      } catch (const IoError& e) {
        got = "IoError";
        message = e.what();
      } catch (const std::exception& e) {
        got = std::string("other: ") + e.what();
      }
      EXPECT_EQ(got, want);
      if (got == "IoError") {
        EXPECT_CONTAINS(message, file);
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      }
    }
  }
  std::cout << "bad-file matrix: " << cells << " cells over " << readers().size() << " readers\n";
}

// ------------------------------------------------------------------ writers

using Save = std::function<void(const std::string& path)>;

std::vector<std::pair<std::string, Save>> writers() {
  static const RowMatrixf x = testing::random_normal<float>(300, 16, 6);
  return {
      {"write_npy", [](const std::string& p) { write_npy(p, x); }},
      {"write_fvecs", [](const std::string& p) { write_fvecs(p, MatrixView<float>(x)); }},
      {"Whitening::save",
       [](const std::string& p) {
         Whitening<float> model;
         model.fit(x);
         model.save(p);
       }},
      {"RelativeProjection::save",
       [](const std::string& p) {
         RelativeProjection<float> projection;
         projection.fit(x, std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
         projection.save(p);
       }},
  };
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) names.push_back(entry.path().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(BadFiles, UnwritableOutputsLeaveNoPartialFile) {
  for (const auto& writer : writers()) {
    const std::string& name = writer.first;  // (lambdas cannot capture structured bindings in C++17)
    const Save& save = writer.second;
    SCOPED_TRACE(name);
    const auto before = listing(dir_);
    const std::string missing_dir = path("no-such-folder/out.bin");
    EXPECT_CONTAINS(message_of<IoError>([&] { save(missing_dir); }), "no-such-folder");
    fs::create_directory(path("a-directory"));
    EXPECT_CONTAINS(message_of<IoError>([&] { save(path("a-directory")); }), "a-directory");
    fs::remove(path("a-directory"));
    EXPECT_EQ(listing(dir_), before) << "a partial or temporary file was left";
  }
}

// An interrupted write: the file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored)
// makes write() fail part-way, as a full disk would. The writer must raise
// IoError and leave neither the target nor its temporary file, and an existing
// target must keep its old content.
TEST_F(BadFiles, InterruptedWriteLeavesNoPartialFile) {
  for (const auto& writer : writers()) {
    const std::string& name = writer.first;  // (lambdas cannot capture structured bindings in C++17)
    const Save& save = writer.second;
    SCOPED_TRACE(name);
    write_bytes(path("kept.bin"), "old content");
    const auto before = listing(dir_);
    rlimit old_limit{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    rlimit small = old_limit;
    small.rlim_cur = 1000;  // bytes: the outputs are larger
    auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    std::string fresh, kept;
    try {
      fresh = message_of<IoError>([&] { save(path("fresh.bin")); });
      kept = message_of<IoError>([&] { save(path("kept.bin")); });
    } catch (...) {
    }
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    ::signal(SIGXFSZ, old_handler);
    EXPECT_CONTAINS(fresh, "fresh.bin");
    EXPECT_CONTAINS(kept, "kept.bin");
    EXPECT_EQ(listing(dir_), before) << "a partial or temporary file was left";
    EXPECT_EQ(read_bytes(path("kept.bin")), "old content");
  }
}

// ------------------------------------------------------------------ state and options

TEST(BadState, FittedObjectsBeforeFitThrowNotFitted) {
  const RowMatrixf x = testing::random_normal<float>(5, 3, 1);
  EXPECT_CONTAINS(message_of<NotFitted>([&] { (void)Whitening<float>().transform(x); }), "Whitening");
  EXPECT_CONTAINS(message_of<NotFitted>([&] { (void)AllButTheTop<float>().transform(x); }), "AllButTheTop");
  EXPECT_CONTAINS(message_of<NotFitted>([&] { (void)Centering<float>().transform(x); }), "Centering");
  EXPECT_CONTAINS(message_of<NotFitted>([&] { (void)Standardizer<float>().transform(x); }), "Standardizer");
  EXPECT_CONTAINS(message_of<NotFitted>([&] { (void)FNorm<float>().transform(x); }), "FNorm");
  EXPECT_CONTAINS(message_of<NotFitted>([&] { (void)RelativeProjection<float>().transform(x); }), "RelativeProjection");
  EXPECT_CONTAINS(message_of<NotFitted>([&] { (void)LatentTranslator<float>().transform(x); }), "LatentTranslator");
  DistanceGraph graph;
  EXPECT_CONTAINS(message_of<NotFitted>([&] { (void)HubnessReducer().transform(graph); }), "HubnessReducer");
  EXPECT_CONTAINS(message_of<NotFitted>([&] { Whitening<float>().save("/nonexistent/x"); }), "Whitening");
}

TEST(BadState, GraphsAndLabels) {
  IdMatrix ids(2, 2);
  ids << 0, 5, 1, 2;
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { (void)k_occurrence(ids, 3); }), "k_occurrence");
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { (void)knn_predict(ids, {0, 1, 0}); }), "knn_predict");
  ids << 0, 1, 1, 2;
  EXPECT_CONTAINS(message_of<InvalidK>([&] { (void)knn_predict(ids, {0, 1, 0}, 3); }), "k");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { (void)knn_accuracy(ids, {0, 1, 0}, {1}); }), "knn_accuracy");
  EXPECT_CONTAINS(message_of<DimensionMismatch>([&] { (void)loo_knn_accuracy(ids, {0, 1, 0}); }), "loo_knn_accuracy");
  const RowMatrixf x = testing::random_normal<float>(30, 4, 2);
  const DistanceGraph graph = exact_candidate_graph(x, 6, Metric::l2);
  EXPECT_CONTAINS(message_of<InvalidK>([&] { (void)keep_top(graph, 7); }), "keep_top");
  HubnessReducer reducer;
  reducer.fit(graph);
  DistanceGraph foreign = graph;
  foreign.ids(0, 0) = 30;  // outside the fitted set
  EXPECT_CONTAINS(message_of<InvalidArgument>([&] { (void)reducer.transform(foreign); }), "HubnessReducer");
  DistanceGraph nan_graph = graph;
  nan_graph.distances(29, 5) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_CONTAINS(message_of<NonFiniteValue>([&] { (void)reducer.transform(nan_graph); }), "HubnessReducer");
}

TEST(BadState, ThreadOptions) {
  EXPECT_CONTAINS(message_of<InvalidArgument>([] { (void)resolve_threads(Parallel{-1}); }), "threads");
  const char* old = std::getenv("LATENT_NUM_THREADS");
  const std::string saved = old != nullptr ? old : "";
  for (const char* bad : {"zero", "0", "-3", "2x", "99999999999999999999"}) {
    ::setenv("LATENT_NUM_THREADS", bad, 1);
    EXPECT_CONTAINS(message_of<InvalidArgument>([] { (void)default_threads(); }), "LATENT_NUM_THREADS");
  }
  if (old != nullptr) {
    ::setenv("LATENT_NUM_THREADS", saved.c_str(), 1);
  } else {
    ::unsetenv("LATENT_NUM_THREADS");
  }
}

}  // namespace
}  // namespace latent
