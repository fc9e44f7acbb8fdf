// Thread-count resolution and the one parallel loop the library uses.
#include "latent/core/parallel.hpp"

#include <omp.h>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <exception>
#include <string>

#include "latent/core/errors.hpp"

namespace latent {

int available_processors() {
  // Asked once: libgomp answers with a system call (the affinity mask), and the
  // count is consulted on every parallel call.
  static const int processors = std::max(1, omp_get_num_procs());
  return processors;
}

namespace {
// LATENT_NUM_THREADS when set, otherwise OpenMP's default; before the clamp.
int requested_default_threads() {
  const char* text = std::getenv("LATENT_NUM_THREADS");
  if (text == nullptr || *text == '\0') return omp_get_max_threads();
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < 1 || value > 4096) {
    raise<InvalidArgument>("default_threads", "LATENT_NUM_THREADS",
                           "must be an integer from 1 to 4096", "got '" + std::string(text) + "'");
  }
  return static_cast<int>(value);
}
}  // namespace

int default_threads() { return std::min(requested_default_threads(), available_processors()); }

int requested_threads(const Parallel& options) {
  if (options.threads < 0) {
    raise<InvalidArgument>("resolve_threads", "threads", "must be >= 0 (0 = library default)",
                           "threads=" + std::to_string(options.threads));
  }
  return options.threads == 0 ? requested_default_threads() : options.threads;
}

int resolve_threads(const Parallel& options) {
  return std::min(requested_threads(options), available_processors());
}

void parallel_for(std::int64_t n, std::int64_t chunk, const Parallel& options,
                  const std::function<void(std::int64_t, std::int64_t)>& body) {
  if (n <= 0) return;
  if (chunk < 1) chunk = 1;
  const std::int64_t n_chunks = (n + chunk - 1) / chunk;
  const int threads = static_cast<int>(std::min<std::int64_t>(resolve_threads(options), n_chunks));
  if (threads == 1) {
    for (std::int64_t c = 0; c < n_chunks; ++c) body(c * chunk, std::min(n, (c + 1) * chunk));
    return;
  }
  std::exception_ptr first_error;
  bool failed = false;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (std::int64_t c = 0; c < n_chunks; ++c) {
    bool skip = false;
#pragma omp atomic read
    skip = failed;
    if (skip) continue;
    try {
      body(c * chunk, std::min(n, (c + 1) * chunk));
    } catch (...) {
#pragma omp critical(latent_parallel_for_error)
      {
        if (!first_error) first_error = std::current_exception();
      }
#pragma omp atomic write
      failed = true;
    }
  }
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace latent
