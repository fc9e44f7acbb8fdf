// Hubness reduction end to end and stage by stage: the exact kNN graph with C
// candidates (exact_candidate_graph: float GEMM search, candidates re-ranked in
// double), the reduction (fit + transform, keep k), the measures (N_k, the seven
// indices, leave-one-out accuracy) and all of them in one go.
//
//   bench_hubness [--data=DIR] [--rows=N[,N...]] [--threads=T] [--candidates=C]
//                 [--end-to-end-max=N] [--complete=N] [--synthetic=N]
//                 [google benchmark flags]
//
// DIR holds train.npy [60000 x 784] and train_labels.npy (written by
// data/fashion-mnist/make_sample.py --full DIR from Debian's
// dataset-fashion-mnist); the data are its first N rows (default 10,000 and
// 60,000). Without DIR the same shapes are filled with seeded uniform values.
// Metric l2, k = 10, C = 50 (scikit-hubness's recommended setting). End-to-end
// benchmarks run for N <= --end-to-end-max (default 10,000; at 60,000 the sum of
// the stages is the figure). --complete=N adds mutual proximity empiric over all
// N points (the complete graph, O(N^2) memory). --synthetic=N adds the
// reductions of a random N x C graph (random neighbours, sorted distances,
// 16-d vectors for DisSimLocal) with the process's peak resident memory: the
// scale check (N = 1,000,000, C = 50). The peer, scikit-hubness, is Python: its
// figures are measured separately (docs/performance.md gives both); nothing here
// runs it.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/hubness.hpp"
#include "latent/metrics.hpp"
#include "bench_support.hpp"

namespace {

using latent::DistanceGraph;
using latent::Reduction;

constexpr std::int64_t kK = 10;

struct Data {
  latent::RowMatrixf x;
  std::vector<std::int64_t> labels;
  std::string source;
};

std::string g_dir;
int g_threads = 2;
std::int64_t g_candidates = 50;

Data& data(std::int64_t rows) {
  static std::map<std::int64_t, Data> cache;
  auto it = cache.find(rows);
  if (it != cache.end()) return it->second;
  Data d;
  if (!g_dir.empty() && std::filesystem::exists(g_dir + "/train.npy")) {
    d.x = latent::read_npy_matrix<float>(g_dir + "/train.npy").topRows(std::min<std::int64_t>(rows, 60000));
    d.labels = latent::read_npy_vector<std::int64_t>(g_dir + "/train_labels.npy");
    d.labels.resize(static_cast<std::size_t>(d.x.rows()));
    d.source = "fashion-mnist";
  } else {
    std::mt19937 rng(123);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    d.x.resize(rows, 784);
    for (Eigen::Index i = 0; i < d.x.size(); ++i) d.x.data()[i] = uniform(rng);
    d.labels.resize(static_cast<std::size_t>(rows));
    for (std::int64_t i = 0; i < rows; ++i) d.labels[static_cast<std::size_t>(i)] = i % 10;
    d.source = "random";
  }
  return cache.emplace(rows, std::move(d)).first->second;
}

latent::SearchOptions search_options() {
  latent::SearchOptions options;
  options.parallel = latent::Parallel{g_threads};
  return options;
}

const DistanceGraph& cached_graph(std::int64_t rows, std::int64_t candidates) {
  static std::map<std::pair<std::int64_t, std::int64_t>, DistanceGraph> cache;
  const auto key = std::make_pair(rows, candidates);
  auto it = cache.find(key);
  if (it == cache.end()) {
    it = cache.emplace(key, latent::exact_candidate_graph(latent::MatrixView<float>(data(rows).x), candidates,
                                                          latent::Metric::l2, search_options()))
             .first;
  }
  return it->second;
}

double measures_and_accuracy(const DistanceGraph& g, const Data& d) {
  const latent::HubnessMeasures m = latent::hubness_measures(g.ids, d.x.rows());
  return m.k_skewness + latent::loo_knn_accuracy(g.ids, d.labels, 0, latent::Parallel{g_threads});
}

DistanceGraph reduce(Reduction method, const DistanceGraph& g, const Data& d) {
  if (method == Reduction::none) return latent::keep_top(g, kK);
  latent::ReductionOptions options;
  options.method = method;
  options.parallel = latent::Parallel{g_threads};
  return latent::HubnessReducer(options).fit_transform(g, latent::MatrixView<float>(d.x), kK);
}

void set_rows_per_second(benchmark::State& state, std::int64_t rows) {
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows * state.iterations()), benchmark::Counter::kIsRate);
}

