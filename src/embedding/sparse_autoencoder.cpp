// Sparse autoencoder inference: the encoder as the base of an inner-product search
// ([x - b_dec, 1] against [W_enc column, b_enc]), topk through the fused top-k,
// relu / jumprelu through blocks of the dense pre-activations; decoding and
// steering row by row over the codes.
#include "latent/embedding/sparse_autoencoder.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"
#include "latent/core/npy.hpp"

namespace latent {
namespace {

using Index = std::int64_t;

constexpr NamedValue<SaeActivation> kActivationNames[] = {
    {"topk", SaeActivation::topk}, {"relu", SaeActivation::relu}, {"jumprelu", SaeActivation::jumprelu}};

// Rows of x per block: the augmented copy, and for relu / jumprelu the dense
// pre-activations, stay near 64 MB.
Index block_rows(Index dim, Index features, bool dense) {
  const Index per_row = (dim + 1) + (dense ? features : 0);
  return std::max<Index>(1, (Index{1} << 24) / std::max<Index>(1, per_row));
}

void check_options(const char* function, const SaeEncodeOptions& options, Index features) {
  if (options.activation == SaeActivation::topk && (options.k < 1 || options.k > features))
    raise<InvalidArgument>(function, "k", "must be in 1..features",
                           "k=" + std::to_string(options.k) + ", features=" + std::to_string(features));
  if (options.activation == SaeActivation::jumprelu && !std::isfinite(options.threshold))
    raise<InvalidArgument>(function, "threshold", "must be finite", "threshold=" + std::to_string(options.threshold));
}

// Appends one row of codes (columns increasing) to the CSR arrays.
struct CsrBuilder {
  std::vector<std::int64_t> offsets{0}, indices;
  std::vector<float> values;
  void end_row() { offsets.push_back(static_cast<Index>(values.size())); }
};

}  // namespace

std::string_view to_string(SaeActivation activation) { return name_of(kActivationNames, activation); }

SaeActivation parse_sae_activation(std::string_view name, std::string_view argument) {
  return parse_name(kActivationNames, name, "parse_sae_activation", argument, "SAE activation");
}

SparseAutoencoder::SparseAutoencoder(const MatrixView<float>& w_enc, std::vector<float> b_enc, RowMatrixf w_dec,
                                     std::vector<float> b_dec)
    : w_dec_(std::move(w_dec)), b_dec_(std::move(b_dec)) {
  const char* function = "SparseAutoencoder";
  require_non_empty(function, "W_enc", w_enc);
  const Index d = w_enc.rows, m = w_enc.cols;
  const auto mismatch = [&](const char* argument, const std::string& expected, const std::string& got) {
    raise<DimensionMismatch>(
        function, argument,
        "has the wrong shape for W_enc [d x m] = [" + std::to_string(d) + " x " + std::to_string(m) + "]",
        "expected " + expected + ", got " + got);
  };
  if (static_cast<Index>(b_enc.size()) != m) mismatch("b_enc", "[m]", "[" + std::to_string(b_enc.size()) + "]");
  if (w_dec_.rows() != m || w_dec_.cols() != d)
    mismatch("W_dec", "[m x d]", "[" + std::to_string(w_dec_.rows()) + " x " + std::to_string(w_dec_.cols()) + "]");
  if (static_cast<Index>(b_dec_.size()) != d) mismatch("b_dec", "[d]", "[" + std::to_string(b_dec_.size()) + "]");
  require_finite(function, "W_enc", w_enc);
  require_finite(function, "W_dec", MatrixView<float>(w_dec_));
  require_finite(function, "b_enc", MatrixView<float>(b_enc.data(), 1, m));
  require_finite(function, "b_dec", MatrixView<float>(b_dec_.data(), 1, d));
  encoder_rows_.resize(m, d + 1);
  for (Index j = 0; j < m; ++j) {
    for (Index t = 0; t < d; ++t) encoder_rows_(j, t) = w_enc.row(t)[j];
    encoder_rows_(j, d) = b_enc[static_cast<std::size_t>(j)];
  }
}

SparseAutoencoder SparseAutoencoder::load(const std::string& dir) {
  const auto path = [&](const char* name) { return dir + "/" + name; };
  const RowMatrixf w_enc = read_npy_matrix<float>(path("W_enc.npy"));
  std::vector<float> b_enc = read_npy_vector<float>(path("b_enc.npy"));
  RowMatrixf w_dec = read_npy_matrix<float>(path("W_dec.npy"));
  std::vector<float> b_dec = read_npy_vector<float>(path("b_dec.npy"));
  try {
    return SparseAutoencoder(w_enc, std::move(b_enc), std::move(w_dec), std::move(b_dec));
  } catch (const DimensionMismatch& e) {
    throw DimensionMismatch(dir + ": " + e.what());
  } catch (const NonFiniteValue& e) {
    throw NonFiniteValue(dir + ": " + e.what());
  }
}

namespace {

// [x - b_dec, 1] for rows [begin, end) of x.
RowMatrixf augmented_rows(const MatrixView<float>& x, Index begin, Index end, const std::vector<float>& b_dec) {
  RowMatrixf out(end - begin, x.cols + 1);
  for (Index i = begin; i < end; ++i) {
    const float* row = x.row(i);
    float* o = out.data() + (i - begin) * (x.cols + 1);
    for (Index t = 0; t < x.cols; ++t) o[t] = row[t] - b_dec[static_cast<std::size_t>(t)];
    o[x.cols] = 1.0f;
  }
  return out;
}

void check_input(const char* function, const MatrixView<float>& x, Index dim) {
  require_non_empty(function, "x", x);
  require_same_dim(function, "x", x.cols, "W_enc", dim);
  require_finite(function, "x", x);
}

}  // namespace

RowMatrixf SparseAutoencoder::pre_activations(const MatrixView<float>& x, const Parallel& parallel) const {
  check_input("SparseAutoencoder::pre_activations", x, dim());
  SearchOptions options;
  options.parallel = parallel;
  options.validate_finite = false;
  return similarity(augmented_rows(x, 0, x.rows, b_dec_), encoder_rows_, Metric::ip, options);
}

SparseMatrix SparseAutoencoder::encode(const MatrixView<float>& x, const SaeEncodeOptions& options) const {
  const char* function = "SparseAutoencoder::encode";
  check_input(function, x, dim());
  check_options(function, options, features());
  SearchOptions search;
  search.parallel = options.parallel;
  search.validate_finite = false;  // checked above; the encoder rows at construction
  const bool topk = options.activation == SaeActivation::topk;
  const Index block = block_rows(dim(), features(), !topk);
  CsrBuilder csr;
  std::vector<std::pair<Index, float>> kept;
  for (Index begin = 0; begin < x.rows; begin += block) {
    const Index end = std::min(x.rows, begin + block);
    const RowMatrixf queries = augmented_rows(x, begin, end, b_dec_);
    if (topk) {
      const KnnGraph top = knn(queries, encoder_rows_, options.k, Metric::ip, search);
      for (Index i = 0; i < top.ids.rows(); ++i) {
        kept.clear();
        for (Index e = 0; e < options.k; ++e)
          if (top.scores(i, e) > 0.0f) kept.emplace_back(top.ids(i, e), top.scores(i, e));
        std::sort(kept.begin(), kept.end());
        for (const auto& [feature, value] : kept) {
          csr.indices.push_back(feature);
          csr.values.push_back(value);
        }
        csr.end_row();
      }
    } else {
      const RowMatrixf pre = similarity(queries, encoder_rows_, Metric::ip, search);
      const float threshold = options.activation == SaeActivation::relu ? 0.0f : static_cast<float>(options.threshold);
      for (Index i = 0; i < pre.rows(); ++i) {
        for (Index j = 0; j < pre.cols(); ++j) {
          const float value = pre(i, j);
          if (value > threshold && value != 0.0f) {
            csr.indices.push_back(j);
            csr.values.push_back(value);
          }
        }
        csr.end_row();
      }
    }
  }
  return SparseMatrix(x.rows, features(), std::move(csr.offsets), std::move(csr.indices), std::move(csr.values));
}

RowMatrixf SparseAutoencoder::decode(const SparseMatrix& codes, const Parallel& parallel) const {
  const char* function = "SparseAutoencoder::decode";
  if (codes.cols() != features())
    raise<DimensionMismatch>(function, "codes", "must have one column per feature",
                             "codes cols=" + std::to_string(codes.cols()) + ", features=" + std::to_string(features()));
  const Index d = dim();
  RowMatrixf out(codes.rows(), d);
  parallel_for(codes.rows(), 256, parallel, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      float* o = out.data() + i * d;
      for (Index t = 0; t < d; ++t) o[t] = b_dec_[static_cast<std::size_t>(t)];
      for (Index e = codes.offsets()[i]; e < codes.offsets()[i + 1]; ++e) {
        const float v = codes.values()[e];
        const float* w = w_dec_.data() + codes.indices()[e] * d;
        for (Index t = 0; t < d; ++t) o[t] += v * w[t];
      }
    }
  });
  return out;
}

