// Relative representations (see relative.hpp). Float blocks go through the kernel
// layer: cosine, dot and l2 on the GEMM path (similarity_f32), l1 and linf on the
// SIMD tiles, the change of basis as one GEMM against the anchors' transposed
// pseudo-inverse; double blocks through similarity_f64 and Eigen. The
// pseudo-inverse is computed in double (BDCSVD, core/linalg.cpp).
#include <algorithm>
#include <cmath>
#include <string>

#include "../core/row_norms.hpp"
#include "../core/validation.hpp"
#include "../kernels/row_transforms.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/core/names.hpp"
#include "latent/kernels/batched.hpp"
#include "latent/relative.hpp"
#include "relative_detail.hpp"
#include "../core/linalg.hpp"

namespace latent {
namespace {

constexpr std::uint32_t kProjectionVersion = 1;

constexpr NamedValue<RelativeSimilarity> kSimilarityNames[] = {
    {"cosine", RelativeSimilarity::cosine}, {"angular", RelativeSimilarity::angular},
    {"dot", RelativeSimilarity::dot},       {"l2", RelativeSimilarity::l2},
    {"l1", RelativeSimilarity::l1},         {"linf", RelativeSimilarity::linf},
    {"lp", RelativeSimilarity::lp},         {"basis", RelativeSimilarity::basis},
};
constexpr NamedValue<Aggregation> kAggregationNames[] = {
    {"concat", Aggregation::concat}, {"sum", Aggregation::sum}, {"mean", Aggregation::mean}};
constexpr NamedValue<PreTransform> kPreTransformNames[] = {{"none", PreTransform::none},
                                                           {"center", PreTransform::center},
                                                           {"standardize", PreTransform::standardize},
                                                           {"l2", PreTransform::l2}};
constexpr NamedValue<PostTransform> kPostTransformNames[] = {
    {"none", PostTransform::none}, {"l2", PostTransform::l2}, {"standardize", PostTransform::standardize}};

void basis_block(const MatrixView<float>& x, const RowMatrixf& pinv_t, float* out, const Parallel& parallel) {
  kernels::gemm_nt_f32(x, MatrixView<float>(pinv_t), out, pinv_t.rows(), kernels::BlockOptions{parallel});
}
void basis_block(const MatrixView<double>& x, const RowMatrixd& pinv_t, double* out, const Parallel& parallel) {
  constexpr std::int64_t kRows = 256;  // fixed blocks: results do not depend on threads
  const std::int64_t k = pinv_t.rows();
  parallel_for((x.rows + kRows - 1) / kRows, 1, parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; ++b) {
      const std::int64_t start = b * kRows, rows = std::min(kRows, x.rows - start);
      Eigen::Map<RowMatrixd> target(out + start * k, rows, k);
      target.noalias() = MatrixView<double>(x.row(start), rows, x.cols, x.row_stride).map() * pinv_t.transpose();
    }
  });
}

// Per row, over `cols` values: standardize (mean 0, sd 1 with 1/n; sd 0 -> centred only).
template <class T>
void standardize_rows(RowMatrix<T>& block, const Parallel& parallel) {
  parallel_for(block.rows(), 256, parallel, [&](std::int64_t begin, std::int64_t end) {
    const auto cols = static_cast<double>(block.cols());
    for (std::int64_t i = begin; i < end; ++i) {
      double sum = 0, squares = 0;
      for (std::int64_t j = 0; j < block.cols(); ++j) sum += static_cast<double>(block(i, j));
      const double mean = sum / cols;
      for (std::int64_t j = 0; j < block.cols(); ++j) {
        const double centred = static_cast<double>(block(i, j)) - mean;
        squares += centred * centred;
      }
      const double sd = std::sqrt(squares / cols);
      const double inverse = sd > 0 ? 1.0 / sd : 1.0;
      for (std::int64_t j = 0; j < block.cols(); ++j)
        block(i, j) = static_cast<T>((static_cast<double>(block(i, j)) - mean) * inverse);
    }
  });
}

}  // namespace

