// Pooling of token embeddings into one vector per sequence (or span), and layer
// mixing. Every pooled value accumulates in double and is rounded once.
#include <algorithm>
#include <limits>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"
#include "latent/embedding.hpp"

namespace latent {

namespace {
constexpr NamedValue<Pooling> kPoolingNames[] = {{"mean", Pooling::mean},   {"max", Pooling::max},
                                                 {"min", Pooling::min},     {"mean-max", Pooling::mean_max},
                                                 {"first", Pooling::first}, {"last", Pooling::last},
                                                 {"sum", Pooling::sum},     {"weighted-mean", Pooling::weighted_mean}};
constexpr NamedValue<Padding> kPaddingNames[] = {
    {"any", Padding::any}, {"right", Padding::right}, {"left", Padding::left}};
}  // namespace

std::string_view to_string(Pooling method) { return name_of(kPoolingNames, method); }

Pooling parse_pooling(std::string_view name, std::string_view argument) {
  return parse_name(kPoolingNames, name, "parse_pooling", argument, "pooling");
}

std::string_view to_string(Padding padding) { return name_of(kPaddingNames, padding); }

std::int64_t pooled_dim(Pooling method, std::int64_t d) { return method == Pooling::mean_max ? 2 * d : d; }

Padding parse_padding(std::string_view name, std::string_view argument) {
  return parse_name(kPaddingNames, name, "parse_padding", argument, "padding");
}
namespace {

// The mean, sum and weighted mean of the real tokens in [first, last], in double.
template <class T, class Real>
void pool_sum(const MatrixView<T>& tokens, std::int64_t begin, std::int64_t first, std::int64_t last, Real real,
              Pooling method, const double* weights, T* out, const char* function, const std::string& where) {
  const std::int64_t d = tokens.cols;
  std::int64_t count = 0;
  // Eigen's packet casts keep the double accumulation vectorised.
  Eigen::ArrayXd sum = Eigen::ArrayXd::Zero(d);
  double total_weight = 0;
  for (std::int64_t t = first; t <= last; ++t) {
    if (!real(t)) continue;
    ++count;
    const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> row(tokens.row(t), d);
    if (method == Pooling::weighted_mean) {
      const double w = weights != nullptr ? weights[t - begin] : static_cast<double>(t - begin + 1);
      total_weight += w;
      sum += w * row.template cast<double>();
    } else {
      sum += row.template cast<double>();
    }
  }
  double scale = 1.0;
  if (method == Pooling::mean) scale = 1.0 / static_cast<double>(count);
  if (method == Pooling::weighted_mean) {
    if (!(total_weight > 0)) raise<InvalidArgument>(function, "weights", "sum to 0 over the unmasked tokens", where);
    scale = 1.0 / total_weight;
  }
  Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(out, d) = (sum * scale).template cast<T>();
}

// The per-dimension maximum (or minimum) of the real tokens in [first, last].
template <class T, class Real>
void pool_extreme(const MatrixView<T>& tokens, std::int64_t first, std::int64_t last, Real real, bool maximum, T* out) {
  const std::int64_t d = tokens.cols;
  const T start = maximum ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
  for (std::int64_t j = 0; j < d; ++j) out[j] = start;
  for (std::int64_t t = first; t <= last; ++t) {
    if (!real(t)) continue;
    const T* row = tokens.row(t);
    // NaN propagates (so the finiteness check of pool_one sees it).
    for (std::int64_t j = 0; j < d; ++j) {
      const bool wins = maximum ? row[j] > out[j] : row[j] < out[j];
      out[j] = (wins || row[j] != row[j]) ? row[j] : out[j];
    }
  }
}

// One sequence: rows [begin, end) of `tokens`; mask[t - begin] (null: all real);
// weights[t - begin] (null: position weights t - begin + 1). Writes
// pooled_dim(method, d) values to out.
template <class T>
void pool_one(const MatrixView<T>& tokens, std::int64_t begin, std::int64_t end, const std::uint8_t* mask,
              const PoolingOptions& options, const double* weights, T* out, const char* function,
              const std::string& where) {
  const std::int64_t d = tokens.cols;
  const std::int64_t length = end - begin;
  if (length <= 0) raise<EmptyInput>(function, "tokens", "a sequence has no tokens", where);
  auto real = [&](std::int64_t t) { return mask == nullptr || mask[t - begin] != 0; };
  if (mask != nullptr && options.padding != Padding::any) {
    // right: ones then zeros; left: zeros then ones.
    bool seen_change = false;
    const bool leading = options.padding == Padding::right;
    for (std::int64_t t = begin; t < end; ++t) {
      if (real(t) != leading)
        seen_change = true;
      else if (seen_change)
        raise<InvalidArgument>(function, "mask",
                               options.padding == Padding::right ? "is not right-padded (ones then zeros)"
                                                                 : "is not left-padded (zeros then ones)",
                               where + ", position " + std::to_string(t - begin));
    }
  }
  std::int64_t first = -1, last = -1, count = 0;
  for (std::int64_t t = begin; t < end; ++t) {
    if (!real(t)) continue;
    if (first < 0) first = t;
    last = t;
    ++count;
  }
  if (count == 0) raise<EmptyInput>(function, "mask", "masks every token of a sequence", where);
  switch (options.method) {
    case Pooling::first:
      for (std::int64_t j = 0; j < d; ++j) out[j] = tokens.row(first)[j];
      break;
    case Pooling::last:
      for (std::int64_t j = 0; j < d; ++j) out[j] = tokens.row(last)[j];
      break;
    case Pooling::max:
    case Pooling::min:
      pool_extreme(tokens, first, last, real, options.method == Pooling::max, out);
      break;
    case Pooling::mean_max:
      pool_sum(tokens, begin, first, last, real, Pooling::mean, weights, out, function, where);
      pool_extreme(tokens, first, last, real, true, out + d);
      break;
    default:
      pool_sum(tokens, begin, first, last, real, options.method, weights, out, function, where);
      break;
  }
  // Inputs are not scanned for NaN / Inf up front (padding may hold anything);
  // a non-finite real token shows in the pooled vector instead.
  for (std::int64_t j = 0; j < pooled_dim(options.method, d); ++j)
    if (!std::isfinite(out[j]))
      raise<NonFiniteValue>(function, "tokens", "a pooled vector is not finite (NaN or Inf among its real tokens)",
                            where + ", dimension " + std::to_string(j));
}

void check_weights(const PoolingOptions& options, std::int64_t expected, const char* function) {
  if (options.weights.empty()) return;
  if (options.method != Pooling::weighted_mean)
    raise<InvalidArgument>(function, "weights", "are only used by Pooling::weighted_mean");
  require_same_dim(function, "weights", static_cast<std::int64_t>(options.weights.size()), "tokens per sequence",
                   expected);
  for (const double w : options.weights)
    if (!(w >= 0) || !std::isfinite(w))
      raise<InvalidArgument>(function, "weights", "must be finite and >= 0", std::to_string(w));
}

template <class T>
void check_tokens(const MatrixView<T>& tokens, const char* function) {
  if (tokens.cols == 0) raise<EmptyInput>(function, "tokens", "has no columns");
}

template <class T>
RowMatrix<T> pool_impl(const MatrixView<T>& tokens, const std::vector<std::uint8_t>& mask,
                       const PoolingOptions& options) {
  const char* function = "pool";
  check_tokens(tokens, function);
  if (tokens.rows == 0) raise<EmptyInput>(function, "tokens", "has no tokens");
  if (!mask.empty()) require_same_dim(function, "mask", static_cast<std::int64_t>(mask.size()), "tokens", tokens.rows);
  check_weights(options, tokens.rows, function);
  RowMatrix<T> out(1, pooled_dim(options.method, tokens.cols));
  pool_one(tokens, 0, tokens.rows, mask.empty() ? nullptr : mask.data(), options,
           options.weights.empty() ? nullptr : options.weights.data(), out.data(), function, "sequence 0");
  return out;
}

template <class T>
RowMatrix<T> pool_padded_impl(const MatrixView<T>& tokens, const RowMatrix<std::uint8_t>& mask,
                              const PoolingOptions& options, const Parallel& parallel) {
  const char* function = "pool_padded";
  check_tokens(tokens, function);
  const std::int64_t batch = mask.rows(), seq_len = mask.cols();
  if (batch == 0 || seq_len == 0) raise<EmptyInput>(function, "mask", "is empty");
  if (tokens.rows != batch * seq_len) {
    raise<DimensionMismatch>(function, "mask", "shape does not match the token rows",
                             "mask " + std::to_string(batch) + " x " + std::to_string(seq_len) + ", tokens rows " +
                                 std::to_string(tokens.rows));
  }
  check_weights(options, seq_len, function);
  RowMatrix<T> out(batch, pooled_dim(options.method, tokens.cols));
  parallel_for(batch, 64, parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; ++b)
      pool_one(tokens, b * seq_len, (b + 1) * seq_len, mask.data() + b * seq_len, options,
               options.weights.empty() ? nullptr : options.weights.data(), out.data() + b * out.cols(), function,
               "sequence " + std::to_string(b));
  });
  return out;
}

