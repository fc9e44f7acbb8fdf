// Hubness measures against their definitions (DESIGN.md section 5): a regular
// graph has no hubness, the O(n log n) Gini equals the O(n^2) double sum, and
// hand-counted hubs, antihubs and the Atkinson index.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "latent/core/errors.hpp"
#include "latent/hubness.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

TEST(HubnessMeasures, RegularGraphHasNoHubness) {
  // Row i lists i+1, ..., i+k (mod n): every point occurs exactly k times.
  const std::int64_t n = 97, k = 7;
  IdMatrix ids(n, k);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t p = 0; p < k; ++p) ids(i, p) = (i + p + 1) % n;
  const HubnessMeasures m = hubness_measures(ids, n);
  EXPECT_EQ(m.k_skewness, 0.0);
  EXPECT_EQ(m.robinhood, 0.0);
  EXPECT_EQ(m.gini, 0.0);
  EXPECT_NEAR(m.atkinson, 0.0, 1e-14);  // sqrt(k)^2 / k rounds
  EXPECT_EQ(m.antihub_occurrence, 0.0);
  EXPECT_EQ(m.hub_occurrence, 0.0);
  EXPECT_EQ(m.k_occurrence_max, k);
  EXPECT_DOUBLE_EQ(m.groupie_ratio, 1.0 / static_cast<double>(n));
}

TEST(HubnessMeasures, GiniBySortingEqualsTheDoubleSum) {
  std::mt19937_64 rng(7);
  for (const std::int64_t n : {1, 2, 5, 64, 501}) {
    std::vector<std::int64_t> occurrence(static_cast<std::size_t>(n));
    std::geometric_distribution<std::int64_t> draw(0.08);
    std::int64_t total = 0;
    for (auto& v : occurrence) total += (v = draw(rng));
    if (total == 0) occurrence[0] = total = 3;
    double pairs = 0;
    for (const std::int64_t a : occurrence)
      for (const std::int64_t b : occurrence) pairs += static_cast<double>(std::abs(a - b));
    const double expected = pairs / (2.0 * static_cast<double>(n) * static_cast<double>(total));
    EXPECT_NEAR(hubness_measures(occurrence, 10).gini, expected, 1e-14) << "n=" << n;
  }
}

TEST(HubnessMeasures, HandCountedExample) {
  // N = (0, 0, 1, 2, 9, 8): S = 20, n = 6, mean 10/3, k = 4 -> hubs N >= 8.
  const std::vector<std::int64_t> n_k = {0, 0, 1, 2, 9, 8};
  const HubnessMeasures m = hubness_measures(n_k, 4);
  EXPECT_EQ(m.n_antihubs, 2);
  EXPECT_EQ(m.n_hubs, 2);
  EXPECT_DOUBLE_EQ(m.antihub_occurrence, 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(m.hub_occurrence, 17.0 / 20.0);
  EXPECT_DOUBLE_EQ(m.groupie_ratio, 9.0 / 20.0);
  const double mean = 20.0 / 6.0;
  double absolute = 0, m2 = 0, m3 = 0, roots = 0;
  for (const auto v : n_k) {
    const double dev = static_cast<double>(v) - mean;
    absolute += std::abs(dev);
    m2 += dev * dev / 6.0;
    m3 += dev * dev * dev / 6.0;
    roots += std::sqrt(static_cast<double>(v)) / 6.0;
  }
  EXPECT_NEAR(m.robinhood, 0.5 * absolute / 20.0, 1e-15);
  EXPECT_NEAR(m.k_skewness, m3 / std::pow(m2, 1.5), 1e-14);
  EXPECT_NEAR(m.atkinson, 1.0 - roots * roots / mean, 1e-14);
  // eps = 1: the geometric mean, 0 with an antihub -> Atkinson 1.
  EXPECT_EQ(hubness_measures(n_k, 4, HubnessOptions{2.0, 1.0}).atkinson, 1.0);
  const std::vector<std::int64_t> positive = {1, 2, 4};
  EXPECT_NEAR(hubness_measures(positive, 4, HubnessOptions{2.0, 1.0}).atkinson, 1.0 - 2.0 / (7.0 / 3.0), 1e-15);
  // hub_size 1: N >= 4 are hubs.
  EXPECT_EQ(hubness_measures(n_k, 4, HubnessOptions{1.0, 0.5}).n_hubs, 2);
  EXPECT_EQ(hubness_measures(n_k, 2, HubnessOptions{1.0, 0.5}).n_hubs, 3);
}

TEST(HubnessMeasures, SelectHubsKeepsTheIdsAtOrAboveTheThreshold) {
  const std::vector<std::int64_t> occurrence = {0, 4, 2, 7, 4, 1};
  EXPECT_EQ(select_hubs(occurrence, 4), (std::vector<std::int64_t>{1, 3, 4}));
  EXPECT_EQ(select_hubs(occurrence, 8), (std::vector<std::int64_t>{}));
  EXPECT_EQ(select_hubs(occurrence, 1).size(), 5u);
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([] { select_hubs({1, 2}, 0); }), "threshold");
}

TEST(HubnessMeasures, KOccurrenceSkipsMissingAndChecksIds) {
  IdMatrix ids(3, 2);
  ids << 1, 2, 0, -1, 1, 0;
  const std::vector<std::int64_t> expected = {2, 2, 1};
  EXPECT_EQ(k_occurrence(ids, 3), expected);
  ids(1, 1) = 3;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { k_occurrence(ids, 3); }), "id 3");
}

TEST(HubnessMeasures, Errors) {
  EXPECT_CONTAINS(testing::message_of<EmptyInput>([] { hubness_measures(std::vector<std::int64_t>{}, 3); }),
                  "occurrence");
  EXPECT_CONTAINS(testing::message_of<InvalidK>([] { hubness_measures(std::vector<std::int64_t>{1, 2}, 0); }), "k=0");
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>(
                      [] { hubness_measures(std::vector<std::int64_t>{1, 2}, 2, HubnessOptions{0.0, 0.5}); }),
                  "hub_size");
  KnnGraph graph;
  graph.ids = IdMatrix::Zero(2, 1);
  graph.self_excluded = false;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { hubness_measures(graph); }), "self-excluded");
  EXPECT_CONTAINS(testing::message_of<EmptyInput>([] { hubness_measures(IdMatrix(0, 3), 5); }), "ids");
}

}  // namespace
}  // namespace latent