SaeStats sae_stats(const SparseAutoencoder& sae, const MatrixView<float>& x, const SaeEncodeOptions& options) {
  const SparseMatrix codes = sae.encode(x, options);
  const RowMatrixf x_hat = sae.decode(codes, options.parallel);
  const Index n = x.rows, d = x.cols, m = sae.features();
  std::vector<double> mean(static_cast<std::size_t>(d), 0.0);
  for (Index i = 0; i < n; ++i)
    for (Index t = 0; t < d; ++t) mean[static_cast<std::size_t>(t)] += x.row(i)[t];
  for (double& value : mean) value /= static_cast<double>(n);
  double error = 0.0, total = 0.0;
  for (Index i = 0; i < n; ++i) {
    for (Index t = 0; t < d; ++t) {
      const double value = x.row(i)[t];
      const double residual = value - static_cast<double>(x_hat(i, t));
      const double centred = value - mean[static_cast<std::size_t>(t)];
      error += residual * residual;
      total += centred * centred;
    }
  }
  std::vector<char> active(static_cast<std::size_t>(m), 0);
  for (Index e = 0; e < codes.nnz(); ++e) active[static_cast<std::size_t>(codes.indices()[e])] = 1;
  const auto alive = std::count(active.begin(), active.end(), 1);
  SaeStats stats;
  stats.rows = n;
  stats.features = m;
  stats.mse = error / (static_cast<double>(n) * static_cast<double>(d));
  stats.explained_variance = total > 0.0 ? 1.0 - error / total : 0.0;
  stats.dead_fraction = static_cast<double>(m - alive) / static_cast<double>(m);
  stats.mean_active = static_cast<double>(codes.nnz()) / static_cast<double>(n);
  return stats;
}

