// Relative module: relative projection of [n x d] rows onto k anchors per
// similarity (cosine, dot, l2 and the change of basis on the kernel layer's GEMM
// path; l1, linf on its distance tiles), the Procrustes fit, compare_spaces in
// float and double, and the double GEMM path's top-k against the pair loop it
// replaced, with the peaks of the active ISA (FP32 and FP64 FMA, the l1 and
// linf steps) measured by register-only probes in the same run.
//
//   bench_relative [--rows=N] [--cols=D] [--anchors=K] [--pairs=N] [--compare=N] [google benchmark flags]
//
// Defaults: 100,000 x 768 rows onto 1,000 anchors (the shape of BERT-base
// sentence embeddings), Procrustes on 10,000 x 768 pairs, compare on 10,000 rows
// (of 128-d relative representations, as from 128 anchors, and of 768-d
// absolute rows). Seeded Gaussian data. Counters: GFLOP/s counts 2 n k d for
// every similarity (one multiply-add per pair and dimension; l1/linf do a
// subtract, an abs and an add or max instead) and fraction_of_*_peak divides
// it by that probe's single-core peak times the threads.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "bench_support.hpp"
#include "latent/core/parallel.hpp"
#include "latent/kernels.hpp"
#include "latent/relative.hpp"
#include "latent/similarity.hpp"

namespace {

using latent::kernels::Isa;

std::int64_t g_rows = 100000, g_cols = 768, g_anchors = 1000, g_pairs = 10000, g_compare = 10000;
latent::RowMatrixf gaussian(std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  latent::RowMatrixf m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

const latent::RowMatrixf& rows() {
  static const latent::RowMatrixf x = gaussian(g_rows, g_cols, 1);
  return x;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void BM_relative(benchmark::State& state, latent::RelativeSimilarity similarity, int threads) {
  const latent::RowMatrixf& x = rows();
  latent::RelativeOptions options;
  options.similarities = {similarity};
  options.parallel.threads = threads;
  latent::RelativeProjection<float> projection(options);
  projection.fit(latent::MatrixView<float>(x.data(), g_anchors, g_cols));  // the first rows as anchors
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    latent::RowMatrixf out = projection.transform(latent::MatrixView<float>(x));
    benchmark::DoNotOptimize(out.data());
  }
  const double seconds = seconds_since(start);
  const double flops = 2.0 * static_cast<double>(g_rows) * static_cast<double>(g_anchors) * static_cast<double>(g_cols);
  const double gflops = flops * static_cast<double>(state.iterations()) * 1e-9 / seconds;
  state.counters["GFLOP/s"] = gflops;
  const latent::kernels::Isa isa = latent::kernels::active_isa();
  latent_bench::peak_fraction(state, "fraction_of_f32_peak", gflops, isa, threads);
  // l1 and linf against the peak of their own step (subtract, absolute value,
  // add or max), which is below the FMA peak.
  if (similarity == latent::RelativeSimilarity::l1)
    latent_bench::peak_fraction(state, "fraction_of_l1_peak", gflops, isa, threads, latent_bench::Peak::l1_f32);
  if (similarity == latent::RelativeSimilarity::linf)
    latent_bench::peak_fraction(state, "fraction_of_linf_peak", gflops, isa, threads, latent_bench::Peak::linf_f32);
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(g_rows) * static_cast<double>(state.iterations()),
                                                benchmark::Counter::kIsRate);
}

void BM_procrustes(benchmark::State& state, int threads) {
  const latent::RowMatrixf source = gaussian(g_pairs, g_cols, 2);
  const latent::RowMatrixf target = gaussian(g_pairs, g_cols, 3);
  latent::TranslationOptions options;
  options.parallel.threads = threads;
  for (auto _ : state) {
    latent::LatentTranslator<float> translator(options);
    translator.fit(latent::MatrixView<float>(source), latent::MatrixView<float>(target));
    benchmark::DoNotOptimize(translator.matrix().data());
  }
}

// compare_spaces in float or in double (as `latent compare` runs it).
template <class T>
void BM_compare(benchmark::State& state, std::int64_t dim, int threads) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Matrix a = gaussian(g_compare, dim, 4).cast<T>();
  const Matrix b = gaussian(g_compare, dim, 5).cast<T>();
  latent::CompareOptions options;
  options.parallel.threads = threads;
  for (auto _ : state) {
    const latent::CrossSpaceScores scores =
        latent::compare_spaces(latent::MatrixView<T>(a), latent::MatrixView<T>(b), options);
    benchmark::DoNotOptimize(scores.mrr);
  }
}

// The exact cosine top-10 of g_compare queries among g_compare other rows: the
// GEMM path in double and in float, and the peer that path replaced in double,
// one cosine_f64 kernel call per pair with a sort of each query's row.
enum class KnnPath { gemm, pair_loop };

