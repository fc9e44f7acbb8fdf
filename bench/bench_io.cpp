// Reading vectors: latent's .npy reader and memory map against the plain POSIX
// read of the same bytes (the peer: what the page cache can deliver), in one run.
//
//   bench_io [--rows=N] [google benchmark flags]     (default N = 65536, d = 768:
//                                                     192 MiB, larger than the LLC)
// Reports bytes/s. The file lives in the temp folder and is read warm (from the
// page cache): this measures parsing and copying overhead, not the disk.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "latent/core/io.hpp"

namespace {

constexpr std::int64_t kDim = 768;

struct BenchFile {
  std::string path;
  std::int64_t rows = 0;
  std::int64_t bytes = 0;
};

BenchFile& bench_file() {
  static BenchFile file;
  return file;
}

void make_file(std::int64_t rows) {
  BenchFile& file = bench_file();
  file.rows = rows;
  file.path = (std::filesystem::temp_directory_path() / ("latent-bench-io-" + std::to_string(::getpid()) + ".npy")).string();
  latent::RowMatrixf x(rows, kDim);
  std::mt19937 rng(42);
  std::normal_distribution<float> normal;
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
  latent::write_npy(file.path, x);
  file.bytes = static_cast<std::int64_t>(std::filesystem::file_size(file.path));
}

void set_counters(benchmark::State& state) {
  state.SetBytesProcessed(state.iterations() * bench_file().bytes);
  state.counters["rows"] = static_cast<double>(bench_file().rows);
}

// Peer: open + read the whole file with plain POSIX calls into a fresh,
// uninitialised buffer (as read_npy_matrix must: it returns new memory, so both
// pay the first-touch page faults).
void BM_posix_read(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(bench_file().bytes);
  for (auto _ : state) {
    std::unique_ptr<char[]> buffer(new char[bytes]);
    const int fd = ::open(bench_file().path.c_str(), O_RDONLY);
    std::size_t done = 0;
    while (done < bytes) {
      const ssize_t got = ::read(fd, buffer.get() + done, bytes - done);
      if (got <= 0) break;
      done += static_cast<std::size_t>(got);
    }
    ::close(fd);
    benchmark::DoNotOptimize(buffer.get());
  }
  set_counters(state);
}

void BM_read_npy_matrix(benchmark::State& state) {
  for (auto _ : state) {
    latent::RowMatrixf x = latent::read_npy_matrix<float>(bench_file().path);
    benchmark::DoNotOptimize(x.data());
  }
  set_counters(state);
}

// Map the file and touch every value (a sum), against reading it and summing.
void BM_mapped_npy_sum(benchmark::State& state) {
  for (auto _ : state) {
    const latent::MappedNpy file(bench_file().path);
    const latent::MatrixView<float> view = file.view<float>();
    float sum = 0;
    for (std::int64_t i = 0; i < view.rows; ++i)
      for (std::int64_t j = 0; j < view.cols; ++j) sum += view.row(i)[j];
    benchmark::DoNotOptimize(sum);
  }
  set_counters(state);
}

void BM_read_npy_matrix_sum(benchmark::State& state) {
  for (auto _ : state) {
    const latent::RowMatrixf x = latent::read_npy_matrix<float>(bench_file().path);
    float sum = 0;
    for (Eigen::Index i = 0; i < x.size(); ++i) sum += x.data()[i];
    benchmark::DoNotOptimize(sum);
  }
  set_counters(state);
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t rows = 65536;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--rows=", 7) == 0) {
      rows = std::atoll(argv[i] + 7);
    } else {
      args.push_back(argv[i]);
    }
  }
  if (rows < 1) rows = 1;
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  make_file(rows);
  const std::string suffix = "/rows:" + std::to_string(rows) + "/d:" + std::to_string(kDim);
  benchmark::RegisterBenchmark(("io/posix_read" + suffix).c_str(), BM_posix_read)->UseRealTime();
  benchmark::RegisterBenchmark(("io/read_npy_matrix" + suffix).c_str(), BM_read_npy_matrix)->UseRealTime();
  benchmark::RegisterBenchmark(("io/read_npy_matrix_sum" + suffix).c_str(), BM_read_npy_matrix_sum)->UseRealTime();
  benchmark::RegisterBenchmark(("io/mapped_npy_sum" + suffix).c_str(), BM_mapped_npy_sum)->UseRealTime();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove(bench_file().path);
  return 0;
}
