// Running a program from a test: its exit status (or -1 when a signal killed
// it, which is also a test failure unless the caller says otherwise) and what it
// printed. Shared by the CLI tests.
// (npy_bytes.hpp, included, makes hand-written .npy headers.)
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/npy_bytes.hpp"

extern char** environ;

namespace latent::testing {

struct ProgramOutcome {
  int status = -1;  ///< exit status; -1 if killed by a signal
  std::string out;
  std::string err;
};

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

/// Runs `program` (searched on PATH when it has no '/') with `args` and the
/// environment `environment` (default: this process's), stdout and stderr going
/// through the files `scratch`.out / `scratch`.err, which are removed afterwards.
/// A signal is a test failure unless `signal_allowed`.
inline ProgramOutcome run_program(const std::string& program, const std::vector<std::string>& args,
                                  const std::string& scratch, char* const* environment = environ,
                                  bool signal_allowed = false) {
  const std::string out_path = scratch + ".out", err_path = scratch + ".err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> all = {program};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : all) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ProgramOutcome outcome;
  const int spawned = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environment);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    ADD_FAILURE() << "cannot start " << program;
    return outcome;
  }
  int wait_status = 0;
  ::waitpid(pid, &wait_status, 0);
  if (!signal_allowed) {
    EXPECT_FALSE(WIFSIGNALED(wait_status)) << "killed by signal " << WTERMSIG(wait_status);
  }
  outcome.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  outcome.out = read_text_file(out_path);
  outcome.err = read_text_file(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return outcome;
}

}  // namespace latent::testing
