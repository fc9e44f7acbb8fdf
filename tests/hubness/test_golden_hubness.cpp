// Golden hubness values (../shared/golden/hubness.json and hubness/*.npy, golden
// README section 5): pixels (Fashion-MNIST test images 6000..7999, from the
// fixture golden.fmnist_rows; skipped without it) and encA (inputs/encA.npy),
// metrics l2 and cosine, k = 10. Primary distances are computed in double with
// the kit's direct formulas, so every list must be identical to the kit's
// (README 5.6), the measures equal to 1e-12 and knn_accuracy exact, in the exact
// setting (all 1999 other points are candidates) and with 50 candidates.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "hubness/hubness_test_support.hpp"
#include "latent/core/io.hpp"
#include "latent/hubness.hpp"
#include "latent/metrics.hpp"

namespace latent {
namespace {

const std::string kGolden = LATENT_GOLDEN_DIR;
const std::string kRows = LATENT_FMNIST_ROWS_DIR;
constexpr std::int64_t kK = 10;
const char* const kMethods[] = {"mp", "mp-normal", "ls", "nicdm", "dsl", "csls"};

struct Config {
  std::string data, metric;
};
void PrintTo(const Config& config, std::ostream* os) { *os << config.data << "/" << config.metric; }
std::string config_name(const ::testing::TestParamInfo<Config>& info) {
  return info.param.data + "_" + info.param.metric;
}

struct Prepared {
  RowMatrixf x;
  std::vector<std::int64_t> labels;
  DistanceGraph complete, candidates50;
  nlohmann::json golden;  // results.<data>.<metric>
  IdMatrix lists_exact, lists_c50;  // [7 * 2000, 10] and [6 * 2000, 10]
  RowMatrixd stats;                 // [8, 2000]
};

const nlohmann::json& golden_json() {
  static const nlohmann::json json = [] {
    std::ifstream in(kGolden + "/hubness.json");
    return nlohmann::json::parse(in);
  }();
  return json;
}

// Cached per configuration: the distances of pixels take a second to compute
// (ten under AddressSanitizer).
const Prepared* prepare(const Config& config) {
  static std::map<std::string, std::unique_ptr<Prepared>> cache;
  const std::string key = config.data + "/" + config.metric;
  if (auto it = cache.find(key); it != cache.end()) return it->second.get();
  const std::string x_path = config.data == "pixels" ? kRows + "/pixels.npy" : kGolden + "/inputs/encA.npy";
  const std::string y_path = config.data == "pixels" ? kRows + "/pixels_labels.npy" : kGolden + "/inputs/enc_labels.npy";
  if (!std::filesystem::exists(x_path) || !std::filesystem::exists(kGolden + "/hubness.json")) return nullptr;
  auto p = std::make_unique<Prepared>();
  p->x = read_npy_matrix<float>(x_path);
  p->labels = read_npy_vector<std::int64_t>(y_path);
  const Metric metric = parse_metric(config.metric);
  const RowMatrixd d = testing::dense_distances(p->x, metric);
  p->complete = testing::graph_from_dense(d, d.rows() - 1, metric);
  p->candidates50 = keep_top(p->complete, 50);
  p->golden = golden_json()["results"][config.data][config.metric];
  const std::string stem = kGolden + "/hubness/" + config.data + "_" + config.metric;
  const NpyArray exact = read_npy(stem + "_knn_exact.npy");
  const NpyArray c50 = read_npy(stem + "_knn_candidates50.npy");
  p->lists_exact = Eigen::Map<const IdMatrix>(reinterpret_cast<const std::int64_t*>(exact.bytes.data()), 7 * 2000, kK);
  p->lists_c50 = Eigen::Map<const IdMatrix>(reinterpret_cast<const std::int64_t*>(c50.bytes.data()), 6 * 2000, kK);
  p->stats = read_npy_matrix<double>(stem + "_point_stats.npy");
  return (cache[key] = std::move(p)).get();
}

void expect_measures(const HubnessMeasures& m, double accuracy, const nlohmann::json& golden, const std::string& what) {
  SCOPED_TRACE(what);
  constexpr double kTol = 1e-12;
  EXPECT_NEAR(m.k_skewness, golden["k_skewness"].get<double>(), kTol);
  EXPECT_NEAR(m.robinhood, golden["robinhood"].get<double>(), kTol);
  EXPECT_NEAR(m.antihub_occurrence, golden["antihub_occurrence"].get<double>(), kTol);
  EXPECT_NEAR(m.hub_occurrence, golden["hub_occurrence"].get<double>(), kTol);
  EXPECT_NEAR(m.gini, golden["gini"].get<double>(), kTol);
  EXPECT_NEAR(m.atkinson, golden["atkinson"].get<double>(), kTol);
  EXPECT_NEAR(m.groupie_ratio, golden["groupie_ratio"].get<double>(), kTol);
  EXPECT_EQ(m.n_hubs, golden["n_hubs"].get<std::int64_t>());
  EXPECT_EQ(m.n_antihubs, golden["n_antihubs"].get<std::int64_t>());
  EXPECT_EQ(m.k_occurrence_max, golden["k_occurrence_max"].get<std::int64_t>());
  EXPECT_EQ(accuracy, golden["knn_accuracy"].get<double>());
}

class GoldenHubness : public ::testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    prepared_ = prepare(GetParam());
    if (prepared_ == nullptr) GTEST_SKIP() << "golden inputs not available (fixture golden.fmnist_rows)";
  }

