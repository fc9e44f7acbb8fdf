// Hashed embedding tables: MurmurHash3 against the reference implementation's
// values (Debian's python3-murmurhash for x86_32 and thinc's NumpyOps.hash for
// x64_128 of uint64 ids), the SMHasher verification values of both variants, thinc's HashEmbed output, the
// quotient-remainder rule, the collision rate, and every error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/embedding.hpp"

namespace latent {
namespace {

std::uint32_t hash32(const std::string& text, std::uint32_t seed) {
  return murmurhash3_x86_32(text.data(), text.size(), seed);
}

TEST(MurmurHash3, X86_32MatchesTheReference) {
  // python3 -c "from murmurhash import mrmr; print(mrmr.hash_bytes(b'...', seed) & 0xffffffff)"
  EXPECT_EQ(hash32("", 0), 0u);
  EXPECT_EQ(hash32("", 1), 1364076727u);
  EXPECT_EQ(hash32("hello", 0), 613153351u);
  EXPECT_EQ(hash32("hello, world", 123), 3933311410u);
  EXPECT_EQ(hash32("The quick brown fox jumps over the lazy dog", 42), 880582914u);
  EXPECT_EQ(murmurhash3_x86_32(nullptr, 0, 0), 0u);
}

// SMHasher's verification: keys {0}, {0, 1}, ..., {0, ..., 254} hashed with seed
// 256 - length, the hashes concatenated and hashed with seed 0; the first four
// bytes, little-endian, are the published value of each variant.
template <class Hash, std::size_t HashBytes>
std::uint32_t verification_value(Hash hash) {
  unsigned char key[256];
  std::vector<unsigned char> hashes(256 * HashBytes);
  for (int length = 0; length < 256; ++length) {
    key[length] = static_cast<unsigned char>(length);
    const auto value = hash(key, static_cast<std::size_t>(length), static_cast<std::uint32_t>(256 - length));
    std::memcpy(hashes.data() + static_cast<std::size_t>(length) * HashBytes, &value, HashBytes);
  }
  const auto final = hash(hashes.data(), hashes.size(), 0);
  std::uint32_t first;
  std::memcpy(&first, &final, 4);
  return first;
}

TEST(MurmurHash3, SmhasherVerificationValues) {
  EXPECT_EQ((verification_value<decltype(&murmurhash3_x86_32), 4>(&murmurhash3_x86_32)), 0xB0F57EE3u);
  EXPECT_EQ((verification_value<decltype(&murmurhash3_x64_128), 16>(&murmurhash3_x64_128)), 0x6384BA69u);
}

// thinc's MurmurHash3_x86_128_uint64 is the x64 variant over the id's 8 bytes,
// its halves split into four words.
TEST(MurmurHash3, X64_128OfIdsMatchesThinc) {
  // python3 -c "import numpy as np; from thinc.api import NumpyOps; print(NumpyOps().hash(
  //     np.array([0, 1, 7, 12345678901234, 2**64 - 1], dtype='uint64'), seed).tolist())"
  const std::vector<std::uint64_t> ids = {0, 1, 7, 12345678901234ull, ~0ull};
  const std::uint32_t seed0[5][4] = {{3428303819u, 685728695u, 3303603794u, 4065689084u},
                                     {4211459146u, 4457399u, 3547175942u, 1032506804u},
                                     {629116850u, 820062611u, 2537516629u, 243167512u},
                                     {3352554791u, 373908416u, 1128393731u, 267846410u},
                                     {448458099u, 2699342458u, 1800029871u, 1763775177u}};
  const std::uint32_t seed7[5][4] = {{363161713u, 1826689969u, 588221874u, 425284546u},
                                     {3089165797u, 1536154270u, 2023308811u, 4074317197u},
                                     {4100145642u, 527364556u, 25297477u, 1980237460u},
                                     {1080260032u, 1538607597u, 4265709839u, 609525150u},
                                     {3047236301u, 3599381855u, 1331799921u, 2604828161u}};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    unsigned char bytes[8];
    for (int b = 0; b < 8; ++b) bytes[b] = static_cast<unsigned char>(ids[i] >> (8 * b));
    const auto zero = murmurhash3_x64_128(bytes, 8, 0), seven = murmurhash3_x64_128(bytes, 8, 7);
    for (int w = 0; w < 4; ++w) {
      const auto word = [w](const std::array<std::uint64_t, 2>& h) {
        return static_cast<std::uint32_t>(h[static_cast<std::size_t>(w / 2)] >> (32 * (w % 2)));
      };
      EXPECT_EQ(word(zero), seed0[i][w]) << "id " << ids[i] << " word " << w;
      EXPECT_EQ(word(seven), seed7[i][w]) << "id " << ids[i] << " word " << w;
    }
  }
}

RowMatrixf ramp_table(std::int64_t rows, std::int64_t cols) {
  RowMatrixf table(rows, cols);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) table(r, c) = static_cast<float>(r) + 0.25f * static_cast<float>(c);
  return table;
}

