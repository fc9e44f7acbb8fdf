// Shared plumbing of the subcommands: input matrices, output checks, JSON.
#include "cli.hpp"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "latent/core/errors.hpp"

namespace latent::cli {

void print_json(const nlohmann::json& value) { std::cout << value.dump() << '\n'; }

ArrayFile open_input(const std::string& spec, const std::string& option) {
  try {
    return open_array(spec);
  } catch (const IoError& e) {
    throw IoError(option + ": " + e.what());
  }
}

bool is_array_spec(const std::string& spec) {
  const std::string file = parse_array_spec(spec).path;
  for (const char* extension : {".npy", ".npz", ".hdf5", ".h5", ".fvecs", ".ivecs", ".bvecs"}) {
    const std::string suffix(extension);
    if (file.size() >= suffix.size() && file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  }
  return false;
}

std::vector<std::int64_t> read_int_vector(const std::string& spec, const std::string& option, const std::string& what) {
  const ArrayFile array = open_input(spec, option);
  const auto& shape = array.shape();
  const bool vector_shape = shape.size() == 1 || (shape.size() == 2 && shape[1] == 1);
  if (!vector_shape || (array.dtype() != DType::int64 && array.dtype() != DType::int32)) {
    throw IoError(option + ": " + spec + ": expected a 1-D int64 or int32 array of " + what + ", got " +
                  array.describe());
  }
  return array.vector<std::int64_t>();
}

InputMatrix::InputMatrix(const std::string& spec, const std::string& option, const RowSplit& split) : path_(spec) {
  file_.emplace(open_input(spec, option));
  if (file_->shape().size() != 2 || (file_->dtype() != DType::float32 && file_->dtype() != DType::float64)) {
    throw IoError(option + ": " + spec + ": expected a 2-D float32 or float64 array, got " + file_->describe());
  }
  total_rows_ = file_->shape()[0];
  const std::int64_t base = total_rows_ / split.ranks, extra = total_rows_ % split.ranks;
  first_row_ = split.rank * base + std::min<std::int64_t>(split.rank, extra);
  const std::int64_t rows = base + (split.rank < extra ? 1 : 0), cols = file_->shape()[1];
  if (file_->dtype() == DType::float32) {
    const MatrixView<float> all = file_->view<float>();
    view_ = MatrixView<float>(all.row(first_row_), rows, cols, all.row_stride);
    mapped_npy_ = file_->mapped() && file_->name().empty() && file_->path() == spec;
  } else {
    const MatrixView<double> all = file_->view<double>();
    owned_ = MatrixView<double>(all.row(first_row_), rows, cols, all.row_stride).map().cast<float>();
    file_.reset();  // the float64 data are no longer needed
    view_ = MatrixView<float>(owned_);
  }
}

void require_writable(const std::string& path, const std::string& option) {
  const std::filesystem::path target(path);
  const std::filesystem::path folder = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  struct stat info {};
  if (::stat(folder.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    throw IoError(option + ": " + path + ": folder " + folder.string() + " does not exist");
  }
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    throw IoError(option + ": " + path + ": is a directory");
  }
}

std::string thread_clamp_notice(const GlobalOptions& global) {
  const int requested = requested_threads(global.parallel());
  const int processors = available_processors();
  if (requested <= processors) return {};
  const char* variable = std::getenv("LATENT_NUM_THREADS");
  const char* source = global.threads > 0                         ? "--threads"
                       : variable != nullptr && *variable != '\0' ? "LATENT_NUM_THREADS"
                                                                  : "OpenMP's default";
  return "latent: " + std::to_string(requested) + " threads requested (" + source + ") but this machine has " +
         std::to_string(processors) + " processors: using " + std::to_string(processors);
}

CLI::Validator at_least(std::int64_t minimum, const std::string& when_omitted) {
  return CLI::Validator(
      [minimum, when_omitted](std::string& text) -> std::string {
        std::size_t used = 0;
        long long value = 0;
        try {
          value = std::stoll(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != text.size() || used == 0) return "expected an integer, got '" + text + "'";
        if (value >= minimum) return {};
        return "must be at least " + std::to_string(minimum) + ", got " + text +
               (when_omitted.empty() ? "" : " (omit it to " + when_omitted + ")");
      },
      "");
}

CLI::Validator above_zero() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::size_t used = 0;
        double value = 0;
        try {
          value = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != text.size() || used == 0) return "expected a number, got '" + text + "'";
        if (value > 0 && std::isfinite(value)) return {};
        return "must be above 0, got " + text;
      },
      "");
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void write_graph(const KnnGraph& graph, const std::string& ids_path, const std::string& scores_path) {
  write_npy(ids_path, graph.ids);
  if (!scores_path.empty()) write_npy(scores_path, graph.scores);
}

void print_wrote_graph(std::int64_t rows, std::int64_t k, const std::string& ids_path, const std::string& scores_path) {
  std::printf("wrote %s (int64 [%lld, %lld])%s%s\n", ids_path.c_str(), static_cast<long long>(rows),
              static_cast<long long>(k), scores_path.empty() ? "" : " and ", scores_path.c_str());
}

}  // namespace latent::cli