template <class T>
RowMatrix<T> pool_ragged_impl(const MatrixView<T>& tokens, const std::vector<std::int64_t>& offsets,
                              const PoolingOptions& options, const Parallel& parallel) {
  const char* function = "pool_ragged";
  check_tokens(tokens, function);
  if (offsets.size() < 2) raise<EmptyInput>(function, "offsets", "describe no sequence (need n + 1 entries)");
  if (offsets.front() != 0 || offsets.back() != tokens.rows)
    raise<InvalidArgument>(function, "offsets", "must start at 0 and end at the token rows",
                           "first " + std::to_string(offsets.front()) + ", last " + std::to_string(offsets.back()) +
                               ", rows " + std::to_string(tokens.rows));
  for (std::size_t i = 1; i < offsets.size(); ++i)
    if (offsets[i] < offsets[i - 1])
      raise<InvalidArgument>(function, "offsets", "must be non-decreasing", "at entry " + std::to_string(i));
  if (!options.weights.empty())
    raise<InvalidArgument>(function, "weights", "explicit weights need equal lengths: use pool_padded");
  const auto n = static_cast<std::int64_t>(offsets.size()) - 1;
  RowMatrix<T> out(n, pooled_dim(options.method, tokens.cols));
  parallel_for(n, 64, parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i)
      pool_one(tokens, offsets[static_cast<std::size_t>(i)], offsets[static_cast<std::size_t>(i) + 1], nullptr, options,
               nullptr, out.data() + i * out.cols(), function, "sequence " + std::to_string(i));
  });
  return out;
}