TEST(HashEmbedding, SumsTheFourBucketRowsAsThincsHashEmbed) {
  // thinc HashEmbed(nO=3, nV=10, seed=7) with E[r, c] = r + 0.25 c:
  // m.predict(np.array([0, 1, 7, 12345678901234], dtype='uint64'))
  HashEmbeddingOptions options;
  options.seed = 7;
  const HashEmbedding table(ramp_table(10, 3), options);
  const RowMatrixf out = table.lookup(std::vector<std::uint64_t>{0, 1, 7, 12345678901234ull});
  const float expected[4][3] = {{22, 23, 24}, {15, 16, 17}, {15, 16, 17}, {18, 19, 20}};
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(out(i, c), expected[i][c]) << i << "," << c;
  const IdMatrix buckets = table.buckets(std::vector<std::uint64_t>{0});
  EXPECT_EQ(buckets(0, 0), 363161713 % 10);
  EXPECT_EQ(buckets(0, 3), 425284546 % 10);
}

TEST(HashEmbedding, OneHashIsTheHashingTrickAndStringsHashTheirBytes) {
  HashEmbeddingOptions options;
  options.hashes = 1;
  options.seed = 3;
  const HashEmbedding table(ramp_table(1000, 2), options);
  const std::vector<std::string> words = {"", "a", "hubness", "embedding tables"};
  const RowMatrixf out = table.lookup(words);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto row = static_cast<std::int64_t>(
        static_cast<std::uint32_t>(murmurhash3_x64_128(words[i].data(), words[i].size(), 3)[0]) % 1000);
    EXPECT_EQ(out(static_cast<std::int64_t>(i), 0), static_cast<float>(row)) << words[i];
    EXPECT_EQ(out(static_cast<std::int64_t>(i), 1), static_cast<float>(row) + 0.25f);
  }
  // Threads change nothing.
  std::vector<std::uint64_t> many(5000);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = i * 2654435761u;
  HashEmbeddingOptions four;
  four.parallel.threads = 1;
  const RowMatrixf one = HashEmbedding(ramp_table(97, 5), four).lookup(many);
  four.parallel.threads = 3;
  EXPECT_TRUE((one.array() == HashEmbedding(ramp_table(97, 5), four).lookup(many).array()).all());
}

