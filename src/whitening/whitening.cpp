// Moments, spectra, whitening, all-but-the-top, centering and z-scores (see
// whitening.hpp for the numerical policy). Float rows are projected through the
// kernel layer's GEMM in blocks of kProjectRows rows (bounded scratch); double
// rows through Eigen, in fixed blocks so that results never depend on threads.
#include "latent/whitening.hpp"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/core/names.hpp"
#include "latent/kernels/batched.hpp"
#include "whitening_detail.hpp"

namespace latent {
namespace detail {

constexpr std::int64_t kProjectRows = 2048;

RowMatrix<float> project(const MatrixView<float>& x, const std::vector<double>& shift, const RowMatrixd& matrix,
                         const Parallel& parallel) {
  const std::int64_t n = x.rows, d = x.cols, k = matrix.cols();
  const RowMatrixf transposed = matrix.transpose().cast<float>();  // [k x d], the GEMM's B side
  std::vector<float> shift_f(shift.begin(), shift.end());
  RowMatrixf out(n, k);
  RowMatrixf block(std::min(n, kProjectRows), d);
  for (std::int64_t start = 0; start < n; start += kProjectRows) {
    const std::int64_t rows = std::min(kProjectRows, n - start);
    parallel_for(rows, 64, parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t r = begin; r < end; ++r) {
        const float* in = x.row(start + r);
        float* centred = block.data() + r * d;
        for (std::int64_t j = 0; j < d; ++j) centred[j] = in[j] - shift_f[static_cast<std::size_t>(j)];
      }
    });
    kernels::gemm_nt_f32(MatrixView<float>(block.data(), rows, d), MatrixView<float>(transposed),
                         out.data() + start * k, k, kernels::BlockOptions{parallel});
  }
  return out;
}

RowMatrix<double> project(const MatrixView<double>& x, const std::vector<double>& shift, const RowMatrixd& matrix,
                          const Parallel& parallel) {
  const std::int64_t n = x.rows, k = matrix.cols();
  const Eigen::Map<const Eigen::RowVectorXd> shift_row(shift.data(), static_cast<Eigen::Index>(shift.size()));
  RowMatrixd out(n, k);
  constexpr std::int64_t kRows = 256;  // fixed blocks: Eigen's blocking depends on the sizes, not on threads
  parallel_for((n + kRows - 1) / kRows, 1, parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; ++b) {
      const std::int64_t start = b * kRows, rows = std::min(kRows, n - start);
      const MatrixView<double> part(x.row(start), rows, x.cols, x.row_stride);
      out.middleRows(start, rows).noalias() = (part.map().rowwise() - shift_row) * matrix;
    }
  });
  return out;
}

template <class T>
void normalize_rows(RowMatrix<T>& rows, const Parallel& parallel) {
  parallel_for(rows.rows(), 256, parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      double squares = 0;
      for (std::int64_t j = 0; j < rows.cols(); ++j) squares += static_cast<double>(rows(i, j)) * rows(i, j);
      if (squares > 0) rows.row(i) *= static_cast<T>(1.0 / std::sqrt(squares));
    }
  });
}

template void normalize_rows<float>(RowMatrix<float>&, const Parallel&);
template void normalize_rows<double>(RowMatrix<double>&, const Parallel&);

template <class T>
void check_rows(const char* function, const char* argument, const MatrixView<T>& x, std::int64_t dim) {
  if (dim >= 0) require_same_dim(function, argument, x.cols, "the fitted data", dim);
  require_finite(function, argument, x);
}

template void check_rows<float>(const char*, const char*, const MatrixView<float>&, std::int64_t);
template void check_rows<double>(const char*, const char*, const MatrixView<double>&, std::int64_t);

void require_fitted(const char* function, bool fitted) {
  if (!fitted) raise<NotFitted>(function, "this object", "is not fitted (call fit first)");
}

}  // namespace detail

