// latent/core/parallel.hpp - thread options, chosen per call.
//
// Every parallel function takes a `Parallel` option. `threads = 0` means the
// library default: `LATENT_NUM_THREADS` when set, otherwise what OpenMP would use
// (`omp_get_max_threads()`). The library passes the count to each parallel region
// it opens and never changes a global setting of OpenMP, Eigen or BLAS, so a
// caller's own thread configuration is left as it was. Work is split into fixed
// ranges that do not depend on the thread count, so results do not either.
//
// A count above the processors this process may run on is clamped to them,
// silently: more OpenMP threads than processors only adds contention (a kNN graph
// that takes 0.04 s on 2 threads takes seconds on 256 and minutes on 4096 of them
// on a 2-core machine), and results do not depend on the count anyway. The
// library prints nothing; a program that wants to tell its user compares
// `requested_threads` with `available_processors` (the `latent` tool prints a
// one-line notice on stderr).
#pragma once

#include <cstdint>
#include <functional>

namespace latent {

/// Thread options of one call. `threads = 0`: the library default.
struct Parallel {
  int threads = 0;
};

/// The processors this process may run on (`omp_get_num_procs()`: the CPUs of its
/// affinity mask, read at the first call), at least 1. Thread counts above it are
/// clamped to it.
int available_processors();

/// The library default thread count: `LATENT_NUM_THREADS` if set (an integer from
/// 1 to 4096; anything else throws `InvalidArgument` naming the variable),
/// otherwise `omp_get_max_threads()`; then clamped to `available_processors()`.
/// Read on every call, so tests may change it.
int default_threads();

/// The thread count `options` asks for, before the clamp: `options.threads`, or
/// when it is 0 the default's source (`LATENT_NUM_THREADS` or
/// `omp_get_max_threads()`). Throws `InvalidArgument` as `resolve_threads` does.
int requested_threads(const Parallel& options);

/// The thread count a call with `options` uses: `requested_threads(options)`
/// clamped to `available_processors()` (so 1 <= result <= available_processors()).
/// Throws `InvalidArgument` when `options.threads` is negative or the environment
/// variable is malformed.
int resolve_threads(const Parallel& options);

/// Calls `body(begin, end)` on the consecutive ranges [0, chunk), [chunk, 2 chunk),
/// ... covering [0, n), spread over `resolve_threads(options)` threads. The ranges
/// depend only on `n` and `chunk`, never on the thread count. An exception thrown
/// by `body` stops the ranges not yet started and the first one caught is rethrown
/// here, on the calling thread (exceptions never escape the OpenMP region).
void parallel_for(std::int64_t n, std::int64_t chunk, const Parallel& options,
                  const std::function<void(std::int64_t begin, std::int64_t end)>& body);

}  // namespace latent
