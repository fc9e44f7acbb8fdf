// Hashed embedding tables (see hashing.hpp). MurmurHash3 is written out from
// its definition: multiply-rotate-multiply each block into the state, fold the
// tail the same way, then mix in the length and avalanche (fmix32 / fmix64).
// Blocks are read as little-endian words (memcpy; this library targets
// little-endian machines), so the hashes match the reference implementation's.
#include "latent/embedding/hashing.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>

#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"

namespace latent {
namespace {

// The steps shared by both variants, on 32-bit (x86) or 64-bit (x64) words.
template <class Word>
Word rotl(Word x, int r) {
  return static_cast<Word>((x << r) | (x >> (8 * sizeof(Word) - static_cast<std::size_t>(r))));
}

template <class Word>
Word word_at(const unsigned char* p) {
  Word word;
  std::memcpy(&word, p, sizeof(Word));
  return word;
}

// The tail's bytes [0, count) of a group as a little-endian word.
template <class Word>
Word tail_word(const unsigned char* p, std::size_t count) {
  Word word = 0;
  for (std::size_t b = 0; b < count; ++b) word |= static_cast<Word>(static_cast<Word>(p[b]) << (8 * b));
  return word;
}

// A block's input step: k * c, rotated left by r, times c'.
template <class Word>
Word scramble(Word k, Word c, int r, Word c_next) {
  return static_cast<Word>(rotl<Word>(static_cast<Word>(k * c), r) * c_next);
}

// The final avalanches (their shifts and multipliers differ by width).
std::uint32_t fmix32(std::uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

std::uint64_t fmix64(std::uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

// The four 32-bit words of a 128-bit hash: low h1, high h1, low h2, high h2.
std::array<std::uint32_t, 4> words_of(const std::array<std::uint64_t, 2>& h) {
  return {static_cast<std::uint32_t>(h[0]), static_cast<std::uint32_t>(h[0] >> 32), static_cast<std::uint32_t>(h[1]),
          static_cast<std::uint32_t>(h[1] >> 32)};
}

void require_hashes(std::string_view function, int hashes) {
  if (hashes < 1 || hashes > 4)
    raise<InvalidArgument>(function, "hashes", "must be 1 to 4 (the 32-bit words of MurmurHash3_x64_128)",
                           "hashes=" + std::to_string(hashes));
}

void require_table(std::string_view function, std::string_view argument, const RowMatrixf& table) {
  require_non_empty(function, argument, MatrixView<float>(table));
  require_finite(function, argument, MatrixView<float>(table));
}

// The bucket rows of one key's 128-bit hash.
void fill_buckets(const std::array<std::uint32_t, 4>& words, std::int64_t rows, int hashes, std::int64_t* out) {
  for (int j = 0; j < hashes; ++j) out[j] = static_cast<std::int64_t>(words[static_cast<std::size_t>(j)] % rows);
}

template <class Key>
IdMatrix buckets_of(const std::vector<Key>& keys, std::int64_t rows, const HashEmbeddingOptions& options) {
  const auto n = static_cast<std::int64_t>(keys.size());
  IdMatrix out(n, options.hashes);
  parallel_for(n, 1024, options.parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const Key& key = keys[static_cast<std::size_t>(i)];
      std::array<std::uint32_t, 4> words;
      if constexpr (std::is_same_v<Key, std::string>) {
        words = words_of(murmurhash3_x64_128(key.data(), key.size(), options.seed));
      } else {
        unsigned char bytes[8];
        for (int b = 0; b < 8; ++b) bytes[b] = static_cast<unsigned char>(key >> (8 * b));
        words = words_of(murmurhash3_x64_128(bytes, 8, options.seed));
      }
      fill_buckets(words, rows, options.hashes, out.data() + i * options.hashes);
    }
  });
  return out;
}

}  // namespace

std::uint32_t murmurhash3_x86_32(const void* data, std::size_t bytes, std::uint32_t seed) {
  constexpr std::uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
  const auto* p = static_cast<const unsigned char*>(data);
  const std::size_t blocks = bytes / 4;
  std::uint32_t h = seed;
  for (std::size_t i = 0; i < blocks; ++i) {
    h ^= scramble<std::uint32_t>(word_at<std::uint32_t>(p + 4 * i), c1, 15, c2);
    h = rotl<std::uint32_t>(h, 13) * 5 + 0xe6546b64u;
  }
  const std::size_t rest = bytes & 3;
  if (rest != 0) h ^= scramble<std::uint32_t>(tail_word<std::uint32_t>(p + 4 * blocks, rest), c1, 15, c2);
  h ^= static_cast<std::uint32_t>(bytes);
  return fmix32(h);
}

std::array<std::uint64_t, 2> murmurhash3_x64_128(const void* data, std::size_t bytes, std::uint32_t seed) {
  constexpr std::uint64_t c1 = 0x87c37b91114253d5ull, c2 = 0x4cf5ad432745937full;
  const auto* p = static_cast<const unsigned char*>(data);
  const std::size_t blocks = bytes / 16;
  std::uint64_t h1 = seed, h2 = seed;
  for (std::size_t i = 0; i < blocks; ++i) {
    h1 ^= scramble<std::uint64_t>(word_at<std::uint64_t>(p + 16 * i), c1, 31, c2);
    h1 = (rotl<std::uint64_t>(h1, 27) + h2) * 5 + 0x52dce729u;
    h2 ^= scramble<std::uint64_t>(word_at<std::uint64_t>(p + 16 * i + 8), c2, 33, c1);
    h2 = (rotl<std::uint64_t>(h2, 31) + h1) * 5 + 0x38495ab5u;
  }
  // The tail: up to 15 bytes, the second lane's (bytes 8..) first.
  const unsigned char* tail = p + 16 * blocks;
  const std::size_t rest = bytes & 15;
  if (rest > 8) h2 ^= scramble<std::uint64_t>(tail_word<std::uint64_t>(tail + 8, rest - 8), c2, 33, c1);
  if (rest > 0)
    h1 ^= scramble<std::uint64_t>(tail_word<std::uint64_t>(tail, std::min<std::size_t>(rest, 8)), c1, 31, c2);
  h1 ^= bytes;
  h2 ^= bytes;
  h1 += h2;
  h2 += h1;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 += h2;
  h2 += h1;
  return {h1, h2};
}

// ---------------------------------------------------------------- multi-hash tables

HashEmbedding::HashEmbedding(RowMatrixf table, const HashEmbeddingOptions& options)
    : table_(std::move(table)), options_(options) {
  require_table("HashEmbedding", "table", table_);
  require_hashes("HashEmbedding", options_.hashes);
}

IdMatrix HashEmbedding::buckets(const std::vector<std::uint64_t>& keys) const {
  return buckets_of(keys, rows(), options_);
}

IdMatrix HashEmbedding::buckets(const std::vector<std::string>& keys) const {
  return buckets_of(keys, rows(), options_);
}

RowMatrixf HashEmbedding::gather(const IdMatrix& buckets) const {
  const std::int64_t n = buckets.rows(), d = dim();
  RowMatrixf out(n, d);
  parallel_for(n, 256, options_.parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      float* row = out.data() + i * d;
      const float* first = table_.data() + buckets(i, 0) * d;
      std::copy(first, first + d, row);
      for (int j = 1; j < options_.hashes; ++j) {
        const float* next = table_.data() + buckets(i, j) * d;
        for (std::int64_t c = 0; c < d; ++c) row[c] += next[c];
      }
    }
  });
  return out;
}