namespace {

using detail::check_rows;
using detail::require_fitted;

void write_view(ModelWriter& writer, const std::string& name, const RowMatrixd& matrix) {
  writer.put(name, MatrixView<double>(matrix));
}

[[noreturn]] void inconsistent(const ModelReader& reader, const std::string& what) {
  raise<IoError>("load", reader.path(), "holds an inconsistent model", what);
}

void require_shape(const ModelReader& reader, const std::string& name, const RowMatrixd& m, std::int64_t rows,
                   std::int64_t cols) {
  if (m.rows() != rows || m.cols() != cols)
    inconsistent(reader, name + " is " + std::to_string(m.rows()) + " x " + std::to_string(m.cols()) +
                             ", expected " + std::to_string(rows) + " x " + std::to_string(cols));
  if (!m.allFinite()) inconsistent(reader, name + " holds NaN or Inf");
}

}  // namespace

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
      batch.m2_(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) -= delta[i] * delta[j] * static_cast<double>(n);
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
  std::vector<double> cubic(static_cast<std::size_t>(chunks) * dim, 0.0), quartic(static_cast<std::size_t>(chunks), 0.0);
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
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(symmetric);
  if (solver.info() != Eigen::Success) raise<NumericalError>(function, "symmetric", "did not converge");
  const Eigen::Index d = symmetric.rows();
  Spectrum out;
  out.values.resize(static_cast<std::size_t>(d));
  out.vectors.resize(d, d);
  for (Eigen::Index c = 0; c < d; ++c) {  // Eigen sorts ascending
    const Eigen::Index source = d - 1 - c;
    out.values[static_cast<std::size_t>(c)] = solver.eigenvalues()(source);
    Eigen::VectorXd v = solver.eigenvectors().col(source);
    Eigen::Index largest = 0;
    for (Eigen::Index i = 1; i < d; ++i)
      if (std::fabs(v(i)) > std::fabs(v(largest))) largest = i;
    if (v(largest) < 0) v = -v;
    out.vectors.col(c) = v;
  }
  return out;
}

// ---------------------------------------------------------------- whitening

template <class T>
Whitening<T>::Whitening(const WhiteningOptions& options)
    : options_(options), moments_(options.center, true, options.shrinkage == Shrinkage::ledoit_wolf) {
  const char* function = "Whitening";
  if (options.dim < 0) raise<InvalidArgument>(function, "dim", "is negative", "dim=" + std::to_string(options.dim));
  if (!(options.alpha >= 0) || !std::isfinite(options.alpha))
    raise<InvalidArgument>(function, "alpha", "must be finite and >= 0", "alpha=" + std::to_string(options.alpha));
  if (!(options.epsilon >= 0 && options.epsilon < 1))
    raise<InvalidArgument>(function, "epsilon", "must be in [0, 1)", "epsilon=" + std::to_string(options.epsilon));
}

template <class T>
Whitening<T>& Whitening<T>::fit(const MatrixView<T>& x) {
  MomentAccumulator fresh(options_.center, true, options_.shrinkage == Shrinkage::ledoit_wolf);
  if (x.rows < 2) raise<EmptyInput>("Whitening::fit", "x", "needs at least 2 rows", "n=" + std::to_string(x.rows));
  if (options_.dim > x.cols)
    raise<InvalidArgument>("Whitening::fit", "dim", "exceeds the columns of x",
                           "dim=" + std::to_string(options_.dim) + ", cols=" + std::to_string(x.cols));
  fresh.add(x, options_.parallel);
  moments_ = std::move(fresh);
  refit();
  return *this;
}

template <class T>
Whitening<T>& Whitening<T>::partial_fit(const MatrixView<T>& batch) {
  if (options_.dim > batch.cols)
    raise<InvalidArgument>("Whitening::partial_fit", "dim", "exceeds the columns of batch",
                           "dim=" + std::to_string(options_.dim) + ", cols=" + std::to_string(batch.cols));
  MomentAccumulator updated = moments_;
  updated.add(batch, options_.parallel);
  if (updated.count() < 2) {  // keep the rows, wait for more before fitting
    moments_ = std::move(updated);
    return *this;
  }
  std::swap(moments_, updated);
  try {
    refit();
  } catch (...) {
    std::swap(moments_, updated);  // a failed refit leaves the object as it was
    throw;
  }
  return *this;
}

