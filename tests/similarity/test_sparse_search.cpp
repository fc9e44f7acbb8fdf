// Sparse products and the inverted index: against the dense products of the same
// rows (small integer values, so every sum is exact in float and the comparison
// is exact, ties included), rows sharing no column with the query (score 0, in id
// order, before negative scores), codes of the bundled sparse autoencoder against
// the dense exact search, and the errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/embedding/sparse_autoencoder.hpp"
#include "latent/similarity/search.hpp"
#include "latent/similarity/sparse_search.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

using Index = std::int64_t;

// Rows with about `density` of their entries set to integers in [-3, 3] \ {0}
// (`positive`: [1, 3]).
RowMatrixf sparse_integers(Index rows, Index cols, double density, bool positive, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::uniform_int_distribution<int> value(positive ? 1 : -3, 3);
  RowMatrixf out = RowMatrixf::Zero(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j)
      if (coin(rng) < density) {
        int v = value(rng);
        while (v == 0) v = value(rng);
        out(i, j) = static_cast<float>(v);
      }
  return out;
}

TEST(SparseProducts, EqualTheDenseProducts) {
  const RowMatrixf a = sparse_integers(30, 200, 0.05, false, 1);
  const RowMatrixf b = sparse_integers(50, 200, 0.05, false, 2);
  const RowMatrixf expected = a * b.transpose();
  EXPECT_EQ(sparse_products(SparseMatrix::from_dense(a), SparseMatrix::from_dense(b)), expected);
  EXPECT_EQ(sparse_dense_products(SparseMatrix::from_dense(a), b), expected);
  Parallel four;
  four.threads = 4;
  EXPECT_EQ(sparse_products(SparseMatrix::from_dense(a), SparseMatrix::from_dense(b), four), expected);
}

TEST(SparseIndex, TopKEqualsTheDenseExactSearch) {
  for (const bool positive : {true, false}) {
    const RowMatrixf base = sparse_integers(400, 300, 0.03, positive, 3);
    const RowMatrixf queries = sparse_integers(60, 300, 0.03, positive, 4);
    const SparseIndex index(SparseMatrix::from_dense(base));
    for (const Index k : {1, 10, 400}) {
      const KnnGraph got = index.search(SparseMatrix::from_dense(queries), k);
      const KnnGraph expected = knn(queries, base, k, Metric::ip);  // ties to the smaller id, as the index
      EXPECT_EQ(got.metric, Metric::ip);
      EXPECT_EQ(got.ids, expected.ids) << "positive=" << positive << " k=" << k;
      EXPECT_EQ(got.scores, expected.scores) << "positive=" << positive << " k=" << k;
    }
  }
  // A query sharing no column: every row scores 0, in id order.
  const RowMatrixf base = sparse_integers(20, 10, 0.3, true, 5);
  RowMatrixf query = RowMatrixf::Zero(1, 10);
  const KnnGraph zeros = SparseIndex(SparseMatrix::from_dense(base)).search(SparseMatrix::from_dense(query), 5);
  for (Index e = 0; e < 5; ++e) {
    EXPECT_EQ(zeros.ids(0, e), e);
    EXPECT_EQ(zeros.scores(0, e), 0.0f);
  }
}

TEST(SparseIndex, SaeCodesAgainstTheDenseSearchOfTheSameCodes) {
  const std::string data = std::string(LATENT_SOURCE_DIR) + "/data/";
  const RowMatrixf x = read_npy_matrix<float>(data + "encoders/mlp_seed0.npy");
  const SparseAutoencoder sae = SparseAutoencoder::load(data + "sae");
  SaeEncodeOptions options;
  options.k = 8;
  const SparseMatrix base = sae.encode(x.topRows(1800), options);
  const SparseMatrix queries = sae.encode(x.bottomRows(200), options);
  const KnnGraph sparse = SparseIndex(base).search(queries, 10);
  const KnnGraph dense = knn(queries.to_dense(), base.to_dense(), 10, Metric::ip);
  Index equal = 0;
  for (Index i = 0; i < 200; ++i)
    for (Index e = 0; e < 10; ++e) {
      EXPECT_NEAR(sparse.scores(i, e), dense.scores(i, e), 1e-4 * std::abs(dense.scores(i, e)) + 1e-5);
      equal += sparse.ids(i, e) == dense.ids(i, e);
    }
  EXPECT_GE(equal, 1990);  // float sums in another order may swap near-ties
}

TEST(SparseSearchErrors, NameTheArgument) {
  const SparseMatrix a = SparseMatrix::from_dense(RowMatrixf(RowMatrixf::Ones(3, 4)));
  const SparseMatrix b = SparseMatrix::from_dense(RowMatrixf(RowMatrixf::Ones(3, 5)));
  EXPECT_THROW(sparse_products(a, b), DimensionMismatch);
  EXPECT_THROW(sparse_dense_products(a, RowMatrixf(RowMatrixf::Ones(2, 5))), DimensionMismatch);
  const SparseIndex index(a);
  EXPECT_THROW(index.search(b, 1), DimensionMismatch);
  EXPECT_THROW(index.search(a, 0), InvalidK);
  EXPECT_THROW(index.search(a, 4), InvalidK);
}

}  // namespace
}  // namespace latent
