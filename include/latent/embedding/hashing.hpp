// latent/embedding/hashing.hpp - hashed embedding tables: MurmurHash3 (the
// x86 32-bit and x64 128-bit variants, written out), the hashing trick and
// multi-hash embeddings (a key's rows summed), quotient-remainder compositional
// embeddings, and the collision rate of a table size.
//
// Multi-hash rule (thinc's HashEmbed, used by spaCy's MultiHashEmbed): a key k
// (uint64) gives MurmurHash3_x64_128 of k's 8 little-endian bytes with the
// table's seed, whose two 64-bit halves h1, h2 split into four 32-bit words
// w = (low h1, high h1, low h2, high h2), and
//     e(k) = sum_{j < hashes} E[w_j mod N]        (E: N x d)
// With hashes = 1 this is the hashing trick, row = h(k) mod N. A string key is
// hashed the same way over its bytes (UTF-8 as given), not through a 64-bit id
// first. Sums are in float, rows added in j order.
//
// Quotient-remainder (Shi et al., "Compositional Embeddings Using Complementary
// Partitions"): id i in [0, m q) gives e(i) = E_R[i mod m] op E_Q[floor(i / m)]
// with op elementwise product, sum, or concatenation; memory (m + q) d instead
// of m q d.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent {

/// MurmurHash3_x86_32 of `bytes` bytes at `data` with `seed` (Austin Appleby's
/// public-domain algorithm: 4-byte blocks, tail, length, final mix). data may
/// be null when bytes is 0.
std::uint32_t murmurhash3_x86_32(const void* data, std::size_t bytes, std::uint32_t seed = 0);

/// MurmurHash3_x64_128: the two 64-bit halves h1, h2 (16-byte blocks over two
/// lanes, cross-mixed at the end).
std::array<std::uint64_t, 2> murmurhash3_x64_128(const void* data, std::size_t bytes, std::uint32_t seed = 0);

struct HashEmbeddingOptions {
  int hashes = 4;          ///< rows summed per key, 1 (the hashing trick) to 4 (the words of the hash)
  std::uint32_t seed = 0;  ///< MurmurHash3 seed
  Parallel parallel;       ///< threads of lookup
};

/// A multi-hash embedding table over E [N x d] (see the file comment).
class HashEmbedding {
 public:
  /// Throws EmptyInput (no rows or columns), NonFiniteValue, InvalidArgument
  /// (hashes outside 1..4).
  explicit HashEmbedding(RowMatrixf table, const HashEmbeddingOptions& options = {});

  std::int64_t rows() const { return table_.rows(); }
  std::int64_t dim() const { return table_.cols(); }
  const RowMatrixf& table() const { return table_; }
  const HashEmbeddingOptions& options() const { return options_; }

  /// The rows each key reads: [n x hashes], row ids in [0, N).
  IdMatrix buckets(const std::vector<std::uint64_t>& keys) const;
  IdMatrix buckets(const std::vector<std::string>& keys) const;

  /// The embeddings of the keys: [n x d], row r = the sum of its buckets' rows.
  /// Cost: n hashes x d additions; thread-safe; deterministic.
  RowMatrixf lookup(const std::vector<std::uint64_t>& keys) const;
  RowMatrixf lookup(const std::vector<std::string>& keys) const;

 private:
  RowMatrixf gather(const IdMatrix& buckets) const;
  RowMatrixf table_;
  HashEmbeddingOptions options_;
};

/// Share of the distinct keys whose whole bucket tuple (the first `hashes`
/// words mod `rows`, as a multiset) is also another distinct key's: such keys
/// get the same embedding whatever the table holds. Throws InvalidArgument
/// (rows < 1, hashes outside 1..4). An empty key list gives 0.
double hash_collision_rate(const std::vector<std::uint64_t>& keys, std::int64_t rows, int hashes,
                           std::uint32_t seed = 0);

enum class QrCombine { multiply, add, concat };

/// "multiply", "add", "concat"; parse throws InvalidArgument naming `argument`
/// and every name.
const char* to_string(QrCombine combine);
QrCombine parse_qr_combine(const std::string& name, const std::string& argument = "combine");

/// Quotient-remainder embedding over E_R [m x d] and E_Q [q x d'] (d = d' for
/// multiply and add; concat gives [E_R row, E_Q row], d + d').
class QuotientRemainderEmbedding {
 public:
  /// Throws EmptyInput, NonFiniteValue, DimensionMismatch (d != d' for
  /// multiply or add).
  QuotientRemainderEmbedding(RowMatrixf remainder, RowMatrixf quotient, QrCombine combine = QrCombine::multiply);

  /// Ids covered: m q.
  std::int64_t capacity() const { return remainder_.rows() * quotient_.rows(); }
  std::int64_t dim() const;

  /// [n x dim()] embeddings of ids in [0, capacity()); throws InvalidArgument
  /// naming the first id outside.
  RowMatrixf lookup(const std::vector<std::int64_t>& ids, const Parallel& parallel = {}) const;

 private:
  RowMatrixf remainder_, quotient_;
  QrCombine combine_;
};

}  // namespace latent