void BM_graph(benchmark::State& state, std::int64_t rows, std::int64_t candidates) {
  const Data& d = data(rows);
  for (auto _ : state) {
    DistanceGraph g = latent::exact_candidate_graph(latent::MatrixView<float>(d.x), candidates, latent::Metric::l2,
                                                    search_options());
    benchmark::DoNotOptimize(g.ids.data());
  }
  set_rows_per_second(state, rows);
}

void BM_reduce(benchmark::State& state, std::int64_t rows, std::int64_t candidates, Reduction method) {
  const Data& d = data(rows);
  const DistanceGraph& g = cached_graph(rows, candidates);
  for (auto _ : state) {
    DistanceGraph r = reduce(method, g, d);
    benchmark::DoNotOptimize(r.ids.data());
  }
  set_rows_per_second(state, rows);
}

void BM_measures(benchmark::State& state, std::int64_t rows) {
  const Data& d = data(rows);
  const DistanceGraph top = latent::keep_top(cached_graph(rows, g_candidates), kK);
  for (auto _ : state) benchmark::DoNotOptimize(measures_and_accuracy(top, d));
  set_rows_per_second(state, rows);
}

// Graph, reduction, measures before and after: what `latent hubness --reduce` does.
void BM_end_to_end(benchmark::State& state, std::int64_t rows, std::int64_t candidates, Reduction method) {
  const Data& d = data(rows);
  double skewness = 0;
  for (auto _ : state) {
    const DistanceGraph g = latent::exact_candidate_graph(latent::MatrixView<float>(d.x), candidates,
                                                          latent::Metric::l2, search_options());
    const DistanceGraph r = reduce(method, g, d);
    skewness = measures_and_accuracy(latent::keep_top(g, kK), d) + measures_and_accuracy(r, d);
    benchmark::DoNotOptimize(skewness);
  }
  set_rows_per_second(state, rows);
}

// latent::reduce_hubness in one call (candidate graph, reduction, measures before
// and after): what the Python module's reduce_hubness and hubness run.
void BM_pipeline(benchmark::State& state, std::int64_t rows, std::int64_t candidates, Reduction method) {
  const Data& d = data(rows);
  latent::HubnessPipelineOptions options;
  options.reduction.method = method;
  options.reduction.parallel = latent::Parallel{g_threads};
  options.search = search_options();
  options.candidates = candidates;
  for (auto _ : state) {
    const latent::HubnessPipelineResult r =
        latent::reduce_hubness(latent::MatrixView<float>(d.x), kK, latent::Metric::l2, options);
    benchmark::DoNotOptimize(r.reduced.ids.data());
  }
  set_rows_per_second(state, rows);
}

// A random self-excluded graph [rows x candidates] with sorted distances in
// (0, 1) and 16-d vectors (only DisSimLocal reads them).
struct Synthetic {
  DistanceGraph graph;
  latent::RowMatrixf vectors;
};

const Synthetic& synthetic(std::int64_t rows, std::int64_t candidates) {
  static std::map<std::int64_t, Synthetic> cache;
  auto it = cache.find(rows);
  if (it != cache.end()) return it->second;
  Synthetic s;
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<std::int64_t> id(0, rows - 2);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  s.graph.ids.resize(rows, candidates);
  s.graph.distances.resize(rows, candidates);
  s.graph.metric = latent::Metric::l2;
  s.graph.self_excluded = true;
  std::vector<double> d(static_cast<std::size_t>(candidates));
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t p = 0; p < candidates; ++p) {
      const std::int64_t j = id(rng);
      s.graph.ids(i, p) = j >= i ? j + 1 : j;  // never i itself (repeats are harmless here)
      d[static_cast<std::size_t>(p)] = 0.5 + 0.5 * unit(rng);
    }
    std::sort(d.begin(), d.end());
    for (std::int64_t p = 0; p < candidates; ++p) s.graph.distances(i, p) = d[static_cast<std::size_t>(p)];
  }
  s.vectors.resize(rows, 16);
  std::normal_distribution<float> normal;
  for (Eigen::Index i = 0; i < s.vectors.size(); ++i) s.vectors.data()[i] = normal(rng);
  return cache.emplace(rows, std::move(s)).first->second;
}

