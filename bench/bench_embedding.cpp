// bench_embedding: pooling throughput, quantize / dequantize bandwidth, binary
// Hamming search against float exact search (speed and memory), FDE encoding rate
// and MUVERA end-to-end against brute-force Chamfer.
//
// Peers in the same executable: a plain Eigen loop for mean pooling, the float
// exact k-NN of latent (GEMM path) for binary search, FAISS's IndexBinaryFlat
// when built with FAISS, and brute-force Chamfer for MUVERA.
// Options: --rows=N (search base rows, default 100000; the large case is
// --rows=1000000 with d 1024), --queries=N (default 100), --docs=N (MUVERA corpus,
// default 2000), --tokens=N (pooling sequence length, default 256).
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "bench_support.hpp"
#include "latent/embedding.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"

#if defined(LATENT_BENCH_WITH_FAISS)
#include <faiss/IndexBinaryFlat.h>
#endif

namespace {

std::int64_t g_rows = 100000, g_queries = 100, g_docs = 2000, g_tokens = 256;
constexpr std::int64_t kDim = 1024;

using latent_bench::random_normal;

// ---- pooling: batch 32 x g_tokens tokens x 768, a quarter of each sequence padded
void BM_pool(benchmark::State& state, latent::Pooling method) {
  const std::int64_t batch = 32, d = 768;
  const latent::RowMatrixf tokens = random_normal(batch * g_tokens, d, 1);
  latent::RowMatrix<std::uint8_t> mask(batch, g_tokens);
  mask.setOnes();
  mask.rightCols(g_tokens / 4).setZero();
  latent::PoolingOptions options;
  options.method = method;
  for (auto _ : state) benchmark::DoNotOptimize(latent::pool_padded(tokens, mask, options, {1}));
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(batch * g_tokens), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_pool_eigen_loop(benchmark::State& state) {  // peer: mean of the unmasked rows with Eigen
  const std::int64_t batch = 32, d = 768, real = g_tokens - g_tokens / 4;
  const latent::RowMatrixf tokens = random_normal(batch * g_tokens, d, 1);
  latent::RowMatrixf out(batch, d);
  for (auto _ : state) {
    for (std::int64_t b = 0; b < batch; ++b) out.row(b) = tokens.middleRows(b * g_tokens, real).colwise().mean();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(batch * g_tokens), benchmark::Counter::kIsIterationInvariantRate);
}

// ---- quantize / dequantize: 20000 x 1024 floats (80 MB)
void BM_quantize(benchmark::State& state, latent::QuantizationType type, bool decode) {
  const latent::RowMatrixf x = random_normal(20000, kDim, 2);
  latent::Quantizer q(latent::QuantizerOptions{type});
  if (type == latent::QuantizationType::int8)
    q.fit(x);
  else
    q.fit_dim(kDim);
  const latent::QuantizedMatrix codes = q.encode(x, {1});
  for (auto _ : state) {
    if (decode)
      benchmark::DoNotOptimize(q.decode(codes, {1}));
    else
      benchmark::DoNotOptimize(q.encode(x, {1}));
  }
  state.counters["float GB/s"] = benchmark::Counter(
      static_cast<double>(x.size()) * 4.0, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// ---- search on g_rows x 1024: binary Hamming top-10 vs float exact top-10 (ip)
struct SearchData {
  latent::RowMatrixf base, queries;
  latent::Quantizer binary{latent::QuantizerOptions{latent::QuantizationType::binary}};
  latent::QuantizedMatrix base_codes, query_codes;
};
SearchData& search_data(bool need_float) {
  static SearchData data;
  static bool have_codes = false, have_float = false;
  if (!have_codes) {
    data.binary.fit_dim(kDim);
    data.queries = random_normal(g_queries, kDim, 4);
    data.query_codes = data.binary.encode(data.queries);
    // Codes built in slices, so the float base never needs to exist for the binary case.
    data.base_codes.type = latent::QuantizationType::binary;
    data.base_codes.dim = kDim;
    data.base_codes.bytes_per_row = kDim / 8;
    for (std::int64_t start = 0; start < g_rows; start += 50000) {
      const latent::RowMatrixf slice =
          random_normal(std::min<std::int64_t>(50000, g_rows - start), kDim, 3 + static_cast<std::uint32_t>(start));
      const latent::QuantizedMatrix codes = data.binary.encode(slice);
      data.base_codes.codes.insert(data.base_codes.codes.end(), codes.codes.begin(), codes.codes.end());
      data.base_codes.rows += codes.rows;
    }
    have_codes = true;
  }
  if (need_float && !have_float) {
    data.base.resize(g_rows, kDim);
    for (std::int64_t start = 0; start < g_rows; start += 50000) {
      const std::int64_t rows = std::min<std::int64_t>(50000, g_rows - start);
      data.base.middleRows(start, rows) = random_normal(rows, kDim, 3 + static_cast<std::uint32_t>(start));
    }
    have_float = true;
  }
  return data;
}

void BM_search_binary(benchmark::State& state) {
  SearchData& data = search_data(false);
  for (auto _ : state)
    benchmark::DoNotOptimize(
        latent::binary_knn(data.base_codes, data.query_codes, 10, {static_cast<int>(state.range(0))}));
  state.counters["queries/s"] =
      benchmark::Counter(static_cast<double>(g_queries), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["base MB"] = static_cast<double>(data.base_codes.bytes()) / 1e6;
}

void BM_search_float(benchmark::State& state) {
  SearchData& data = search_data(true);
  latent::SearchOptions options;
  options.parallel.threads = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(latent::knn(data.queries, data.base, 10, latent::Metric::ip, options));
  state.counters["queries/s"] =
      benchmark::Counter(static_cast<double>(g_queries), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["base MB"] = static_cast<double>(data.base.size()) * 4.0 / 1e6;
}

#if defined(LATENT_BENCH_WITH_FAISS)
void BM_search_faiss_binary(benchmark::State& state) {
  SearchData& data = search_data(false);
  faiss::IndexBinaryFlat index(kDim);
  index.add(data.base_codes.rows, data.base_codes.codes.data());
  std::vector<std::int32_t> distances(static_cast<std::size_t>(g_queries * 10));
  std::vector<faiss::Index::idx_t> labels(distances.size());
  for (auto _ : state) {
    index.search(g_queries, data.query_codes.codes.data(), 10, distances.data(), labels.data());
    benchmark::DoNotOptimize(labels.data());
  }
  state.counters["queries/s"] =
      benchmark::Counter(static_cast<double>(g_queries), benchmark::Counter::kIsIterationInvariantRate);
}
#endif

// ---- MUVERA on g_docs synthetic multi-vector documents (32 vectors of 128-d) and 20
// queries: every vector is one of 256 topic directions plus noise (0.3 of its norm),
// normalised, so that Chamfer neighbours are meaningful (pure noise has none).
latent::MultiVectorSet synthetic_sets(std::int64_t items, std::int64_t length, std::uint32_t seed) {
  const latent::RowMatrixf topics = random_normal(256, 128, 99);
  latent::RowMatrixf rows = random_normal(items * length, 128, seed) * 0.3f;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> topic(0, 255);
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    rows.row(i) += topics.row(topic(rng));
    rows.row(i).normalize();
  }
  return latent::MultiVectorSet::from_lengths(std::move(rows),
                                              std::vector<std::int64_t>(static_cast<std::size_t>(items), length));
}

latent::FdeOptions fde_options() {
  latent::FdeOptions options;
  options.k_sim = 4;
  options.repetitions = 20;
  options.projection_dim = 16;
  return options;
}

void BM_fde_encode(benchmark::State& state) {
  const latent::MultiVectorSet docs = synthetic_sets(g_docs, 32, 5);
  const latent::FdeEncoder encoder(128, fde_options());
  for (auto _ : state) benchmark::DoNotOptimize(encoder.encode_documents(docs, {1}));
  state.counters["docs/s"] =
      benchmark::Counter(static_cast<double>(g_docs), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_muvera(benchmark::State& state, bool brute_force) {
  const latent::MultiVectorSet docs = synthetic_sets(g_docs, 32, 5), queries = synthetic_sets(20, 32, 6);
  const latent::FdeEncoder encoder(128, fde_options());
  const latent::RowMatrixf fdes = encoder.encode_documents(docs);
  const latent::KnnGraph exact = latent::chamfer_knn(queries, docs, 10);
  latent::KnnGraph found;
  for (auto _ : state) {
    found = brute_force
                ? latent::chamfer_knn(queries, docs, 10, {1})
                : latent::muvera_search(encoder, queries, fdes, docs, 10, std::min<std::int64_t>(g_docs, 100), {1});
    benchmark::DoNotOptimize(found.ids.data());
  }
  state.counters["queries/s"] = benchmark::Counter(20.0, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["recall@10"] = latent::neighbor_recall(found.ids, exact.ids, 10);
}

// ---- hashed embedding tables: --hash-keys random keys (default 1,000,000), d = 96

std::int64_t g_hash_keys = 1000000;  // --hash-keys
constexpr std::int64_t kHashDim = 96;

const std::vector<std::uint64_t>& hash_keys() {
  static const std::vector<std::uint64_t> keys = [] {
    std::vector<std::uint64_t> k(static_cast<std::size_t>(g_hash_keys));
    std::mt19937_64 rng(21);
    for (auto& key : k) key = rng();
    return k;
  }();
  return keys;
}

latent::RowMatrixf hash_table(std::int64_t rows) {
  latent::RowMatrixf table(rows, kHashDim);
  std::mt19937 rng(22);
  std::normal_distribution<float> normal;
  for (Eigen::Index i = 0; i < table.size(); ++i) table.data()[i] = normal(rng);
  return table;
}

// Multi-hash lookup (hash each key, sum its rows), keys/s.
void BM_hash_lookup(benchmark::State& state, std::int64_t rows, int hashes) {
  latent::HashEmbeddingOptions options;
  options.hashes = hashes;
  options.parallel.threads = 1;
  const latent::HashEmbedding table(hash_table(rows), options);
  for (auto _ : state) {
    const latent::RowMatrixf out = table.lookup(hash_keys());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["keys/s"] = benchmark::Counter(
      static_cast<double>(g_hash_keys) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Peer: a plain-loop gather of one row per key (ids given, no hashing) into a
// fresh output, as lookup returns one: what a lookup costs without the hash
// and the sum.
void BM_dense_gather(benchmark::State& state, std::int64_t rows) {
  const latent::RowMatrixf table = hash_table(rows);
  std::vector<std::int64_t> ids(hash_keys().size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int64_t>(hash_keys()[i] % rows);
  for (auto _ : state) {
    latent::RowMatrixf out(g_hash_keys, kHashDim);
    for (std::int64_t i = 0; i < g_hash_keys; ++i)
      std::copy(table.data() + ids[static_cast<std::size_t>(i)] * kHashDim,
                table.data() + (ids[static_cast<std::size_t>(i)] + 1) * kHashDim, out.data() + i * kHashDim);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["keys/s"] = benchmark::Counter(
      static_cast<double>(g_hash_keys) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Memory against collisions: the share of the keys sharing their
// whole bucket tuple with another key, and the table's megabytes.
void BM_hash_collisions(benchmark::State& state, std::int64_t rows, int hashes) {
  double rate = 0;
  for (auto _ : state) rate = latent::hash_collision_rate(hash_keys(), rows, hashes);
  state.counters["collision_rate"] = rate;
  state.counters["table_MB"] = static_cast<double>(rows * kHashDim * 4) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const latent_bench::Options options(argc, argv, {"rows", "queries", "docs", "tokens", "hash-keys"});
  g_hash_keys = options.integer("hash-keys", g_hash_keys, 10);
  g_rows = options.integer("rows", g_rows, 100);
  g_queries = options.integer("queries", g_queries, 1);
  g_docs = options.integer("docs", g_docs, 100);
  g_tokens = options.integer("tokens", g_tokens, 8);
  const std::string t = "/tokens:" + std::to_string(g_tokens);
  benchmark::RegisterBenchmark(("pool/mean" + t).c_str(), BM_pool, latent::Pooling::mean);
  benchmark::RegisterBenchmark(("pool/max" + t).c_str(), BM_pool, latent::Pooling::max);
  benchmark::RegisterBenchmark(("pool/last" + t).c_str(), BM_pool, latent::Pooling::last);
  benchmark::RegisterBenchmark(("pool/mean_eigen_loop" + t).c_str(), BM_pool_eigen_loop);
  for (const auto type : {latent::QuantizationType::f16, latent::QuantizationType::bf16, latent::QuantizationType::int8,
                          latent::QuantizationType::binary}) {
    const std::string name = latent::to_string(type);
    benchmark::RegisterBenchmark(("quantize/encode/" + name + "/d:1024").c_str(), BM_quantize, type, false);
    if (type != latent::QuantizationType::binary)
      benchmark::RegisterBenchmark(("quantize/decode/" + name + "/d:1024").c_str(), BM_quantize, type, true);
  }
  const std::string shape = "/n:" + std::to_string(g_rows) + "/d:1024/k:10/queries:" + std::to_string(g_queries);
  benchmark::RegisterBenchmark(("search/binary_hamming" + shape).c_str(), BM_search_binary)
      ->Arg(1)
      ->Arg(2)
      ->UseRealTime();
#if defined(LATENT_BENCH_WITH_FAISS)
  benchmark::RegisterBenchmark(("search/faiss_binary_flat" + shape).c_str(), BM_search_faiss_binary)->UseRealTime();
#endif
  benchmark::RegisterBenchmark(("search/float_ip" + shape).c_str(), BM_search_float)->Arg(1)->Arg(2)->UseRealTime();
  const std::string docs = "/docs:" + std::to_string(g_docs) + "/vectors:32/d:128";
  benchmark::RegisterBenchmark(("fde/encode" + docs).c_str(), BM_fde_encode);
  benchmark::RegisterBenchmark(("muvera/fde_then_chamfer" + docs).c_str(), BM_muvera, false);
  benchmark::RegisterBenchmark(("muvera/brute_force_chamfer" + docs).c_str(), BM_muvera, true);
  for (const std::int64_t rows : {std::int64_t{1} << 14, std::int64_t{1} << 17, std::int64_t{1} << 20}) {
    const std::string r = "/rows:" + std::to_string(rows) + "/d:96";
    for (const int hashes : {1, 4}) {
      const std::string h = "/hashes:" + std::to_string(hashes);
      benchmark::RegisterBenchmark(("hash/lookup/latent" + r + h).c_str(), BM_hash_lookup, rows, hashes)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("hash/collisions/keys:" + std::to_string(g_hash_keys) + r + h).c_str(),
                                   BM_hash_collisions, rows, hashes)
          ->Iterations(1)
          ->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark(("hash/lookup/dense_gather" + r).c_str(), BM_dense_gather, rows)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
