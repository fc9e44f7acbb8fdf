// Streaming moments (MomentAccumulator) and symmetric spectra (see whitening.hpp
// for the numerical policy), and the model-file helpers of the whitening module.
#include "latent/whitening.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "../core/linalg.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/kernels/batched.hpp"
#include "whitening_detail.hpp"

namespace latent {

namespace {

using detail::inconsistent;
using detail::require_shape;
using detail::write_view;

}  // namespace

namespace detail {

void write_view(ModelWriter& writer, const std::string& name, const RowMatrixd& matrix) {
  writer.put(name, MatrixView<double>(matrix));
}

[[noreturn]] void inconsistent(const ModelReader& reader, const std::string& what) {
  raise<IoError>("load", reader.path(), "holds an inconsistent model", what);
}

void require_shape(const ModelReader& reader, const std::string& name, const RowMatrixd& m, std::int64_t rows,
                   std::int64_t cols) {
  if (m.rows() != rows || m.cols() != cols)
    inconsistent(reader, name + " is " + std::to_string(m.rows()) + " x " + std::to_string(m.cols()) + ", expected " +
                             std::to_string(rows) + " x " + std::to_string(cols));
  if (!m.allFinite()) inconsistent(reader, name + " holds NaN or Inf");
}

}  // namespace detail

// ---------------------------------------------------------------- moments

MomentAccumulator::MomentAccumulator(bool center, bool full_covariance, bool fourth_order)
    : center_(center), full_(full_covariance), fourth_order_(fourth_order) {
  if (fourth_order && !full_covariance)
    raise<InvalidArgument>("MomentAccumulator", "fourth_order", "needs the full covariance");
}

template <class T>
void MomentAccumulator::add_in_one_pass(const MatrixView<T>& rows, const Parallel& parallel, MomentAccumulator& batch) {
  const std::int64_t n = rows.rows, d = rows.cols;
  const auto dim = static_cast<std::size_t>(d);
  std::vector<double> shift(dim, 0.0), sums(dim, 0.0);
  if (center_) {
    const std::int64_t head = std::min<std::int64_t>(n, 256);
    for (std::int64_t i = 0; i < head; ++i)
      for (std::size_t j = 0; j < dim; ++j) shift[j] += static_cast<double>(rows.row(i)[j]);
    for (double& value : shift) value /= static_cast<double>(head);
  }
  batch.m2_.resize(d, d);
  kernels::crossprod_f64(rows, shift.data(), batch.m2_.data(), d, kernels::BlockOptions{parallel}, sums.data());
  batch.mean_.assign(dim, 0.0);
  if (!center_) return;
  std::vector<double> delta(dim);
  for (std::size_t j = 0; j < dim; ++j) {
    delta[j] = sums[j] / static_cast<double>(n);
    batch.mean_[j] = shift[j] + delta[j];
  }
  // (delta_i delta_j) n is the same number for (i, j) and (j, i): M2 stays symmetric.
  for (std::size_t i = 0; i < dim; ++i)
    for (std::size_t j = 0; j < dim; ++j)
      batch.m2_(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) -=
          delta[i] * delta[j] * static_cast<double>(n);
}

template <class T>
void MomentAccumulator::add_rows(const MatrixView<T>& rows, const Parallel& parallel) {
  const char* function = "MomentAccumulator::add";
  if (rows.cols < 1) raise<EmptyInput>(function, "rows", "has no columns");
  if (count_ > 0) require_same_dim(function, "rows", rows.cols, "the rows added before", dim_);
  require_finite(function, "rows", rows);
  if (rows.rows == 0) return;
  const std::int64_t n = rows.rows, d = rows.cols;

  // The batch's own moments, centred on its own mean.
  MomentAccumulator batch(center_, full_, fourth_order_);
  batch.count_ = n;
  batch.dim_ = d;
  if (full_ && !fourth_order_) {
    add_in_one_pass(rows, parallel, batch);
    merge(batch);
    return;
  }
  // Row sums in fixed chunks of kSumRows rows, combined in chunk order: the
  // result depends on the chunking only, never on the threads.
  constexpr std::int64_t kSumRows = 1024;
  const std::int64_t chunks = (n + kSumRows - 1) / kSumRows;
  const auto dim = static_cast<std::size_t>(d);
  std::vector<double> partial(static_cast<std::size_t>(chunks) * dim, 0.0);
  batch.mean_.assign(dim, 0.0);
  if (center_) {
    parallel_for(chunks, 1, parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t c = begin; c < end; ++c) {
        double* sum = partial.data() + static_cast<std::size_t>(c) * dim;
        for (std::int64_t i = c * kSumRows; i < std::min(n, (c + 1) * kSumRows); ++i) {
          const T* row = rows.row(i);
          for (std::size_t j = 0; j < dim; ++j) sum[j] += static_cast<double>(row[j]);
        }
      }
    });
    for (std::int64_t c = 0; c < chunks; ++c)
      for (std::size_t j = 0; j < dim; ++j) batch.mean_[j] += partial[static_cast<std::size_t>(c) * dim + j];
    for (double& value : batch.mean_) value /= static_cast<double>(n);
  }
  // Per chunk: the diagonal (or, in full mode, nothing: crossprod has it), the
  // fourth-order sums sum |y|^4 and sum |y|^2 y of the centred rows y.
  std::vector<double> cubic(static_cast<std::size_t>(chunks) * dim, 0.0),
      quartic(static_cast<std::size_t>(chunks), 0.0);
  std::fill(partial.begin(), partial.end(), 0.0);
  parallel_for(chunks, 1, parallel, [&](std::int64_t begin, std::int64_t end) {
    std::vector<double> centred(dim);
    for (std::int64_t c = begin; c < end; ++c) {
      double* diagonal = partial.data() + static_cast<std::size_t>(c) * dim;
      double* cube = cubic.data() + static_cast<std::size_t>(c) * dim;
      for (std::int64_t i = c * kSumRows; i < std::min(n, (c + 1) * kSumRows); ++i) {
        const T* row = rows.row(i);
        double squares = 0;
        for (std::size_t j = 0; j < dim; ++j) {
          const double y = static_cast<double>(row[j]) - batch.mean_[j];
          centred[j] = y;
          diagonal[j] += y * y;
          squares += y * y;
        }
        quartic[static_cast<std::size_t>(c)] += squares * squares;
        for (std::size_t j = 0; j < dim; ++j) cube[j] += squares * centred[j];
      }
    }
  });
  batch.cubic_.assign(dim, 0.0);
  std::vector<double> diagonal(dim, 0.0);
  for (std::int64_t c = 0; c < chunks; ++c) {
    batch.quartic_ += quartic[static_cast<std::size_t>(c)];
    for (std::size_t j = 0; j < dim; ++j) {
      batch.cubic_[j] += cubic[static_cast<std::size_t>(c) * dim + j];
      diagonal[j] += partial[static_cast<std::size_t>(c) * dim + j];
    }
  }
  if (full_) {
    batch.m2_.resize(d, d);
    kernels::crossprod_f64(rows, batch.mean_.data(), batch.m2_.data(), d, kernels::BlockOptions{parallel});
  } else {
    batch.m2_diag_ = std::move(diagonal);
  }
  merge(batch);
}

