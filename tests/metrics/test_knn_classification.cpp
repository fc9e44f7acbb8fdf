// k-NN classification: majority vote, ties to the class of the nearest tied
// neighbour, missing neighbours (-1) do not vote; leave-one-out accuracy; errors.
// Prototype and zero-shot classifiers against hand cases and a brute-force
// double evaluation; the accuracy / confusion-matrix report.
#include <gtest/gtest.h>

#include <cmath>

#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

TEST(KnnClassification, MajorityAndNearestTiedNeighbour) {
  const std::vector<std::int64_t> labels = {0, 1, 1, 2, 2, 0};
  IdMatrix ids(4, 4);
  ids << 1, 2, 3, 0,  // 1 1 2 0: majority 1
      3, 0, 5, 1,     // 2 0 0 1: majority 0
      0, 3, 4, 5,     // 0 2 2 0: tie 0/2, nearest tied is 0 -> 0
      3, 1, -1, 0;    // 2 1 _ 0: three-way tie, nearest is 2
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

TEST(KnnClassification, DistanceWeightedVoteAndZeroDistances) {
  const std::vector<std::int64_t> labels = {0, 1, 1, 2, 2, 0};
  IdMatrix ids(3, 4);
  ids << 1, 2, 3, 0,  // 1 1 2 0
      0, 3, 4, -1,    // 0 2 2 _
      3, 0, 5, 1;     // 2 0 0 1
  RowMatrixd distances(3, 4);
  distances << 1.0, 4.0, 0.5, 2.0,  // weights 1 + 0.25 for class 1, 2 for class 2, 0.5 for 0 -> 2
      1.0, 3.0, 3.0, 9.0,           // 1 for class 0, 2/3 for class 2 -> 0 (majority would say 2)
      0.0, 5.0, 0.0, 1.0;           // two at distance 0 (classes 2 and 0): tie 1 : 1, nearest is 2
  EXPECT_EQ(knn_predict_weighted(ids, distances, labels), (std::vector<std::int64_t>{2, 0, 2}));
  EXPECT_EQ(knn_predict(ids, labels), (std::vector<std::int64_t>{1, 2, 0}));
  // k = 3 leaves the last column out of the vote: row 1 still votes 1 vs 2/3.
  EXPECT_EQ(knn_predict_weighted(ids, distances, labels, 3, Parallel{2}), (std::vector<std::int64_t>{2, 0, 2}));
  distances(1, 1) = -1;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { knn_predict_weighted(ids, distances, labels); }),
                  "distances");
  distances(1, 1) = std::nan("");
  EXPECT_THROW(knn_predict_weighted(ids, distances, labels), NonFiniteValue);
  distances(1, 3) = std::nan("");  // an id -1's distance is never read
  distances(1, 1) = 3.0;
  EXPECT_NO_THROW(knn_predict_weighted(ids, distances, labels));
  EXPECT_THROW(knn_predict_weighted(ids, RowMatrixd(3, 2), labels), DimensionMismatch);
}

TEST(KnnRegression, UniformAndDistanceWeightedMeans) {
  RowMatrixd targets(4, 2);
  targets << 0, 1, 2, 3, 4, 5, 10, -10;
  IdMatrix ids(3, 3);
  ids << 0, 1, 3, 2, -1, 1, -1, -1, -1;
  RowMatrixd distances(3, 3);
  distances << 1, 2, 4, 0.5, 7, 1, 1, 1, 1;
  const RowMatrixd uniform = knn_regress(ids, targets);
  EXPECT_DOUBLE_EQ(uniform(0, 0), 4.0);
  EXPECT_DOUBLE_EQ(uniform(0, 1), -2.0);
  EXPECT_DOUBLE_EQ(uniform(1, 0), 3.0);
  EXPECT_TRUE(std::isnan(uniform(2, 0)));  // no valid neighbour
  const RowMatrixd weighted = knn_regress(ids, targets, 0, &distances, Parallel{2});
  // weights 1, 0.5, 0.25 -> (0 + 1 + 2.5) / 1.75 and (1 + 1.5 - 2.5) / 1.75
  EXPECT_NEAR(weighted(0, 0), 3.5 / 1.75, 1e-15);
  EXPECT_NEAR(weighted(0, 1), 0.0, 1e-15);
  EXPECT_NEAR(weighted(1, 0), (2 * 4 + 1 * 2) / 3.0, 1e-15);
  distances(0, 1) = 0;  // a neighbour at distance 0 takes all the weight
  EXPECT_DOUBLE_EQ(knn_regress(ids, targets, 0, &distances)(0, 0), 2.0);
  EXPECT_DOUBLE_EQ(knn_regress(ids, targets, 1)(0, 1), 1.0);
  ids(0, 0) = 4;
  EXPECT_CONTAINS(testing::message_of<InvalidArgument>([&] { knn_regress(ids, targets); }), "id 4");
  RowMatrixd bad = targets;
  bad(1, 1) = std::nan("");
  EXPECT_THROW(knn_regress(ids, bad), NonFiniteValue);
}

TEST(ClassificationReport, ConfusionRowsAreTruthColumnsArePredictions) {
  const ClassificationReport r = classification_report({0, 0, 1, 2, 2, 2}, {0, 1, 1, 2, 0, 5});
  EXPECT_EQ(r.classes, (std::vector<std::int64_t>{0, 1, 2, 5}));
  RowMatrix<std::int64_t> expected(4, 4);
  expected << 1, 1, 0, 0,  //
      0, 1, 0, 0,          //
      1, 0, 1, 1,          //
      0, 0, 0, 0;
  EXPECT_EQ(r.confusion, expected);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(r.per_class_accuracy[0], 0.5);
  EXPECT_DOUBLE_EQ(r.per_class_accuracy[2], 1.0 / 3.0);
  EXPECT_TRUE(std::isnan(r.per_class_accuracy[3]));  // 5 is only ever predicted
  EXPECT_THROW(classification_report({0, 1}, {0}), DimensionMismatch);
  EXPECT_THROW(classification_report({}, {}), EmptyInput);
}

