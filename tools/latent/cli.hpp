// The `latent` tool's shared plumbing: global options, the exit-status contract
// (0 ok, 2 usage error, 1 any other error, one line on stderr naming the file or
// option at fault), option checks, and output helpers. Subcommands use the public
// library API only.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/core/names.hpp"
#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"
#include "latent/relative.hpp"

namespace latent::cli {

/// Options every subcommand accepts (declared once on the top-level app).
struct GlobalOptions {
  int threads = 0;     ///< --threads N (0: library default); above the machine's processors: clamped, with a notice
  bool json = false;   ///< --json: exactly one JSON object on stdout
  bool quiet = false;  ///< --quiet: no progress output or notices on stderr

  Parallel parallel() const { return Parallel{threads}; }
};

/// A subcommand: registered on the app, run when it was the one parsed.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

/// Prints `value` as one line of JSON on stdout.
void print_json(const nlohmann::json& value);

/// Opens the array `spec` names: FILE.npy, FILE.npz:NAME, FILE.hdf5:NAME (or
/// .h5), FILE.fvecs ... (latent/core/array_file.hpp). An IoError is rethrown with
/// "option: " in front, so the one line names the option and the file.
ArrayFile open_input(const std::string& spec, const std::string& option);

/// True when `spec` names an array file (by the extension of its file part:
/// .npy, .npz, .hdf5, .h5, .fvecs, .ivecs, .bvecs) rather than, e.g., a text file.
bool is_array_spec(const std::string& spec);

/// A 1-D (or [n x 1]) int64 or int32 array as int64 values (labels, row ids);
/// `what` says what they are in the error ("labels", "row ids").
std::vector<std::int64_t> read_int_vector(const std::string& spec, const std::string& option, const std::string& what);

/// A 2-D float matrix named by a spec (see open_input): float32 .npy files and
/// aligned stored .npz members are memory-mapped (no copy, any size); float64
/// arrays, compressed members and HDF5 datasets are read and converted. Other
/// dtypes and shapes are refused with an error naming `option` and the file.
/// The rows of an input a process reads: all of them (one process), or block
/// `rank` of `ranks` consecutive blocks, the first total % ranks one row longer
/// (the split of every input under mpirun).
struct RowSplit {
  int rank = 0;
  int ranks = 1;
};

class InputMatrix {
 public:
  /// With a split, only the rows of the block are read (a mapped file is only
  /// viewed there; float64 rows are converted only there).
  InputMatrix(const std::string& spec, const std::string& option, const RowSplit& split = {});
  /// The rows read: the whole matrix, or the block of the split.
  const MatrixView<float>& view() const { return view_; }
  /// The rows of the whole input, and the index of view()'s first row among them.
  std::int64_t total_rows() const { return total_rows_; }
  std::int64_t first_row() const { return first_row_; }
  /// The spec as given on the command line.
  const std::string& path() const { return path_; }
  /// True when the rows are a float32 .npy file mapped in place (not a member of
  /// a container, not converted); its file is then path().
  bool mapped_npy() const { return mapped_npy_; }

