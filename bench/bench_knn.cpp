// Exact batch search: latent against FAISS's flat indexes on the same data, in one
// run, with the FP32 FMA peak of each ISA measured by a register-only probe first.
//
//   bench_knn [--data=DIR] [--queries=N] [--rows=N] [google benchmark flags]
//
// DIR holds train.npy [60000 x 784] and test.npy [10000 x 784] (written by
// `data/fashion-mnist/make_sample.py --full DIR` from Debian's dataset-fashion-mnist);
// without it the same shapes are filled with seeded random values. Queries are the
// first N test rows (default 10,000), the base the first N train rows (60,000).
//
// Reported per benchmark: GFLOP/s (2 n_q n_b d per search) and, for latent,
// fraction_of_peak = GFLOP/s / (probe peak of the ISA x threads). The bf16 and
// int8 searches (latent::low_precision_knn, with and without exact re-scoring
// of 50 candidates, conversion of the base included) against the same f32
// search and FAISS's IndexScalarQuantizer (fp16, SQ8): their recall@10 against
// the exact f32 lists and share_of_peak against the probe of the instruction
// their tiles use (VDPBF16PS, VPDPBUSD). The kNN graph of 20,000 base rows
// with the symmetric schedule (each pair once) against the general one. Hyperbolic
// kNN (latent::hyperbolic_knn, the Lorentz -> MIPS reduction on the f64 GEMM path)
// against the pair loop (every distance by the stable formula, then a partial sort
// per query) on 1,000 queries x 20,000 base rows mapped into the Poincaré ball and
// onto the hyperboloid by the exponential maps (centred rows, mean norm 1); KL kNN
// of diagonal Gaussians (latent::kl_knn, the KL -> MIPS reduction) against the
// direct divergence of every pair, on the same rows as means with variances
// 0.05 + 0.1 |mean|. Matryoshka funnel retrieval (latent::funnel_knn: a
// shortlist of 100 in the first m principal components, re-ranked in all d)
// against the exact search of the same rotated rows (PCA fitted on the base),
// with the funnel's recall@10. FAISS threads
// are set with omp_set_num_threads and OpenBLAS's openblas_set_num_threads (the
// benchmark may change global settings; the library never does). To give FAISS
// OpenBLAS's best kernels, run with OPENBLAS_CORETYPE=SkylakeX (or Zen, Haswell)
// set for that command only.
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "latent/core/io.hpp"
#include "latent/embedding.hpp"
#include "latent/kernels.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"
#include "latent/whitening.hpp"

#if defined(LATENT_BENCH_WITH_FAISS)
#include <faiss/IndexFlat.h>
#include <faiss/IndexScalarQuantizer.h>
#endif

