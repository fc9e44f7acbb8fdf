// bench_index: the FAISS adapter (latent::index::FaissIndex).
//
// 1. Adapter overhead (Google Benchmark): one index, searched through the adapter
//    and through FAISS directly (`native()`, the same object, the same parameter),
//    so the two differ only by what the adapter adds (validation, cosine
//    normalisation, parameter objects, id translation, canonical row order).
//    Names: index/<factory>/<param>/<adapter|faiss>/<metric>/n:/q:/k:10/threads:T.
// 2. A recall/QPS table in the ann-benchmarks protocol (Fashion-MNIST-784,
//    Euclidean, 60,000 base rows, 10,000 queries, k = 10; HNSW M in {16, 32} with
//    efSearch in {16..512}, IVF nlist in {256, 1024},Flat with nprobe in {1..128}):
//    build time, then for each parameter one pass over all queries (QPS = queries /
//    wall seconds, all threads) and Recall@10 against the exact neighbours of
//    latent::knn. Printed as a table and written as CSV (--csv=PATH). Binary rows:
//    BHNSW32 over 784-bit codes (each pixel above its column mean; 32x smaller
//    than the floats) with exact re-scoring of 100 Hamming candidates from the
//    float rows, and the binary adapter's overhead against IndexBinaryHNSW.
// 3. Codecs: int8 and int4 (latent::Quantizer), PQ, OPQ and VQ
//    (latent::index::VectorCodec) fitted on the first 20,000 base rows and
//    encoding them, timed together; counters: bytes per row, the mean squared
//    row error of the decoded rows, and the recall@10 of 1,000 queries searched
//    among the decoded rows (l2) against their exact neighbours among the originals.
// Options: --data=DIR (train.npy, test.npy; random uniform data otherwise),
// --rows=N, --queries=N, --csv=PATH, --sweep=0 to skip the table (HNSW / IVF: only
// those rows; B: the binary rows), --threads=T.
#include <benchmark/benchmark.h>
#include <faiss/Index.h>
#include <faiss/IndexBinaryHNSW.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bench_support.hpp"
#include "latent/core/io.hpp"
#include "latent/embedding/quantization.hpp"
#include "latent/index/faiss_binary_index.hpp"
#include "latent/index/faiss_codec.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"

namespace {

using latent::Metric;
using latent::RowMatrixf;
using latent::index::FaissBinaryIndex;
using latent::index::FaissIndex;
using latent::index::IndexSearchOptions;

struct Data {
  RowMatrixf base, queries;
  std::string source;
};
Data& data() {
  static Data d;
  return d;
}

void load_data(const std::string& dir, std::int64_t rows, std::int64_t queries) {
  Data& d = data();
  if (!dir.empty() && std::filesystem::exists(dir + "/train.npy") && std::filesystem::exists(dir + "/test.npy")) {
    d.base = latent::read_npy_matrix<float>(dir + "/train.npy");
    d.queries = latent::read_npy_matrix<float>(dir + "/test.npy");
    d.base.conservativeResize(std::min<std::int64_t>(rows, d.base.rows()), Eigen::NoChange);
    d.queries.conservativeResize(std::min<std::int64_t>(queries, d.queries.rows()), Eigen::NoChange);
    d.source = "fashion-mnist";
    return;
  }
  // No data folder: uniform [0, 1) pixels of the same shape (fixed seed).
  std::mt19937 rng(123);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (auto [matrix, count] : {std::pair<RowMatrixf*, std::int64_t>{&d.base, rows}, {&d.queries, queries}}) {
    matrix->resize(count, 784);
    std::generate_n(matrix->data(), matrix->size(), [&] { return uniform(rng); });
  }
  d.source = "random";
}

// Built once per (factory, metric) and shared by the adapter / FAISS pair.
FaissIndex& built(const std::string& factory, Metric metric) {
  static std::map<std::string, std::unique_ptr<FaissIndex>> cache;
  const std::string key = factory + "/" + std::string(latent::to_string(metric));
  auto& slot = cache[key];
  if (!slot) {
    slot = std::make_unique<FaissIndex>(data().base.cols(), factory, metric);
    slot->train(data().base);
    slot->add(data().base);
  }
  return *slot;
}

void set_param(IndexSearchOptions& options, const std::string& factory, int value) {
  if (factory.rfind("HNSW", 0) == 0)
    options.ef_search = value;
  else
    options.nprobe = value;
}

void BM_adapter(benchmark::State& state, std::string factory, Metric metric, int param, int threads) {
  const FaissIndex& index = built(factory, metric);
  IndexSearchOptions options;
  set_param(options, factory, param);
  options.parallel.threads = threads;
  for (auto _ : state) {
    latent::KnnGraph graph = index.search(data().queries, 10, options);
    benchmark::DoNotOptimize(graph.ids.data());
  }
  state.SetItemsProcessed(state.iterations() * data().queries.rows());
}

// FAISS by hand on the same index: what a FAISS user writes for the same result
// (normalise the queries for cosine, set the parameter, set the threads).
void BM_faiss(benchmark::State& state, std::string factory, Metric metric, int param, int threads) {
  FaissIndex& index = built(factory, metric);
  faiss::Index* native = index.native();
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(native)) hnsw->hnsw.efSearch = param;
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(native)) ivf->nprobe = static_cast<std::size_t>(param);
  const RowMatrixf& raw = data().queries;
  const std::int64_t n = raw.rows();
  std::vector<std::int64_t> ids(static_cast<std::size_t>(n * 10));
  std::vector<float> distances(ids.size());
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  for (auto _ : state) {
    if (metric == Metric::cosine) {
      const RowMatrixf unit = raw.rowwise().normalized();
      native->search(n, unit.data(), 10, distances.data(), ids.data());
    } else {
      native->search(n, raw.data(), 10, distances.data(), ids.data());
    }
    benchmark::DoNotOptimize(ids.data());
  }
  omp_set_num_threads(saved);
  // Leave the index's defaults as they were for the adapter's runs.
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(native)) hnsw->hnsw.efSearch = 16;
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(native)) ivf->nprobe = 1;
  state.SetItemsProcessed(state.iterations() * n);
}