 private:
  std::string path_;
  std::optional<ArrayFile> file_;  // float32 only: the view's storage
  bool mapped_npy_ = false;
  std::int64_t total_rows_ = 0, first_row_ = 0;
  RowMatrixf owned_;
  MatrixView<float> view_;
};

/// Fails early (before any work) when `path` could not be created: its folder is
/// missing or is not a folder. The write itself stays atomic (write_npy).
void require_writable(const std::string& path, const std::string& option);

/// Seconds since `start` (steady clock), for the summaries.
double seconds_since(std::chrono::steady_clock::time_point start);

/// Writes a neighbour graph's ids (int64 [n x k]) and, when `scores_path` is not
/// empty, its scores (float32 [n x k]); and the summary line naming them.
void write_graph(const KnnGraph& graph, const std::string& ids_path, const std::string& scores_path);
/// `rows`: of the whole graph (under mpirun, of every rank together).
void print_wrote_graph(std::int64_t rows, std::int64_t k, const std::string& ids_path, const std::string& scores_path);

/// Runs `work`; a latent::Error it throws is rethrown with "option path: " in
/// front, so the one-line message names the file at fault.
template <class F>
auto blame(const std::string& option, const std::string& path, F&& work) -> decltype(work()) {
  try {
    return work();
  } catch (const Error& e) {
    throw Error(option + " " + path + ": " + e.what());
  }
}

/// A usage error found after parsing (exit status 2).
[[noreturn]] inline void usage_error(const std::string& message) { throw CLI::ValidationError(message); }

/// The one-line notice printed on stderr when the thread count asked for (by
/// --threads, LATENT_NUM_THREADS or OpenMP's default) exceeds the processors the
/// library clamps it to; empty when it does not.
std::string thread_clamp_notice(const GlobalOptions& global);

/// A parse-time check for an option naming an enum value: it accepts exactly the
/// names `parse` (a library parse_* function) accepts, so the library's name table
/// is the one list, plus the tool's own `also` names; a refused name is a usage
/// error listing the accepted ones.
template <class Parse>
CLI::Validator parsed_by(Parse parse, std::vector<std::string> also = {}) {
  return CLI::Validator(
      [parse, also](std::string& text) -> std::string {
        if (std::find(also.begin(), also.end(), text) != also.end()) return {};
        try {
          parse(text, "");
          return {};
        } catch (const Error& e) {  // "latent::parse_x: unknown ... (expected one of: ...)"
          std::string message = e.what();
          const std::size_t colon = message.find(": ");
          if (colon != std::string::npos) message.erase(0, colon + 2);
          for (const std::string& name : also) message += " or " + name;
          return message;
        }
      },
      "");
}

/// The names of a name table, for CLI::IsMember (options whose names are the tool's own).
template <class E, std::size_t N>
std::vector<std::string> names_of(const NamedValue<E> (&table)[N]) {
  std::vector<std::string> names;
  for (const NamedValue<E>& entry : table) names.emplace_back(entry.name);
  return names;
}

/// A parse-time check: an integer of at least `minimum`. The refusal says so and,
/// with `when_omitted`, what leaving the option out means ("keep every component"),
/// so a sentinel such as 0 is never taken silently for "all" or "default".
CLI::Validator at_least(std::int64_t minimum, const std::string& when_omitted = "");

/// A parse-time check: a finite real number above 0.
CLI::Validator above_zero();

// Subcommands, one file each.
Command register_info(CLI::App& app, const GlobalOptions& global);
Command register_knn(CLI::App& app, const GlobalOptions& global);
Command register_hubness(CLI::App& app, const GlobalOptions& global);
Command register_whiten(CLI::App& app, const GlobalOptions& global);
Command register_isotropy(CLI::App& app, const GlobalOptions& global);
Command register_relative(CLI::App& app, const GlobalOptions& global);
Command register_align(CLI::App& app, const GlobalOptions& global);
Command register_compare(CLI::App& app, const GlobalOptions& global);
Command register_report(CLI::App& app, const GlobalOptions& global);
Command register_quantize(CLI::App& app, const GlobalOptions& global);
Command register_eval(CLI::App& app, const GlobalOptions& global);
Command register_analyze(CLI::App& app, const GlobalOptions& global);
Command register_sae(CLI::App& app, const GlobalOptions& global);
Command register_sweep(CLI::App& app, const GlobalOptions& global);
Command register_index(CLI::App& app, const GlobalOptions& global);  // with FAISS only

/// Finite check and row-norm statistics (cmd_info.cpp), accumulated in double over
/// fixed row blocks combined in order, so they do not depend on the thread count.
struct RowStats {
  std::int64_t non_finite = 0;
  std::int64_t zero_rows = 0;
  double norm_min = 0;
  double norm_max = 0;
  double norm_sum = 0;
  std::int64_t norm_rows = 0;  ///< rows whose values are all finite
  double norm_mean() const { return norm_rows > 0 ? norm_sum / static_cast<double>(norm_rows) : 0.0; }
};
template <class T>
RowStats row_stats(const MatrixView<T>& matrix, const Parallel& parallel);

/// A cross-space score set with the name of its representation ("absolute",
/// "cosine", "concat", "translated_procrustes", ...).
using NamedScores = std::pair<std::string, CrossSpaceScores>;

/// A number for JSON: null when NaN or infinite (cmd_compare.cpp).
nlohmann::json finite_or_null(double value);
/// The JSON object of one CrossSpaceScores (keys jaccard, mrr, top1, mean_rank,
/// mean_cos, cka; null when not computed), shared by compare and report.
nlohmann::json scores_json(const CrossSpaceScores& s);

/// The comparison of `latent compare` (cmd_compare.cpp): rows 0..rows-1 of a and
/// b compared as absolute vectors, as relative representations on `anchors` with
/// each similarity (plus their concat when there are several), and with a map
/// fitted on the anchor pairs for each translation method. Errors name the files.
std::vector<NamedScores> compare_representations(const RowMatrixd& a, const RowMatrixd& b, std::int64_t rows,
                                                 const std::vector<std::int64_t>& anchors,
                                                 const std::vector<RelativeSimilarity>& similarities, bool center,
                                                 const std::vector<TranslationMethod>& translations,
                                                 const CompareOptions& options, const std::string& a_path,
                                                 const std::string& b_path, const std::string& anchors_path);

/// Row ids from a 1-D (or [n x 1]) int64 or int32 array (cmd_relative.cpp); IoError
/// naming `option` and the file otherwise.
std::vector<std::int64_t> read_anchor_ids(const std::string& path, const std::string& option);

}  // namespace latent::cli
