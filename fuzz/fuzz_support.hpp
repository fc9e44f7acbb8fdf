// Shared plumbing of the libFuzzer targets in fuzz/. The library's parsers read
// files by path, so each input is written to a scratch file of this process
// first (in $TMPDIR; a tmpfs makes it cheap). The contract every target checks:
// bad input may raise latent::Error (any typed child) and nothing else. Any other
// exception (std::bad_alloc from an absurd size, std::length_error, ...) escapes
// to libFuzzer as a finding, and so do crashes, sanitizer reports, leaks, hangs
// (-timeout) and large allocations (-malloc_limit_mb / -rss_limit_mb).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "latent/core/errors.hpp"

namespace latent::fuzz {

/// A scratch path private to this process, ending in `suffix` (".npy"...);
/// removed at exit (libFuzzer ends with exit() after -max_total_time / -runs).
inline std::string scratch_path(const std::string& suffix) {
  struct Cleanup {
    std::vector<std::filesystem::path> paths;
    ~Cleanup() {
      std::error_code ignored;
      for (const auto& path : paths) std::filesystem::remove_all(path, ignored);
    }
  };
  static Cleanup cleanup;
  const char* tmp = std::getenv("TMPDIR");
  const std::filesystem::path dir = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  cleanup.paths.push_back(dir / ("latent-fuzz-" + std::to_string(::getpid()) + suffix));
  return cleanup.paths.back().string();
}

/// Writes the fuzzer's bytes to `path` (truncating it).
inline void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) std::abort();  // the harness itself failed: not a finding of the library
}

/// Runs `work`; a latent::Error is the expected outcome of bad input.
template <class F>
void expect_only_latent_errors(F&& work) {
  try {
    work();
  } catch (const latent::Error&) {
  }
}

}  // namespace latent::fuzz