// Binary codes of the data (centred sign bits) and a BHNSW32 over the base codes.
struct BinaryData {
  latent::QuantizedMatrix base, queries;
  std::unique_ptr<FaissBinaryIndex> index;
  double build_seconds = 0;
};
BinaryData& binary_data(int threads) {
  static BinaryData b;
  if (!b.index) {
    latent::QuantizerOptions bits{latent::QuantizationType::binary};
    bits.binary_center = true;
    latent::Quantizer binary(bits);
    binary.fit(data().base);
    b.base = binary.encode(data().base);
    b.queries = binary.encode(data().queries);
    const auto start = std::chrono::steady_clock::now();
    b.index = std::make_unique<FaissBinaryIndex>(b.base.bytes_per_row * 8, "BHNSW32");
    b.index->add(b.base.view(), latent::Parallel{threads});
    b.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    b.index->attach_vectors(data().base);
  }
  return b;
}

void BM_binary_adapter(benchmark::State& state, int ef, int threads) {
  const BinaryData& b = binary_data(threads);
  IndexSearchOptions options;
  options.ef_search = ef;
  options.parallel.threads = threads;
  for (auto _ : state) {
    latent::KnnGraph graph = b.index->search(b.queries.view(), 10, options);
    benchmark::DoNotOptimize(graph.ids.data());
  }
  state.SetItemsProcessed(state.iterations() * b.queries.rows);
}

void BM_binary_faiss(benchmark::State& state, int ef, int threads) {
  BinaryData& b = binary_data(threads);
  auto* hnsw = dynamic_cast<faiss::IndexBinaryHNSW*>(b.index->native());
  hnsw->hnsw.efSearch = ef;
  std::vector<std::int64_t> ids(static_cast<std::size_t>(b.queries.rows * 10));
  std::vector<std::int32_t> distances(ids.size());
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  for (auto _ : state) {
    hnsw->search(b.queries.rows, b.queries.codes.data(), 10, distances.data(), ids.data());
    benchmark::DoNotOptimize(ids.data());
  }
  omp_set_num_threads(saved);
  hnsw->hnsw.efSearch = 16;
  state.SetItemsProcessed(state.iterations() * b.queries.rows);
}

// ---------------------------------------------------------------- the ann-benchmarks table

double recall_at_10(const latent::KnnGraph& got, const latent::KnnGraph& truth) {
  std::int64_t found = 0;
  for (std::int64_t i = 0; i < got.n_queries(); ++i) {
    const std::set<std::int64_t> want(truth.ids.row(i).data(), truth.ids.row(i).data() + 10);
    for (std::int64_t j = 0; j < 10; ++j) found += static_cast<std::int64_t>(want.count(got.ids(i, j)));
  }
  return static_cast<double>(found) / static_cast<double>(got.n_queries() * 10);
}