template <class T>
void Whitening<T>::refit() {
  const char* function = "Whitening::fit";
  const std::int64_t d = moments_.dim();
  RowMatrixd sigma = moments_.covariance(options_.covariance);
  double intensity = 0;
  if (options_.shrinkage == Shrinkage::ledoit_wolf) {
    intensity = moments_.ledoit_wolf_shrinkage();
    const double mu = sigma.trace() / static_cast<double>(d);
    sigma *= 1 - intensity;
    sigma.diagonal().array() += intensity * mu;
  }
  Spectrum spectrum = symmetric_spectrum(sigma);
  if (options_.shrinkage == Shrinkage::ridge)
    for (double& value : spectrum.values) value += options_.alpha;
  const double largest = spectrum.values.front();
  if (!(largest > 0)) raise<NumericalError>(function, "x", "has zero variance in every direction");
  const double floor = options_.epsilon * largest;
  std::int64_t floored = 0;
  Eigen::VectorXd used(d);
  for (std::int64_t c = 0; c < d; ++c) {
    const double value = spectrum.values[static_cast<std::size_t>(c)];
    if (value < floor) ++floored;
    used(c) = std::max(value, floor);
    if (!(used(c) > 0))
      raise<NumericalError>(function, "epsilon", "is 0 and the covariance is singular (use epsilon > 0)",
                            "eigenvalue " + std::to_string(c) + " = " + std::to_string(value));
  }
  const std::int64_t k = options_.method == WhiteningMethod::pca && options_.dim > 0 ? options_.dim : d;
  const RowMatrixd& u = spectrum.vectors;
  const Eigen::ArrayXd root = used.array().sqrt();
  if (options_.method == WhiteningMethod::pca) {
    matrix_ = u.leftCols(k) * root.head(k).inverse().matrix().asDiagonal();
    inverse_ = root.head(k).matrix().asDiagonal() * u.leftCols(k).transpose();
  } else {
    RowMatrixd w = u * root.inverse().matrix().asDiagonal() * u.transpose();
    RowMatrixd back = u * root.matrix().asDiagonal() * u.transpose();
    matrix_ = (w + w.transpose()) * 0.5;  // exactly symmetric
    inverse_ = (back + back.transpose()) * 0.5;
  }
  n_samples_ = moments_.count();
  mean_ = moments_.mean();
  eigenvalues_ = std::move(spectrum.values);
  eigenvectors_ = std::move(spectrum.vectors);
  floor_ = floor;
  n_floored_ = floored;
  shrinkage_intensity_ = intensity;
}

template <class T>
RowMatrix<T> Whitening<T>::transform(const MatrixView<T>& x) const {
  require_fitted("Whitening::transform", is_fitted());
  check_rows("Whitening::transform", "x", x, input_dim());
  RowMatrix<T> out = detail::project(x, mean_, matrix_, options_.parallel);
  if (options_.normalize) detail::normalize_rows(out, options_.parallel);
  return out;
}

template <class T>
RowMatrix<T> Whitening<T>::fit_transform(const MatrixView<T>& x) {
  return fit(x).transform(x);
}

template <class T>
RowMatrix<T> Whitening<T>::inverse_transform(const MatrixView<T>& y) const {
  const char* function = "Whitening::inverse_transform";
  require_fitted(function, is_fitted());
  if (options_.normalize) raise<InvalidArgument>(function, "y", "was L2-normalised: the scale is lost");
  require_same_dim(function, "y", y.cols, "the whitened dimension", output_dim());
  require_finite(function, "y", y);
  RowMatrix<T> out = detail::project(y, std::vector<double>(static_cast<std::size_t>(y.cols), 0.0), inverse_,
                                     options_.parallel);
  for (std::int64_t j = 0; j < out.cols(); ++j) out.col(j).array() += static_cast<T>(mean_[static_cast<std::size_t>(j)]);
  return out;
}

namespace {
constexpr std::uint32_t kWhiteningVersion = 1;
constexpr NamedValue<WhiteningMethod> kMethodNames[] = {{"pca", WhiteningMethod::pca}, {"zca", WhiteningMethod::zca}};
constexpr NamedValue<Shrinkage> kShrinkageNames[] = {
    {"none", Shrinkage::none}, {"ridge", Shrinkage::ridge}, {"ledoit-wolf", Shrinkage::ledoit_wolf}};
constexpr NamedValue<CovarianceConvention> kCovarianceNames[] = {
    {"population", CovarianceConvention::population}, {"sample", CovarianceConvention::sample}};
}  // namespace