void MomentAccumulator::add(const MatrixView<float>& rows, const Parallel& parallel) { add_rows(rows, parallel); }
void MomentAccumulator::add(const MatrixView<double>& rows, const Parallel& parallel) { add_rows(rows, parallel); }

void MomentAccumulator::merge(const MomentAccumulator& other) {
  const char* function = "MomentAccumulator::merge";
  if (other.count_ == 0) return;
  if (other.center_ != center_ || other.full_ != full_ || other.fourth_order_ != fourth_order_)
    raise<InvalidArgument>(function, "other", "was created with other centring, covariance or fourth-order options");
  if (count_ == 0) {
    *this = other;
    return;
  }
  require_same_dim(function, "other", other.dim_, "this accumulator", dim_);
  const double na = static_cast<double>(count_), nb = static_cast<double>(other.count_), n = na + nb;
  const std::size_t d = static_cast<std::size_t>(dim_);
  std::vector<double> delta(d);
  for (std::size_t j = 0; j < d; ++j) delta[j] = other.mean_[j] - mean_[j];

  // Re-centre each side's fourth-order sums on the merged mean: with z = y - s
  // (y centred on its own mean, so sum y = 0) and c = |s|^2,
  //   sum |z|^4       = q - 4 s.t + 2 c tr(M2) + 4 s' M2 s + m c^2,
  //   sum |z|^2 z     = t - 2 M2 s - tr(M2) s - m c s.
  auto recentre = [&](const MomentAccumulator& side, double weight, double& quartic, std::vector<double>& cubic) {
    std::vector<double> s(d);
    for (std::size_t j = 0; j < d; ++j) s[j] = weight * delta[j];
    double c = 0, s_dot_t = 0, trace = 0, quadratic = 0;
    std::vector<double> m2s(d, 0.0);
    for (std::size_t j = 0; j < d; ++j) {
      c += s[j] * s[j];
      s_dot_t += s[j] * side.cubic_[j];
    }
    if (full_) {
      for (std::size_t i = 0; i < d; ++i) {
        for (std::size_t j = 0; j < d; ++j)
          m2s[i] += side.m2_(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) * s[j];
        trace += side.m2_(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(i));
      }
    } else {
      for (std::size_t i = 0; i < d; ++i) {
        m2s[i] = side.m2_diag_[i] * s[i];
        trace += side.m2_diag_[i];
      }
    }
    for (std::size_t j = 0; j < d; ++j) quadratic += s[j] * m2s[j];
    const double m = static_cast<double>(side.count_);
    quartic = side.quartic_ - 4 * s_dot_t + 2 * c * trace + 4 * quadratic + m * c * c;
    cubic.resize(d);
    for (std::size_t j = 0; j < d; ++j) cubic[j] = side.cubic_[j] - 2 * m2s[j] - trace * s[j] - m * c * s[j];
  };
  if (fourth_order_) {
    double quartic_a = 0, quartic_b = 0;
    std::vector<double> cubic_a, cubic_b;
    recentre(*this, nb / n, quartic_a, cubic_a);   // this side moves by +delta nb / n
    recentre(other, -na / n, quartic_b, cubic_b);  // the other by -delta na / n
    quartic_ = quartic_a + quartic_b;
    for (std::size_t j = 0; j < d; ++j) cubic_[j] = cubic_a[j] + cubic_b[j];
  }

  const double weight = na * nb / n;
  if (full_) {
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j)
        m2_(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) +=
            other.m2_(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) + weight * delta[i] * delta[j];
  } else {
    for (std::size_t j = 0; j < d; ++j) m2_diag_[j] += other.m2_diag_[j] + weight * delta[j] * delta[j];
  }
  for (std::size_t j = 0; j < d; ++j) mean_[j] += delta[j] * (nb / n);
  count_ += other.count_;
}