namespace {

using latent_bench::Isa;

struct Data {
  latent::RowMatrixf base, queries;            // as given
  latent::RowMatrixf base_unit, queries_unit;  // L2-normalised copies for FAISS's cosine
  std::string source;
};

Data& data() {
  static Data d;
  return d;
}

double flops_per_search() {
  return 2.0 * static_cast<double>(data().queries.rows()) * static_cast<double>(data().base.rows()) *
         static_cast<double>(data().base.cols());
}

void report(benchmark::State& state, int threads, Isa isa, bool with_peak) {
  const double rate = flops_per_search() * 1e-9;
  state.counters["GFLOP/s"] =
      benchmark::Counter(rate * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["queries/s"] =
      benchmark::Counter(static_cast<double>(data().queries.rows() * state.iterations()), benchmark::Counter::kIsRate);
  if (with_peak && latent_bench::peak_of(isa) > 0) {
    // Filled in by the caller's timing: GFLOP/s over the peak of `threads` cores.
    state.counters["peak_GFLOP/s"] = latent_bench::peak_of(isa) * threads;
  }
}

void BM_latent_knn(benchmark::State& state, latent::Metric metric, int threads, Isa isa) {
  latent::kernels::ScopedIsa scoped(isa);
  latent::SearchOptions options;
  options.parallel.threads = threads;
  for (auto _ : state) {
    const latent::KnnGraph graph = latent::knn(data().queries, data().base, 10, metric, options);
    benchmark::DoNotOptimize(graph.ids.data());
  }
  report(state, threads, isa, true);
}

// The GEMM phase alone: C = Q B^T for all queries against a 4096-row slice of the base.
void BM_latent_gemm(benchmark::State& state, int threads, Isa isa) {
  latent::kernels::ScopedIsa scoped(isa);
  const std::int64_t n = std::min<std::int64_t>(4096, data().base.rows());
  const latent::MatrixView<float> base(data().base.data(), n, data().base.cols());
  latent::RowMatrixf c(data().queries.rows(), n);
  for (auto _ : state) {
    latent::kernels::gemm_nt_f32(data().queries, base, c.data(), n,
                                 latent::kernels::BlockOptions{latent::Parallel{threads}, 0, 0});
    benchmark::DoNotOptimize(c.data());
  }
  const double flops = 2.0 * static_cast<double>(data().queries.rows()) * static_cast<double>(n) *
                       static_cast<double>(data().base.cols());
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  if (latent_bench::peak_of(isa) > 0) state.counters["peak_GFLOP/s"] = latent_bench::peak_of(isa) * threads;
}

// ---- low precision

// The exact f32 lists of the queries (the recall reference), computed once per metric.
const latent::IdMatrix& exact_ids(latent::Metric metric) {
  static std::map<latent::Metric, latent::IdMatrix> cache;
  auto found = cache.find(metric);
  if (found == cache.end())
    found = cache.emplace(metric, latent::knn(data().queries, data().base, 10, metric).ids).first;
  return found->second;
}

void BM_latent_low_precision(benchmark::State& state, latent::Metric metric, latent::ComputePrecision compute,
                             std::int64_t rescore, int threads, Isa isa) {
  latent::kernels::ScopedIsa scoped(isa);
  const latent::LowPrecisionOptions options{compute, rescore, latent::Parallel{threads}, {}};
  latent::KnnGraph graph;
  for (auto _ : state) {
    graph = latent::low_precision_knn(data().queries, data().base, 10, metric, options);
    benchmark::DoNotOptimize(graph.ids.data());
  }
  report(state, threads, isa, false);
  state.counters["recall@10"] = latent::neighbor_recall(graph.ids, exact_ids(metric), 10);
  const double peak = latent_bench::peak_of(
      isa, compute == latent::ComputePrecision::bf16 ? latent_bench::Peak::bf16 : latent_bench::Peak::int8);
  if (peak > 0)
    state.counters["share_of_peak"] =
        benchmark::Counter(flops_per_search() * 1e-9 * static_cast<double>(state.iterations()) / (peak * threads),
                           benchmark::Counter::kIsRate);
}

// The kNN graph of the first 20,000 base rows (self excluded): the symmetric
// schedule (each pair once; the rows passed as both sides) against the general
// one (the same rows from a second buffer), whose lists are bitwise the same.
void BM_self_graph(benchmark::State& state, latent::Metric metric, bool symmetric, int threads) {
  const std::int64_t n = std::min<std::int64_t>(20000, data().base.rows()), k = 10;
  const latent::RowMatrixf x = data().base.topRows(n);
  const latent::RowMatrixf copy = x;
  latent::IdMatrix ids(n, k);
  latent::RowMatrixf scores(n, k);
  const latent::kernels::BlockOptions options{latent::Parallel{threads}, 0, 0};
  for (auto _ : state) {
    latent::kernels::knn_f32(metric, x, symmetric ? x : copy, k, 0, ids.data(), scores.data(), options);
    benchmark::DoNotOptimize(ids.data());
  }
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(x.cols());
  state.counters["pairs_GFLOP/s"] =
      benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// ---- hyperbolic

struct HyperbolicData {
  latent::RowMatrixf base, queries;
};

// The first 20,000 base rows and 1,000 queries, centred on the base mean and scaled
// to mean norm 1 (shared by the hyperbolic and the Gaussian benchmarks).
const HyperbolicData& centred_rows() {
  static const HyperbolicData d = [] {
    const std::int64_t n = std::min<std::int64_t>(20000, data().base.rows());
    const std::int64_t m = std::min<std::int64_t>(1000, data().queries.rows());
    const Eigen::RowVectorXf mean = data().base.topRows(n).colwise().mean();
    HyperbolicData rows{data().base.topRows(n).rowwise() - mean, data().queries.topRows(m).rowwise() - mean};
    const float scale = 1.0f / rows.base.rowwise().norm().mean();
    rows.base *= scale;
    rows.queries *= scale;
    return rows;
  }();
  return d;
}

// The centred rows mapped by the model's exponential map at the origin (c = 1).
const HyperbolicData& hyperbolic_data(latent::HyperbolicModel model) {
  static std::map<latent::HyperbolicModel, HyperbolicData> cache;
  auto found = cache.find(model);
  if (found != cache.end()) return found->second;
  const HyperbolicData& rows = centred_rows();
  const bool ball = model == latent::HyperbolicModel::poincare;
  HyperbolicData d{ball ? latent::poincare_expmap0(rows.base, 1.0) : latent::lorentz_expmap0(rows.base, 1.0),
                   ball ? latent::poincare_expmap0(rows.queries, 1.0) : latent::lorentz_expmap0(rows.queries, 1.0)};
  return cache.emplace(model, std::move(d)).first->second;
}

void report_hyperbolic(benchmark::State& state, const HyperbolicData& d) {
  state.counters["queries/s"] =
      benchmark::Counter(static_cast<double>(d.queries.rows() * state.iterations()), benchmark::Counter::kIsRate);
}

void BM_hyperbolic_knn(benchmark::State& state, latent::HyperbolicModel model, int threads) {
  const HyperbolicData& d = hyperbolic_data(model);
  latent::SearchOptions options;
  options.parallel.threads = threads;
  for (auto _ : state) {
    const latent::KnnGraph graph = latent::hyperbolic_knn(d.queries, d.base, 10, {model, 1.0}, options);
    benchmark::DoNotOptimize(graph.ids.data());
  }
  report_hyperbolic(state, d);
}

// The pair loop: every distance by the stable formula (latent::hyperbolic_distances),
// then the 10 smallest of each row.
void BM_hyperbolic_pair_loop(benchmark::State& state, latent::HyperbolicModel model, int threads) {
  const HyperbolicData& d = hyperbolic_data(model);
  const std::int64_t k = 10;
  latent::IdMatrix ids(d.queries.rows(), k);
  for (auto _ : state) {
    const latent::RowMatrixf distances =
        latent::hyperbolic_distances(d.queries, d.base, {model, 1.0}, latent::Parallel{threads});
    std::vector<std::int64_t> order(static_cast<std::size_t>(d.base.rows()));
    for (std::int64_t i = 0; i < d.queries.rows(); ++i) {
      for (std::size_t j = 0; j < order.size(); ++j) order[j] = static_cast<std::int64_t>(j);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](std::int64_t a, std::int64_t b) {
        return distances(i, a) < distances(i, b) || (distances(i, a) == distances(i, b) && a < b);
      });
      for (std::int64_t e = 0; e < k; ++e) ids(i, e) = order[static_cast<std::size_t>(e)];
    }
    benchmark::DoNotOptimize(ids.data());
  }
  report_hyperbolic(state, d);
}

// ---- Gaussian KL

struct GaussianData {
  latent::GaussianEmbedding<float> base, queries;
};

// The hyperbolic benchmarks' centred, scaled rows as means; variances 0.05 + 0.1 |mean|.
const GaussianData& gaussian_data() {
  static const GaussianData d = [] {
    const latent::RowMatrixf& base = centred_rows().base;
    const latent::RowMatrixf& queries = centred_rows().queries;
    const auto variance = [](const latent::RowMatrixf& x) {
      return latent::RowMatrixf((0.1f * x.array().abs() + 0.05f).matrix());
    };
    return GaussianData{latent::GaussianEmbedding<float>(base, variance(base)),
                        latent::GaussianEmbedding<float>(queries, variance(queries))};
  }();
  return d;
}

void BM_kl_knn(benchmark::State& state, bool reduced, int threads) {
  const GaussianData& d = gaussian_data();
  latent::SearchOptions options;
  options.parallel.threads = threads;
  const std::int64_t k = 10;
  for (auto _ : state) {
    if (reduced) {
      const latent::KnnGraph graph = latent::kl_knn(d.queries, d.base, k, latent::KlDirection::forward, options);
      benchmark::DoNotOptimize(graph.ids.data());
    } else {
      // The direct way: every divergence, then the k smallest of each row.
      const latent::RowMatrixd kl =
          latent::kl_divergence(d.queries, d.base, latent::KlDirection::forward, options.parallel);
      latent::IdMatrix ids(kl.rows(), k);
      std::vector<std::int64_t> order(static_cast<std::size_t>(kl.cols()));
      for (std::int64_t i = 0; i < kl.rows(); ++i) {
        std::iota(order.begin(), order.end(), std::int64_t{0});
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](std::int64_t a, std::int64_t b) {
          return kl(i, a) < kl(i, b) || (kl(i, a) == kl(i, b) && a < b);
        });
        for (std::int64_t e = 0; e < k; ++e) ids(i, e) = order[static_cast<std::size_t>(e)];
      }
      benchmark::DoNotOptimize(ids.data());
    }
  }
  state.counters["queries/s"] =
      benchmark::Counter(static_cast<double>(d.queries.rows() * state.iterations()), benchmark::Counter::kIsRate);
}