std::string_view to_string(WhiteningMethod method) { return name_of(kMethodNames, method); }
WhiteningMethod parse_whitening_method(std::string_view name, std::string_view argument) {
  return parse_name(kMethodNames, name, "parse_whitening_method", argument, "whitening method");
}
std::string_view to_string(Shrinkage shrinkage) { return name_of(kShrinkageNames, shrinkage); }
Shrinkage parse_shrinkage(std::string_view name, std::string_view argument) {
  return parse_name(kShrinkageNames, name, "parse_shrinkage", argument, "shrinkage");
}
std::string_view to_string(CovarianceConvention convention) { return name_of(kCovarianceNames, convention); }
CovarianceConvention parse_covariance_convention(std::string_view name, std::string_view argument) {
  return parse_name(kCovarianceNames, name, "parse_covariance_convention", argument, "covariance convention");
}

template <class T>
void Whitening<T>::save(const std::string& path) const {
  require_fitted("Whitening::save", is_fitted());
  ModelWriter writer("whitening", kWhiteningVersion);
  writer.put("method", std::string(to_string(options_.method)));
  writer.put("dim", options_.dim);
  writer.put("center", std::int64_t{options_.center});
  writer.put("normalize", std::int64_t{options_.normalize});
  writer.put("covariance", std::string(to_string(options_.covariance)));
  writer.put("shrinkage", std::string(to_string(options_.shrinkage)));
  writer.put("alpha", options_.alpha);
  writer.put("epsilon", options_.epsilon);
  writer.put("eigenvalues", eigenvalues_);
  write_view(writer, "eigenvectors", eigenvectors_);
  write_view(writer, "matrix", matrix_);
  write_view(writer, "inverse", inverse_);
  writer.put("floor", floor_);
  writer.put("n_floored", n_floored_);
  writer.put("shrinkage_intensity", shrinkage_intensity_);
  moments_.write(writer, "moments.");
  writer.save(path);
}

template <class T>
Whitening<T> Whitening<T>::load(const std::string& path) {
  const ModelReader reader(path, "whitening", kWhiteningVersion);
  WhiteningOptions options;
  try {
    options.method = parse_whitening_method(reader.get_string("method"));
    options.covariance = parse_covariance_convention(reader.get_string("covariance"));
    options.shrinkage = parse_shrinkage(reader.get_string("shrinkage"));
  } catch (const InvalidArgument& e) {
    inconsistent(reader, e.what());
  }
  options.dim = reader.get_int("dim");
  options.center = reader.get_int("center") != 0;
  options.normalize = reader.get_int("normalize") != 0;
  options.alpha = reader.get_double("alpha");
  options.epsilon = reader.get_double("epsilon");
  Whitening out = [&] {
    try {
      return Whitening(options);
    } catch (const InvalidArgument& e) {
      inconsistent(reader, e.what());
    }
  }();
  out.moments_ = MomentAccumulator::read(reader, "moments.");
  const std::int64_t d = out.moments_.dim();
  if (d < 1 || out.moments_.count() < 2 || out.moments_.centered() != options.center || !out.moments_.full() ||
      out.moments_.fourth_order() != (options.shrinkage == Shrinkage::ledoit_wolf) || options.dim > d)
    inconsistent(reader, "moments");
  const std::int64_t k = options.method == WhiteningMethod::pca && options.dim > 0 ? options.dim : d;
  out.n_samples_ = out.moments_.count();
  out.mean_ = out.moments_.mean();
  out.eigenvalues_ = reader.get_doubles("eigenvalues");
  if (out.eigenvalues_.size() != static_cast<std::size_t>(d)) inconsistent(reader, "eigenvalues");
  out.eigenvectors_ = reader.get_matrix("eigenvectors");
  require_shape(reader, "eigenvectors", out.eigenvectors_, d, d);
  out.matrix_ = reader.get_matrix("matrix");
  require_shape(reader, "matrix", out.matrix_, d, k);
  out.inverse_ = reader.get_matrix("inverse");
  require_shape(reader, "inverse", out.inverse_, k, d);
  out.floor_ = reader.get_double("floor");
  out.n_floored_ = reader.get_int("n_floored");
  out.shrinkage_intensity_ = reader.get_double("shrinkage_intensity");
  return out;
}

template class Whitening<float>;
template class Whitening<double>;

// ---------------------------------------------------------------- all-but-the-top

template <class T>
AllButTheTop<T>::AllButTheTop(const AllButTheTopOptions& options) : options_(options) {
  if (options.components < 0)
    raise<InvalidArgument>("AllButTheTop", "components", "is negative",
                           "components=" + std::to_string(options.components));
}