void BM_synthetic(benchmark::State& state, std::int64_t rows, std::int64_t candidates, Reduction method) {
  const Synthetic& s = synthetic(rows, candidates);
  latent::ReductionOptions options;
  options.method = method;
  options.parallel = latent::Parallel{g_threads};
  for (auto _ : state) {
    DistanceGraph r = latent::HubnessReducer(options).fit_transform(s.graph, latent::MatrixView<float>(s.vectors), kK);
    benchmark::DoNotOptimize(r.ids.data());
  }
  set_rows_per_second(state, rows);
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_GiB"] = static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);
}

std::vector<std::int64_t> parse_list(const char* text) {
  std::vector<std::int64_t> values;
  for (const char* p = text; *p != '\0';) {
    values.push_back(std::max<std::int64_t>(32, std::atoll(p)));
    p = std::strchr(p, ',');
    if (p == nullptr) break;
    ++p;
  }
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::int64_t> sizes = {10000, 60000};
  std::int64_t end_to_end_max = 10000, complete = 0, synthetic_rows = 0;
  const latent_bench::Options options(argc, argv,
                                     {"data", "rows", "threads", "candidates", "end-to-end-max", "complete", "synthetic"});
  benchmark::Initialize(&argc, argv);
  g_dir = options.text("data");
  if (!options.text("rows").empty()) sizes = parse_list(options.text("rows").c_str());
  g_threads = static_cast<int>(options.integer("threads", g_threads, 1));
  g_candidates = options.integer("candidates", g_candidates, kK);
  end_to_end_max = options.integer("end-to-end-max", end_to_end_max, 0);
  complete = options.integer("complete", complete, 0);
  synthetic_rows = options.integer("synthetic", synthetic_rows, 0);
  const Reduction methods[] = {Reduction::none,  Reduction::mutual_proximity, Reduction::mutual_proximity_normal,
                               Reduction::local_scaling, Reduction::nicdm, Reduction::dis_sim_local,
                               Reduction::csls};
  const std::string t = "/threads:" + std::to_string(g_threads);
  for (const std::int64_t rows : sizes) {
    const std::int64_t candidates = std::min(g_candidates, rows - 1);
    const std::string shape = "/n:" + std::to_string(data(rows).x.rows()) + "/d:784/C:" + std::to_string(candidates) +
                              "/k:10/l2/" + data(rows).source + t;
    benchmark::RegisterBenchmark(("hubness/graph" + shape).c_str(), BM_graph, rows, candidates)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    for (const Reduction method : methods) {
      if (method == Reduction::none) continue;
      benchmark::RegisterBenchmark(("hubness/reduce/" + std::string(latent::to_string(method)) + shape).c_str(),
                                   BM_reduce, rows, candidates, method)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark(("hubness/measures" + shape).c_str(), BM_measures, rows)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    if (rows <= end_to_end_max) {
      for (const Reduction method : methods) {
        benchmark::RegisterBenchmark(("hubness/end_to_end/" + std::string(latent::to_string(method)) + shape).c_str(),
                                     BM_end_to_end, rows, candidates, method)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
        if (method == Reduction::none) continue;
        benchmark::RegisterBenchmark(("hubness/pipeline/" + std::string(latent::to_string(method)) + shape).c_str(),
                                     BM_pipeline, rows, candidates, method)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  if (complete > 0) {
    const std::string shape = "/n:" + std::to_string(data(complete).x.rows()) + "/d:784/C:all/k:10/l2/" +
                              data(complete).source + t;
    benchmark::RegisterBenchmark(("hubness/graph" + shape).c_str(), BM_graph, complete, complete - 1)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
    benchmark::RegisterBenchmark(("hubness/reduce/mp" + shape).c_str(), BM_reduce, complete, complete - 1,
                                 Reduction::mutual_proximity)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  }
  if (synthetic_rows > g_candidates) {
    const std::string shape = "/synthetic/n:" + std::to_string(synthetic_rows) + "/C:" + std::to_string(g_candidates) +
                              "/k:10" + t;
    for (const Reduction method : methods) {
      if (method == Reduction::none) continue;
      benchmark::RegisterBenchmark(("hubness/reduce/" + std::string(latent::to_string(method)) + shape).c_str(),
                                   BM_synthetic, synthetic_rows, g_candidates, method)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
