// Thread options: the default, validation, the loop's coverage and exception
// transport, and that no global OpenMP setting changes behind the caller's back.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/parallel.hpp"

namespace latent {
namespace {

// Sets LATENT_NUM_THREADS for one test and restores the previous value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

TEST(Parallel, DefaultComesFromTheEnvironment) {
  const int processors = available_processors();
  {
    ScopedEnv env("LATENT_NUM_THREADS", "3");
    EXPECT_EQ(requested_threads(Parallel{}), 3);
    EXPECT_EQ(default_threads(), std::min(3, processors));
    EXPECT_EQ(resolve_threads(Parallel{}), std::min(3, processors));
    EXPECT_EQ(requested_threads(Parallel{5}), 5);
    EXPECT_EQ(resolve_threads(Parallel{5}), std::min(5, processors));
  }
  {
    ScopedEnv env("LATENT_NUM_THREADS", nullptr);
    EXPECT_EQ(requested_threads(Parallel{}), omp_get_max_threads());
    EXPECT_EQ(default_threads(), std::min(omp_get_max_threads(), processors));
  }
}

TEST(Parallel, CountsAboveTheProcessorsAreClamped) {
  const int processors = available_processors();
  EXPECT_GE(processors, 1);
  EXPECT_EQ(processors, std::max(1, omp_get_num_procs()));
  EXPECT_EQ(resolve_threads(Parallel{4096}), processors);
  EXPECT_EQ(resolve_threads(Parallel{processors + 1}), processors);
  EXPECT_EQ(resolve_threads(Parallel{1}), 1);
  EXPECT_EQ(requested_threads(Parallel{4096}), 4096);  // what was asked, for a caller's notice
  {
    ScopedEnv env("LATENT_NUM_THREADS", "4096");
    EXPECT_EQ(default_threads(), processors);
    EXPECT_EQ(resolve_threads(Parallel{}), processors);
    EXPECT_EQ(requested_threads(Parallel{}), 4096);
  }
  // The loop never opens more threads than the machine has.
  std::atomic<int> most{0};
  parallel_for(256, 1, Parallel{4096}, [&](std::int64_t, std::int64_t) {
    const int now = omp_get_num_threads();
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
  });
  EXPECT_GE(most.load(), 1);
  EXPECT_LE(most.load(), processors);
}

TEST(Parallel, InvalidEnvironmentValueNamesTheVariable) {
  for (const char* bad : {"zero", "0", "-2", "3x", "99999999999"}) {
    ScopedEnv env("LATENT_NUM_THREADS", bad);
    try {
      default_threads();
      ADD_FAILURE() << "accepted " << bad;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("LATENT_NUM_THREADS"), std::string::npos) << e.what();
    }
  }
}

TEST(Parallel, NegativeThreadsAreRejected) {
  EXPECT_THROW(resolve_threads(Parallel{-1}), InvalidArgument);
  EXPECT_THROW(requested_threads(Parallel{-1}), InvalidArgument);
}

TEST(ParallelFor, CoversEveryIndexOnceWithFixedRanges) {
  for (const int threads : {1, 2, 4}) {
    std::vector<std::atomic<int>> hits(1003);
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges(11);
    parallel_for(1003, 100, Parallel{threads}, [&](std::int64_t begin, std::int64_t end) {
      ranges[static_cast<std::size_t>(begin / 100)] = {begin, end};
      for (std::int64_t i = begin; i < end; ++i) hits[static_cast<std::size_t>(i)]++;
    });
    for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
    for (std::size_t c = 0; c < ranges.size(); ++c) {
      EXPECT_EQ(ranges[c].first, static_cast<std::int64_t>(c) * 100);
      EXPECT_EQ(ranges[c].second, std::min<std::int64_t>(1003, static_cast<std::int64_t>(c + 1) * 100));
    }
  }
}

TEST(ParallelFor, EmptyRangeCallsNothing) {
  bool called = false;
  parallel_for(0, 10, Parallel{2}, [&](std::int64_t, std::int64_t) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ParallelFor, ExceptionReachesTheCaller) {
  for (const int threads : {1, 2}) {
    EXPECT_THROW(parallel_for(1000, 10, Parallel{threads},
                              [](std::int64_t begin, std::int64_t) {
                                if (begin == 500) throw NumericalError("block 500 failed");
                              }),
                 NumericalError);
  }
}

TEST(ParallelFor, LeavesGlobalOpenMpSettingsAlone) {
  const int before = omp_get_max_threads();
  parallel_for(100, 1, Parallel{before + 3}, [](std::int64_t, std::int64_t) {});
  EXPECT_EQ(omp_get_max_threads(), before);
}

TEST(ParallelFor, UsesTheRequestedThreadCount) {
  std::atomic<int> most{0};
  parallel_for(64, 1, Parallel{2}, [&](std::int64_t, std::int64_t) {
    const int now = omp_get_num_threads();
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
  });
  EXPECT_EQ(most.load(), std::min(2, available_processors()));
}

}  // namespace
}  // namespace latent