template <class T>
AllButTheTop<T>& AllButTheTop<T>::fit(const MatrixView<T>& x) {
  if (x.rows < 2) raise<EmptyInput>("AllButTheTop::fit", "x", "needs at least 2 rows", "n=" + std::to_string(x.rows));
  MomentAccumulator fresh;
  fresh.add(x, options_.parallel);
  moments_ = std::move(fresh);
  refit();
  return *this;
}

template <class T>
AllButTheTop<T>& AllButTheTop<T>::partial_fit(const MatrixView<T>& batch) {
  moments_.add(batch, options_.parallel);
  if (moments_.count() >= 2) refit();
  return *this;
}

template <class T>
void AllButTheTop<T>::refit() {
  const std::int64_t d = moments_.dim();
  const std::int64_t components =
      options_.components > 0 ? options_.components : std::max<std::int64_t>(1, (d + 50) / 100);
  if (components >= d)
    raise<InvalidArgument>("AllButTheTop::fit", "components", "must be smaller than the dimension",
                           "components=" + std::to_string(components) + ", dim=" + std::to_string(d));
  const Spectrum spectrum = symmetric_spectrum(moments_.covariance());
  mean_ = moments_.mean();
  directions_ = spectrum.vectors.leftCols(components);
  projector_ = RowMatrixd::Identity(d, d) - directions_ * directions_.transpose();
  projector_ = ((projector_ + projector_.transpose()) * 0.5).eval();
}

template <class T>
RowMatrix<T> AllButTheTop<T>::transform(const MatrixView<T>& x) const {
  require_fitted("AllButTheTop::transform", is_fitted());
  check_rows("AllButTheTop::transform", "x", x, static_cast<std::int64_t>(mean_.size()));
  return detail::project(x, mean_, projector_, options_.parallel);
}

template <class T>
RowMatrix<T> AllButTheTop<T>::fit_transform(const MatrixView<T>& x) {
  return fit(x).transform(x);
}

namespace {
constexpr std::uint32_t kAllButTheTopVersion = 1;
}

template <class T>
void AllButTheTop<T>::save(const std::string& path) const {
  require_fitted("AllButTheTop::save", is_fitted());
  ModelWriter writer("all-but-the-top", kAllButTheTopVersion);
  writer.put("components", directions_.cols());
  moments_.write(writer, "moments.");
  writer.save(path);
}

template <class T>
AllButTheTop<T> AllButTheTop<T>::load(const std::string& path) {
  const ModelReader reader(path, "all-but-the-top", kAllButTheTopVersion);
  AllButTheTop out(AllButTheTopOptions{reader.get_int("components"), {}});
  out.moments_ = MomentAccumulator::read(reader, "moments.");
  if (!out.moments_.full() || !out.moments_.centered() || out.moments_.count() < 2 ||
      out.options_.components < 1 || out.options_.components >= out.moments_.dim())
    inconsistent(reader, "moments or components");
  out.refit();
  return out;
}

template class AllButTheTop<float>;
template class AllButTheTop<double>;

// ---------------------------------------------------------------- centering, z-scores

namespace {

// out(i, j) = (x(i, j) - shift[j]) * factor[j] (+ offset[j]), in double per value.
template <class T>
RowMatrix<T> affine_columns(const MatrixView<T>& x, const std::vector<double>& shift,
                            const std::vector<double>& factor, const std::vector<double>& offset) {
  RowMatrix<T> out(x.rows, x.cols);
  parallel_for(x.rows, 1024, Parallel{}, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const T* row = x.row(i);
      for (std::int64_t j = 0; j < x.cols; ++j) {
        const auto c = static_cast<std::size_t>(j);
        out(i, j) = static_cast<T>((static_cast<double>(row[j]) - shift[c]) * factor[c] + offset[c]);
      }
    }
  });
  return out;
}

constexpr std::uint32_t kColumnScalingVersion = 1;

}  // namespace

template <class T>
Centering<T>& Centering<T>::fit(const MatrixView<T>& x) {
  require_non_empty("Centering::fit", "x", x);
  MomentAccumulator fresh(true, false);
  fresh.add(x);
  moments_ = std::move(fresh);
  mean_ = moments_.mean();
  return *this;
}

template <class T>
Centering<T>& Centering<T>::partial_fit(const MatrixView<T>& batch) {
  moments_.add(batch);
  if (moments_.count() > 0) mean_ = moments_.mean();
  return *this;
}

