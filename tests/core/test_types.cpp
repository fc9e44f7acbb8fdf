// Metric names, MatrixView over Eigen storage, KnnGraph shape accessors.
#include <gtest/gtest.h>

#include <string>

#include "latent/core/errors.hpp"
#include "latent/core/types.hpp"

namespace latent {
namespace {

TEST(Metric, NamesRoundTrip) {
  for (const Metric metric : {Metric::cosine, Metric::ip, Metric::l2, Metric::sqeuclidean, Metric::l1, Metric::linf}) {
    EXPECT_EQ(parse_metric(to_string(metric)), metric) << to_string(metric);
  }
  EXPECT_EQ(to_string(Metric::sqeuclidean), "sqeuclidean");
}

TEST(Metric, SimilaritiesAreCosineAndIp) {
  EXPECT_TRUE(is_similarity(Metric::cosine));
  EXPECT_TRUE(is_similarity(Metric::ip));
  EXPECT_FALSE(is_similarity(Metric::l2));
  EXPECT_FALSE(is_similarity(Metric::sqeuclidean));
  EXPECT_FALSE(is_similarity(Metric::l1));
  EXPECT_FALSE(is_similarity(Metric::linf));
}

TEST(Metric, UnknownNameIsInvalidArgumentNamingTheArgument) {
  try {
    parse_metric("euclid", "--metric");
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("--metric"), std::string::npos) << message;
    EXPECT_NE(message.find("euclid"), std::string::npos) << message;
    EXPECT_NE(message.find("sqeuclidean"), std::string::npos) << message;  // lists the choices
  }
  EXPECT_THROW(parse_metric("Cosine"), InvalidArgument);  // names are exact
  EXPECT_THROW(parse_metric(""), InvalidArgument);
}

TEST(MatrixView, ViewsEigenStorageWithoutCopy) {
  RowMatrixf m(4, 5);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 5; ++j) m(i, j) = static_cast<float>(10 * i + j);

  const MatrixView<float> whole(m);
  EXPECT_EQ(whole.data, m.data());
  EXPECT_EQ(whole.rows, 4);
  EXPECT_EQ(whole.cols, 5);
  EXPECT_EQ(whole.row_stride, 5);
  EXPECT_EQ(whole.row(2)[3], 23.0f);

  // A block keeps the parent's stride.
  const MatrixView<float> block(m.block(1, 2, 2, 3));
  EXPECT_EQ(block.data, &m(1, 2));
  EXPECT_EQ(block.row_stride, 5);
  EXPECT_EQ(block.row(1)[0], 22.0f);
  EXPECT_EQ(block.map()(1, 2), 24.0f);

  // A Ref and a Map are views too.
  const Eigen::Ref<const RowMatrixf> ref(m);
  EXPECT_EQ(MatrixView<float>(ref).data, m.data());
  const Eigen::Map<const RowMatrixf> map(m.data(), 2, 10);
  const MatrixView<float> mapped(map);
  EXPECT_EQ(mapped.cols, 10);
  EXPECT_EQ(mapped.row(1)[0], 20.0f);
}

TEST(MatrixView, EmptyWhenNoRowsOrColumns) {
  EXPECT_TRUE(MatrixView<float>().empty());
  RowMatrixf none(0, 3);
  EXPECT_TRUE(MatrixView<float>(none).empty());
  RowMatrixf one(1, 3);
  EXPECT_FALSE(MatrixView<float>(one).empty());
}

TEST(KnnGraph, ReportsItsShape) {
  KnnGraph graph;
  graph.ids = IdMatrix::Constant(7, 3, -1);
  graph.scores = RowMatrixf::Zero(7, 3);
  graph.metric = Metric::cosine;
  EXPECT_EQ(graph.n_queries(), 7);
  EXPECT_EQ(graph.k(), 3);
  EXPECT_FALSE(graph.self_excluded);
}

TEST(Version, MacrosFormTheString) {
  const std::string expected = std::to_string(LATENT_VERSION_MAJOR) + "." + std::to_string(LATENT_VERSION_MINOR) +
                               "." + std::to_string(LATENT_VERSION_PATCH);
  EXPECT_EQ(std::string(LATENT_VERSION_STRING), expected);
}

}  // namespace
}  // namespace latent