// ---- Matryoshka funnel over the principal components of the base (l2).

struct RotatedData {
  latent::RowMatrixf base, queries;
  latent::IdMatrix exact;
};

const RotatedData& rotated_data() {
  static const RotatedData d = [] {
    latent::WhiteningOptions pca;
    pca.method = latent::WhiteningMethod::projection;
    latent::Whitening<float> projection(pca);
    projection.fit(data().base);
    RotatedData r{projection.transform(data().base), projection.transform(data().queries), {}};
    r.exact = latent::knn(r.queries, r.base, 10, latent::Metric::l2).ids;
    return r;
  }();
  return d;
}

void BM_funnel(benchmark::State& state, std::int64_t m, int threads) {
  const RotatedData& d = rotated_data();
  latent::FunnelOptions options;
  options.shortlist_dim = std::min<std::int64_t>(m, d.base.cols());
  options.shortlist = std::min<std::int64_t>(100, d.base.rows());
  options.metric = latent::Metric::l2;
  options.parallel.threads = threads;
  latent::KnnGraph graph;
  for (auto _ : state) {
    graph = m == 0 ? latent::knn(d.queries, d.base, 10, latent::Metric::l2, latent::SearchOptions{options.parallel})
                   : latent::funnel_knn(d.queries, d.base, 10, options);
    benchmark::DoNotOptimize(graph.ids.data());
  }
  state.counters["recall@10"] = latent::neighbor_recall(graph.ids, d.exact, 10);
  state.counters["queries/s"] =
      benchmark::Counter(static_cast<double>(d.queries.rows() * state.iterations()), benchmark::Counter::kIsRate);
}

