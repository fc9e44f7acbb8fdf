// `latent`: the command-line tool over .npy files. Dispatches to the subcommands
// and turns every failure into the exit-status contract: 2 for usage errors, 1
// for everything else, with one line on stderr naming the file or option at
// fault. No exception, signal or stack trace reaches the user. Started by
// mpirun, every rank runs the same command on its block of rows (shards.hpp);
// usage errors, notices and results are printed by rank 0 only.
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "cli.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/types.hpp"
#include "latent/kernels/isa.hpp"
#include "shards.hpp"

namespace latent::cli {
namespace {

// Ranks on one node share its cores: without --threads or LATENT_NUM_THREADS,
// each rank runs cores / (ranks on the node) threads (at least 1), so four
// ranks on two cores run four threads, not eight. The variable carries the
// count to every library default.
void share_cores(GlobalOptions& global) {
  const Shards& shards = Shards::current();
  if (!shards.root()) global.quiet = true;  // progress and notices: rank 0's only
  if (!shards.distributed() || global.threads > 0) return;
  const char* variable = std::getenv("LATENT_NUM_THREADS");
  if (variable != nullptr && *variable != '\0') return;
  global.threads = shards.threads_per_rank();
  ::setenv("LATENT_NUM_THREADS", std::to_string(global.threads).c_str(), 1);
}

int run(int argc, char** argv) {
  CLI::App app{"latent: measure, repair, align, compress and search embedding spaces (.npy files)", "latent"};
  app.set_version_flag("--version", LATENT_VERSION_STRING);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand: `latent info X --json`

  GlobalOptions global;
  app.add_option("--threads", global.threads,
                 "threads to use (default: LATENT_NUM_THREADS or all cores; more than the machine's processors are "
                 "clamped to them, with a notice)")
      ->check(CLI::Range(1, 4096));
  app.add_flag("--json", global.json, "print exactly one JSON object on stdout");
  app.add_flag("--quiet", global.quiet, "no progress output or notices on stderr");

  std::vector<Command> commands;
  commands.push_back(register_info(app, global));
  commands.push_back(register_knn(app, global));
  commands.push_back(register_whiten(app, global));
  commands.push_back(register_isotropy(app, global));
  commands.push_back(register_hubness(app, global));
  commands.push_back(register_relative(app, global));
  commands.push_back(register_align(app, global));
  commands.push_back(register_compare(app, global));
  commands.push_back(register_report(app, global));
  commands.push_back(register_quantize(app, global));
  commands.push_back(register_eval(app, global));
  commands.push_back(register_analyze(app, global));
  commands.push_back(register_sae(app, global));
  commands.push_back(register_sweep(app, global));
#ifdef LATENT_TOOL_HAVE_FAISS
  commands.push_back(register_index(app, global));
#endif

  // CLI11 would report a mistyped subcommand as "a subcommand is required"; name it.
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--threads") {
      ++i;  // its value
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    bool known = false;
    std::string names;
    for (const auto& command : commands) {
      known = known || command.app->get_name() == word;
      names += (names.empty() ? "" : ", ") + command.app->get_name();
    }
    if (!known) {
      if (!Shards::current().root()) return 2;
      std::cerr << "latent: unknown subcommand '" << word << "' (expected one of: " << names << ")\n";
      return 2;
    }
    break;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return Shards::current().root() ? app.exit(e) : 0;
  } catch (const CLI::ParseError& e) {
    if (Shards::current().root()) std::cerr << "latent: " << e.what() << " (see latent --help)\n";
    return 2;
  }
  // Settle the kernel level (LATENT_ISA) and the thread count (LATENT_NUM_THREADS)
  // before any output, so a bad value is the one line on stderr and nothing else.
  kernels::active_isa();
  share_cores(global);
  const std::string notice = thread_clamp_notice(global);
  if (!notice.empty() && !global.quiet && Shards::current().root()) std::cerr << notice << '\n';
  for (const auto& command : commands) {
    if (!command.app->parsed()) continue;
    try {
      return command.run();
    } catch (const CLI::ParseError& e) {  // a combination of options the parser cannot check
      if (!Shards::current().root()) return 2;
      std::cerr << "latent " << command.app->get_name() << ": " << e.what() << " (see latent "
                << command.app->get_name() << " --help)\n";
      return 2;
    }
  }
  std::cerr << "latent: no subcommand given (see latent --help)\n";
  return 2;
}

}  // namespace
}  // namespace latent::cli

int main(int argc, char** argv) {
  using latent::cli::Shards;
  int status = 1;
  try {
    Shards::start(&argc, &argv);
    status = latent::cli::run(argc, argv);
  } catch (const latent::cli::PeerFailed&) {
    status = 1;  // another rank failed and printed why
  } catch (const latent::Error& e) {
    std::cerr << "latent: " << e.what() << '\n';
  } catch (const std::bad_alloc&) {
    std::cerr << "latent: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << "latent: " << e.what() << '\n';
  }
  return Shards::finish(status);
}