RowMatrixf HashEmbedding::lookup(const std::vector<std::uint64_t>& keys) const { return gather(buckets(keys)); }

RowMatrixf HashEmbedding::lookup(const std::vector<std::string>& keys) const { return gather(buckets(keys)); }

double hash_collision_rate(const std::vector<std::uint64_t>& keys, std::int64_t rows, int hashes, std::uint32_t seed) {
  constexpr std::string_view kFunction = "hash_collision_rate";
  if (rows < 1) raise<InvalidArgument>(kFunction, "rows", "must be >= 1", "rows=" + std::to_string(rows));
  require_hashes(kFunction, hashes);
  std::vector<std::uint64_t> distinct = keys;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  if (distinct.empty()) return 0.0;
  HashEmbeddingOptions options;
  options.hashes = hashes;
  options.seed = seed;
  const IdMatrix buckets = buckets_of(distinct, rows, options);
  // Each key's buckets as a sorted tuple (the sum does not see their order;
  // unused places -1), the tuples sorted: equal tuples are then runs.
  std::vector<std::array<std::int64_t, 4>> tuples(distinct.size());
  for (std::size_t i = 0; i < distinct.size(); ++i) {
    const auto* row = buckets.data() + static_cast<std::int64_t>(i) * hashes;
    tuples[i].fill(-1);
    std::copy(row, row + hashes, tuples[i].begin());
    std::sort(tuples[i].begin(), tuples[i].begin() + hashes);
  }
  std::sort(tuples.begin(), tuples.end());
  std::size_t colliding = 0;
  for (std::size_t begin = 0, end = 0; begin < tuples.size(); begin = end) {
    while (end < tuples.size() && tuples[end] == tuples[begin]) ++end;
    if (end - begin > 1) colliding += end - begin;
  }
  return static_cast<double>(colliding) / static_cast<double>(distinct.size());
}