TEST(PrototypeClassifier, NearestClassMeanUnderEachMetric) {
  // Class 7 has mean (4, 0), class 3 mean (0, 0.5). The query (1.2, 0.5) is
  // nearer to 3's mean in l2 (1.2 against 2.84) but at a smaller angle to 7's
  // (cosine 0.92 against 0.38).
  RowMatrixf x(4, 2);
  x << 5, 1, 3, -1, 0, 0.4f, 0, 0.6f;
  const std::vector<std::int64_t> labels = {7, 7, 3, 3};
  RowMatrixf query(1, 2);
  query << 1.2f, 0.5f;
  PrototypeClassifier l2(Metric::l2);
  l2.fit(x, labels);
  EXPECT_EQ(l2.classes(), (std::vector<std::int64_t>{3, 7}));
  EXPECT_DOUBLE_EQ(l2.prototypes()(1, 0), 4.0);
  EXPECT_NEAR(l2.prototypes()(0, 1), 0.5, 1e-7);
  EXPECT_EQ(l2.predict(query), (std::vector<std::int64_t>{3}));
  PrototypeClassifier cosine;
  cosine.fit(x, labels);
  EXPECT_EQ(cosine.predict(query), (std::vector<std::int64_t>{7}));
  EXPECT_EQ(cosine.predict(RowMatrixd(query.cast<double>())), (std::vector<std::int64_t>{7}));
  const ClassificationReport report = cosine.score(x, labels);
  EXPECT_DOUBLE_EQ(report.accuracy, 1.0);
}

TEST(PrototypeClassifier, EqualsBruteForceInDouble) {
  const RowMatrixf x = testing::random_normal<float>(300, 12, 5), queries = testing::random_normal<float>(80, 12, 6);
  std::vector<std::int64_t> labels(300);
  for (int i = 0; i < 300; ++i) labels[static_cast<std::size_t>(i)] = (i * 7) % 5 - 2;  // -2 .. 2
  for (const Metric metric : {Metric::cosine, Metric::l2, Metric::sqeuclidean}) {
    PrototypeClassifier classifier(metric);
    classifier.fit(x, labels);
    Eigen::MatrixXd means = Eigen::MatrixXd::Zero(5, 12);
    Eigen::VectorXd counts = Eigen::VectorXd::Zero(5);
    for (int i = 0; i < 300; ++i) {
      means.row(labels[static_cast<std::size_t>(i)] + 2) += x.row(i).cast<double>();
      counts(labels[static_cast<std::size_t>(i)] + 2) += 1;
    }
    const std::vector<std::int64_t> predicted = classifier.predict(queries, Parallel{2});
    for (int q = 0; q < 80; ++q) {
      int best = 0;
      double best_key = 0;
      for (int c = 0; c < 5; ++c) {
        const Eigen::RowVectorXd mean = means.row(c) / counts(c), row = queries.row(q).cast<double>();
        const double key = metric == Metric::cosine ? -row.dot(mean) / (row.norm() * mean.norm()) : (row - mean).norm();
        if (c == 0 || key < best_key) {
          best = c;
          best_key = key;
        }
      }
      EXPECT_EQ(predicted[static_cast<std::size_t>(q)], best - 2) << to_string(metric) << " query " << q;
    }
  }
}

TEST(PrototypeClassifier, Errors) {
  const RowMatrixf x = testing::random_normal<float>(10, 3, 7);
  const std::vector<std::int64_t> labels = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  EXPECT_THROW(PrototypeClassifier{Metric::ip}, InvalidArgument);
  PrototypeClassifier classifier;
  EXPECT_CONTAINS(testing::message_of<NotFitted>([&] { classifier.predict(x); }), "PrototypeClassifier::predict");
  EXPECT_THROW(classifier.fit(x, {0, 1}), DimensionMismatch);
  RowMatrixf bad = x;
  bad(4, 2) = std::nanf("");
  EXPECT_THROW(classifier.fit(bad, labels), NonFiniteValue);
  RowMatrixf cancelling(2, 3);
  cancelling << 1, 2, 3, -1, -2, -3;
  EXPECT_CONTAINS(testing::message_of<NumericalError>([&] { classifier.fit(cancelling, {4, 4}); }), "label 4");
  classifier.fit(x, labels);
  EXPECT_THROW(classifier.predict(RowMatrixf(testing::random_normal<float>(2, 4, 8))), DimensionMismatch);
}

TEST(ZeroShot, NearestClassEmbeddingAndItsLabel) {
  RowMatrixf prompts(3, 2), x(3, 2);
  prompts << 1, 0, 0, 1, -1, -1;
  x << 0.9f, 0.2f, -3, -2, 0.1f, 5;
  EXPECT_EQ(zero_shot_predict(x, prompts), (std::vector<std::int64_t>{0, 2, 1}));
  EXPECT_EQ(zero_shot_predict(x, prompts, Metric::cosine, {10, 20, 30}), (std::vector<std::int64_t>{10, 30, 20}));
  EXPECT_EQ(zero_shot_predict(RowMatrixd(x.cast<double>()), RowMatrixd(prompts.cast<double>()), Metric::l2),
            (std::vector<std::int64_t>{0, 2, 1}));
  EXPECT_THROW(zero_shot_predict(x, prompts, Metric::cosine, {1, 2}), DimensionMismatch);
  EXPECT_THROW(zero_shot_predict(x, RowMatrixf(3, 3)), DimensionMismatch);
}

}  // namespace
}  // namespace latent
