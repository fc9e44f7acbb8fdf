// Hashed embedding tables: 200,000 string keys (vocabulary-like, "token-0" ..
// "token-199999") looked up in tables far smaller than one row per key. With one
// hash (the hashing trick) many keys share a row; with four (spaCy / thinc's
// multi-hash embedding, the sum of four rows) almost no two keys share all of
// theirs, in the same memory. A quotient-remainder table gives 2,000,000 ids
// their own pair of rows from 2 x 1,415 rows.
//
//   hashed_embeddings
//
// Exits 1 unless four hashes collide less than one in every table, a lookup is
// the sum of its bucket rows, and every quotient-remainder id gets a distinct pair.
#include <cstdio>
#include <exception>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "latent/embedding.hpp"

int main() {
  try {
    std::vector<std::string> words;
    for (int i = 0; i < 200000; ++i) words.push_back("token-" + std::to_string(i));
    // Integer keys for the collision rate: the first 64 bits of each word's hash.
    std::vector<std::uint64_t> keys;
    for (const std::string& w : words) keys.push_back(latent::murmurhash3_x64_128(w.data(), w.size(), 0)[0]);

    std::printf("%zu keys, d = 32\n%10s %10s %16s %16s\n", words.size(), "rows", "table MB", "shared, 1 hash",
                "shared, 4 hashes");
    bool fewer = true;
    for (const std::int64_t rows : {std::int64_t{1} << 12, std::int64_t{1} << 15, std::int64_t{1} << 18}) {
      const double one = latent::hash_collision_rate(keys, rows, 1);
      const double four = latent::hash_collision_rate(keys, rows, 4);
      fewer = fewer && four < one;
      std::printf("%10lld %10.1f %15.2f%% %15.4f%%\n", static_cast<long long>(rows),
                  static_cast<double>(rows) * 32 * 4 / 1e6, 100.0 * one, 100.0 * four);
    }

    // A lookup sums the rows of its buckets.
    std::mt19937 rng(5);
    std::normal_distribution<float> normal;
    latent::RowMatrixf table(1 << 15, 32);
    for (Eigen::Index i = 0; i < table.size(); ++i) table.data()[i] = normal(rng);
    latent::HashEmbeddingOptions options;
    options.hashes = 4;
    const latent::HashEmbedding embedding(table, options);
    const std::vector<std::string> some(words.begin(), words.begin() + 3);
    const latent::RowMatrixf vectors = embedding.lookup(some);
    const latent::IdMatrix buckets = embedding.buckets(some);
    float largest_gap = 0;
    for (Eigen::Index i = 0; i < vectors.rows(); ++i) {
      Eigen::RowVectorXf sum = Eigen::RowVectorXf::Zero(32);
      for (Eigen::Index h = 0; h < buckets.cols(); ++h) sum += table.row(buckets(i, h));
      largest_gap = std::max(largest_gap, (sum - vectors.row(i)).cwiseAbs().maxCoeff());
    }
    std::printf("\"%s\" reads rows %lld %lld %lld %lld\n", some[0].c_str(), static_cast<long long>(buckets(0, 0)),
                static_cast<long long>(buckets(0, 1)), static_cast<long long>(buckets(0, 2)),
                static_cast<long long>(buckets(0, 3)));

    // Quotient-remainder: id -> E_R[id mod 1415] * E_Q[id / 1415], 2,002,225 ids.
    latent::RowMatrixf remainder(1415, 32), quotient(1415, 32);
    for (Eigen::Index i = 0; i < remainder.size(); ++i) remainder.data()[i] = normal(rng);
    for (Eigen::Index i = 0; i < quotient.size(); ++i) quotient.data()[i] = normal(rng);
    const latent::QuotientRemainderEmbedding qr(remainder, quotient);
    std::vector<std::int64_t> ids;
    std::set<std::pair<std::int64_t, std::int64_t>> pairs;
    for (std::int64_t id = 0; id < qr.capacity(); id += 997) {
      ids.push_back(id);
      pairs.insert({id % 1415, id / 1415});
    }
    const latent::RowMatrixf rows = qr.lookup(ids);
    std::printf("quotient-remainder: %lld ids from 2 x 1415 rows (%.1f MB instead of %.1f); %zu looked up\n",
                static_cast<long long>(qr.capacity()), 2.0 * 1415 * 32 * 4 / 1e6,
                static_cast<double>(qr.capacity()) * 32 * 4 / 1e6, static_cast<std::size_t>(rows.rows()));
    if (!(fewer && largest_gap < 1e-5f && pairs.size() == ids.size())) {
      std::fprintf(stderr, "hashed_embeddings: collisions, lookups or quotient-remainder pairs not as expected\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hashed_embeddings: %s\n", e.what());
    return 1;
  }
}