namespace {
double divisor(std::int64_t count, CovarianceConvention convention, const char* function) {
  if (count < 2) raise<EmptyInput>(function, "rows", "needs at least 2 rows", "n=" + std::to_string(count));
  return convention == CovarianceConvention::sample ? static_cast<double>(count - 1) : static_cast<double>(count);
}
}  // namespace

RowMatrixd MomentAccumulator::covariance(CovarianceConvention convention) const {
  if (!full_) raise<InvalidArgument>("MomentAccumulator::covariance", "this accumulator", "keeps only variances");
  return m2_ / divisor(count_, convention, "MomentAccumulator::covariance");
}

std::vector<double> MomentAccumulator::variances(CovarianceConvention convention) const {
  const double n = divisor(count_, convention, "MomentAccumulator::variances");
  std::vector<double> out(static_cast<std::size_t>(dim_));
  for (std::int64_t j = 0; j < dim_; ++j)
    out[static_cast<std::size_t>(j)] = (full_ ? m2_(j, j) : m2_diag_[static_cast<std::size_t>(j)]) / n;
  return out;
}

double MomentAccumulator::ledoit_wolf_shrinkage() const {
  // scikit-learn's estimator on S = M2 / n: mu = tr(S) / d,
  // delta = |S - mu I|_F^2 / d, beta = min(delta, (sum |x|^4 / n - |S|_F^2) / (d n)).
  if (!fourth_order_)
    raise<InvalidArgument>("MomentAccumulator::ledoit_wolf_shrinkage", "this accumulator",
                           "was not created with fourth_order = true");
  const double n = divisor(count_, CovarianceConvention::population, "MomentAccumulator::ledoit_wolf_shrinkage");
  const double d = static_cast<double>(dim_);
  const RowMatrixd s = m2_ / n;
  const double mu = s.trace() / d;
  const double frobenius = s.squaredNorm();
  const double delta = (frobenius - 2 * mu * s.trace() + d * mu * mu) / d;
  double beta = (quartic_ / n - frobenius) / (d * n);
  beta = std::min(beta, delta);
  return beta <= 0 ? 0.0 : beta / delta;
}

