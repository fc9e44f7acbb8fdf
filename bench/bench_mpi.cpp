// latent::mpi against one process, in the same run: run it under mpirun
// (`mpirun -np 1 bench_mpi ...`, then `-np 2`). Every benchmark is collective:
// each rank takes its block of the rows; the single-process peer runs on rank 0
// with all the node's cores while the other ranks wait without spinning. Times
// are the slowest rank's, with a fixed iteration count so every rank runs the
// same collective calls. Counters: GFLOP/s per rank, bytes each rank sends
// (the largest), and the peak resident memory of the largest rank (MB).
//
// Options (besides Google Benchmark's): --data=DIR (Fashion-MNIST train.npy of
// the golden rows; random rows of the same shape without it), --rows=N (rows of
// it, default 60000), --synthetic-rows=N (the l2 set of 128-d normal rows,
// default 200000), --scratch=DIR (where that set is written, default /tmp),
// --repetitions=R (default 3).
#include <benchmark/benchmark.h>
#include <mpi.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "bench_support.hpp"
#include "latent/core/npy.hpp"
#include "latent/core/parallel.hpp"
#include "latent/hubness.hpp"
#include "latent/mpi.hpp"
#include "latent/similarity.hpp"
#include "latent/whitening.hpp"

namespace {

int rank_of_world() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}
int size_of_world() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// A data set mapped from its .npy on every rank: the whole rows (for the peer on
// rank 0) and this rank's block.
struct Set {
  std::string name;
  latent::Metric metric = latent::Metric::l2;
  std::unique_ptr<latent::MappedNpy> file;
  latent::MatrixView<float> all, block;
  latent::mpi::RowBlock rows;
};

std::vector<Set>& sets() {
  static std::vector<Set> all;
  return all;
}

void add_set(const std::string& name, const std::string& path, latent::Metric metric) {
  Set set;
  set.name = name;
  set.metric = metric;
  set.file = std::make_unique<latent::MappedNpy>(path);
  set.all = set.file->view<float>();
  set.rows = latent::mpi::local_block(MPI_COMM_WORLD, set.all.rows);
  set.block = latent::MatrixView<float>(set.all.row(set.rows.begin), set.rows.rows, set.all.cols);
  sets().push_back(std::move(set));
}

