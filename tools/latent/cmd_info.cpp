// latent info FILE [--json]: what a vector file holds and whether it is usable.
//
// Reads .npy through a memory map (so files larger than RAM work; big-endian or
// Fortran-ordered files are read and converted), .fvecs/.ivecs/.bvecs whole, and
// one array of a container named as FILE.npz:NAME or FILE.hdf5:NAME. A container
// named alone (FILE.npz, FILE.hdf5) is listed: each array's name, dtype and shape. For a 2-D array it reports the finite check and
// min/mean/max of the row L2 norms, accumulated in double over fixed row blocks
// combined in order, so the figures do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/kernels/isa.hpp"

namespace latent::cli {

template <class T>
RowStats row_stats(const MatrixView<T>& matrix, const Parallel& parallel) {
  constexpr std::int64_t kBlockRows = 4096;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  const std::int64_t blocks = (matrix.rows + kBlockRows - 1) / kBlockRows;
  std::vector<RowStats> partial(static_cast<std::size_t>(blocks));
  for (RowStats& stats : partial) stats.norm_min = kInfinity;
  parallel_for(matrix.rows, kBlockRows, parallel, [&](std::int64_t begin, std::int64_t end) {
    RowStats& stats = partial[static_cast<std::size_t>(begin / kBlockRows)];
    for (std::int64_t i = begin; i < end; ++i) {
      const T* row = matrix.row(i);
      double squares = 0;
      std::int64_t bad = 0;
      for (std::int64_t j = 0; j < matrix.cols; ++j) {
        const auto value = static_cast<double>(row[j]);
        if (!std::isfinite(value)) ++bad;
        squares += value * value;
      }
      stats.non_finite += bad;
      if (bad > 0) continue;
      const double norm = std::sqrt(squares);
      stats.zero_rows += norm == 0 ? 1 : 0;
      stats.norm_min = std::min(stats.norm_min, norm);
      stats.norm_max = std::max(stats.norm_max, norm);
      stats.norm_sum += norm;
      ++stats.norm_rows;
    }
  });
  RowStats total;
  total.norm_min = kInfinity;
  for (const RowStats& stats : partial) {
    total.non_finite += stats.non_finite;
    total.zero_rows += stats.zero_rows;
    total.norm_min = std::min(total.norm_min, stats.norm_min);
    total.norm_max = std::max(total.norm_max, stats.norm_max);
    total.norm_sum += stats.norm_sum;
    total.norm_rows += stats.norm_rows;
  }
  if (total.norm_rows == 0) total.norm_min = 0;
  return total;
}

template RowStats row_stats(const MatrixView<float>&, const Parallel&);
template RowStats row_stats(const MatrixView<double>&, const Parallel&);
template RowStats row_stats(const MatrixView<std::int64_t>&, const Parallel&);
template RowStats row_stats(const MatrixView<std::int32_t>&, const Parallel&);
template RowStats row_stats(const MatrixView<std::uint8_t>&, const Parallel&);
template RowStats row_stats(const MatrixView<bool>&, const Parallel&);
template RowStats row_stats(const MatrixView<std::int8_t>&, const Parallel&);
template RowStats row_stats(const MatrixView<std::uint16_t>&, const Parallel&);

namespace {

struct Report {
  std::string format;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::int64_t file_bytes = 0;
  std::optional<RowStats> stats;  // for 1-D and 2-D arrays
};

template <class T>
void fill_stats(Report& report, const MatrixView<T>& matrix, const Parallel& parallel) {
  report.stats = row_stats(matrix, parallel);
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Report inspect_array(const std::string& spec, const Parallel& parallel) {
  const ArrayFile file = open_array(spec);
  const std::string format = file.name().empty() ? "npy" : ends_with(file.path(), ".npz") ? "npz" : "hdf5";
  Report report{format, std::string(to_string(file.dtype())), file.shape(),
                static_cast<std::int64_t>(std::filesystem::file_size(file.path())), {}};
  if (file.shape().size() != 1 && file.shape().size() != 2) return report;
  switch (file.dtype()) {
    case DType::float32: fill_stats(report, file.view<float>(), parallel); break;
    case DType::float64: fill_stats(report, file.view<double>(), parallel); break;
    case DType::int64: fill_stats(report, file.view<std::int64_t>(), parallel); break;
    case DType::int32: fill_stats(report, file.view<std::int32_t>(), parallel); break;
    case DType::uint8: fill_stats(report, file.view<std::uint8_t>(), parallel); break;
    case DType::boolean: fill_stats(report, file.view<bool>(), parallel); break;
    case DType::int8: fill_stats(report, file.view<std::int8_t>(), parallel); break;
    case DType::uint16: fill_stats(report, file.view<std::uint16_t>(), parallel); break;
    case DType::float16: break;  // quantized codes: shape and dtype only
  }
  return report;
}

template <class T>
Report inspect_vecs(const RowMatrix<T>& matrix, const char* format, const char* dtype, std::int64_t element_bytes,
                    const Parallel& parallel) {
  Report report{format, dtype, {matrix.rows(), matrix.cols()}, matrix.rows() * (4 + matrix.cols() * element_bytes), {}};
  fill_stats(report, MatrixView<T>(matrix), parallel);
  return report;
}

Report inspect(const std::string& path, const Parallel& parallel) {
  if (ends_with(path, ".fvecs")) return inspect_vecs(read_fvecs(path), "fvecs", "float32", 4, parallel);
  if (ends_with(path, ".ivecs")) return inspect_vecs(read_ivecs(path), "ivecs", "int32", 4, parallel);
  if (ends_with(path, ".bvecs")) return inspect_vecs(read_bvecs(path), "bvecs", "uint8", 1, parallel);
  return inspect_array(path, parallel);
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// A container named alone: its arrays, one line each.
bool is_container(const std::string& path) {
  return parse_array_spec(path).name.empty() &&
         (ends_with(path, ".npz") || ends_with(path, ".hdf5") || ends_with(path, ".h5"));
}

int run_list(const std::string& path, const GlobalOptions& global) {
  const std::vector<ArrayInfo> arrays = list_arrays(path);
  const std::string format = ends_with(path, ".npz") ? "npz" : "hdf5";
  if (global.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const ArrayInfo& array : arrays) {
      list.push_back({{"name", array.name}, {"dtype", std::string(to_string(array.dtype))}, {"shape", array.shape}});
    }
    print_json({{"file", path},
                {"format", format},
                {"bytes", static_cast<std::int64_t>(std::filesystem::file_size(path))},
                {"arrays", list}});
    return 0;
  }
  std::printf("%s: %s, %zu array%s (name one as %s:NAME)\n", path.c_str(), format.c_str(), arrays.size(),
              arrays.size() == 1 ? "" : "s", path.c_str());
  for (const ArrayInfo& array : arrays) {
    std::printf("  %-12s %s %s\n", array.name.c_str(), std::string(to_string(array.dtype)).c_str(),
                shape_text(array.shape).c_str());
  }
  return 0;
}

int run_info(const std::string& path, const GlobalOptions& global) {
  if (is_container(path)) return run_list(path, global);
  const Report report = inspect(path, global.parallel());
  if (global.json) {
    nlohmann::json out = {{"file", path},
                          {"format", report.format},
                          {"dtype", report.dtype},
                          {"shape", report.shape},
                          {"bytes", report.file_bytes},
                          {"isa", std::string(kernels::to_string(kernels::active_isa()))},
                          {"isa_best", std::string(kernels::to_string(kernels::best_isa()))}};
    if (report.stats) {
      const RowStats& s = *report.stats;
      out["finite"] = s.non_finite == 0;
      out["non_finite_values"] = s.non_finite;
      out["zero_norm_rows"] = s.zero_rows;
      if (s.norm_rows > 0) {
        out["norm"] = {{"min", s.norm_min}, {"mean", s.norm_mean()}, {"max", s.norm_max}};
      }
    }
    print_json(out);
    return 0;
  }
  std::printf("%s: %s %s (%s, %.1f MiB)\n", path.c_str(), report.dtype.c_str(), shape_text(report.shape).c_str(),
              report.format.c_str(), static_cast<double>(report.file_bytes) / (1024.0 * 1024.0));
  if (report.stats) {
    const RowStats& s = *report.stats;
    if (s.non_finite == 0) {
      std::printf("  values     all finite\n");
    } else {
      std::printf("  values     %lld non-finite (NaN or Inf)\n", static_cast<long long>(s.non_finite));
    }
    if (s.norm_rows > 0) {
      std::printf("  row norms  min %.6g  mean %.6g  max %.6g  (%lld zero rows)\n", s.norm_min, s.norm_mean(),
                  s.norm_max, static_cast<long long>(s.zero_rows));
    }
  }
  std::printf("  kernels    %s\n", kernels::capabilities().c_str());
  return 0;
}

}  // namespace

Command register_info(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("info", "shape, dtype, finite check, row-norm statistics of a vector file, and the SIMD level in use");
  sub->footer(
      "Reads .npy (memory-mapped), .fvecs, .ivecs and .bvecs, and one array of an .npz or HDF5\n"
      "file named as FILE.npz:NAME or FILE.hdf5:NAME; FILE.npz or FILE.hdf5 alone lists its arrays.\n"
      "Examples:\n"
      "  latent info data/fashion-mnist/images.npy\n"
      "  latent info embeddings.npz\n"
      "  latent info fashion-mnist-784-euclidean.hdf5:train\n"
      "  latent info data/fashion-mnist/images.npy --json");
  auto path = std::make_shared<std::string>();
  sub->add_option("FILE", *path, "the file (or FILE.npz:NAME, FILE.hdf5:NAME) to inspect")->required();
  return {sub, [path, &global] { return run_info(*path, global); }};
}

}  // namespace latent::cli