namespace detail {

void similarity_block(Metric metric, const MatrixView<float>& a, const MatrixView<float>& b, float* out,
                      const Parallel& parallel) {
  kernels::similarity_f32(metric, a, b, out, b.rows, kernels::BlockOptions{parallel});
}
void similarity_block(Metric metric, const MatrixView<double>& a, const MatrixView<double>& b, double* out,
                      const Parallel& parallel) {
  kernels::similarity_f64(metric, a, b, out, b.rows, kernels::BlockOptions{parallel});
}

}  // namespace detail

std::string_view to_string(RelativeSimilarity similarity) { return name_of(kSimilarityNames, similarity); }

RelativeSimilarity parse_relative_similarity(std::string_view name, std::string_view argument) {
  return parse_name(kSimilarityNames, name, "parse_relative_similarity", argument, "similarity");
}

std::string_view to_string(Aggregation aggregation) { return name_of(kAggregationNames, aggregation); }

Aggregation parse_aggregation(std::string_view name, std::string_view argument) {
  return parse_name(kAggregationNames, name, "parse_aggregation", argument, "aggregation");
}

std::string_view to_string(PostTransform post) { return name_of(kPostTransformNames, post); }

PostTransform parse_post_transform(std::string_view name, std::string_view argument) {
  return parse_name(kPostTransformNames, name, "parse_post_transform", argument, "post-transform");
}

std::string_view to_string(PreTransform pre) { return name_of(kPreTransformNames, pre); }

PreTransform parse_pre_transform(std::string_view name, std::string_view argument) {
  return parse_name(kPreTransformNames, name, "parse_pre_transform", argument, "pre-transform");
}

