// Quantization (f16, bf16, int8 and int4 with calibrated per-dimension ranges, binary sign
// codes), its saved calibration, and search over the codes through the kernel layer.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/core/names.hpp"
#include "latent/embedding.hpp"
#include "latent/kernels/batched.hpp"
#include "latent/kernels/pairwise.hpp"

namespace latent {
namespace {

constexpr const char* kKind = "quantizer";
constexpr std::uint32_t kKindVersion = 1;
constexpr NamedValue<QuantizationType> kTypeNames[] = {{"f16", QuantizationType::f16},
                                                       {"bf16", QuantizationType::bf16},
                                                       {"int8", QuantizationType::int8},
                                                       {"int4", QuantizationType::int4},
                                                       {"binary", QuantizationType::binary}};

// Scalar types with calibrated ranges, and their number of steps (levels - 1).
bool is_scalar_range(QuantizationType type) { return type == QuantizationType::int8 || type == QuantizationType::int4; }
float range_steps(QuantizationType type) { return type == QuantizationType::int4 ? 15.0f : 255.0f; }

std::int64_t code_bytes(QuantizationType type, std::int64_t dim) {
  switch (type) {
    case QuantizationType::f16:
    case QuantizationType::bf16:
      return 2 * dim;
    case QuantizationType::int8:
      return dim;
    case QuantizationType::int4:
      return (dim + 1) / 2;
    case QuantizationType::binary:
      return (dim + 7) / 8;
  }
  return 0;
}

// The q-quantile of sorted values (linear interpolation, numpy's default).
float quantile_of_sorted(const std::vector<float>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return static_cast<float>(sorted[below] + fraction * (static_cast<double>(sorted[above]) - sorted[below]));
}

// low[j] = min(low[j], row[j]), high[j] = max(high[j], row[j]) (restrict-qualified,
// so the compiler vectorizes it).
void widen_to_row(const float* __restrict row, std::int64_t d, float* __restrict low, float* __restrict high) {
  for (std::int64_t j = 0; j < d; ++j) {
    low[j] = std::min(low[j], row[j]);
    high[j] = std::max(high[j], row[j]);
  }
}

// One row of int8 codes (restrict-qualified: a byte store may alias anything,
// which would keep the compiler from vectorizing the loop otherwise).
void encode_int8_row(const float* __restrict row, const float* __restrict low, const float* __restrict high,
                     const float* __restrict step, std::int64_t d, std::uint8_t* __restrict code) {
  for (std::int64_t j = 0; j < d; ++j) {
    // Clip first, so values outside the range saturate instead of wrapping.
    const float clipped = std::min(std::max(row[j], low[j]), high[j]);
    // Round half to even, as nearbyint in the default mode: adding and
    // subtracting 2^23 rounds any value in [0, 2^23) to an integer (inline,
    // where nearbyint is a library call on baseline x86-64).
    const float level = ((clipped - low[j]) / step[j] + 0x1p23f) - 0x1p23f;
    const int q = std::min(255, std::max(0, static_cast<int>(level))) - 128;
    code[j] = static_cast<std::uint8_t>(static_cast<std::int8_t>(q));
  }
}

// One row of int4 codes: 16 levels, two per byte, even dimensions in the low nibble.
void encode_int4_row(const float* row, const float* low, const float* high, const float* step, std::int64_t d,
                     std::uint8_t* code) {
  for (std::int64_t j = 0; j < d; ++j) {
    const float clipped = std::min(std::max(row[j], low[j]), high[j]);
    const float level = ((clipped - low[j]) / step[j] + 0x1p23f) - 0x1p23f;  // round half to even, as int8
    const auto q = static_cast<unsigned>(std::min(15, std::max(0, static_cast<int>(level))));
    code[j / 2] = static_cast<std::uint8_t>(code[j / 2] | (q << (4 * (j % 2))));
  }
}

}  // namespace

const char* to_string(QuantizationType type) { return name_of(kTypeNames, type).data(); }

QuantizationType parse_quantization_type(const std::string& name, const std::string& argument) {
  return parse_name(kTypeNames, name, "parse_quantization_type", argument, "quantization type");
}

Quantizer::Quantizer(const QuantizerOptions& options) : options_(options) {
  if (!(options.range_quantile >= 0 && options.range_quantile < 0.5))
    raise<InvalidArgument>("Quantizer", "range_quantile", "must be in [0, 0.5)",
                           std::to_string(options.range_quantile));
}

std::int64_t Quantizer::bytes_per_row() const { return code_bytes(options_.type, dim_); }

void Quantizer::require_fitted(const char* function) const {
  if (!is_fitted()) raise<NotFitted>(function, "quantizer", "is not fitted (call fit or fit_dim first)");
}

Quantizer& Quantizer::fit_dim(std::int64_t dim) {
  if (dim < 1) raise<InvalidArgument>("Quantizer::fit_dim", "dim", "must be >= 1", std::to_string(dim));
  if (is_scalar_range(options_.type) || (options_.type == QuantizationType::binary && options_.binary_center))
    raise<InvalidArgument>("Quantizer::fit_dim", "type", "needs calibration rows (call fit)", to_string(options_.type));
  dim_ = dim;
  low_.clear();
  high_.clear();
  step_.clear();
  thresholds_.assign(options_.type == QuantizationType::binary ? static_cast<std::size_t>(dim) : 0, 0.0f);
  return *this;
}

Quantizer& Quantizer::fit(const MatrixView<float>& calibration) {
  const char* function = "Quantizer::fit";
  require_non_empty(function, "calibration", calibration);
  require_finite(function, "calibration", calibration);
  const std::int64_t n = calibration.rows, d = calibration.cols;
  std::vector<float> low, high, step, thresholds;
  if (is_scalar_range(options_.type)) {
    low.resize(static_cast<std::size_t>(d));
    high.resize(static_cast<std::size_t>(d));
    step.resize(static_cast<std::size_t>(d));
    if (options_.range_quantile == 0.0) {  // min and max: one pass in row order
      std::copy(calibration.row(0), calibration.row(0) + d, low.begin());
      std::copy(calibration.row(0), calibration.row(0) + d, high.begin());
      for (std::int64_t i = 1; i < n; ++i) widen_to_row(calibration.row(i), d, low.data(), high.data());
    } else {
      std::vector<float> column(static_cast<std::size_t>(n));
      for (std::int64_t j = 0; j < d; ++j) {
        for (std::int64_t i = 0; i < n; ++i) column[static_cast<std::size_t>(i)] = calibration.row(i)[j];
        std::sort(column.begin(), column.end());
        low[static_cast<std::size_t>(j)] = quantile_of_sorted(column, options_.range_quantile);
        high[static_cast<std::size_t>(j)] = quantile_of_sorted(column, 1.0 - options_.range_quantile);
      }
    }
    for (std::int64_t j = 0; j < d; ++j) {
      const auto u = static_cast<std::size_t>(j);
      if (!(high[u] > low[u]) && options_.widen_constant_dimensions)
        high[u] = low[u] + std::max(1.0f, std::fabs(low[u]));  // low encodes (and decodes) exactly
      step[u] = (high[u] - low[u]) / range_steps(options_.type);
      if (!(step[u] > 0))
        raise<InvalidArgument>(
            function, "calibration",
            std::string("has a zero-width ") + to_string(options_.type) + " range (a constant dimension)",
            "dimension " + std::to_string(j) + ", range [" + std::to_string(low[u]) + ", " + std::to_string(high[u]) +
                "], rows " + std::to_string(n));
    }
  } else if (options_.type == QuantizationType::binary) {
    thresholds.assign(static_cast<std::size_t>(d), 0.0f);
    if (options_.binary_center) {
      std::vector<double> sum(static_cast<std::size_t>(d), 0.0);
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < d; ++j) sum[static_cast<std::size_t>(j)] += calibration.row(i)[j];
      for (std::int64_t j = 0; j < d; ++j)
        thresholds[static_cast<std::size_t>(j)] =
            static_cast<float>(sum[static_cast<std::size_t>(j)] / static_cast<double>(n));
    }
  }
  dim_ = d;
  low_ = std::move(low);
  high_ = std::move(high);
  step_ = std::move(step);
  thresholds_ = std::move(thresholds);
  return *this;
}

