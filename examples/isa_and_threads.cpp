// ISA and threads: which SIMD level the kernels use, how to pin it and how many
// threads a call may use -- and that neither changes the results. The same kNN
// graph is computed with every ISA this CPU supports (scalar, avx2, avx512) and
// with 1 and 2 threads; the neighbour ids agree everywhere, and for one ISA the
// scores are bitwise identical whatever the thread count.
//
//   isa_and_threads [IMAGES.npy]     (default: the bundled Fashion-MNIST sample)
//
// The environment variables LATENT_ISA=scalar|avx2|avx512 and LATENT_NUM_THREADS
// set the same choices for a whole program. Exits 1 if any result differs.
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "latent/core/io.hpp"
#include "latent/kernels/isa.hpp"
#include "latent/similarity.hpp"

int main(int argc, char** argv) {
  namespace kernels = latent::kernels;
  const std::string path = argc > 1 ? argv[1] : std::string(LATENT_DATA_DIR) + "/fashion-mnist/images.npy";
  try {
    const latent::RowMatrixf x = latent::read_npy_matrix<float>(path);
    std::printf("cpu and kernels: %s\n", kernels::capabilities().c_str());

    latent::KnnGraph reference;
    bool same = true;
    for (const kernels::Isa isa : {kernels::Isa::scalar, kernels::Isa::avx2, kernels::Isa::avx512}) {
      if (!kernels::is_supported(isa)) {
        std::printf("%-7s not supported by this CPU (or build)\n", std::string(kernels::to_string(isa)).c_str());
        continue;
      }
      const kernels::ScopedIsa pinned(isa);  // restores the previous level at the end of the scope
      latent::KnnGraph per_thread_count[2];
      for (int threads = 1; threads <= 2; ++threads) {
        latent::SearchOptions options;
        options.parallel = latent::Parallel{threads};
        const auto start = std::chrono::steady_clock::now();
        per_thread_count[threads - 1] = latent::knn_graph(x, 10, latent::Metric::cosine, options);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        std::printf("%-7s %d thread%s  kNN graph of %lld rows: %7.1f ms\n", std::string(kernels::to_string(isa)).c_str(),
                    threads, threads == 1 ? " " : "s", static_cast<long long>(x.rows()), ms);
      }
      // One ISA: bitwise identical for any thread count.
      same = same && per_thread_count[0].ids == per_thread_count[1].ids &&
             per_thread_count[0].scores == per_thread_count[1].scores;
      // Across ISAs the sums are ordered differently: the same neighbours, scores within float rounding.
      if (reference.ids.size() == 0) reference = per_thread_count[0];
      same = same && reference.ids == per_thread_count[0].ids &&
             (reference.scores - per_thread_count[0].scores).cwiseAbs().maxCoeff() < 1e-5f;
    }
    std::printf("results identical across thread counts, same neighbours across ISAs: %s\n", same ? "yes" : "NO");
    return same ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "isa_and_threads: %s\n", e.what());
    return 1;
  }
}
