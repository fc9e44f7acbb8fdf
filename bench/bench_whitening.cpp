// Whitening: fitting (covariance through crossprod_f64, then the eigen-decomposition)
// and transforming, against what numpy's np.cov + np.linalg.eigh run underneath
// (OpenBLAS dsyrk on the centred double matrix, then LAPACK dsyevd), in one run,
// with the FMA peak of each ISA measured by the register-only probe first.
//
//   bench_whitening [--data=DIR] [--rows=N] [--cols=N] [google benchmark flags]
//
// Two inputs: Fashion-MNIST train.npy [60000 x 784] from DIR (written by
// `data/fashion-mnist/make_sample.py --full DIR`; seeded random values of that
// shape without it), and a seeded synthetic [100000 x 768] set with a decaying
// spectrum (the shape of BERT-base sentence embeddings). --rows and --cols cap
// both (the CTest smoke run uses tiny ones).
//
// Counters: GFLOP/s of the covariance as n d (d + 1) (the symmetric product; a
// full GEMM would count twice that) and fraction_of_f64_peak = GFLOP/s over the
// FP64 probe peak x threads;
// transform GFLOP/s as 2 n d k and fraction_of_f32_peak.
// bench/numpy_whitening.py times numpy itself on the same shapes.
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench_support.hpp"
// Private to the library: the switch between LAPACK and Eigen's solvers.
#include "../src/core/linalg.hpp"
#include "latent/core/io.hpp"
#include "latent/kernels.hpp"
#include "latent/whitening.hpp"

#if defined(LATENT_BENCH_WITH_OPENBLAS)
extern "C" {
void cblas_dsyrk(int order, int uplo, int trans, int n, int k, double alpha, const double* a, int lda, double beta,
                 double* c, int ldc);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info, std::size_t jobz_length,
             std::size_t uplo_length);
}
#endif