#if defined(LATENT_BENCH_WITH_FAISS)
void set_blas_threads(int threads) {
  using SetThreads = void (*)(int);
  if (auto* set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
}

void BM_faiss_flat(benchmark::State& state, latent::Metric metric, int threads) {
  const bool cosine = metric == latent::Metric::cosine;
  const latent::RowMatrixf& base = cosine ? data().base_unit : data().base;
  const latent::RowMatrixf& queries = cosine ? data().queries_unit : data().queries;
  const auto dim = static_cast<int>(base.cols());
  // std::int64_t is FAISS's idx_t on LP64 (1.7.3 spells it Index::idx_t, newer faiss::idx_t).
  faiss::IndexFlat index(dim, cosine || metric == latent::Metric::ip ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2);
  index.add(base.rows(), base.data());
  std::vector<std::int64_t> ids(static_cast<std::size_t>(queries.rows() * 10));
  std::vector<float> scores(ids.size());
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  set_blas_threads(threads);
  for (auto _ : state) {
    index.search(queries.rows(), queries.data(), 10, scores.data(), ids.data());
    benchmark::DoNotOptimize(ids.data());
  }
  omp_set_num_threads(saved);
  set_blas_threads(saved);
  report(state, threads, Isa::scalar, false);
}
#endif

#if defined(LATENT_BENCH_WITH_FAISS)
// FAISS's scalar quantizer (fp16 or SQ8: 8 bits per dimension over the trained
// per-dimension range), trained and filled outside the timing; the search timed.
void BM_faiss_scalar_quantizer(benchmark::State& state, latent::Metric metric,
                               faiss::ScalarQuantizer::QuantizerType type, int threads) {
  const auto dim = static_cast<int>(data().base.cols());
  faiss::IndexScalarQuantizer index(dim, type,
                                    metric == latent::Metric::ip ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2);
  index.train(data().base.rows(), data().base.data());
  index.add(data().base.rows(), data().base.data());
  latent::IdMatrix ids(data().queries.rows(), 10);
  latent::RowMatrixf scores(data().queries.rows(), 10);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  for (auto _ : state) {
    index.search(data().queries.rows(), data().queries.data(), 10, scores.data(), ids.data());
    benchmark::DoNotOptimize(ids.data());
  }
  omp_set_num_threads(saved);
  report(state, threads, Isa::scalar, false);
  state.counters["recall@10"] = latent::neighbor_recall(ids, exact_ids(metric), 10);
}
#endif

void load_data(const std::string& dir, std::int64_t queries, std::int64_t rows) {
  Data& d = data();
  if (!dir.empty() && std::filesystem::exists(dir + "/train.npy") && std::filesystem::exists(dir + "/test.npy")) {
    d.base = latent::read_npy_matrix<float>(dir + "/train.npy").topRows(std::min<std::int64_t>(rows, 60000));
    d.queries = latent::read_npy_matrix<float>(dir + "/test.npy").topRows(std::min<std::int64_t>(queries, 10000));
    d.source = "fashion-mnist";
  } else {
    std::mt19937 rng(123);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    d.base.resize(rows, 784);
    d.queries.resize(queries, 784);
    for (Eigen::Index i = 0; i < d.base.size(); ++i) d.base.data()[i] = uniform(rng);
    for (Eigen::Index i = 0; i < d.queries.size(); ++i) d.queries.data()[i] = uniform(rng);
    d.source = "random";
  }
  d.base_unit = d.base.rowwise().normalized();
  d.queries_unit = d.queries.rowwise().normalized();
}

}  // namespace

