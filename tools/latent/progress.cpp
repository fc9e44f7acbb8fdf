#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace latent::cli {

Progress::Progress(int steps, bool enabled)
    : steps_(std::max(steps, 1)), drawing_(enabled && isatty(STDERR_FILENO) == 1) {
  if (drawing_) ticker_ = std::thread([this] { tick(); });
}

Progress::~Progress() { finish(); }

void Progress::step(const std::string& name) {
  if (!drawing_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!name_.empty()) done_ = std::min(done_ + 1, steps_);
  name_ = name;
  step_start_ = std::chrono::steady_clock::now();
  draw_locked();
}

void Progress::finish() {
  if (!drawing_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_all();
  ticker_.join();
  std::fprintf(stderr, "\r\033[K");  // erase the bar: the summary follows on stdout
  std::fflush(stderr);
}

void Progress::draw_locked() {
  constexpr int kWidth = 24;
  const int filled = done_ * kWidth / steps_;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start_).count();
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r\033[K[%s] %d/%d %s %.1f s", bar.c_str(), std::min(done_ + 1, steps_), steps_,
               name_.c_str(), seconds);
  std::fflush(stderr);
}

void Progress::tick() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::milliseconds(200));
    if (!stop_ && !name_.empty()) draw_locked();
  }
}

}  // namespace latent::cli