namespace {

using latent_bench::Isa;

struct Set {
  std::string name;
  latent::RowMatrixf rows;
};

std::vector<Set>& sets() {
  static std::vector<Set> s;
  return s;
}

double covariance_flops(const latent::RowMatrixf& x) {
  return static_cast<double>(x.rows()) * static_cast<double>(x.cols()) * static_cast<double>(x.cols() + 1);
}

void rate(benchmark::State& state, double flops, const char* name) {
  state.counters[name] =
      benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// The fraction of the peak needs the time per iteration, which Google Benchmark
// keeps to itself: measure it here too.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

void peak_fraction(benchmark::State& state, double flops, double seconds, Isa isa, int threads,
                   latent_bench::Peak precision, const char* name) {
  if (seconds <= 0) return;
  latent_bench::peak_fraction(state, name, flops * static_cast<double>(state.iterations()) * 1e-9 / seconds, isa,
                              threads, precision);
}

// The covariance kernel alone (shift = the mean, computed once outside).
void BM_crossprod(benchmark::State& state, const Set* set, Isa isa, int threads) {
  latent::kernels::ScopedIsa scoped(isa);
  const std::int64_t d = set->rows.cols();
  const Eigen::RowVectorXd mean = set->rows.cast<double>().colwise().mean();
  std::vector<double> c(static_cast<std::size_t>(d * d));
  const Stopwatch watch;
  for (auto _ : state) {
    latent::kernels::crossprod_f64(latent::MatrixView<float>(set->rows), mean.data(), c.data(), d,
                                   latent::kernels::BlockOptions{latent::Parallel{threads}, 0, 0});
    benchmark::DoNotOptimize(c.data());
  }
  const double seconds = watch.seconds();
  rate(state, covariance_flops(set->rows), "GFLOP/s");
  peak_fraction(state, covariance_flops(set->rows), seconds, isa, threads, latent_bench::Peak::fma_f64,
                "fraction_of_f64_peak");
}

// Stage 1 of fit: the moments (mean pass, fourth-order sums, crossprod_f64).
void BM_moments(benchmark::State& state, const Set* set, Isa isa, int threads) {
  latent::kernels::ScopedIsa scoped(isa);
  for (auto _ : state) {
    latent::MomentAccumulator moments;
    moments.add(latent::MatrixView<float>(set->rows), latent::Parallel{threads});
    benchmark::DoNotOptimize(moments.mean().data());
  }
  rate(state, covariance_flops(set->rows), "GFLOP/s");
}

// Stage 2 of fit: the eigen-decomposition (LAPACK's dsyevd with OpenBLAS on one
// thread when the library is built with LAPACKE, else Eigen's solver), or with
// `eigen_only` Eigen's solver in any build.
void BM_eigen(benchmark::State& state, const Set* set, bool eigen_only) {
  const latent::detail::ScopedLapack lapack(!eigen_only);
  latent::MomentAccumulator moments;
  moments.add(latent::MatrixView<float>(set->rows));
  const latent::RowMatrixd covariance = moments.covariance();
  for (auto _ : state) {
    const latent::Spectrum spectrum = latent::symmetric_spectrum(covariance);
    benchmark::DoNotOptimize(spectrum.values.data());
  }
}

// The whole fit.
void BM_fit(benchmark::State& state, const Set* set, Isa isa, int threads) {
  latent::kernels::ScopedIsa scoped(isa);
  latent::WhiteningOptions options;
  options.parallel.threads = threads;
  for (auto _ : state) {
    latent::Whitening<float> model(options);
    model.fit(latent::MatrixView<float>(set->rows));
    benchmark::DoNotOptimize(model.matrix().data());
  }
}

void BM_transform(benchmark::State& state, const Set* set, Isa isa, int threads, std::int64_t dim) {
  latent::kernels::ScopedIsa scoped(isa);
  latent::WhiteningOptions options;
  options.parallel.threads = threads;
  options.dim = dim;
  latent::Whitening<float> model(options);
  model.fit(latent::MatrixView<float>(set->rows));
  const Stopwatch watch;
  for (auto _ : state) {
    const latent::RowMatrixf y = model.transform(latent::MatrixView<float>(set->rows));
    benchmark::DoNotOptimize(y.data());
  }
  const double seconds = watch.seconds();
  const double flops = 2.0 * static_cast<double>(set->rows.rows()) * static_cast<double>(set->rows.cols()) *
                       static_cast<double>(model.output_dim());
  rate(state, flops, "GFLOP/s");
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(set->rows.rows() * state.iterations()), benchmark::Counter::kIsRate);
  peak_fraction(state, flops, seconds, isa, threads, latent_bench::Peak::fma_f32, "fraction_of_f32_peak");
}

#if defined(LATENT_BENCH_WITH_OPENBLAS)
void set_blas_threads(int threads) {
  using SetThreads = void (*)(int);
  if (auto* set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
}

// np.cov(X, rowvar=False, bias=True): X - mean in double, then X^T X (numpy's
// matmul sends A.T @ A to syrk).
void BM_blas_covariance(benchmark::State& state, const Set* set, int threads) {
  set_blas_threads(threads);
  const auto n = static_cast<int>(set->rows.rows()), d = static_cast<int>(set->rows.cols());
  std::vector<double> c(static_cast<std::size_t>(d) * static_cast<std::size_t>(d));
  for (auto _ : state) {
    latent::RowMatrixd centred = set->rows.cast<double>();
    centred.rowwise() -= centred.colwise().mean();
    cblas_dsyrk(101 /* row major */, 121 /* upper */, 112 /* transposed */, d, n, 1.0 / n, centred.data(), d, 0.0,
                c.data(), d);
    benchmark::DoNotOptimize(c.data());
  }
  rate(state, covariance_flops(set->rows), "GFLOP/s");
  set_blas_threads(1);
}

// np.linalg.eigh: LAPACK dsyevd on the covariance.
void BM_lapack_eigen(benchmark::State& state, const Set* set, int threads) {
  set_blas_threads(threads);
  latent::MomentAccumulator moments;
  moments.add(latent::MatrixView<float>(set->rows));
  const latent::RowMatrixd covariance = moments.covariance();
  const int d = static_cast<int>(covariance.rows());
  std::vector<double> values(static_cast<std::size_t>(d));
  int info = 0, lwork = -1, liwork = -1, iwork_size = 0;
  double work_size = 0;
  dsyevd_("V", "U", &d, nullptr, &d, values.data(), &work_size, &lwork, &iwork_size, &liwork, &info, 1, 1);
  lwork = static_cast<int>(work_size);
  liwork = iwork_size;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  for (auto _ : state) {
    latent::RowMatrixd a = covariance;
    dsyevd_("V", "U", &d, a.data(), &d, values.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
    benchmark::DoNotOptimize(a.data());
  }
  if (info != 0) state.SkipWithError("dsyevd failed");
  set_blas_threads(1);
}
#endif

void load_sets(const std::string& dir, std::int64_t rows, std::int64_t cols) {
  Set fmnist{"fashion-mnist", {}};
  if (!dir.empty() && std::filesystem::exists(dir + "/train.npy")) {
    fmnist.rows = latent::read_npy_matrix<float>(dir + "/train.npy");
  } else {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    fmnist.rows.resize(60000, 784);
    for (Eigen::Index i = 0; i < fmnist.rows.size(); ++i) fmnist.rows.data()[i] = uniform(rng);
    fmnist.name = "random-784";
  }
  fmnist.rows = fmnist.rows
                    .topLeftCorner(std::min<std::int64_t>(rows, fmnist.rows.rows()),
                                   std::min<std::int64_t>(cols, fmnist.rows.cols()))
                    .eval();

  Set synthetic{"synthetic-768",
                latent::RowMatrixf(std::min<std::int64_t>(rows, 100000), std::min<std::int64_t>(cols, 768))};
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  for (Eigen::Index i = 0; i < synthetic.rows.rows(); ++i)
    for (Eigen::Index j = 0; j < synthetic.rows.cols(); ++j)
      synthetic.rows(i, j) = normal(rng) / (1.0f + 0.05f * static_cast<float>(j)) + 0.3f;
  sets().push_back(std::move(fmnist));
  sets().push_back(std::move(synthetic));
}

}  // namespace

int main(int argc, char** argv) {
  const latent_bench::Options options(argc, argv, {"data", "rows", "cols"});
  benchmark::Initialize(&argc, argv);
  load_sets(options.text("data"), options.integer("rows", 100000, 16), options.integer("cols", 1 << 20, 1));
  const std::vector<Isa> isas = latent_bench::simd_isas();
  latent_bench::register_peaks(isas);
  for (const Set& set : sets()) {
    const std::string shape =
        "/" + set.name + "/n:" + std::to_string(set.rows.rows()) + "/d:" + std::to_string(set.rows.cols());
    benchmark::RegisterBenchmark(("eigen/latent" + shape).c_str(), BM_eigen, &set, false)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("eigen/latent_eigen_solver" + shape).c_str(), BM_eigen, &set, true)
        ->Unit(benchmark::kMillisecond);
#if defined(LATENT_BENCH_WITH_OPENBLAS)
    benchmark::RegisterBenchmark(("eigen/lapack_dsyevd" + shape + "/threads:1").c_str(), BM_lapack_eigen, &set, 1)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
#endif
    for (const int threads : {1, 2}) {
      const std::string t = "/threads:" + std::to_string(threads);
      for (const Isa isa : isas) {
        const std::string i = "/isa:" + std::string(latent::kernels::to_string(isa));
        benchmark::RegisterBenchmark(("covariance/crossprod_f64" + i + shape + t).c_str(), BM_crossprod, &set, isa,
                                     threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("covariance/moments" + i + shape + t).c_str(), BM_moments, &set, isa, threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("fit/latent" + i + shape + t).c_str(), BM_fit, &set, isa, threads)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
        for (const std::int64_t dim : {std::int64_t{0}, std::int64_t{256}}) {
          if (dim >= set.rows.cols()) continue;
          benchmark::RegisterBenchmark(
              ("transform/latent" + i + shape + "/k:" + std::to_string(dim == 0 ? set.rows.cols() : dim) + t).c_str(),
              BM_transform, &set, isa, threads, dim)
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
        }
      }
#if defined(LATENT_BENCH_WITH_OPENBLAS)
      benchmark::RegisterBenchmark(("covariance/openblas_dsyrk" + shape + t).c_str(), BM_blas_covariance, &set, threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
#endif
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