int main(int argc, char** argv) {
  const latent_bench::Options options(argc, argv, {"data", "queries", "rows"});
  benchmark::Initialize(&argc, argv);
  load_data(options.text("data"), options.integer("queries", 10000, 1), options.integer("rows", 60000, 16));
  const std::string shape = "/n:" + std::to_string(data().base.rows()) + "/d:" + std::to_string(data().base.cols()) +
                            "/q:" + std::to_string(data().queries.rows()) + "/k:10/" + data().source;
  const std::vector<Isa> isas = latent_bench::simd_isas();
  latent_bench::register_peaks(isas);
  for (const int threads : {1, 2}) {
    const std::string t = "/threads:" + std::to_string(threads);
    for (const Isa isa : isas) {
      const std::string name = std::string(latent::kernels::to_string(isa));
      benchmark::RegisterBenchmark(
          ("gemm/latent/isa:" + name + "/m:" + std::to_string(data().queries.rows()) + "/n:4096" + t).c_str(),
          BM_latent_gemm, threads, isa)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
    for (const latent::Metric metric : {latent::Metric::cosine, latent::Metric::l2}) {
      const std::string m = std::string(latent::to_string(metric));
      for (const Isa isa : isas) {
        benchmark::RegisterBenchmark(
            ("knn/" + m + "/latent/isa:" + std::string(latent::kernels::to_string(isa)) + shape + t).c_str(),
            BM_latent_knn, metric, threads, isa)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
#if defined(LATENT_BENCH_WITH_FAISS)
      benchmark::RegisterBenchmark(("knn/" + m + "/faiss_flat" + shape + t).c_str(), BM_faiss_flat, metric, threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
#endif
    }
  }
  for (const int threads : {1, 2})
    for (const latent::Metric metric : {latent::Metric::cosine, latent::Metric::l2})
      for (const bool symmetric : {false, true})
        benchmark::RegisterBenchmark(
            ("self_graph/" + std::string(latent::to_string(metric)) + (symmetric ? "/symmetric" : "/general") +
             "/n:20000/threads:" + std::to_string(threads))
                .c_str(),
            BM_self_graph, metric, symmetric, threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
  for (const int threads : {1, 2})
    for (const latent::HyperbolicModel model : {latent::HyperbolicModel::poincare, latent::HyperbolicModel::lorentz}) {
      const HyperbolicData& d = hyperbolic_data(model);
      const std::string suffix = "/n:" + std::to_string(d.base.rows()) + "/d:" + std::to_string(d.base.cols()) +
                                 "/q:" + std::to_string(d.queries.rows()) + "/k:10/" + data().source +
                                 "/threads:" + std::to_string(threads);
      const std::string m = std::string(latent::to_string(model));
      benchmark::RegisterBenchmark(("hyperbolic/" + m + "/latent" + suffix).c_str(), BM_hyperbolic_knn, model, threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("hyperbolic/" + m + "/pair_loop" + suffix).c_str(), BM_hyperbolic_pair_loop, model,
                                   threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  for (const int threads : {1, 2}) {
    const GaussianData& d = gaussian_data();
    const std::string suffix = "/n:" + std::to_string(d.base.rows()) + "/d:" + std::to_string(d.base.dim()) +
                               "/q:" + std::to_string(d.queries.rows()) + "/k:10/" + data().source +
                               "/threads:" + std::to_string(threads);
    for (const bool reduced : {true, false})
      benchmark::RegisterBenchmark(("kl/forward/" + std::string(reduced ? "latent" : "pair_loop") + suffix).c_str(),
                                   BM_kl_knn, reduced, threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  }
  for (const int threads : {1, 2})
    for (const std::int64_t m :
         {std::int64_t{0}, std::int64_t{16}, std::int64_t{32}, std::int64_t{64}, std::int64_t{128}}) {
      const std::string name =
          m == 0 ? "funnel/l2/exact_pca_rows" : "funnel/l2/m:" + std::to_string(m) + "/shortlist:100";
      benchmark::RegisterBenchmark((name + shape + "/threads:" + std::to_string(threads)).c_str(), BM_funnel, m,
                                   threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  // bf16 / int8 (ip and l2, as FAISS's scalar quantizers), on the best ISA.
  const Isa best = isas.back();
  const std::string best_name = std::string(latent::kernels::to_string(best));
  latent_bench::register_peaks({best}, {latent_bench::Peak::bf16, latent_bench::Peak::int8});
  for (const int threads : {1, 2}) {
    const std::string t = "/threads:" + std::to_string(threads);
    for (const latent::Metric metric : {latent::Metric::ip, latent::Metric::l2}) {
      const std::string m = std::string(latent::to_string(metric));
      if (metric == latent::Metric::ip)  // l2's f32 and FAISS flat runs are registered above
        benchmark::RegisterBenchmark(("knn/" + m + "/latent/isa:" + best_name + shape + t).c_str(), BM_latent_knn,
                                     metric, threads, best)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      for (const auto compute : {latent::ComputePrecision::bf16, latent::ComputePrecision::int8})
        for (const std::int64_t rescore : {std::int64_t{0}, std::int64_t{50}}) {
          const std::string name = "knn/" + m + "/latent/" + latent::to_string(compute) +
                                   (rescore > 0 ? "+rescore50" : "") + "/isa:" + best_name + shape + t;
          benchmark::RegisterBenchmark(name.c_str(), BM_latent_low_precision, metric, compute, rescore, threads, best)
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
        }
#if defined(LATENT_BENCH_WITH_FAISS)
      if (metric == latent::Metric::ip)
        benchmark::RegisterBenchmark(("knn/" + m + "/faiss_flat" + shape + t).c_str(), BM_faiss_flat, metric, threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      for (const auto& [label, type] : {std::pair{"faiss_sq_fp16", faiss::ScalarQuantizer::QT_fp16},
                                        std::pair{"faiss_sq8", faiss::ScalarQuantizer::QT_8bit}})
        benchmark::RegisterBenchmark(("knn/" + m + "/" + label + shape + t).c_str(), BM_faiss_scalar_quantizer, metric,
                                     type, threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
#endif
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
