// A progress display on stderr for the tool's long steps (kNN graphs, fits,
// index builds, the report's stages). Debian packages no C++ progress-bar
// library, so this is a small one: a bar over the planned steps, the current
// step's name and its elapsed seconds, redrawn in place a few times a second
// by a ticker thread (the library calls it wraps are single long calls).
// It draws only when stderr is a terminal and --quiet is not given, so
// scripts, pipes and tests see no progress output at all.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace latent::cli {

class Progress {
 public:
  /// `steps` planned steps (at least 1). Draws only when `enabled` and stderr is a tty.
  Progress(int steps, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Starts the next step (ends the previous one).
  void step(const std::string& name);
  /// Clears the line; called by the destructor too.
  void finish();

  bool drawing() const { return drawing_; }

 private:
  void draw_locked();
  void tick();

  int steps_;
  int done_ = 0;
  bool drawing_;
  bool stop_ = false;
  std::string name_;
  std::chrono::steady_clock::time_point step_start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread ticker_;
};

}  // namespace latent::cli
