// Blaming the right file when a library call takes several inputs. The library's
// messages name the argument at fault ("latent::knn: queries: contains a
// non-finite value ..."); `blame_inputs` maps that argument to the option and the
// file it came from, so the one-line error names the file at fault instead of
// another input of the same call (or none).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"

namespace latent::cli {

/// One input of a call: the library's argument name, the CLI option, the file.
struct BlamedInput {
  std::string argument;  ///< as the library names it: "queries", "base", "source", ...
  std::string option;    ///< "--query", "X", ...
  std::string path;
};

/// Runs `work`; a latent::Error is rethrown with "option path: " of the input
/// whose argument the message names (the first listed when it names none).
template <class F>
auto blame_inputs(const std::vector<BlamedInput>& inputs, F&& work) -> decltype(work()) {
  try {
    return work();
  } catch (const Error& e) {
    const std::string message = e.what();
    const BlamedInput* culprit = &inputs.front();
    for (const BlamedInput& input : inputs) {
      if (message.find(": " + input.argument + ":") != std::string::npos) {
        culprit = &input;
        break;
      }
    }
    throw Error(culprit->option + " " + culprit->path + ": " + message);
  }
}

/// Throws InvalidArgument naming both files when an id of `ids` (read from
/// `ids_option ids_path`) is not a row of `rows_option rows_path` ([rows x ...]).
inline void require_row_ids(const std::vector<std::int64_t>& ids, const std::string& ids_option,
                            const std::string& ids_path, std::int64_t rows, const std::string& rows_option,
                            const std::string& rows_path) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= rows) {
      throw InvalidArgument(ids_option + " " + ids_path + ": anchor id out of range: id " + std::to_string(ids[i]) +
                            " at position " + std::to_string(i) + " is not a row of " + rows_option + " " + rows_path +
                            " (rows=" + std::to_string(rows) + ")");
    }
  }
}

}  // namespace latent::cli