// Rank 0 writes `rows` x `cols` rows (first `rows` of DIR/train.npy when it
// exists, else seeded values) to `path`; the others wait for it.
void prepare(const std::string& path, const std::string& source, std::int64_t rows, std::int64_t cols, bool normal) {
  if (rank_of_world() == 0) {
    latent::RowMatrixf x;
    if (!source.empty() && std::filesystem::exists(source)) {
      x = latent::read_npy_matrix<float>(source).topRows(rows);
    } else {
      x = latent_bench::random_normal(rows, cols, 7);
      if (!normal) x = x.cwiseAbs();
    }
    latent::write_npy(path, x);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Waits for rank 0 without spinning, so the peer on rank 0 has the cores.
void idle_until_rank0_done() {
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  if (rank_of_world() == 0) {
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    return;
  }
  int done = 0;
  while (done == 0) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

double slowest(double seconds) {
  double max = 0;
  MPI_Allreduce(&seconds, &max, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return max;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  double mb = static_cast<double>(usage.ru_maxrss) / 1024.0, max = 0;
  MPI_Allreduce(&mb, &max, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return max;
}

// Times `work` on every rank (collective) and reports the slowest rank.
void time_collective(benchmark::State& state, const std::function<void()>& work) {
  for (auto _ : state) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = std::chrono::steady_clock::now();
    work();
    state.SetIterationTime(slowest(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()));
  }
  state.counters["peak_rss_mb"] = peak_rss_mb();
}

// Times `work` on rank 0 alone (the single-process peer, all cores).
void time_on_rank0(benchmark::State& state, const std::function<void()>& work) {
  for (auto _ : state) {
    MPI_Barrier(MPI_COMM_WORLD);
    double seconds = 0;
    if (rank_of_world() == 0) {
      const auto start = std::chrono::steady_clock::now();
      work();
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    idle_until_rank0_done();
    MPI_Bcast(&seconds, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    state.SetIterationTime(seconds);
  }
  state.counters["peak_rss_mb"] = peak_rss_mb();
}

void knn_counters(benchmark::State& state, const Set& set, std::int64_t rows_per_rank, int ranks) {
  const double flops =
      2.0 * static_cast<double>(rows_per_rank) * static_cast<double>(set.all.rows) * static_cast<double>(set.all.cols);
  state.counters["gflops_per_rank"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  // The ring: each rank sends every block but one (the one it receives last).
  const double largest_block = static_cast<double>(latent::mpi::row_block(set.all.rows, 0, ranks).rows);
  state.counters["sent_mb_per_rank"] =
      static_cast<double>(ranks - 1) * largest_block * static_cast<double>(set.all.cols) * 4.0 / 1e6;
}

void BM_knn_graph_single_process(benchmark::State& state, const Set* set) {
  latent::SearchOptions options;
  options.parallel.threads = latent::available_processors();
  time_on_rank0(state, [&] { benchmark::DoNotOptimize(latent::knn_graph(set->all, 10, set->metric, options)); });
  knn_counters(state, *set, set->all.rows, 1);
}

void BM_knn_graph_distributed(benchmark::State& state, const Set* set) {
  latent::SearchOptions options;
  options.parallel.threads = latent::mpi::threads_per_rank(MPI_COMM_WORLD);
  time_collective(state, [&] {
    benchmark::DoNotOptimize(latent::mpi::distributed_knn_graph(MPI_COMM_WORLD, set->block, 10, set->metric, options));
  });
  knn_counters(state, *set, latent::mpi::row_block(set->all.rows, 0, size_of_world()).rows, size_of_world());
}

void BM_whitening_single_process(benchmark::State& state, const Set* set) {
  latent::WhiteningOptions options;
  options.parallel.threads = latent::available_processors();
  time_on_rank0(state, [&] {
    latent::Whitening<float> model(options);
    model.fit(set->all);
  });
}

void BM_whitening_distributed(benchmark::State& state, const Set* set) {
  latent::WhiteningOptions options;
  options.parallel.threads = latent::mpi::threads_per_rank(MPI_COMM_WORLD);
  time_collective(state, [&] {
    latent::Whitening<float> model(options);
    latent::mpi::fit(MPI_COMM_WORLD, model, set->block);
  });
}

latent::HubnessPipelineOptions hubness_options(int threads) {
  latent::HubnessPipelineOptions options;
  options.candidates = 50;
  options.reduction.method = latent::Reduction::mutual_proximity;
  options.reduction.parallel.threads = threads;
  options.search.parallel.threads = threads;
  return options;
}

void BM_hubness_single_process(benchmark::State& state, const Set* set) {
  const auto options = hubness_options(latent::available_processors());
  time_on_rank0(state, [&] { benchmark::DoNotOptimize(latent::reduce_hubness(set->all, 10, set->metric, options)); });
}

void BM_hubness_distributed(benchmark::State& state, const Set* set) {
  const auto options = hubness_options(latent::mpi::threads_per_rank(MPI_COMM_WORLD));
  time_collective(state, [&] {
    benchmark::DoNotOptimize(
        latent::mpi::distributed_reduce_hubness(MPI_COMM_WORLD, set->block, 10, set->metric, options));
  });
}

// Only rank 0 reports; the others run the same benchmarks silently.
class SilentReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const latent_bench::Options options(argc, argv, {"data", "rows", "synthetic-rows", "scratch", "repetitions"});
  benchmark::Initialize(&argc, argv);
  const int ranks = size_of_world();
  // The peer is meant to run with every core of the machine; mpirun binds each
  // rank to one core when it starts two ranks or fewer.
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (rank_of_world() == 0 && latent::available_processors() < online) {
    std::fprintf(stderr,
                 "bench_mpi: warning: rank 0 may run on %d of the %ld processors, so the single-process peer is "
                 "slowed; start it with mpirun --bind-to none\n",
                 latent::available_processors(), online);
  }
  const std::string scratch = options.text("scratch", "/tmp");
  const std::string job = std::to_string(::getpid());
  long long tag = std::stoll(job);
  MPI_Bcast(&tag, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  const std::string fmnist = scratch + "/bench_mpi_fmnist_" + std::to_string(tag) + ".npy";
  const std::string synthetic = scratch + "/bench_mpi_synthetic_" + std::to_string(tag) + ".npy";
  const std::string data = options.text("data");
  prepare(fmnist, data.empty() ? "" : data + "/train.npy", options.integer("rows", 60000, 16), 784, false);
  prepare(synthetic, "", options.integer("synthetic-rows", 200000, 16), 128, true);
  add_set((std::filesystem::exists(data + "/train.npy") ? "fashion-mnist" : "random-784") + std::string("/n:") +
              std::to_string(options.integer("rows", 60000, 16)),
          fmnist, latent::Metric::cosine);
  add_set("synthetic-normal/n:" + std::to_string(options.integer("synthetic-rows", 200000, 16)), synthetic,
          latent::Metric::l2);

  const int repetitions = static_cast<int>(options.integer("repetitions", 3, 1));
  const std::string r = "/ranks:" + std::to_string(ranks);
  for (const Set& set : sets()) {
    const std::string shape =
        set.name + "/d:" + std::to_string(set.all.cols) + "/" + std::string(latent::to_string(set.metric));
    auto configure = [&](benchmark::internal::Benchmark* b) {
      b->Iterations(1)->Repetitions(repetitions)->UseManualTime()->Unit(benchmark::kMillisecond);
      if (repetitions > 1) b->ReportAggregatesOnly(true);
    };
    configure(benchmark::RegisterBenchmark(("knn_graph/" + shape + "/k:10/single_process").c_str(),
                                           BM_knn_graph_single_process, &set));
    configure(
        benchmark::RegisterBenchmark(("knn_graph/" + shape + "/k:10/mpi" + r).c_str(), BM_knn_graph_distributed, &set));
    configure(benchmark::RegisterBenchmark(("whitening_fit/" + shape + "/single_process").c_str(),
                                           BM_whitening_single_process, &set));
    configure(
        benchmark::RegisterBenchmark(("whitening_fit/" + shape + "/mpi" + r).c_str(), BM_whitening_distributed, &set));
    configure(benchmark::RegisterBenchmark(("hubness_mp/" + shape + "/k:10/candidates:50/single_process").c_str(),
                                           BM_hubness_single_process, &set));
    configure(benchmark::RegisterBenchmark(("hubness_mp/" + shape + "/k:10/candidates:50/mpi" + r).c_str(),
                                           BM_hubness_distributed, &set));
  }
  if (rank_of_world() == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    SilentReporter silent;
    benchmark::RunSpecifiedBenchmarks(&silent);
  }
  benchmark::Shutdown();
  sets().clear();
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_of_world() == 0) {
    std::filesystem::remove(fmnist);
    std::filesystem::remove(synthetic);
  }
  MPI_Finalize();
  return 0;
}