QuantizedMatrix Quantizer::encode(const MatrixView<float>& x, const Parallel& parallel) const {
  const char* function = "Quantizer::encode";
  require_fitted(function);
  require_same_dim(function, "x", x.cols, "the fitted dimension", dim_);
  require_finite(function, "x", x);
  QuantizedMatrix out;
  out.type = options_.type;
  out.rows = x.rows;
  out.dim = dim_;
  out.bytes_per_row = bytes_per_row();
  out.codes.assign(static_cast<std::size_t>(out.rows * out.bytes_per_row), 0);
  const std::int64_t d = dim_;
  parallel_for(x.rows, 256, parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const float* row = x.row(i);
      std::uint8_t* code = out.codes.data() + i * out.bytes_per_row;
      switch (options_.type) {
        case QuantizationType::f16:
          for (std::int64_t j = 0; j < d; ++j) {
            const std::uint16_t bits = kernels::to_float16(row[j]).bits;
            std::memcpy(code + 2 * j, &bits, 2);
          }
          break;
        case QuantizationType::bf16:
          for (std::int64_t j = 0; j < d; ++j) {
            const std::uint16_t bits = kernels::to_bfloat16(row[j]).bits;
            std::memcpy(code + 2 * j, &bits, 2);
          }
          break;
        case QuantizationType::int8:
          encode_int8_row(row, low_.data(), high_.data(), step_.data(), d, code);
          break;
        case QuantizationType::int4:
          encode_int4_row(row, low_.data(), high_.data(), step_.data(), d, code);
          break;
        case QuantizationType::binary:
          for (std::int64_t j = 0; j < d; ++j)
            if (row[j] > thresholds_[static_cast<std::size_t>(j)])
              code[j / 8] |= static_cast<std::uint8_t>(0x80u >> (j % 8));
          break;
      }
    }
  });
  return out;
}