template <class T>
RowMatrix<T> pool_spans_impl(const MatrixView<T>& tokens,
                             const std::vector<std::pair<std::int64_t, std::int64_t>>& spans,
                             const PoolingOptions& options, const std::vector<std::uint8_t>& mask) {
  const char* function = "pool_spans";
  check_tokens(tokens, function);
  if (spans.empty()) raise<EmptyInput>(function, "spans", "is empty");
  if (!mask.empty()) require_same_dim(function, "mask", static_cast<std::int64_t>(mask.size()), "tokens", tokens.rows);
  check_weights(options, tokens.rows, function);
  RowMatrix<T> out(static_cast<std::int64_t>(spans.size()), pooled_dim(options.method, tokens.cols));
  for (std::size_t s = 0; s < spans.size(); ++s) {
    const auto [begin, end] = spans[s];
    if (begin < 0 || end > tokens.rows || begin >= end)
      raise<InvalidArgument>(function, "spans", "a span is empty or outside the sequence",
                             "span " + std::to_string(s) + " = [" + std::to_string(begin) + ", " + std::to_string(end) +
                                 "), tokens " + std::to_string(tokens.rows));
    // Weights (explicit or positional) are those of the whole sequence's positions.
    std::vector<double> positions;
    const double* weights = nullptr;
    if (options.method == Pooling::weighted_mean) {
      if (!options.weights.empty()) {
        weights = options.weights.data() + begin;
      } else {
        for (std::int64_t t = begin; t < end; ++t) positions.push_back(static_cast<double>(t + 1));
        weights = positions.data();
      }
    }
    PoolingOptions span_options = options;
    span_options.padding = Padding::any;  // the padding shape is a property of the whole sequence
    pool_one(tokens, begin, end, mask.empty() ? nullptr : mask.data() + begin, span_options, weights,
             out.data() + static_cast<std::int64_t>(s) * out.cols(), function, "span " + std::to_string(s));
  }
  return out;
}