TEST(HashEmbedding, CollisionRateFallsWithTheTableAndTheHashes) {
  std::vector<std::uint64_t> keys(20000);
  for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = 1000003ull * i;
  keys.push_back(keys[5]);  // a duplicate is one key
  // One hash into N rows: a key collides unless its row is its own; the
  // expected share is 1 - (1 - 1/N)^(n - 1) (n = 20,000 distinct keys).
  for (const std::int64_t rows : {1000, 100000}) {
    const double expected = 1.0 - std::pow(1.0 - 1.0 / static_cast<double>(rows), 19999.0);
    EXPECT_NEAR(hash_collision_rate(keys, rows, 1), expected, 0.02) << rows;
  }
  // Four hashes into 1,000 rows: tuples almost never coincide.
  EXPECT_LT(hash_collision_rate(keys, 1000, 4), 1e-3);
  EXPECT_EQ(hash_collision_rate({}, 10, 4), 0.0);
  EXPECT_EQ(hash_collision_rate({1, 2, 3}, 1, 1), 1.0);  // one row: everything collides
}

TEST(QuotientRemainder, CombinesTheRemainderAndQuotientRows) {
  const RowMatrixf remainder = ramp_table(4, 2), quotient = ramp_table(3, 2) * 10.0f;
  const std::vector<std::int64_t> ids = {0, 5, 11};  // (0, 0), (1, 1), (3, 2)
  const RowMatrixf product = QuotientRemainderEmbedding(remainder, quotient, QrCombine::multiply).lookup(ids);
  const RowMatrixf sum = QuotientRemainderEmbedding(remainder, quotient, QrCombine::add).lookup(ids);
  const QuotientRemainderEmbedding concat(remainder, quotient, QrCombine::concat);
  const RowMatrixf joined = concat.lookup(ids);
  EXPECT_EQ(concat.capacity(), 12);
  EXPECT_EQ(concat.dim(), 4);
  const std::int64_t r[3] = {0, 1, 3}, q[3] = {0, 1, 2};
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 2; ++c) {
      EXPECT_EQ(product(i, c), remainder(r[i], c) * quotient(q[i], c));
      EXPECT_EQ(sum(i, c), remainder(r[i], c) + quotient(q[i], c));
      EXPECT_EQ(joined(i, c), remainder(r[i], c));
      EXPECT_EQ(joined(i, 2 + c), quotient(q[i], c));
    }
  // Every id of the capacity has its own (remainder, quotient) pair.
  std::set<std::pair<float, float>> seen;
  std::vector<std::int64_t> all(12);
  for (std::int64_t i = 0; i < 12; ++i) all[static_cast<std::size_t>(i)] = i;
  const RowMatrixf every = concat.lookup(all);
  for (std::int64_t i = 0; i < 12; ++i) seen.insert({every(i, 0), every(i, 2)});
  EXPECT_EQ(seen.size(), 12u);
}

TEST(HashingErrors, NameTheArgument) {
  const RowMatrixf good = ramp_table(4, 2);
  RowMatrixf with_nan = good;
  with_nan(2, 1) = std::nanf("");
  HashEmbeddingOptions five;
  five.hashes = 5;
  EXPECT_THROW(HashEmbedding{RowMatrixf(0, 3)}, EmptyInput);
  EXPECT_THROW(HashEmbedding{with_nan}, NonFiniteValue);
  EXPECT_THROW((HashEmbedding{good, five}), InvalidArgument);
  EXPECT_THROW(hash_collision_rate({1}, 0, 1), InvalidArgument);
  EXPECT_THROW(hash_collision_rate({1}, 10, 0), InvalidArgument);
  EXPECT_THROW((QuotientRemainderEmbedding{good, ramp_table(3, 5), QrCombine::add}), DimensionMismatch);
  EXPECT_THROW((QuotientRemainderEmbedding{RowMatrixf(0, 2), good}), EmptyInput);
  EXPECT_THROW((QuotientRemainderEmbedding{good, with_nan}), NonFiniteValue);
  const QuotientRemainderEmbedding qr(good, ramp_table(3, 2));
  try {
    qr.lookup({0, 11, 12});
    FAIL() << "an id past m q was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("ids[2]=12"), std::string::npos) << e.what();
  }
  EXPECT_THROW(qr.lookup({-1}), InvalidArgument);
  EXPECT_EQ(qr.lookup({}).rows(), 0);
}

}  // namespace
}  // namespace latent
