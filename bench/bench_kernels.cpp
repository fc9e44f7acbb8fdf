// Kernel benchmarks, each with its peer in the same run:
// - peak/fma/isa:*          the register-only FMA loop of each ISA (GFLOP/s: the ceiling)
// - pair/<kernel>/isa:*/d:* single pairs for every dtype and ISA, against a plain
//                           loop compiled with the project's flags and, for f32,
//                           FAISS's fvec_inner_product / fvec_L2sqr
// - one_query/*             one query against 100,000 x 768 rows (306 MB, memory-
//                           bound), against a plain read-sum of the same bytes
//                           (the bandwidth probe) and FAISS's fvec_inner_products_ny
//
//   bench_kernels [--rows=N] [google benchmark flags]
#include <benchmark/benchmark.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "latent/kernels.hpp"
#include "latent/similarity.hpp"

#if defined(LATENT_BENCH_WITH_FAISS)
#include <faiss/utils/distances.h>
#endif

namespace {

using latent::kernels::Isa;

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (const Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
    if (latent::kernels::is_supported(isa)) isas.push_back(isa);
  return isas;
}

std::string isa_name(Isa isa) { return std::string(latent::kernels::to_string(isa)); }

// ---------------------------------------------------------------- single pairs

constexpr int kVectors = 16;  // pairs cycle through 16 vectors, all in L1

template <class T, class Make>
std::vector<T> make_vectors(std::size_t dim, Make make) {
  std::mt19937 rng(42);
  std::vector<T> data(kVectors * dim + 1);
  for (auto& x : data) x = make(rng);
  return data;
}

template <class T, class Kernel>
void run_pairs(benchmark::State& state, std::size_t dim, const std::vector<T>& data, Kernel kernel) {
  const T* base = data.data() + 1;  // unaligned on purpose
  int i = 0;
  for (auto _ : state) {
    const auto result = kernel(base + static_cast<std::size_t>(i) * dim,
                               base + static_cast<std::size_t>((i + 1) % kVectors) * dim, dim);
    benchmark::DoNotOptimize(result);
    i = (i + 1) % (kVectors - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["ns/pair"] = benchmark::Counter(static_cast<double>(state.iterations()) * 1e9,
                                                 benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

float uniform_float(std::mt19937& rng) { return std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng); }

// The peers: plain loops, compiled with the project's flags (baseline x86-64, no
// fast-math, so the compiler keeps the sequential sum).
float plain_dot(const float* a, const float* b, std::size_t dim) {
  float sum = 0;
  for (std::size_t p = 0; p < dim; ++p) sum += a[p] * b[p];
  return sum;
}
float plain_sqeuclidean(const float* a, const float* b, std::size_t dim) {
  float sum = 0;
  for (std::size_t p = 0; p < dim; ++p) sum += (a[p] - b[p]) * (a[p] - b[p]);
  return sum;
}
float plain_cosine(const float* a, const float* b, std::size_t dim) {
  float ab = 0, aa = 0, bb = 0;
  for (std::size_t p = 0; p < dim; ++p) {
    ab += a[p] * b[p];
    aa += a[p] * a[p];
    bb += b[p] * b[p];
  }
  return ab / std::sqrt(aa * bb);
}

void register_pairs() {
  using namespace latent::kernels;
  for (const std::size_t dim : {128, 384, 768, 1536}) {
    const std::string d = "/d:" + std::to_string(dim);
    const auto f32 = make_vectors<float>(dim, uniform_float);
    const auto f64 = make_vectors<double>(dim, [](std::mt19937& rng) { return double{uniform_float(rng)}; });
    const auto f16 = make_vectors<Float16>(dim, [](std::mt19937& rng) { return to_float16(uniform_float(rng)); });
    const auto bf16 = make_vectors<BFloat16>(dim, [](std::mt19937& rng) { return to_bfloat16(uniform_float(rng)); });
    const auto i8 =
        make_vectors<std::int8_t>(dim, [](std::mt19937& rng) { return static_cast<std::int8_t>(rng() % 255 - 127); });
    const auto bits =
        make_vectors<std::uint8_t>(dim / 8, [](std::mt19937& rng) { return static_cast<std::uint8_t>(rng()); });

    benchmark::RegisterBenchmark(("pair/dot_f32/plain_loop" + d).c_str(),
                                 [=](benchmark::State& s) { run_pairs(s, dim, f32, plain_dot); });
    benchmark::RegisterBenchmark(("pair/sqeuclidean_f32/plain_loop" + d).c_str(),
                                 [=](benchmark::State& s) { run_pairs(s, dim, f32, plain_sqeuclidean); });
    benchmark::RegisterBenchmark(("pair/cosine_f32/plain_loop" + d).c_str(),
                                 [=](benchmark::State& s) { run_pairs(s, dim, f32, plain_cosine); });
#if defined(LATENT_BENCH_WITH_FAISS)
    benchmark::RegisterBenchmark(("pair/dot_f32/faiss" + d).c_str(),
                                 [=](benchmark::State& s) { run_pairs(s, dim, f32, faiss::fvec_inner_product); });
    benchmark::RegisterBenchmark(("pair/sqeuclidean_f32/faiss" + d).c_str(),
                                 [=](benchmark::State& s) { run_pairs(s, dim, f32, faiss::fvec_L2sqr); });
#endif
    for (const Isa isa : supported_isas()) {
      const std::string tail = "/isa:" + isa_name(isa) + d;
      auto add = [&](const std::string& name, auto body) {
        benchmark::RegisterBenchmark((name + tail).c_str(), [=](benchmark::State& s) {
          ScopedIsa scoped(isa);
          body(s);
        });
      };
      add("pair/dot_f32", [=](benchmark::State& s) { run_pairs(s, dim, f32, dot_f32); });
      add("pair/sqeuclidean_f32", [=](benchmark::State& s) { run_pairs(s, dim, f32, sqeuclidean_f32); });
      add("pair/l1_f32", [=](benchmark::State& s) { run_pairs(s, dim, f32, l1_f32); });
      add("pair/linf_f32", [=](benchmark::State& s) { run_pairs(s, dim, f32, linf_f32); });
      add("pair/cosine_f32", [=](benchmark::State& s) { run_pairs(s, dim, f32, cosine_f32); });
      add("pair/dot_f64", [=](benchmark::State& s) { run_pairs(s, dim, f64, dot_f64); });
      add("pair/sqeuclidean_f64", [=](benchmark::State& s) { run_pairs(s, dim, f64, sqeuclidean_f64); });
      add("pair/dot_f16", [=](benchmark::State& s) { run_pairs(s, dim, f16, dot_f16); });
      add("pair/sqeuclidean_f16", [=](benchmark::State& s) { run_pairs(s, dim, f16, sqeuclidean_f16); });
      add("pair/dot_bf16", [=](benchmark::State& s) { run_pairs(s, dim, bf16, dot_bf16); });
      add("pair/sqeuclidean_bf16", [=](benchmark::State& s) { run_pairs(s, dim, bf16, sqeuclidean_bf16); });
      add("pair/dot_i8", [=](benchmark::State& s) { run_pairs(s, dim, i8, dot_i8); });
      add("pair/sqeuclidean_i8", [=](benchmark::State& s) { run_pairs(s, dim, i8, sqeuclidean_i8); });
      add("pair/hamming_b1", [=](benchmark::State& s) { run_pairs(s, dim / 8, bits, hamming_b1); });
    }
  }
}

// ---------------------------------------------------------------- one query, many rows

struct OneQuery {
  latent::RowMatrixf rows;
  std::vector<float> query;
  std::int64_t bytes = 0;
};

OneQuery& one_query_data() {
  static OneQuery data;
  return data;
}

void set_bytes(benchmark::State& state) { state.SetBytesProcessed(state.iterations() * one_query_data().bytes); }

// The bandwidth probe: a plain read-sum of the same bytes with 8 independent SSE2
// sums (baseline x86-64), so the loop is bound by memory, not by the adds.
void BM_read_sum(benchmark::State& state) {
  const OneQuery& data = one_query_data();
  const float* x = data.rows.data();
  const std::size_t n = static_cast<std::size_t>(data.rows.size());
  for (auto _ : state) {
#if defined(__SSE2__)
    __m128 s[8];
    for (auto& v : s) v = _mm_setzero_ps();
    for (std::size_t i = 0; i + 32 <= n; i += 32)
      for (int l = 0; l < 8; ++l) s[l] = _mm_add_ps(s[l], _mm_loadu_ps(x + i + 4 * static_cast<std::size_t>(l)));
#else
    float s[8] = {};
    for (std::size_t i = 0; i + 8 <= n; i += 8)
      for (int l = 0; l < 8; ++l) s[l] += x[i + static_cast<std::size_t>(l)];
#endif
    benchmark::DoNotOptimize(s);
  }
  set_bytes(state);
}

void BM_one_to_many(benchmark::State& state, Isa isa) {
  latent::kernels::ScopedIsa scoped(isa);
  OneQuery& data = one_query_data();
  std::vector<float> out(static_cast<std::size_t>(data.rows.rows()));
  for (auto _ : state) {
    latent::kernels::one_to_many(latent::Metric::ip, data.query.data(), latent::MatrixView<float>(data.rows),
                                 out.data());
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state);
}

void BM_knn_one_query(benchmark::State& state, Isa isa) {
  latent::kernels::ScopedIsa scoped(isa);
  OneQuery& data = one_query_data();
  std::vector<std::int64_t> ids(10);
  std::vector<float> scores(10);
  const latent::MatrixView<float> query(data.query.data(), 1, data.rows.cols());
  for (auto _ : state) {
    latent::kernels::knn_f32(latent::Metric::ip, query, latent::MatrixView<float>(data.rows), 10,
                             latent::kernels::kNoSelf, ids.data(), scores.data(),
                             latent::kernels::BlockOptions{latent::Parallel{1}, 0, 0});
    benchmark::DoNotOptimize(ids.data());
  }
  set_bytes(state);
}

#if defined(LATENT_BENCH_WITH_FAISS)
void BM_faiss_inner_products_ny(benchmark::State& state) {
  OneQuery& data = one_query_data();
  std::vector<float> out(static_cast<std::size_t>(data.rows.rows()));
  for (auto _ : state) {
    faiss::fvec_inner_products_ny(out.data(), data.query.data(), data.rows.data(),
                                  static_cast<std::size_t>(data.rows.cols()),
                                  static_cast<std::size_t>(data.rows.rows()));
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state);
}
#endif

void register_one_query(std::int64_t rows) {
  OneQuery& data = one_query_data();
  data.rows.resize(rows, 768);
  std::mt19937 rng(7);
  for (Eigen::Index i = 0; i < data.rows.size(); ++i) data.rows.data()[i] = uniform_float(rng);
  data.query.resize(768);
  for (auto& x : data.query) x = uniform_float(rng);
  data.bytes = static_cast<std::int64_t>(data.rows.size()) * 4;
  const std::string shape = "/rows:" + std::to_string(rows) + "/d:768";
  benchmark::RegisterBenchmark(("one_query/read_sum_probe" + shape).c_str(), BM_read_sum)->UseRealTime();
#if defined(LATENT_BENCH_WITH_FAISS)
  benchmark::RegisterBenchmark(("one_query/faiss_inner_products_ny" + shape).c_str(), BM_faiss_inner_products_ny)
      ->UseRealTime();
#endif
  for (const Isa isa : supported_isas()) {
    benchmark::RegisterBenchmark(("one_query/one_to_many_ip/isa:" + isa_name(isa) + shape).c_str(), BM_one_to_many, isa)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("one_query/knn_ip_k10/isa:" + isa_name(isa) + shape).c_str(), BM_knn_one_query, isa)
        ->UseRealTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t rows = 100000;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--rows=", 7) == 0) {
      rows = std::max<std::int64_t>(16, std::atoll(argv[i] + 7));
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  latent_bench::register_peaks(supported_isas());
  register_pairs();
  register_one_query(rows);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