template <class T>
void BM_knn_cosine(benchmark::State& state, std::int64_t dim, int threads, KnnPath path) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Matrix queries = gaussian(g_compare, dim, 6).cast<T>();
  const Matrix base = gaussian(g_compare, dim, 7).cast<T>();
  constexpr std::int64_t k = 10;
  const std::int64_t n = base.rows();
  latent::SearchOptions options;
  options.parallel.threads = threads;
  std::vector<std::int64_t> ids(static_cast<std::size_t>(queries.rows() * k));
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (path == KnnPath::gemm) {
      const latent::KnnGraph graph =
          latent::knn(latent::MatrixView<T>(queries), latent::MatrixView<T>(base), k, latent::Metric::cosine, options);
      benchmark::DoNotOptimize(graph.ids.data());
      continue;
    }
    if constexpr (std::is_same_v<T, double>) {
      latent::parallel_for(queries.rows(), 16, options.parallel, [&](std::int64_t begin, std::int64_t end) {
        std::vector<double> row(static_cast<std::size_t>(n));
        std::vector<std::int64_t> order(static_cast<std::size_t>(n));
        for (std::int64_t i = begin; i < end; ++i) {
          for (std::int64_t j = 0; j < n; ++j)
            row[static_cast<std::size_t>(j)] =
                latent::kernels::cosine_f64(queries.row(i).data(), base.row(j).data(), static_cast<std::size_t>(dim));
          std::iota(order.begin(), order.end(), 0);
          std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](std::int64_t x, std::int64_t y) {
            const double sx = row[static_cast<std::size_t>(x)], sy = row[static_cast<std::size_t>(y)];
            return sx > sy || (sx == sy && x < y);
          });
          std::copy(order.begin(), order.begin() + k, ids.begin() + i * k);
        }
      });
      benchmark::DoNotOptimize(ids.data());
    }
  }
  const double seconds = seconds_since(start);
  const double flops = 2.0 * static_cast<double>(queries.rows()) * static_cast<double>(n) * static_cast<double>(dim);
  const double gflops = flops * static_cast<double>(state.iterations()) * 1e-9 / seconds;
  state.counters["GFLOP/s"] = gflops;
  latent_bench::peak_fraction(state, std::is_same_v<T, double> ? "fraction_of_f64_peak" : "fraction_of_f32_peak",
                              gflops, latent::kernels::active_isa(), threads,
                              std::is_same_v<T, double> ? latent_bench::Peak::fma_f64 : latent_bench::Peak::fma_f32);
}

}  // namespace

int main(int argc, char** argv) {
  const latent_bench::Options options(argc, argv, {"rows", "cols", "anchors", "pairs", "compare"});
  benchmark::Initialize(&argc, argv);
  g_rows = options.integer("rows", g_rows, 2);
  g_cols = options.integer("cols", g_cols, 2);
  g_anchors = std::min(options.integer("anchors", g_anchors, 2), g_rows);
  g_pairs = options.integer("pairs", g_pairs, 2);
  g_compare = options.integer("compare", g_compare, 2);
  const std::string isa(latent::kernels::to_string(latent::kernels::active_isa()));
  latent_bench::register_peaks({latent::kernels::active_isa()},
                               {latent_bench::Peak::fma_f32, latent_bench::Peak::fma_f64, latent_bench::Peak::l1_f32,
                                latent_bench::Peak::linf_f32});
  using S = latent::RelativeSimilarity;
  const std::string shape = "/n:" + std::to_string(g_rows) + "/d:" + std::to_string(g_cols) +
                            "/anchors:" + std::to_string(g_anchors) + "/isa:" + isa;
  for (const int threads : {1, 2}) {
    const std::string t = "/threads:" + std::to_string(threads);
    for (const S s : {S::cosine, S::dot, S::l2, S::basis, S::l1, S::linf})
      benchmark::RegisterBenchmark(("relative/" + std::string(latent::to_string(s)) + shape + t).c_str(), BM_relative,
                                   s, threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(
        ("procrustes_fit/n:" + std::to_string(g_pairs) + "/d:" + std::to_string(g_cols) + t).c_str(), BM_procrustes,
        threads)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    for (const std::int64_t dim : {std::int64_t{128}, g_cols}) {
      const std::string compare_shape = "/n:" + std::to_string(g_compare) + "/d:" + std::to_string(dim);
      benchmark::RegisterBenchmark(("compare/f32" + compare_shape + t).c_str(), BM_compare<float>, dim, threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("compare/f64" + compare_shape + t).c_str(), BM_compare<double>, dim, threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
    // The pair loop only at 128 dimensions (at 768 it takes half a minute).
    for (const std::int64_t dim : {std::int64_t{128}, g_cols}) {
      const std::string knn_shape = "/n:" + std::to_string(g_compare) + "/d:" + std::to_string(dim);
      benchmark::RegisterBenchmark(("knn_cosine/f32/gemm" + knn_shape + t).c_str(), BM_knn_cosine<float>, dim, threads,
                                   KnnPath::gemm)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("knn_cosine/f64/gemm" + knn_shape + t).c_str(), BM_knn_cosine<double>, dim, threads,
                                   KnnPath::gemm)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      if (dim == 128)
        benchmark::RegisterBenchmark(("knn_cosine/f64/pair_loop" + knn_shape + t).c_str(), BM_knn_cosine<double>, dim,
                                     threads, KnnPath::pair_loop)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