template <class T>
RowMatrix<T> Centering<T>::transform(const MatrixView<T>& x) const {
  require_fitted("Centering::transform", is_fitted());
  check_rows("Centering::transform", "x", x, static_cast<std::int64_t>(mean_.size()));
  const std::vector<double> zeros(mean_.size(), 0.0), ones(mean_.size(), 1.0);
  return affine_columns(x, mean_, ones, zeros);
}

template <class T>
RowMatrix<T> Centering<T>::fit_transform(const MatrixView<T>& x) {
  return fit(x).transform(x);
}

template <class T>
RowMatrix<T> Centering<T>::inverse_transform(const MatrixView<T>& y) const {
  require_fitted("Centering::inverse_transform", is_fitted());
  check_rows("Centering::inverse_transform", "y", y, static_cast<std::int64_t>(mean_.size()));
  const std::vector<double> zeros(mean_.size(), 0.0), ones(mean_.size(), 1.0);
  return affine_columns(y, zeros, ones, mean_);
}

template <class T>
void Centering<T>::save(const std::string& path) const {
  require_fitted("Centering::save", is_fitted());
  ModelWriter writer("centering", kColumnScalingVersion);
  moments_.write(writer, "moments.");
  writer.save(path);
}

template <class T>
Centering<T> Centering<T>::load(const std::string& path) {
  const ModelReader reader(path, "centering", kColumnScalingVersion);
  Centering out;
  out.moments_ = MomentAccumulator::read(reader, "moments.");
  if (out.moments_.full() || !out.moments_.centered() || out.moments_.count() < 1) inconsistent(reader, "moments");
  out.mean_ = out.moments_.mean();
  return out;
}

template <class T>
Standardizer<T>& Standardizer<T>::fit(const MatrixView<T>& x) {
  if (x.rows < 2) raise<EmptyInput>("Standardizer::fit", "x", "needs at least 2 rows", "n=" + std::to_string(x.rows));
  MomentAccumulator fresh(true, false);
  fresh.add(x);
  moments_ = std::move(fresh);
  mean_.clear();
  return partial_fit(MatrixView<T>(x.data, 0, x.cols));
}

template <class T>
Standardizer<T>& Standardizer<T>::partial_fit(const MatrixView<T>& batch) {
  moments_.add(batch);
  if (moments_.count() < 2) return *this;
  mean_ = moments_.mean();
  scale_ = moments_.variances();
  for (double& value : scale_) value = value > 0 ? std::sqrt(value) : 1.0;
  return *this;
}

template <class T>
RowMatrix<T> Standardizer<T>::transform(const MatrixView<T>& x) const {
  require_fitted("Standardizer::transform", is_fitted());
  check_rows("Standardizer::transform", "x", x, static_cast<std::int64_t>(mean_.size()));
  std::vector<double> inverse(scale_.size());
  for (std::size_t j = 0; j < scale_.size(); ++j) inverse[j] = 1.0 / scale_[j];
  return affine_columns(x, mean_, inverse, std::vector<double>(mean_.size(), 0.0));
}

template <class T>
RowMatrix<T> Standardizer<T>::fit_transform(const MatrixView<T>& x) {
  return fit(x).transform(x);
}

template <class T>
RowMatrix<T> Standardizer<T>::inverse_transform(const MatrixView<T>& y) const {
  require_fitted("Standardizer::inverse_transform", is_fitted());
  check_rows("Standardizer::inverse_transform", "y", y, static_cast<std::int64_t>(mean_.size()));
  return affine_columns(y, std::vector<double>(mean_.size(), 0.0), scale_, mean_);
}

template <class T>
void Standardizer<T>::save(const std::string& path) const {
  require_fitted("Standardizer::save", is_fitted());
  ModelWriter writer("standardizer", kColumnScalingVersion);
  moments_.write(writer, "moments.");
  writer.save(path);
}

template <class T>
Standardizer<T> Standardizer<T>::load(const std::string& path) {
  const ModelReader reader(path, "standardizer", kColumnScalingVersion);
  Standardizer out;
  out.moments_ = MomentAccumulator::read(reader, "moments.");
  if (out.moments_.full() || !out.moments_.centered() || out.moments_.count() < 2) inconsistent(reader, "moments");
  return out.partial_fit(MatrixView<T>(static_cast<const T*>(nullptr), 0, out.moments_.dim()));
}

template class Centering<float>;
template class Centering<double>;
template class Standardizer<float>;
template class Standardizer<double>;

}  // namespace latent