void run_sweep(const std::string& csv_path, int threads, const std::string& only) {
  using Clock = std::chrono::steady_clock;
  const Data& d = data();
  latent::SearchOptions exact_options;
  exact_options.parallel.threads = threads;
  const latent::KnnGraph truth = latent::knn(d.queries, d.base, 10, Metric::l2, exact_options);
  struct Config {
    std::string factory;
    std::vector<int> params;
  };
  const std::vector<Config> configs = {
      {"HNSW16", {16, 32, 64, 128, 256, 512}},
      {"HNSW32", {16, 32, 64, 128, 256, 512}},
      {"IVF256,Flat", {1, 2, 4, 8, 16, 32, 64, 128}},
      {"IVF1024,Flat", {1, 2, 4, 8, 16, 32, 64, 128}},
  };
  std::ofstream csv(csv_path);
  csv << "algorithm,factory,parameter,value,build_seconds,recall_at_10,queries_per_second,n_base,n_queries,threads\n";
  std::printf("\nrecall/QPS (ann-benchmarks protocol): %s, n=%lld, q=%lld, d=%lld, k=10, euclidean, threads=%d\n",
              d.source.c_str(), static_cast<long long>(d.base.rows()), static_cast<long long>(d.queries.rows()),
              static_cast<long long>(d.base.cols()), threads);
  std::printf("%-14s %-10s %8s %10s %12s\n", "factory", "parameter", "build_s", "recall@10", "queries/s");
  for (const Config& config : configs) {
    if (only != "1" && config.factory.compare(0, only.size(), only) != 0) continue;
    const auto build_start = Clock::now();
    FaissIndex index(d.base.cols(), config.factory, Metric::l2);
    index.train(d.base, latent::Parallel{threads});
    index.add(d.base, latent::Parallel{threads});
    const double build_seconds = std::chrono::duration<double>(Clock::now() - build_start).count();
    const bool hnsw = config.factory.rfind("HNSW", 0) == 0;
    for (const int param : config.params) {
      IndexSearchOptions options;
      set_param(options, config.factory, param);
      options.parallel.threads = threads;
      const auto start = Clock::now();
      const latent::KnnGraph got = index.search(d.queries, 10, options);
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      const double qps = static_cast<double>(d.queries.rows()) / seconds;
      const double recall = recall_at_10(got, truth);
      const std::string name = hnsw ? "efSearch=" + std::to_string(param) : "nprobe=" + std::to_string(param);
      std::printf("%-14s %-10s %8.1f %10.4f %12.0f\n", config.factory.c_str(), name.c_str(), build_seconds, recall,
                  qps);
      std::fflush(stdout);
      csv << (hnsw ? "hnsw" : "ivf") << ",\"" << config.factory << "\"," << (hnsw ? "efSearch" : "nprobe") << ","
          << param << "," << build_seconds << "," << recall << "," << qps << "," << d.base.rows() << ","
          << d.queries.rows() << "," << threads << std::endl;  // flushed: a cut-short run keeps its rows
    }
  }
  if (only == "1" || only == "B") {
    // BHNSW32 on the codes, the 100 best by Hamming re-scored exactly (l2) from the floats.
    const BinaryData& b = binary_data(threads);
    for (const int ef : {16, 32, 64, 128, 256, 512}) {
      IndexSearchOptions options;
      options.ef_search = ef;
      options.candidates = 100;
      options.parallel.threads = threads;
      const auto start = Clock::now();
      const latent::KnnGraph got = b.index->search_rescored(b.queries.view(), d.queries, 10, Metric::l2, options);
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      const double qps = static_cast<double>(d.queries.rows()) / seconds;
      const double recall = recall_at_10(got, truth);
      const std::string name = "efSearch=" + std::to_string(ef);
      std::printf("%-14s %-10s %8.1f %10.4f %12.0f   (784-bit codes, exact re-scoring of 100)\n", "BHNSW32",
                  name.c_str(), b.build_seconds, recall, qps);
      std::fflush(stdout);
      csv << "binary_hnsw_rescore100,\"BHNSW32\",efSearch," << ef << "," << b.build_seconds << "," << recall << ","
          << qps << "," << d.base.rows() << "," << d.queries.rows() << "," << threads << std::endl;
    }
  }
  std::printf("CSV: %s\n", csv_path.c_str());
}

}  // namespace

// ---- codecs: fit on (and encode) the first 20,000 base rows.
struct CodecData {
  RowMatrixf base, queries;
  latent::IdMatrix exact;
};
const CodecData& codec_data() {
  static const CodecData d = [] {
    CodecData c;
    c.base = data().base.topRows(std::min<std::int64_t>(20000, data().base.rows()));
    c.queries = data().queries.topRows(std::min<std::int64_t>(1000, data().queries.rows()));
    c.exact = latent::knn(c.queries, c.base, 10, Metric::l2).ids;
    return c;
  }();
  return d;
}

void report_codec(benchmark::State& state, std::int64_t bytes_per_row, const RowMatrixf& decoded) {
  const CodecData& d = codec_data();
  state.counters["bytes_per_row"] = static_cast<double>(bytes_per_row);
  state.counters["mse"] = (decoded.cast<double>() - d.base.cast<double>()).rowwise().squaredNorm().mean();
  state.counters["recall@10"] =
      latent::neighbor_recall(latent::knn(d.queries, decoded, 10, Metric::l2).ids, d.exact, 10);
}

