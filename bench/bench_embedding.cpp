// bench_embedding: pooling throughput, quantize / dequantize bandwidth, binary
// Hamming search against float exact search (speed and memory), FDE encoding rate
// and MUVERA end-to-end against brute-force Chamfer, hashed tables, and sparse
// autoencoder encoding (d = 768, 16,384 features, k = 32: the fused top-k of the
// GEMM path against the dense pre-activations then a partial sort per row, as a
// share of the FP32 FMA peak) and the inverted index over its codes against the
// dense exact search of the same codes.
//
// Peers in the same executable: a plain Eigen loop for mean pooling, the float
// exact k-NN of latent (GEMM path) for binary search, FAISS's IndexBinaryFlat
// when built with FAISS, and brute-force Chamfer for MUVERA.
// Options: --rows=N (search base rows, default 100000; the large case is
// --rows=1000000 with d 1024), --queries=N (default 100), --docs=N (MUVERA corpus,
// default 2000), --tokens=N (pooling sequence length, default 256), --sae-rows=N
// (rows encoded, default 4096; codes searched: 10,000 base and 1,000 queries,
// scaled down with it).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>

#include "bench_support.hpp"
#include "latent/embedding.hpp"
#include "latent/kernels/isa.hpp"
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

// ---- sparse autoencoder: d = 768, m = 16,384, k = 32, random weights (rows of W_dec
// unit-norm, W_enc their transpose), Gaussian inputs.
std::int64_t g_sae_rows = 4096;
constexpr std::int64_t kSaeDim = 768, kSaeFeatures = 16384, kSaeK = 32;

const latent::SparseAutoencoder& bench_sae() {
  static const latent::SparseAutoencoder sae = [] {
    latent::RowMatrixf w_dec = random_normal(kSaeFeatures, kSaeDim, 31);
    w_dec.rowwise().normalize();
    const latent::RowMatrixf w_enc = w_dec.transpose();
    return latent::SparseAutoencoder(w_enc, std::vector<float>(kSaeFeatures, 0.0f), w_dec,
                                     std::vector<float>(kSaeDim, 0.0f));
  }();
  return sae;
}

const latent::RowMatrixf& sae_inputs() {
  static const latent::RowMatrixf x = random_normal(g_sae_rows, kSaeDim, 32);
  return x;
}

void report_sae(benchmark::State& state, int threads) {
  const double flops = 2.0 * static_cast<double>(g_sae_rows) * kSaeFeatures * (kSaeDim + 1);
  const double rate = flops * 1e-9 * static_cast<double>(state.iterations());
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(g_sae_rows * state.iterations()), benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(rate, benchmark::Counter::kIsRate);
  const latent::kernels::Isa isa = latent::kernels::active_isa();
  const double peak = latent_bench::peak_of(isa);
  if (peak > 0)
    state.counters["share_of_peak"] = benchmark::Counter(rate / (peak * threads), benchmark::Counter::kIsRate);
}

// latent: topk codes through the GEMM path's fused top-k.
void BM_sae_encode(benchmark::State& state, int threads) {
  latent::SaeEncodeOptions options;
  options.k = kSaeK;
  options.parallel.threads = threads;
  for (auto _ : state) {
    const latent::SparseMatrix codes = bench_sae().encode(sae_inputs(), options);
    benchmark::DoNotOptimize(codes.values());
  }
  report_sae(state, threads);
}

// Peer: the dense pre-activations (the same GEMM path), then the k largest of each
// row by a partial sort, in blocks of 1,024 rows.
void BM_sae_dense_then_sort(benchmark::State& state, int threads) {
  const latent::Parallel parallel{threads};
  for (auto _ : state) {
    std::vector<std::int64_t> kept;
    for (std::int64_t begin = 0; begin < g_sae_rows; begin += 1024) {
      const std::int64_t end = std::min(g_sae_rows, begin + 1024);
      const latent::RowMatrixf pre = bench_sae().pre_activations(sae_inputs().middleRows(begin, end - begin), parallel);
      std::vector<std::int64_t> order(static_cast<std::size_t>(kSaeFeatures));
      for (std::int64_t i = 0; i < pre.rows(); ++i) {
        for (std::size_t j = 0; j < order.size(); ++j) order[j] = static_cast<std::int64_t>(j);
        std::partial_sort(order.begin(), order.begin() + kSaeK, order.end(),
                          [&](std::int64_t a, std::int64_t b) { return pre(i, a) > pre(i, b); });
        kept.insert(kept.end(), order.begin(), order.begin() + kSaeK);
      }
    }
    benchmark::DoNotOptimize(kept.data());
  }
  report_sae(state, threads);
}

struct SparseCorpus {
  latent::SparseMatrix base, queries;
  latent::RowMatrixf base_dense, queries_dense;
};

const SparseCorpus& sparse_corpus() {
  static const SparseCorpus corpus = [] {
    latent::SaeEncodeOptions options;
    options.k = kSaeK;
    const std::int64_t n = std::max<std::int64_t>(100, g_sae_rows * 10000 / 4096);
    const std::int64_t q = std::max<std::int64_t>(10, n / 10);
    SparseCorpus c{bench_sae().encode(random_normal(n, kSaeDim, 33), options),
                   bench_sae().encode(random_normal(q, kSaeDim, 34), options),
                   {},
                   {}};
    c.base_dense = c.base.to_dense();
    c.queries_dense = c.queries.to_dense();
    return c;
  }();
  return corpus;
}

void BM_sparse_search(benchmark::State& state, bool inverted, int threads) {
  const SparseCorpus& c = sparse_corpus();
  const latent::SparseIndex index(c.base);
  latent::SearchOptions options;
  options.parallel.threads = threads;
  for (auto _ : state) {
    const latent::KnnGraph graph = inverted
                                       ? index.search(c.queries, 10, options.parallel)
                                       : latent::knn(c.queries_dense, c.base_dense, 10, latent::Metric::ip, options);
    benchmark::DoNotOptimize(graph.ids.data());
  }
  state.counters["queries/s"] =
      benchmark::Counter(static_cast<double>(c.queries.rows() * state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  const latent_bench::Options options(argc, argv, {"rows", "queries", "docs", "tokens", "hash-keys", "sae-rows"});
  g_sae_rows = options.integer("sae-rows", g_sae_rows, 16);
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
  latent_bench::register_peaks({latent::kernels::active_isa()}, {latent_bench::Peak::fma_f32});
  bench_sae();  // the weights and inputs are made before any timing
  sae_inputs();
  for (const int threads : {1, 2}) {
    const std::string sae =
        "/d:768/features:16384/k:32/rows:" + std::to_string(g_sae_rows) + "/threads:" + std::to_string(threads);
    benchmark::RegisterBenchmark(("sae/encode/topk/latent" + sae).c_str(), BM_sae_encode, threads)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("sae/encode/topk/dense_then_sort" + sae).c_str(), BM_sae_dense_then_sort, threads)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    const std::string corpus = "/features:16384/k:32/threads:" + std::to_string(threads);
    benchmark::RegisterBenchmark(("sparse/search/inverted_index" + corpus).c_str(), BM_sparse_search, true, threads)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("sparse/search/dense_exact_ip" + corpus).c_str(), BM_sparse_search, false, threads)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