std::vector<RelativeSimilarity> parse_relative_similarities(std::string_view names, std::string_view argument) {
  std::vector<RelativeSimilarity> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = names.find(',', start);
    const std::string_view item = names.substr(start, comma == std::string_view::npos ? names.npos : comma - start);
    if (item.empty())
      raise<InvalidArgument>("parse_relative_similarities", argument, "has an empty item", std::string(names));
    const RelativeSimilarity similarity = parse_relative_similarity(item, argument);
    if (std::find(out.begin(), out.end(), similarity) != out.end())
      raise<InvalidArgument>("parse_relative_similarities", argument, "names a similarity twice", std::string(item));
    out.push_back(similarity);
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

template <class T>
RelativeProjection<T>::RelativeProjection(const RelativeOptions& options) : options_(options) {
  const char* function = "RelativeProjection";
  if (options_.similarities.empty()) raise<InvalidArgument>(function, "similarities", "is empty");
  for (std::size_t i = 0; i < options_.similarities.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (options_.similarities[i] == options_.similarities[j])
        raise<InvalidArgument>(function, "similarities", "names a similarity twice",
                               std::string(to_string(options_.similarities[i])));
  if (!(options_.p >= 1.0) || !std::isfinite(options_.p))
    raise<InvalidArgument>(function, "p", "must be >= 1", "p=" + std::to_string(options_.p));
  if (!(options_.rcond >= 0.0)) raise<InvalidArgument>(function, "rcond", "must be >= 0");
}

template <class T>
std::int64_t RelativeProjection<T>::output_dim() const {
  const auto blocks = static_cast<std::int64_t>(options_.similarities.size());
  return options_.aggregation == Aggregation::concat ? blocks * n_anchors() : n_anchors();
}

template <class T>
RowMatrix<T> RelativeProjection<T>::pre_transform(const MatrixView<T>& x) const {
  switch (options_.pre) {
    case PreTransform::center:
      return centering_.transform(x);
    case PreTransform::standardize:
      return standardizer_.transform(x);
    case PreTransform::l2: {
      RowMatrix<T> out = x.map();
      detail::normalize_rows(out, options_.parallel);
      return out;
    }
    case PreTransform::none:
      break;
  }
  return x.map();
}

template <class T>
RelativeProjection<T>& RelativeProjection<T>::fit(const MatrixView<T>& anchors) {
  const char* function = "RelativeProjection::fit";
  require_non_empty(function, "anchors", anchors);
  require_finite(function, "anchors", anchors);
  RelativeProjection fitted(options_);
  fitted.raw_anchors_ = anchors.map();
  if (options_.pre == PreTransform::center) fitted.centering_.fit(anchors);
  if (options_.pre == PreTransform::standardize) {
    if (anchors.rows < 2)
      raise<InvalidArgument>(function, "anchors", "fewer anchors than needed: standardize needs at least 2",
                             "anchors=" + std::to_string(anchors.rows));
    fitted.standardizer_.fit(anchors);
  }
  fitted.anchors_ = fitted.pre_transform(anchors);
  const bool cosine_like = std::any_of(options_.similarities.begin(), options_.similarities.end(), [](auto s) {
    return s == RelativeSimilarity::cosine || s == RelativeSimilarity::angular;
  });
  if (cosine_like && options_.zero_norm == ZeroNormPolicy::raise)
    detail::require_nonzero_rows(function, "anchors", MatrixView<T>(fitted.anchors_));
  if (std::find(options_.similarities.begin(), options_.similarities.end(), RelativeSimilarity::basis) !=
      options_.similarities.end()) {
    const RowMatrixd a = fitted.anchors_.template cast<double>();  // [k x d]
    RowMatrixd pinv_t;
    if (!detail::svd_pseudo_inverse_transposed(a, options_.rcond, pinv_t))
      raise<NumericalError>(function, "anchors", "span nothing (all zero): no basis");
    fitted.pseudo_inverse_transposed_ = pinv_t.cast<T>();
  }
  *this = std::move(fitted);
  return *this;
}

template <class T>
RelativeProjection<T>& RelativeProjection<T>::fit(const MatrixView<T>& x, const std::vector<std::int64_t>& anchor_ids) {
  const RowMatrix<T> anchors = gather_rows(x, anchor_ids);
  return fit(MatrixView<T>(anchors));
}

template <class T>
void RelativeProjection<T>::block(RelativeSimilarity similarity, const MatrixView<T>& x, RowMatrix<T>& out) const {
  const MatrixView<T> anchors(anchors_);
  out.resize(x.rows, anchors.rows);
  switch (similarity) {
    case RelativeSimilarity::cosine:
      return detail::similarity_block(Metric::cosine, x, anchors, out.data(), options_.parallel);
    case RelativeSimilarity::angular:
      return detail::similarity_block(Metric::angular, x, anchors, out.data(), options_.parallel);
    case RelativeSimilarity::dot:
      return detail::similarity_block(Metric::ip, x, anchors, out.data(), options_.parallel);
    case RelativeSimilarity::l2:
      return detail::similarity_block(Metric::l2, x, anchors, out.data(), options_.parallel);
    case RelativeSimilarity::l1:
      return detail::similarity_block(Metric::l1, x, anchors, out.data(), options_.parallel);
    case RelativeSimilarity::linf:
      return detail::similarity_block(Metric::linf, x, anchors, out.data(), options_.parallel);
    case RelativeSimilarity::basis:
      return basis_block(x, pseudo_inverse_transposed_, out.data(), options_.parallel);
    case RelativeSimilarity::lp: {
      const double p = options_.p;
      parallel_for(x.rows, 16, options_.parallel, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
          const T* row = x.row(i);
          for (std::int64_t j = 0; j < anchors.rows; ++j) {
            const T* anchor = anchors.row(j);
            double sum = 0;
            for (std::int64_t t = 0; t < x.cols; ++t)
              sum += std::pow(std::abs(static_cast<double>(row[t]) - static_cast<double>(anchor[t])), p);
            out(i, j) = static_cast<T>(std::pow(sum, 1.0 / p));
          }
        }
      });
      return;
    }
  }
}