void BM_scalar_codec(benchmark::State& state, latent::QuantizationType type, int threads) {
  const CodecData& d = codec_data();
  latent::Quantizer quantizer(latent::QuantizerOptions{type});
  latent::QuantizedMatrix codes;
  for (auto _ : state) {
    quantizer.fit(d.base);
    codes = quantizer.encode(d.base, latent::Parallel{threads});
  }
  report_codec(state, codes.bytes_per_row, quantizer.decode(codes));
}

void BM_vector_codec(benchmark::State& state, latent::index::CodecOptions options, int threads) {
  const CodecData& d = codec_data();
  options.parallel.threads = threads;
  latent::index::VectorCodec codec(options);
  latent::RowMatrix<std::uint8_t> codes;
  for (auto _ : state) {
    codec.fit(d.base);
    codes = codec.encode(d.base);
  }
  report_codec(state, codec.code_size(), codec.decode(codes));
}

int main(int argc, char** argv) {
  const latent_bench::Options options(argc, argv, {"data", "rows", "queries", "csv", "sweep", "threads"});
  benchmark::Initialize(&argc, argv);
  load_data(options.text("data"), options.integer("rows", 60000, 1100), options.integer("queries", 10000, 1));
  const int threads = static_cast<int>(options.integer("threads", 2, 1));
  const std::string shape = "/n:" + std::to_string(data().base.rows()) + "/q:" + std::to_string(data().queries.rows()) +
                            "/k:10/" + data().source + "/threads:" + std::to_string(threads);
  struct Pair {
    std::string factory;
    int param;
    Metric metric;
  };
  for (const Pair& pair :
       {Pair{"HNSW32", 64, Metric::l2}, Pair{"HNSW32", 64, Metric::cosine}, Pair{"IVF1024,Flat", 16, Metric::l2}}) {
    const std::string param = (pair.factory.rfind("HNSW", 0) == 0 ? "/ef:" : "/nprobe:") + std::to_string(pair.param);
    const std::string metric = "/" + std::string(latent::to_string(pair.metric));
    benchmark::RegisterBenchmark(("index/" + pair.factory + param + "/adapter" + metric + shape).c_str(), BM_adapter,
                                 pair.factory, pair.metric, pair.param, threads)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("index/" + pair.factory + param + "/faiss" + metric + shape).c_str(), BM_faiss,
                                 pair.factory, pair.metric, pair.param, threads)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark(("index/BHNSW32/ef:64/adapter/hamming" + shape).c_str(), BM_binary_adapter, 64, threads)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(("index/BHNSW32/ef:64/faiss/hamming" + shape).c_str(), BM_binary_faiss, 64, threads)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  const std::string codecs = "/n:" + std::to_string(std::min<std::int64_t>(20000, data().base.rows())) + "/" +
                             data().source + "/threads:" + std::to_string(threads);
  for (const auto type : {latent::QuantizationType::int8, latent::QuantizationType::int4})
    benchmark::RegisterBenchmark(("codec/" + std::string(latent::to_string(type)) + codecs).c_str(), BM_scalar_codec,
                                 type, threads)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  const std::int64_t dim = data().base.cols();
  for (const std::int64_t m : {std::int64_t{16}, std::int64_t{56}, std::int64_t{112}}) {
    if (dim % m != 0) continue;
    latent::index::CodecOptions pq;
    pq.subquantizers = m;
    benchmark::RegisterBenchmark(("codec/pq/M:" + std::to_string(m) + "/bits:8" + codecs).c_str(), BM_vector_codec, pq,
                                 threads)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
    if (m == 56) {
      latent::index::CodecOptions opq = pq;
      opq.kind = latent::index::CodecKind::opq;
      opq.rotation_iterations = 10;
      benchmark::RegisterBenchmark(("codec/opq/M:56/bits:8/rotation_iterations:10" + codecs).c_str(), BM_vector_codec, opq,
                                   threads)
          ->Iterations(1)
          ->Unit(benchmark::kMillisecond);
    }
  }
  latent::index::CodecOptions vq;
  vq.kind = latent::index::CodecKind::vq;
  vq.centroids = 1024;
  benchmark::RegisterBenchmark(("codec/vq/centroids:1024" + codecs).c_str(), BM_vector_codec, vq, threads)
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  // --sweep=1: the whole table; --sweep=HNSW / --sweep=IVF: those factories only; --sweep=0: none.
  const std::string sweep = options.text("sweep", "1");
  if (sweep != "0") run_sweep(options.text("csv", "index_recall_qps.csv"), threads, sweep);
  benchmark::Shutdown();
  return 0;
}