RowMatrixf Quantizer::decode(const QuantizedMatrix& codes, const Parallel& parallel) const {
  const char* function = "Quantizer::decode";
  require_fitted(function);
  if (codes.type != options_.type)
    raise<InvalidArgument>(function, "codes", "were made by another quantization type",
                           std::string(to_string(codes.type)) + " vs " + to_string(options_.type));
  if (options_.type == QuantizationType::binary)
    raise<InvalidArgument>(function, "codes", "binary codes have no decoding (search them with binary_knn)");
  require_same_dim(function, "codes", codes.dim, "the fitted dimension", dim_);
  if (static_cast<std::int64_t>(codes.codes.size()) != codes.rows * bytes_per_row())
    raise<DimensionMismatch>(function, "codes", "hold the wrong number of bytes",
                             std::to_string(codes.codes.size()) + " for " + std::to_string(codes.rows) + " rows");
  RowMatrixf out(codes.rows, dim_);
  const std::int64_t d = dim_;
  parallel_for(codes.rows, 256, parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const std::uint8_t* code = codes.row(i);
      float* row = out.data() + i * d;
      for (std::int64_t j = 0; j < d; ++j) {
        std::uint16_t bits = 0;
        switch (options_.type) {
          case QuantizationType::f16:
            std::memcpy(&bits, code + 2 * j, 2);
            row[j] = kernels::to_float(kernels::Float16{bits});
            break;
          case QuantizationType::bf16:
            std::memcpy(&bits, code + 2 * j, 2);
            row[j] = kernels::to_float(kernels::BFloat16{bits});
            break;
          case QuantizationType::int4: {
            const auto u = static_cast<std::size_t>(j);
            const int level = (code[j / 2] >> (4 * (j % 2))) & 0xf;
            row[j] = low_[u] + static_cast<float>(level) * step_[u];
            break;
          }
          default: {
            const auto u = static_cast<std::size_t>(j);
            const int level = static_cast<int>(static_cast<std::int8_t>(code[j])) + 128;
            row[j] = low_[u] + static_cast<float>(level) * step_[u];
          }
        }
      }
    }
  });
  return out;
}

void Quantizer::save(const std::string& path) const {
  require_fitted("Quantizer::save");
  ModelWriter writer(kKind, kKindVersion);
  writer.put("type", std::string(to_string(options_.type)));
  writer.put("dim", dim_);
  writer.put("range_quantile", options_.range_quantile);
  writer.put("binary_center", static_cast<std::int64_t>(options_.binary_center ? 1 : 0));
  auto doubles = [](const std::vector<float>& values) { return std::vector<double>(values.begin(), values.end()); };
  writer.put("low", doubles(low_));
  writer.put("high", doubles(high_));
  writer.put("thresholds", doubles(thresholds_));
  writer.save(path);
}

Quantizer Quantizer::load(const std::string& path) {
  const ModelReader reader(path, kKind, kKindVersion);
  QuantizerOptions options;
  options.type = parse_quantization_type(reader.get_string("type"), "type");
  options.range_quantile = reader.get_double("range_quantile");
  options.binary_center = reader.get_int("binary_center") != 0;
  Quantizer quantizer(options);
  const std::int64_t dim = reader.get_int("dim");
  auto floats = [](const std::vector<double>& values) { return std::vector<float>(values.begin(), values.end()); };
  std::vector<float> low = floats(reader.get_doubles("low")), high = floats(reader.get_doubles("high"));
  std::vector<float> thresholds = floats(reader.get_doubles("thresholds"));
  const auto expected = static_cast<std::size_t>(dim);
  const bool ranged = is_scalar_range(options.type), binary = options.type == QuantizationType::binary;
  if (dim < 1 || low.size() != (ranged ? expected : 0) || high.size() != low.size() ||
      thresholds.size() != (binary ? expected : 0))
    throw IoError("latent::Quantizer::load: " + path + ": inconsistent calibration (dim " + std::to_string(dim) + ")");
  for (std::size_t j = 0; j < low.size(); ++j) {
    const float step = (high[j] - low[j]) / range_steps(options.type);
    if (!(step > 0) || !std::isfinite(step))
      throw IoError("latent::Quantizer::load: " + path + ": zero-width or non-finite range at dimension " +
                    std::to_string(j));
    quantizer.step_.push_back(step);
  }
  quantizer.dim_ = dim;
  quantizer.low_ = std::move(low);
  quantizer.high_ = std::move(high);
  quantizer.thresholds_ = std::move(thresholds);
  return quantizer;
}

}  // namespace latent
