// Relative module: relative projection of [n x d] rows onto k anchors per
// similarity (cosine, dot, l2 and the change of basis on the kernel layer's GEMM
// path; l1, linf on its SIMD tiles), the Procrustes fit, and compare_spaces, with
// the FP32 FMA peak of the active ISA measured by the register-only probe in the
// same run.
//
//   bench_relative [--rows=N] [--cols=D] [--anchors=K] [--pairs=N] [--compare=N] [google benchmark flags]
//
// Defaults: 100,000 x 768 rows onto 1,000 anchors (the shape of BERT-base
// sentence embeddings), Procrustes on 10,000 x 768 pairs, compare on 10,000 rows
// (of 128-d relative representations, as from 128 anchors, and of 768-d
// absolute rows). Seeded Gaussian data. Counters: GFLOP/s counts 2 n k d for
// every similarity (one multiply-add per pair and dimension; l1/linf do a
// subtract, an abs and an add instead) and fraction_of_f32_peak divides it by
// the probe's single-core peak times the threads.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "latent/kernels.hpp"
#include "latent/relative.hpp"
#include "bench_support.hpp"

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
  latent_bench::peak_fraction(state, "fraction_of_f32_peak", gflops, latent::kernels::active_isa(), threads);
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

void BM_compare(benchmark::State& state, std::int64_t dim, int threads) {
  const latent::RowMatrixf a = gaussian(g_compare, dim, 4);
  const latent::RowMatrixf b = gaussian(g_compare, dim, 5);
  latent::CompareOptions options;
  options.parallel.threads = threads;
  for (auto _ : state) {
    const latent::CrossSpaceScores scores =
        latent::compare_spaces(latent::MatrixView<float>(a), latent::MatrixView<float>(b), options);
    benchmark::DoNotOptimize(scores.mrr);
  }
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
  latent_bench::register_peaks({latent::kernels::active_isa()});
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
    for (const std::int64_t dim : {std::int64_t{128}, g_cols})
      benchmark::RegisterBenchmark(("compare/n:" + std::to_string(g_compare) + "/d:" + std::to_string(dim) + t).c_str(),
                                   BM_compare, dim, threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
