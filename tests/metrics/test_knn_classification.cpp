// k-NN classification: majority vote, ties to the class of the nearest tied
// neighbour, missing neighbours (-1) do not vote; leave-one-out accuracy; errors.
#include <gtest/gtest.h>

#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

TEST(KnnClassification, MajorityAndNearestTiedNeighbour) {
  const std::vector<std::int64_t> labels = {0, 1, 1, 2, 2, 0};
  IdMatrix ids(4, 4);
  ids << 1, 2, 3, 0,   // 1 1 2 0: majority 1
      3, 0, 5, 1,      // 2 0 0 1: majority 0
      0, 3, 4, 5,      // 0 2 2 0: tie 0/2, nearest tied is 0 -> 0
      3, 1, -1, 0;     // 2 1 _ 0: three-way tie, nearest is 2
  const std::vector<std::int64_t> expected = {1, 0, 0, 2};
  EXPECT_EQ(knn_predict(ids, labels), expected);
  // k = 1: the nearest neighbour's class.
  const std::vector<std::int64_t> nearest = {1, 2, 0, 2};
  EXPECT_EQ(knn_predict(ids, labels, 1), nearest);
  // Identical for any thread count.
  EXPECT_EQ(knn_predict(ids, labels, 0, Parallel{3}), expected);
  EXPECT_DOUBLE_EQ(knn_accuracy(ids, labels, {1, 1, 0, 2}), 0.75);
  IdMatrix none(1, 2);
  none << -1, -1;
  EXPECT_EQ(knn_predict(none, labels)[0], -1);
}

TEST(KnnClassification, LeaveOneOut) {
  // Two clusters of three points each, each listing its two cluster mates.
  const std::vector<std::int64_t> labels = {4, 4, 4, 7, 7, 9};
  IdMatrix ids(6, 2);
  ids << 1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 3, 4;
  // Row 5 (label 9) is predicted 7; row 3: labels 7, 9 tie -> nearest (4 -> 7).
  EXPECT_DOUBLE_EQ(loo_knn_accuracy(ids, labels), 5.0 / 6.0);
}

TEST(KnnClassification, Errors) {
  const std::vector<std::int64_t> labels = {0, 1};
  IdMatrix ids(2, 1);
  ids << 1, 2;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { knn_predict(ids, labels); }), "id 2");
  ids(1, 0) = 0;
  EXPECT_CONTAINS(testing::message_of<InvalidK>([&] { knn_predict(ids, labels, 2); }), "k=2");
  EXPECT_CONTAINS(testing::message_of<DimensionMismatch>([&] { knn_accuracy(ids, labels, {1}); }), "query_labels");
  EXPECT_CONTAINS(testing::message_of<DimensionMismatch>([&] { loo_knn_accuracy(ids, {0, 1, 1}); }), "labels=3");
}

}  // namespace
}  // namespace latent