// Layout: center, full, fourth_order, count, dim, quartic, the length c of the
// cubic sums (d or 0), then mean [d], cubic [c], and M2 ([d x d] or its diagonal
// [d]). Counts stay exact in double up to 2^53 rows.
std::vector<double> MomentAccumulator::to_doubles() const {
  std::vector<double> out = {double(center_), double(full_), double(fourth_order_), double(count_),
                             double(dim_),    quartic_,      double(cubic_.size())};
  out.insert(out.end(), mean_.begin(), mean_.end());
  out.insert(out.end(), cubic_.begin(), cubic_.end());
  if (full_) {
    out.insert(out.end(), m2_.data(), m2_.data() + m2_.size());
  } else {
    out.insert(out.end(), m2_diag_.begin(), m2_diag_.end());
  }
  return out;
}

MomentAccumulator MomentAccumulator::from_doubles(const std::vector<double>& values) {
  const char* function = "MomentAccumulator::from_doubles";
  auto flag = [&](std::size_t i) {
    if (values[i] != 0 && values[i] != 1) raise<InvalidArgument>(function, "values", "mode flags must be 0 or 1");
    return values[i] != 0;
  };
  if (values.size() < 7) raise<InvalidArgument>(function, "values", "holds fewer than the 7 leading fields");
  MomentAccumulator out(flag(0), flag(1), flag(2));
  const double count = values[3], dim = values[4];
  if (!(count >= 0 && count <= 9007199254740992.0 && count == std::floor(count)) ||
      !(dim >= 0 && dim <= 1e9 && dim == std::floor(dim)))
    raise<InvalidArgument>(function, "values", "count or dim is not a valid size");
  out.count_ = static_cast<std::int64_t>(count);
  out.dim_ = static_cast<std::int64_t>(dim);
  out.quartic_ = values[5];
  const auto d = static_cast<std::size_t>(out.dim_);
  if (values[6] != 0 && values[6] != static_cast<double>(d))
    raise<InvalidArgument>(function, "values", "cubic sums must be of length 0 or dim");
  const auto cubic = static_cast<std::size_t>(values[6]);
  const std::size_t expected = 7 + d + cubic + (out.full_ ? d * d : d);
  if (values.size() != expected)
    raise<InvalidArgument>(function, "values", "has the wrong length for its dim and mode",
                           std::to_string(values.size()) + " values, expected " + std::to_string(expected));
  auto next = values.begin() + 7;
  out.mean_.assign(next, next + static_cast<std::ptrdiff_t>(d));
  next += static_cast<std::ptrdiff_t>(d);
  out.cubic_.assign(next, next + static_cast<std::ptrdiff_t>(cubic));
  next += static_cast<std::ptrdiff_t>(cubic);
  if (out.full_) {
    out.m2_ = Eigen::Map<const RowMatrixd>(values.data() + (next - values.begin()), out.dim_, out.dim_);
  } else {
    out.m2_diag_.assign(next, values.end());
  }
  return out;
}

