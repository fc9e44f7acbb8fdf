// latent/core/parallel.hpp - thread options, chosen per call.
//
// Every parallel function takes a `Parallel` option. `threads = 0` means the
// library default: `LATENT_NUM_THREADS` when set, otherwise what OpenMP would use
// (`omp_get_max_threads()`). The library passes the count to each parallel region
// it opens and never changes a global setting of OpenMP, Eigen or BLAS, so a
// caller's own thread configuration is left as it was. Work is split into fixed
// ranges that do not depend on the thread count, so results do not either.
#pragma once

#include <cstdint>
#include <functional>

namespace latent {

/// Thread options of one call. `threads = 0`: the library default.
struct Parallel {
  int threads = 0;
};

/// The library default thread count: `LATENT_NUM_THREADS` if set (a positive
/// integer; anything else throws `InvalidArgument` naming the variable),
/// otherwise `omp_get_max_threads()`. Read on every call, so tests may change it.
int default_threads();

/// The thread count a call with `options` uses (>= 1). Throws `InvalidArgument`
/// when `options.threads` is negative.
int resolve_threads(const Parallel& options);

/// Calls `body(begin, end)` on the consecutive ranges [0, chunk), [chunk, 2 chunk),
/// ... covering [0, n), spread over `resolve_threads(options)` threads. The ranges
/// depend only on `n` and `chunk`, never on the thread count. An exception thrown
/// by `body` stops the ranges not yet started and the first one caught is rethrown
/// here, on the calling thread (exceptions never escape the OpenMP region).
void parallel_for(std::int64_t n, std::int64_t chunk, const Parallel& options,
                  const std::function<void(std::int64_t begin, std::int64_t end)>& body);

}  // namespace latent