template <class T>
RowMatrix<T> mix_layers_impl(const std::vector<MatrixView<T>>& layers, const std::vector<double>& weights) {
  const char* function = "mix_layers";
  if (layers.empty()) raise<EmptyInput>(function, "layers", "is empty");
  require_same_dim(function, "weights", static_cast<std::int64_t>(weights.size()), "layers",
                   static_cast<std::int64_t>(layers.size()));
  const std::int64_t n = layers[0].rows, d = layers[0].cols;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    require_same_dim(function, "rows of layer " + std::to_string(l), layers[l].rows, "rows of layer 0", n);
    require_same_dim(function, "cols of layer " + std::to_string(l), layers[l].cols, "cols of layer 0", d);
    require_finite(function, "layers", layers[l]);
    if (!std::isfinite(weights[l])) raise<NonFiniteValue>(function, "weights", "has a NaN or Inf", std::to_string(l));
  }
  RowMatrix<T> out(n, d);
  std::vector<double> row(static_cast<std::size_t>(d));
  for (std::int64_t i = 0; i < n; ++i) {
    std::fill(row.begin(), row.end(), 0.0);
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const T* source = layers[l].row(i);
      for (std::int64_t j = 0; j < d; ++j)
        row[static_cast<std::size_t>(j)] += weights[l] * static_cast<double>(source[j]);
    }
    for (std::int64_t j = 0; j < d; ++j) out(i, j) = static_cast<T>(row[static_cast<std::size_t>(j)]);
  }
  return out;
}

}  // namespace

#define LATENT_POOLING_OVERLOADS(T)                                                                       \
  RowMatrix<T> pool(const MatrixView<T>& tokens, const std::vector<std::uint8_t>& mask,                   \
                    const PoolingOptions& options) {                                                      \
    return pool_impl(tokens, mask, options);                                                              \
  }                                                                                                       \
  RowMatrix<T> pool_padded(const MatrixView<T>& tokens, const RowMatrix<std::uint8_t>& mask,              \
                           const PoolingOptions& options, const Parallel& parallel) {                     \
    return pool_padded_impl(tokens, mask, options, parallel);                                             \
  }                                                                                                       \
  RowMatrix<T> pool_ragged(const MatrixView<T>& tokens, const std::vector<std::int64_t>& offsets,         \
                           const PoolingOptions& options, const Parallel& parallel) {                     \
    return pool_ragged_impl(tokens, offsets, options, parallel);                                          \
  }                                                                                                       \
  RowMatrix<T> pool_spans(const MatrixView<T>& tokens,                                                    \
                          const std::vector<std::pair<std::int64_t, std::int64_t>>& spans,                \
                          const PoolingOptions& options, const std::vector<std::uint8_t>& mask) {         \
    return pool_spans_impl(tokens, spans, options, mask);                                                 \
  }                                                                                                       \
  RowMatrix<T> mix_layers(const std::vector<MatrixView<T>>& layers, const std::vector<double>& weights) { \
    return mix_layers_impl(layers, weights);                                                              \
  }
LATENT_POOLING_OVERLOADS(float)
LATENT_POOLING_OVERLOADS(double)
#undef LATENT_POOLING_OVERLOADS

}  // namespace latent