SparseMatrix edit_features(const SparseMatrix& codes, const std::vector<FeatureEdit>& edits) {
  for (std::size_t e = 0; e < edits.size(); ++e) {
    if (edits[e].feature < 0 || edits[e].feature >= codes.cols())
      raise<InvalidArgument>("edit_features", "edits", "name a feature outside [0, features)",
                             "edit " + std::to_string(e) + ": feature " + std::to_string(edits[e].feature) +
                                 ", features=" + std::to_string(codes.cols()));
    if (!std::isfinite(edits[e].value))
      raise<InvalidArgument>("edit_features", "edits", "must have finite values", "edit " + std::to_string(e));
  }
  CsrBuilder csr;
  std::vector<std::pair<Index, float>> row;
  for (Index i = 0; i < codes.rows(); ++i) {
    row.clear();
    for (Index e = codes.offsets()[i]; e < codes.offsets()[i + 1]; ++e)
      row.emplace_back(codes.indices()[e], codes.values()[e]);
    for (const FeatureEdit& edit : edits) {
      auto at = std::lower_bound(row.begin(), row.end(), std::make_pair(edit.feature, -INFINITY));
      const bool present = at != row.end() && at->first == edit.feature;
      if (edit.kind == FeatureEdit::Kind::scale) {
        if (present) at->second *= edit.value;
      } else if (present) {
        at->second += edit.value;
      } else {
        row.insert(at, {edit.feature, edit.value});
      }
    }
    for (const auto& [feature, value] : row) {
      if (value == 0.0f) continue;
      csr.indices.push_back(feature);
      csr.values.push_back(value);
    }
    csr.end_row();
  }
  return SparseMatrix(codes.rows(), codes.cols(), std::move(csr.offsets), std::move(csr.indices),
                      std::move(csr.values));
}

RowMatrixf steer(const SparseAutoencoder& sae, const MatrixView<float>& x, const std::vector<FeatureEdit>& edits,
                 const SaeEncodeOptions& options) {
  const SparseMatrix codes = sae.encode(x, options);
  const SparseMatrix edited = edit_features(codes, edits);
  const RowMatrixf before = sae.decode(codes, options.parallel);
  const RowMatrixf after = sae.decode(edited, options.parallel);
  RowMatrixf out(x.rows, x.cols);
  for (Index i = 0; i < x.rows; ++i)
    for (Index t = 0; t < x.cols; ++t) out(i, t) = x.row(i)[t] + (after(i, t) - before(i, t));
  return out;
}

KnnGraph steered_knn(const SparseAutoencoder& sae, const MatrixView<float>& queries, const MatrixView<float>& base,
                     std::int64_t k, Metric metric, const std::vector<FeatureEdit>& edits,
                     const SaeEncodeOptions& encode, const SearchOptions& search) {
  return knn(steer(sae, queries, edits, encode), base, k, metric, search);
}

}  // namespace latent