namespace detail {

void require_moments_like(std::string_view function, const MomentAccumulator& moments,
                          const MomentAccumulator& expected, std::int64_t min_count) {
  auto mode = [](const MomentAccumulator& m) {
    return std::string(m.centered() ? "centred" : "about 0") + (m.full() ? ", full covariance" : ", diagonal") +
           (m.fourth_order() ? ", fourth order" : "");
  };
  if (moments.centered() != expected.centered() || moments.full() != expected.full() ||
      moments.fourth_order() != expected.fourth_order())
    raise<InvalidArgument>(function, "moments", "are not of the kind this model fits on",
                           "got " + mode(moments) + ", expected " + mode(expected));
  if (moments.count() < min_count)
    raise<EmptyInput>(function, "moments", "hold too few rows",
                      "n=" + std::to_string(moments.count()) + ", needs " + std::to_string(min_count));
}

}  // namespace detail

void MomentAccumulator::write(ModelWriter& writer, const std::string& prefix) const {
  writer.put(prefix + "center", std::int64_t{center_});
  writer.put(prefix + "full", std::int64_t{full_});
  writer.put(prefix + "fourth_order", std::int64_t{fourth_order_});
  writer.put(prefix + "count", count_);
  writer.put(prefix + "dim", dim_);
  writer.put(prefix + "mean", mean_);
  writer.put(prefix + "quartic", quartic_);
  writer.put(prefix + "cubic", cubic_);
  if (full_) {
    write_view(writer, prefix + "m2", m2_);
  } else {
    writer.put(prefix + "m2_diagonal", m2_diag_);
  }
}

MomentAccumulator MomentAccumulator::read(const ModelReader& reader, const std::string& prefix) {
  const bool full = reader.get_int(prefix + "full") != 0, fourth_order = reader.get_int(prefix + "fourth_order") != 0;
  if (fourth_order && !full) inconsistent(reader, "fourth-order moments without the covariance");
  MomentAccumulator out(reader.get_int(prefix + "center") != 0, full, fourth_order);
  out.count_ = reader.get_int(prefix + "count");
  out.dim_ = reader.get_int(prefix + "dim");
  out.mean_ = reader.get_doubles(prefix + "mean");
  out.quartic_ = reader.get_double(prefix + "quartic");
  out.cubic_ = reader.get_doubles(prefix + "cubic");
  const auto d = static_cast<std::size_t>(out.dim_);
  if (out.count_ < 0 || out.dim_ < 0 || out.mean_.size() != d || (out.fourth_order_ && out.cubic_.size() != d))
    inconsistent(reader, "moments of dimension " + std::to_string(out.dim_));
  if (out.full_) {
    out.m2_ = reader.get_matrix(prefix + "m2");
    require_shape(reader, prefix + "m2", out.m2_, out.dim_, out.dim_);
  } else {
    out.m2_diag_ = reader.get_doubles(prefix + "m2_diagonal");
    if (out.m2_diag_.size() != d) inconsistent(reader, prefix + "m2_diagonal");
  }
  return out;
}

// ---------------------------------------------------------------- spectra

Spectrum symmetric_spectrum(const RowMatrixd& symmetric) {
  const char* function = "symmetric_spectrum";
  if (symmetric.rows() != symmetric.cols() || symmetric.rows() == 0)
    raise<InvalidArgument>(function, "symmetric", "is not a non-empty square matrix",
                           std::to_string(symmetric.rows()) + " x " + std::to_string(symmetric.cols()));
  require_finite(function, "symmetric", MatrixView<double>(symmetric));
  const detail::SymmetricEigen solver = detail::symmetric_eigen(symmetric);
  if (!solver.converged) raise<NumericalError>(function, "symmetric", "did not converge");
  const Eigen::Index d = symmetric.rows();
  Spectrum out;
  out.values.resize(static_cast<std::size_t>(d));
  out.vectors.resize(d, d);
  for (Eigen::Index c = 0; c < d; ++c) {  // Eigen sorts ascending
    const Eigen::Index source = d - 1 - c;
    out.values[static_cast<std::size_t>(c)] = solver.values(source);
    Eigen::VectorXd v = solver.vectors.col(source);
    Eigen::Index largest = 0;
    for (Eigen::Index i = 1; i < d; ++i)
      if (std::fabs(v(i)) > std::fabs(v(largest))) largest = i;
    if (v(largest) < 0) v = -v;
    out.vectors.col(c) = v;
  }
  return out;
}

}  // namespace latent