template <class T>
RowMatrix<T> RelativeProjection<T>::transform(const MatrixView<T>& x) const {
  const char* function = "RelativeProjection::transform";
  detail::require_fitted(function, is_fitted());
  detail::check_rows(function, "x", x, input_dim());
  RowMatrix<T> transformed;
  MatrixView<T> rows = x;
  if (options_.pre != PreTransform::none) {
    transformed = pre_transform(x);
    rows = MatrixView<T>(transformed);
  }
  const bool cosine_like = std::any_of(options_.similarities.begin(), options_.similarities.end(), [](auto s) {
    return s == RelativeSimilarity::cosine || s == RelativeSimilarity::angular;
  });
  if (cosine_like && options_.zero_norm == ZeroNormPolicy::raise) detail::require_nonzero_rows(function, "x", rows);

  const auto blocks = static_cast<std::int64_t>(options_.similarities.size());
  const std::int64_t k = n_anchors();
  RowMatrix<T> out;
  RowMatrix<T> part;
  for (std::int64_t b = 0; b < blocks; ++b) {
    block(options_.similarities[static_cast<std::size_t>(b)], rows, part);
    if (options_.post == PostTransform::l2) detail::normalize_rows(part, options_.parallel);
    if (options_.post == PostTransform::standardize) standardize_rows(part, options_.parallel);
    if (blocks == 1) return part;
    if (options_.normalize_blocks) detail::normalize_rows(part, options_.parallel);
    if (b == 0) out.setZero(x.rows, output_dim());
    if (options_.aggregation == Aggregation::concat) {
      out.middleCols(b * k, k) = part;
    } else {
      out += part;
    }
  }
  if (options_.aggregation == Aggregation::mean) out /= static_cast<T>(blocks);
  return out;
}

template <class T>
RowMatrix<T> RelativeProjection<T>::fit_transform(const MatrixView<T>& anchors) {
  return fit(anchors).transform(anchors);
}

template <class T>
void RelativeProjection<T>::save(const std::string& path) const {
  detail::require_fitted("RelativeProjection::save", is_fitted());
  ModelWriter writer("relative-projection", kProjectionVersion);
  std::vector<std::int64_t> similarities;
  for (const auto s : options_.similarities) similarities.push_back(static_cast<std::int64_t>(s));
  writer.put("similarities", similarities);
  writer.put("p", options_.p);
  writer.put("pre", static_cast<std::int64_t>(options_.pre));
  writer.put("post", static_cast<std::int64_t>(options_.post));
  writer.put("normalize_blocks", static_cast<std::int64_t>(options_.normalize_blocks));
  writer.put("aggregation", static_cast<std::int64_t>(options_.aggregation));
  writer.put("zero_norm", static_cast<std::int64_t>(options_.zero_norm));
  writer.put("rcond", options_.rcond);
  const RowMatrixd anchors = raw_anchors_.template cast<double>();
  writer.put("anchors", MatrixView<double>(anchors));
  writer.save(path);
}

template <class T>
RelativeProjection<T> RelativeProjection<T>::load(const std::string& path) {
  const ModelReader reader(path, "relative-projection", kProjectionVersion);
  const auto bad = [&](const std::string& what) {
    raise<IoError>("RelativeProjection::load", path, "holds an inconsistent model", what);
  };
  const auto in_range = [&](const char* name, std::int64_t value, std::int64_t count) {
    if (value < 0 || value >= count) bad(std::string(name) + "=" + std::to_string(value));
    return value;
  };
  RelativeOptions options;
  options.similarities.clear();
  for (const auto s : reader.get_ints("similarities"))
    options.similarities.push_back(static_cast<RelativeSimilarity>(in_range("similarity", s, 8)));
  options.p = reader.get_double("p");
  options.pre = static_cast<PreTransform>(in_range("pre", reader.get_int("pre"), 4));
  options.post = static_cast<PostTransform>(in_range("post", reader.get_int("post"), 3));
  options.normalize_blocks = in_range("normalize_blocks", reader.get_int("normalize_blocks"), 2) != 0;
  options.aggregation = static_cast<Aggregation>(in_range("aggregation", reader.get_int("aggregation"), 3));
  options.zero_norm = static_cast<ZeroNormPolicy>(in_range("zero_norm", reader.get_int("zero_norm"), 2));
  options.rcond = reader.get_double("rcond");
  const RowMatrixd anchors = reader.get_matrix("anchors");
  if (anchors.size() == 0 || !anchors.allFinite()) bad("anchors");
  try {
    RelativeProjection out(options);
    const RowMatrix<T> typed = anchors.cast<T>();
    out.fit(MatrixView<T>(typed));
    return out;
  } catch (const IoError&) {
    throw;
  } catch (const Error& e) {
    bad(e.what());
  }
  return RelativeProjection(options);  // not reached
}

template class RelativeProjection<float>;
template class RelativeProjection<double>;

}  // namespace latent
