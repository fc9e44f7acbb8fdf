// Golden exact k-NN (../shared/golden/knn.json, knn/*.npy, README section 4):
// 100 Fashion-MNIST test images against the 60,000 training images, k = 10, for
// ip, l2, sqeuclidean and cosine. The ids must be identical in all 100 rows for
// every ISA; float scores within the kit's tolerances (1e-5 relative for ip and
// cosine, 1e-4 for l2 and its square). The inputs come from the fixture
// golden.fmnist_rows (Debian's dataset-fashion-mnist); without them the test is
// skipped.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "latent/core/io.hpp"
#include "latent/kernels/isa.hpp"
#include "latent/similarity.hpp"
#include "support/sanitizers.hpp"

namespace latent {
namespace {

const std::string kGolden = LATENT_GOLDEN_DIR;
const std::string kRows = LATENT_FMNIST_ROWS_DIR;

class GoldenKnn : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(kRows + "/train.npy") || !std::filesystem::exists(kGolden + "/knn/ids_ip.npy")) return;
    queries_ = new RowMatrixf(read_npy_matrix<float>(kRows + "/knn_queries.npy"));
    train_ = new RowMatrixf(read_npy_matrix<float>(kRows + "/train.npy"));
  }
  static void TearDownTestSuite() {
    delete queries_;
    delete train_;
    queries_ = train_ = nullptr;
  }
  void SetUp() override {
    if (queries_ == nullptr) GTEST_SKIP() << "golden Fashion-MNIST rows not available (fixture golden.fmnist_rows)";
  }

  static void check(Metric metric, const std::string& name, double relative_tolerance) {
    const IdMatrix expected_ids =
        read_npy_matrix<std::int64_t>(kGolden + "/knn/ids_" + (name == "sqeuclidean" ? "l2" : name) + ".npy");
    const RowMatrixd expected_scores = read_npy_matrix<double>(kGolden + "/knn/scores_" + name + ".npy");
    ASSERT_EQ(expected_ids.rows(), 100);
    ASSERT_EQ(expected_ids.cols(), 10);
    std::vector<kernels::Isa> isas;
#ifdef LATENT_TEST_ASAN
    isas.push_back(kernels::active_isa());  // the sanitizer build checks memory, not every ISA
#else
    for (const kernels::Isa isa : {kernels::Isa::scalar, kernels::Isa::avx2, kernels::Isa::avx512})
      if (kernels::is_supported(isa)) isas.push_back(isa);
#endif
    for (const kernels::Isa isa : isas) {
      kernels::ScopedIsa scoped(isa);
      const KnnGraph graph = knn(*queries_, *train_, 10, metric);
      int identical_rows = 0;
      for (int i = 0; i < 100; ++i) {
        bool same = true;
        for (int r = 0; r < 10; ++r) {
          same = same && graph.ids(i, r) == expected_ids(i, r);
          const double expected = expected_scores(i, r);
          EXPECT_NEAR(graph.scores(i, r), expected, relative_tolerance * std::fabs(expected))
              << name << " " << kernels::to_string(isa) << " query " << i << " rank " << r;
        }
        identical_rows += same ? 1 : 0;
      }
      EXPECT_EQ(identical_rows, 100) << name << " " << kernels::to_string(isa);
    }
  }

  static RowMatrixf* queries_;
  static RowMatrixf* train_;
};

RowMatrixf* GoldenKnn::queries_ = nullptr;
RowMatrixf* GoldenKnn::train_ = nullptr;

TEST_F(GoldenKnn, InnerProduct) { check(Metric::ip, "ip", 1e-5); }
TEST_F(GoldenKnn, Euclidean) { check(Metric::l2, "l2", 1e-4); }
TEST_F(GoldenKnn, SquaredEuclidean) { check(Metric::sqeuclidean, "sqeuclidean", 1e-4); }
TEST_F(GoldenKnn, Cosine) { check(Metric::cosine, "cosine", 1e-5); }

}  // namespace
}  // namespace latent