// ---------------------------------------------------------------- quotient-remainder

namespace {
constexpr NamedValue<QrCombine> kQrCombineNames[] = {
    {"multiply", QrCombine::multiply}, {"add", QrCombine::add}, {"concat", QrCombine::concat}};
}  // namespace

const char* to_string(QrCombine combine) { return name_of(kQrCombineNames, combine).data(); }

QrCombine parse_qr_combine(const std::string& name, const std::string& argument) {
  return parse_name(kQrCombineNames, name, "parse_qr_combine", argument, "quotient-remainder combination");
}

QuotientRemainderEmbedding::QuotientRemainderEmbedding(RowMatrixf remainder, RowMatrixf quotient, QrCombine combine)
    : remainder_(std::move(remainder)), quotient_(std::move(quotient)), combine_(combine) {
  constexpr std::string_view kFunction = "QuotientRemainderEmbedding";
  require_table(kFunction, "remainder", remainder_);
  require_table(kFunction, "quotient", quotient_);
  if (combine_ != QrCombine::concat)
    require_same_dim(kFunction, "quotient", quotient_.cols(), "remainder", remainder_.cols());
}

std::int64_t QuotientRemainderEmbedding::dim() const {
  return combine_ == QrCombine::concat ? remainder_.cols() + quotient_.cols() : remainder_.cols();
}

RowMatrixf QuotientRemainderEmbedding::lookup(const std::vector<std::int64_t>& ids, const Parallel& parallel) const {
  const std::int64_t m = remainder_.rows(), capacity_ids = capacity();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= capacity_ids)
      raise<InvalidArgument>(
          "QuotientRemainderEmbedding::lookup", "ids", "holds an id outside [0, m q)",
          "ids[" + std::to_string(i) + "]=" + std::to_string(ids[i]) + ", m q=" + std::to_string(capacity_ids));
  }
  const auto n = static_cast<std::int64_t>(ids.size());
  const std::int64_t d_r = remainder_.cols(), d_q = quotient_.cols(), d = dim();
  RowMatrixf out(n, d);
  parallel_for(n, 256, parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const std::int64_t id = ids[static_cast<std::size_t>(i)];
      const float* r = remainder_.data() + (id % m) * d_r;
      const float* q = quotient_.data() + (id / m) * d_q;
      float* row = out.data() + i * d;
      switch (combine_) {
        case QrCombine::multiply:
          for (std::int64_t c = 0; c < d; ++c) row[c] = r[c] * q[c];
          break;
        case QrCombine::add:
          for (std::int64_t c = 0; c < d; ++c) row[c] = r[c] + q[c];
          break;
        case QrCombine::concat:
          std::copy(r, r + d_r, row);
          std::copy(q, q + d_q, row + d_r);
          break;
      }
    }
  });
  return out;
}

}  // namespace latent