  // Reduces `candidates` with `method` and checks lists (block `block` of
  // `lists`), measures and accuracy against `golden`.
  // Returns the fitted reducer.
  HubnessReducer check_method(const std::string& method, const DistanceGraph& candidates, const IdMatrix& lists,
                              std::int64_t block, const nlohmann::json& golden, const std::string& setting) {
    const Prepared& p = *prepared_;
    ReductionOptions options;
    options.method = parse_reduction(method);
    HubnessReducer reducer(options);
    const DistanceGraph reduced = reducer.fit_transform(candidates, p.x, kK);
    const IdMatrix expected = lists.middleRows(block * 2000, 2000);
    EXPECT_EQ(testing::identical_rows(reduced.ids, expected), 2000) << method << " " << setting;
    expect_measures(hubness_measures(reduced.ids, 2000), loo_knn_accuracy(reduced.ids, p.labels), golden,
                    method + " " + setting);
    return reducer;
  }

  // The checks, one configuration at a time (a test process computes the
  // distances of its configuration once).
  void before_reduction();
  void exact_setting();
  void candidates50_setting();
  void point_statistics();

  const Prepared* prepared_ = nullptr;
};

void GoldenHubness::before_reduction() {
  const Prepared& p = *prepared_;
  const DistanceGraph top = keep_top(p.complete, kK);
  EXPECT_EQ(testing::identical_rows(top.ids, p.lists_exact.topRows(2000)), 2000);
  // Measures from the kit's own lists, and from ours.
  expect_measures(hubness_measures(IdMatrix(p.lists_exact.topRows(2000)), 2000),
                  loo_knn_accuracy(p.lists_exact.topRows(2000), p.labels), p.golden["before"], "golden lists");
  expect_measures(hubness_measures(top.ids, 2000), loo_knn_accuracy(top.ids, p.labels), p.golden["before"], "ours");
}

void GoldenHubness::exact_setting() {
  for (std::int64_t m = 0; m < 6; ++m) {
    const HubnessReducer reducer = check_method(kMethods[m], prepared_->complete, prepared_->lists_exact, m + 1,
                                                prepared_->golden["methods"][kMethods[m]]["exact"], "exact");
    if (m != 0) continue;
    // MP empiric over all n: the counts c(x, y) of the first 20 points
    // (mp_counts_first20.npy), read back from all keys 1 - c / n. As outside
    // queries, each point lists itself first at distance 0, which changes no
    // count (it is never farther from anything).
    ASSERT_TRUE(reducer.exact_over_all());
    DistanceGraph first;
    first.ids.resize(20, 2000);
    first.distances.resize(20, 2000);
    first.metric = prepared_->complete.metric;
    for (std::int64_t x = 0; x < 20; ++x) {
      first.ids(x, 0) = x;
      first.distances(x, 0) = 0.0;
      first.ids.block(x, 1, 1, 1999) = prepared_->complete.ids.row(x);
      first.distances.block(x, 1, 1, 1999) = prepared_->complete.distances.row(x);
    }
    const DistanceGraph all = reducer.transform(first);
    const std::string stem = kGolden + "/hubness/" + GetParam().data + "_" + GetParam().metric;
    const RowMatrix<std::int32_t> counts = read_npy_matrix<std::int32_t>(stem + "_mp_counts_first20.npy");
    std::int64_t mismatches = 0;
    for (std::int64_t x = 0; x < 20; ++x) {
      for (std::int64_t q = 0; q < all.k(); ++q) {
        if (all.ids(x, q) == x) continue;  // the point itself: not a pair (the kit stores 0)
        const double c = std::round((1.0 - all.distances(x, q)) * 2000.0);
        mismatches += c == counts(x, all.ids(x, q)) ? 0 : 1;
      }
    }
    EXPECT_EQ(mismatches, 0);
  }
}

void GoldenHubness::candidates50_setting() {
  for (std::int64_t m = 0; m < 6; ++m) {
    check_method(kMethods[m], prepared_->candidates50, prepared_->lists_c50, m,
                 prepared_->golden["methods"][kMethods[m]]["candidates50"]["own"], "candidates50");
  }
}

// The per-point statistics (point_stats.npy rows) to 1e-12 relative.
void GoldenHubness::point_statistics() {
  const Prepared& p = *prepared_;
  const auto fitted = [&](Reduction method, const DistanceGraph& g) {
    ReductionOptions options;
    options.method = method;
    HubnessReducer reducer(options);
    reducer.fit(g, p.x);
    return reducer;
  };
  const auto expect_row = [&](const std::vector<double>& ours, std::int64_t row, const char* name) {
    ASSERT_EQ(static_cast<std::int64_t>(ours.size()), 2000) << name;
    double worst = 0;
    for (std::int64_t i = 0; i < 2000; ++i) {
      const double expected = p.stats(row, i);
      worst = std::max(worst, std::abs(ours[static_cast<std::size_t>(i)] - expected) / std::max(std::abs(expected), 1e-300));
    }
    EXPECT_LT(worst, 1e-12) << name;
  };
  const HubnessReducer mpn = fitted(Reduction::mutual_proximity_normal, p.complete);
  expect_row(mpn.point_statistic(), 0, "mpn_mu");
  expect_row(mpn.point_spread(), 1, "mpn_sd");
  expect_row(fitted(Reduction::local_scaling, p.complete).point_statistic(), 2, "ls_sigma");
  expect_row(fitted(Reduction::nicdm, p.complete).point_statistic(), 3, "nicdm_mu");
  expect_row(fitted(Reduction::dis_sim_local, p.complete).point_statistic(), 4, "dsl_r");
  expect_row(fitted(Reduction::csls, p.complete).point_statistic(), 5, "csls_r");
  const HubnessReducer mpn50 = fitted(Reduction::mutual_proximity_normal, p.candidates50);
  expect_row(mpn50.point_statistic(), 6, "cand50_mpn_mu");
  expect_row(mpn50.point_spread(), 7, "cand50_mpn_sd");
}

TEST_P(GoldenHubness, ReproducesTheKit) {
  {
    SCOPED_TRACE("before reduction");
    before_reduction();
  }
  {
    SCOPED_TRACE("exact setting");
    exact_setting();
  }
  {
    SCOPED_TRACE("50 candidates");
    candidates50_setting();
  }
  {
    SCOPED_TRACE("per-point statistics");
    point_statistics();
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenHubness,
                         ::testing::Values(Config{"encA", "l2"}, Config{"encA", "cosine"}, Config{"pixels", "l2"},
                                           Config{"pixels", "cosine"}),
                         config_name);

}  // namespace
}  // namespace latent
