// Probabilistic embeddings: validated containers, per-dimension terms in double,
// pair matrices over query rows, the KL -> MIPS search and the log-Bessel series.
//
// Derivation of the reduction (s = sigma^2, sums over dimensions):
//   2 KL(q || b) = sum [log s_b - log s_q + (s_q + (mu_q - mu_b)^2) / s_b - 1]
//                = sum [log s_b + mu_b^2 / s_b] + sum (mu_q^2 + s_q) / s_b
//                  - 2 sum mu_q mu_b / s_b - sum (log s_q + 1),
//   2 KL(b || q) = sum [-log s_b] + sum (s_b + mu_b^2) / s_q - 2 sum mu_b mu_q / s_q
//                  + sum (log s_q + mu_q^2 / s_q - 1).
// Each is <query row, base row> + (a term of the query alone), halved.
#include "latent/similarity/probabilistic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "../core/random.hpp"
#include "certified_top_k.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"

namespace latent {
namespace {

using Index = std::int64_t;

// ---------------------------------------------------------------- validation ----

template <class T>
void require_positive(const char* function, const char* argument, const MatrixView<T>& x) {
  for (Index i = 0; i < x.rows; ++i) {
    for (Index j = 0; j < x.cols; ++j) {
      if (!(x.row(i)[j] > 0)) {
        raise<InvalidArgument>(function, argument, "must be > 0",
                               "row " + std::to_string(i) + ", column " + std::to_string(j) +
                                   ", value=" + std::to_string(static_cast<double>(x.row(i)[j])));
      }
    }
  }
}

template <class A, class B>
void require_pair(const char* function, const A& queries, const B& base) {
  require_same_dim(function, "queries", queries.dim(), "base", base.dim());
}

// Fills out(i, j) = pair(i, j) over query rows in parallel.
template <class Pair>
RowMatrixd pair_matrix(Index n_queries, Index n_base, const Parallel& parallel, const Pair& pair) {
  RowMatrixd out(n_queries, n_base);
  parallel_for(n_queries, 8, parallel, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i)
      for (Index j = 0; j < n_base; ++j) out(i, j) = pair(i, j);
  });
  return out;
}

// --------------------------------------------------------- Gaussian terms ----

// KL(p || q) of one dimension, >= 0: 1/2 [(r - 1) - log1p(r - 1) + delta^2 / s_q].
double kl_term(double mu_p, double s_p, double mu_q, double s_q) {
  const double x = s_p / s_q - 1.0;
  const double delta = mu_p - mu_q;
  return 0.5 * (std::max(0.0, x - std::log1p(x)) + delta * delta / s_q);
}

template <class T>
double kl_pair(const GaussianEmbedding<T>& p, Index i, const GaussianEmbedding<T>& q, Index j) {
  const T* mu_p = p.mean().row(i).data();
  const T* s_p = p.variance().row(i).data();
  const T* mu_q = q.mean().row(j).data();
  const T* s_q = q.variance().row(j).data();
  double sum = 0.0;
  for (Index d = 0; d < p.dim(); ++d) sum += kl_term(mu_p[d], s_p[d], mu_q[d], s_q[d]);
  return sum;
}

template <class T>
double directed_kl(KlDirection direction, const GaussianEmbedding<T>& queries, Index i,
                   const GaussianEmbedding<T>& base, Index j) {
  switch (direction) {
    case KlDirection::forward:
      return kl_pair(queries, i, base, j);
    case KlDirection::reverse:
      return kl_pair(base, j, queries, i);
    case KlDirection::symmetric:
      return kl_pair(queries, i, base, j) + kl_pair(base, j, queries, i);
  }
  return 0.0;
}

// ------------------------------------------------------------- KL -> MIPS ----

// One side of the reduced search: rows [n x (1 + blocks * dim)] in double, the
// absolute size of each row's constant column before cancellation (for the
// rounding bound), and for queries the magnitude of the direct form's own terms.
struct ReducedSide {
  RowMatrixd rows;
  std::vector<double> magnitude;
};

// Base rows: forward block [1/2 sum(log s + mu^2/s) | 1/(2s) | -mu/s], reverse block
// [-1/2 sum log s | s + mu^2 | mu]; the constant columns of both add into column 0.
template <class T>
ReducedSide reduced_base(const GaussianEmbedding<T>& base, KlDirection direction, const Parallel& parallel) {
  const Index d = base.dim();
  const bool forward = direction != KlDirection::reverse, reverse = direction != KlDirection::forward;
  const Index width = 1 + 2 * d * ((forward ? 1 : 0) + (reverse ? 1 : 0));
  ReducedSide side{RowMatrixd(base.rows(), width), std::vector<double>(static_cast<std::size_t>(base.rows()))};
  parallel_for(base.rows(), 256, parallel, [&](Index begin, Index end) {
    for (Index j = begin; j < end; ++j) {
      const T* mu = base.mean().row(j).data();
      const T* s = base.variance().row(j).data();
      double* row = side.rows.row(j).data();
      double constant = 0.0, magnitude = 0.0;
      Index column = 1;
      if (forward) {
        for (Index t = 0; t < d; ++t) {
          const double m = mu[t], v = s[t];
          constant += 0.5 * (std::log(v) + m * m / v);
          magnitude += 0.5 * (std::abs(std::log(v)) + m * m / v);
          row[column + t] = 0.5 / v;
          row[column + d + t] = -m / v;
        }
        column += 2 * d;
      }
      if (reverse) {
        for (Index t = 0; t < d; ++t) {
          const double m = mu[t], v = s[t];
          constant -= 0.5 * std::log(v);
          magnitude += 0.5 * std::abs(std::log(v));
          row[column + t] = v + m * m;
          row[column + d + t] = m;
        }
      }
      row[0] = constant;
      side.magnitude[static_cast<std::size_t>(j)] = magnitude;
    }
  });
  return side;
}

// Query rows, negated (the search maximises): forward block [1 | mu^2 + s | mu],
// reverse block [1 | 1/(2s) | -mu/s] (one shared 1 in column 0). `magnitude`: the
// size of the query's own terms in the direct form, sum (|log s| + 1) and the
// reverse constant's mu^2 / s.
template <class T>
ReducedSide reduced_queries(const GaussianEmbedding<T>& queries, KlDirection direction, const Parallel& parallel) {
  const Index d = queries.dim();
  const bool forward = direction != KlDirection::reverse, reverse = direction != KlDirection::forward;
  const Index width = 1 + 2 * d * ((forward ? 1 : 0) + (reverse ? 1 : 0));
  ReducedSide side{RowMatrixd(queries.rows(), width), std::vector<double>(static_cast<std::size_t>(queries.rows()))};
  parallel_for(queries.rows(), 256, parallel, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      const T* mu = queries.mean().row(i).data();
      const T* s = queries.variance().row(i).data();
      double* row = side.rows.row(i).data();
      double magnitude = 0.0;
      row[0] = -1.0;
      Index column = 1;
      if (forward) {
        for (Index t = 0; t < d; ++t) {
          const double m = mu[t], v = s[t];
          row[column + t] = -(m * m + v);
          row[column + d + t] = -m;
          magnitude += std::abs(std::log(v)) + 1.0;
        }
        column += 2 * d;
      }
      if (reverse) {
        for (Index t = 0; t < d; ++t) {
          const double m = mu[t], v = s[t];
          row[column + t] = -0.5 / v;
          row[column + d + t] = m / v;
          magnitude += std::abs(std::log(v)) + m * m / v + 1.0;
        }
      }
      side.magnitude[static_cast<std::size_t>(i)] = magnitude;
    }
  });
  return side;
}

template <class T>
KnnGraph kl_search(const char* function, const GaussianEmbedding<T>* queries, const GaussianEmbedding<T>& base, Index k,
                   KlDirection direction, const SearchOptions& options) {
  const bool self = queries == nullptr;
  const GaussianEmbedding<T>& q = self ? base : *queries;
  if (!self) require_pair(function, q, base);
  require_k(function, k, self ? base.rows() - 1 : base.rows(), "base");
  const ReducedSide b = reduced_base(base, direction, options.parallel);
  const ReducedSide a = reduced_queries(q, direction, options.parallel);

  const Index wanted = detail::reduced_candidates(k, base.rows(), self);
  SearchOptions inner = options;
  inner.validate_finite = false;  // finite: the means are finite and the variances positive and finite
  const KnnGraph candidates = knn(MatrixView<double>(a.rows), MatrixView<double>(b.rows), wanted, Metric::ip, inner);

  // |reduced - direct| <= kSafety u (width + 2) (sum_l |a_l| max_j |b_jl| + the
  // constant column's and the query's own magnitudes): the GEMM's bound for any
  // summation order, plus the direct form's rounding over terms of the same sizes.
  constexpr double kSafety = 16.0;
  constexpr double kUnit = 0.5 * std::numeric_limits<double>::epsilon();
  const Index width = b.rows.cols();
  std::vector<double> column_max(static_cast<std::size_t>(width), 0.0);
  for (Index j = 0; j < base.rows(); ++j) {
    for (Index l = 1; l < width; ++l)
      column_max[static_cast<std::size_t>(l)] =
          std::max(column_max[static_cast<std::size_t>(l)], std::abs(b.rows(j, l)));
    column_max[0] = std::max(column_max[0], b.magnitude[static_cast<std::size_t>(j)]);
  }
  const auto key = [&](Index i, Index j) { return directed_kl(direction, q, i, base, j); };
  const auto slack = [&](Index i) {
    double size = column_max[0] + a.magnitude[static_cast<std::size_t>(i)];
    for (Index l = 1; l < width; ++l) size += std::abs(a.rows(i, l)) * column_max[static_cast<std::size_t>(l)];
    return 2.0 * kSafety * kUnit * static_cast<double>(width + 2) * size;
  };
  const auto score = [](double kl) { return static_cast<float>(kl); };
  return detail::certified_top_k(candidates, base.rows(), k, self, Metric::l2, options.parallel, key, slack, score);
}

// ------------------------------------------------------------------ Bessel ----

// log of the series term k of I_nu(x): (2k + nu) log(x/2) - lgamma(k + 1) - lgamma(k + nu + 1).
double log_series_term(double nu, double log_half_x, double k) {
  return (2.0 * k + nu) * log_half_x - std::lgamma(k + 1.0) - std::lgamma(k + nu + 1.0);
}

constexpr NamedValue<KlDirection> kDirectionNames[] = {
    {"forward", KlDirection::forward}, {"reverse", KlDirection::reverse}, {"symmetric", KlDirection::symmetric}};

}  // namespace

// -------------------------------------------------------------- containers ----

template <class T>
GaussianEmbedding<T>::GaussianEmbedding(RowMatrix<T> mean, RowMatrix<T> variance)
    : mean_(std::move(mean)), variance_(std::move(variance)) {
  const char* function = "GaussianEmbedding";
  const MatrixView<T> m(mean_), v(variance_);
  require_non_empty(function, "mean", m);
  if (m.rows != v.rows || m.cols != v.cols) {
    raise<DimensionMismatch>(function, "variance", "must have the shape of mean",
                             "mean " + std::to_string(m.rows) + " x " + std::to_string(m.cols) + ", variance " +
                                 std::to_string(v.rows) + " x " + std::to_string(v.cols));
  }
  require_finite(function, "mean", m);
  require_finite(function, "variance", v);
  require_positive(function, "variance", v);
}

template <class T>
GaussianEmbedding<T> GaussianEmbedding<T>::from_log_variance(RowMatrix<T> mean, const MatrixView<T>& log_variance) {
  const char* function = "GaussianEmbedding::from_log_variance";
  require_finite(function, "log_variance", log_variance);
  RowMatrix<T> variance(log_variance.rows, log_variance.cols);
  for (Index i = 0; i < log_variance.rows; ++i) {
    for (Index j = 0; j < log_variance.cols; ++j) {
      const T value = static_cast<T>(std::exp(static_cast<double>(log_variance.row(i)[j])));
      if (!(value > 0 && std::isfinite(value))) {
        raise<NumericalError>(function, "log_variance", "its exponential leaves the range of the scalar type",
                              "row " + std::to_string(i) + ", column " + std::to_string(j) +
                                  ", value=" + std::to_string(static_cast<double>(log_variance.row(i)[j])));
      }
      variance(i, j) = value;
    }
  }
  return GaussianEmbedding(std::move(mean), std::move(variance));
}

template <class T>
VmfEmbedding<T>::VmfEmbedding(RowMatrix<T> mean_direction, std::vector<T> kappa)
    : mean_direction_(std::move(mean_direction)), kappa_(std::move(kappa)) {
  const char* function = "VmfEmbedding";
  const MatrixView<T> m(mean_direction_);
  require_non_empty(function, "mean_direction", m);
  if (m.cols < 2) {
    raise<InvalidArgument>(function, "mean_direction", "needs dim >= 2 (a sphere S^(d-1))",
                           "dim=" + std::to_string(m.cols));
  }
  if (static_cast<Index>(kappa_.size()) != m.rows) {
    raise<DimensionMismatch>(function, "kappa", "must hold one value per row of mean_direction",
                             "rows=" + std::to_string(m.rows) + ", kappa=" + std::to_string(kappa_.size()));
  }
  require_finite(function, "mean_direction", m);
  for (std::size_t i = 0; i < kappa_.size(); ++i) {
    if (!(kappa_[i] > 0 && std::isfinite(kappa_[i]))) {
      raise<InvalidArgument>(function, "kappa", "must be finite and > 0",
                             "position " + std::to_string(i) + ", value=" + std::to_string(kappa_[i]));
    }
  }
  for (Index i = 0; i < m.rows; ++i) {
    double n2 = 0.0;
    for (Index j = 0; j < m.cols; ++j) n2 += static_cast<double>(mean_direction_(i, j)) * mean_direction_(i, j);
    if (!(n2 > 0.0)) {
      raise<InvalidArgument>(function, "mean_direction", "has a zero row (no direction)", "row " + std::to_string(i));
    }
    const double scale = 1.0 / std::sqrt(n2);
    for (Index j = 0; j < m.cols; ++j)
      mean_direction_(i, j) = static_cast<T>(scale * static_cast<double>(mean_direction_(i, j)));
  }
}

template class GaussianEmbedding<float>;
template class GaussianEmbedding<double>;
template class VmfEmbedding<float>;
template class VmfEmbedding<double>;

std::string_view to_string(KlDirection direction) { return name_of(kDirectionNames, direction); }

KlDirection parse_kl_direction(std::string_view name, std::string_view argument) {
  return parse_name(kDirectionNames, name, "parse_kl_direction", argument, "KL direction");
}

// ------------------------------------------------------------ pair matrices ----

template <class T>
RowMatrixd kl_divergence(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base, KlDirection direction,
                         const Parallel& parallel) {
  require_pair("kl_divergence", queries, base);
  return pair_matrix(queries.rows(), base.rows(), parallel,
                     [&](Index i, Index j) { return directed_kl(direction, queries, i, base, j); });
}

template <class T>
RowMatrixd wasserstein2_distance(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base,
                                 const Parallel& parallel) {
  require_pair("wasserstein2_distance", queries, base);
  return pair_matrix(queries.rows(), base.rows(), parallel, [&](Index i, Index j) {
    double sum = 0.0;
    for (Index t = 0; t < queries.dim(); ++t) {
      const double dm = static_cast<double>(queries.mean()(i, t)) - static_cast<double>(base.mean()(j, t));
      const double ds = std::sqrt(static_cast<double>(queries.variance()(i, t))) -
                        std::sqrt(static_cast<double>(base.variance()(j, t)));
      sum += dm * dm + ds * ds;
    }
    return std::sqrt(sum);
  });
}

template <class T>
RowMatrixd bhattacharyya_distance(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base,
                                  const Parallel& parallel) {
  require_pair("bhattacharyya_distance", queries, base);
  return pair_matrix(queries.rows(), base.rows(), parallel, [&](Index i, Index j) {
    double sum = 0.0;
    for (Index t = 0; t < queries.dim(); ++t) {
      const double dm = static_cast<double>(queries.mean()(i, t)) - static_cast<double>(base.mean()(j, t));
      const double sp = queries.variance()(i, t), sq = base.variance()(j, t);
      const double total = sp + sq;
      // sqrt(sp) sqrt(sq), not sqrt(sp sq): the product of two tiny variances underflows.
      sum += dm * dm / (4.0 * total) + 0.5 * std::max(0.0, std::log(total / (2.0 * std::sqrt(sp) * std::sqrt(sq))));
    }
    return sum;
  });
}

template <class T>
RowMatrixd expected_squared_distance(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base,
                                     const Parallel& parallel) {
  require_pair("expected_squared_distance", queries, base);
  return pair_matrix(queries.rows(), base.rows(), parallel, [&](Index i, Index j) {
    double sum = 0.0;
    for (Index t = 0; t < queries.dim(); ++t) {
      const double dm = static_cast<double>(queries.mean()(i, t)) - static_cast<double>(base.mean()(j, t));
      sum += dm * dm + static_cast<double>(queries.variance()(i, t)) + static_cast<double>(base.variance()(j, t));
    }
    return sum;
  });
}

namespace {

// J draws mu + sigma eps of every row, [rows * J x dim], row r's draws from the
// stream of (seed, side, r).
template <class T>
RowMatrixd draws(const GaussianEmbedding<T>& g, int samples, std::uint64_t seed, std::uint64_t side,
                 const Parallel& parallel) {
  RowMatrixd out(g.rows() * samples, g.dim());
  parallel_for(g.rows(), 64, parallel, [&](Index begin, Index end) {
    for (Index r = begin; r < end; ++r) {
      detail::SplitMix64 stream{seed ^ (0x9E3779B97F4A7C15ULL * (2 * static_cast<std::uint64_t>(r) + side + 1))};
      for (int s = 0; s < samples; ++s) {
        double* row = out.row(r * samples + s).data();
        for (Index t = 0; t < g.dim(); ++t)
          row[t] = static_cast<double>(g.mean()(r, t)) +
                   std::sqrt(static_cast<double>(g.variance()(r, t))) * stream.normal();
      }
    }
  });
  return out;
}

}  // namespace

template <class T>
RowMatrixd match_probability(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base,
                             const MatchProbabilityOptions& options, const Parallel& parallel) {
  const char* function = "match_probability";
  require_pair(function, queries, base);
  if (!(options.scale > 0.0 && std::isfinite(options.scale)))
    raise<InvalidArgument>(function, "scale", "must be finite and > 0", "scale=" + std::to_string(options.scale));
  if (!std::isfinite(options.shift))
    raise<InvalidArgument>(function, "shift", "must be finite", "shift=" + std::to_string(options.shift));
  if (options.samples < 1 || options.samples > 1024)
    raise<InvalidArgument>(function, "samples", "must be in 1..1024", "samples=" + std::to_string(options.samples));
  const int J = options.samples;
  const RowMatrixd zq = draws(queries, J, options.seed, 0, parallel);
  const RowMatrixd zb = draws(base, J, options.seed, 1, parallel);
  const Index d = queries.dim();
  return pair_matrix(queries.rows(), base.rows(), parallel, [&](Index i, Index j) {
    double sum = 0.0;
    for (int s = 0; s < J; ++s) {
      const double* x = zq.row(i * J + s).data();
      for (int t = 0; t < J; ++t) {
        const double* y = zb.row(j * J + t).data();
        double n2 = 0.0;
        for (Index c = 0; c < d; ++c) n2 += (x[c] - y[c]) * (x[c] - y[c]);
        sum += 1.0 / (1.0 + std::exp(options.scale * std::sqrt(n2) - options.shift));
      }
    }
    return sum / (static_cast<double>(J) * J);
  });
}

template <class T>
KnnGraph kl_knn(const GaussianEmbedding<T>& queries, const GaussianEmbedding<T>& base, std::int64_t k,
                KlDirection direction, const SearchOptions& options) {
  return kl_search("kl_knn", &queries, base, k, direction, options);
}

template <class T>
KnnGraph kl_knn_graph(const GaussianEmbedding<T>& base, std::int64_t k, KlDirection direction,
                      const SearchOptions& options) {
  return kl_search<T>("kl_knn_graph", nullptr, base, k, direction, options);
}

// -------------------------------------------------------------------- vMF ----

double log_bessel_i(double nu, double x) {
  const char* function = "log_bessel_i";
  if (!(nu >= 0.0 && std::isfinite(nu)))
    raise<InvalidArgument>(function, "nu", "must be finite and >= 0", "nu=" + std::to_string(nu));
  if (!(x >= 0.0 && std::isfinite(x)))
    raise<InvalidArgument>(function, "x", "must be finite and >= 0", "x=" + std::to_string(x));
  if (x == 0.0) return nu == 0.0 ? 0.0 : -std::numeric_limits<double>::infinity();
  // Terms t_k = (x/2)^(2k+nu) / (k! Gamma(k+nu+1)); t_(k+1)/t_k = (x/2)^2 / ((k+1)(k+nu+1)),
  // decreasing in k, so the largest term is at the first k where the ratio drops below 1.
  // The ratio is 1 at k0 = (-(nu + 2) + sqrt(nu^2 + x^2)) / 2, the root of
  // (k + 1)(k + nu + 1) = (x/2)^2.
  const double q = 0.25 * x * x;
  const double peak = std::max(0.0, std::ceil(0.5 * (std::hypot(nu, x) - (nu + 2.0))));
  const double log_peak = log_series_term(nu, std::log(0.5 * x), peak);
  // Sum t_k / t_peak outward from the peak until the terms no longer count.
  constexpr double kNegligible = 1e-18;
  double sum = 1.0;
  double term = 1.0;
  for (double k = peak; term > kNegligible * sum; k += 1.0) {
    term *= q / ((k + 1.0) * (k + nu + 1.0));
    sum += term;
  }
  term = 1.0;
  for (double k = peak; k > 0.0 && term > kNegligible * sum; k -= 1.0) {
    term *= k * (k + nu) / q;  // t_(k-1) / t_k
    sum += term;
  }
  return log_peak + std::log(sum);
}

namespace {

void require_vmf(const char* function, std::int64_t dim, double kappa) {
  if (dim < 2) raise<InvalidArgument>(function, "dim", "must be >= 2", "dim=" + std::to_string(dim));
  if (!(kappa > 0.0 && std::isfinite(kappa)))
    raise<InvalidArgument>(function, "kappa", "must be finite and > 0", "kappa=" + std::to_string(kappa));
}

constexpr double kLogTwoPi = 1.8378770664093454836;

double log_normalizer(double half_dim, double kappa) {
  return (half_dim - 1.0) * std::log(kappa) - half_dim * kLogTwoPi - log_bessel_i(half_dim - 1.0, kappa);
}

double mean_resultant(double half_dim, double kappa) {
  return std::exp(log_bessel_i(half_dim, kappa) - log_bessel_i(half_dim - 1.0, kappa));
}

}  // namespace

double vmf_log_normalizer(std::int64_t dim, double kappa) {
  require_vmf("vmf_log_normalizer", dim, kappa);
  return log_normalizer(0.5 * static_cast<double>(dim), kappa);
}

double vmf_mean_resultant_length(std::int64_t dim, double kappa) {
  require_vmf("vmf_mean_resultant_length", dim, kappa);
  return mean_resultant(0.5 * static_cast<double>(dim), kappa);
}

template <class T>
RowMatrixd vmf_kl_divergence(const VmfEmbedding<T>& queries, const VmfEmbedding<T>& base, const Parallel& parallel) {
  require_pair("vmf_kl_divergence", queries, base);
  const double half_dim = 0.5 * static_cast<double>(queries.dim());
  // Per row: log C_d(kappa), and for the queries A_d(kappa).
  std::vector<double> log_c_q(static_cast<std::size_t>(queries.rows())), a_q(log_c_q.size());
  std::vector<double> log_c_b(static_cast<std::size_t>(base.rows()));
  parallel_for(queries.rows(), 64, parallel, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      const double kappa = queries.kappa()[static_cast<std::size_t>(i)];
      log_c_q[static_cast<std::size_t>(i)] = log_normalizer(half_dim, kappa);
      a_q[static_cast<std::size_t>(i)] = mean_resultant(half_dim, kappa);
    }
  });
  parallel_for(base.rows(), 64, parallel, [&](Index begin, Index end) {
    for (Index j = begin; j < end; ++j)
      log_c_b[static_cast<std::size_t>(j)] = log_normalizer(half_dim, base.kappa()[static_cast<std::size_t>(j)]);
  });
  return pair_matrix(queries.rows(), base.rows(), parallel, [&](Index i, Index j) {
    double cosine = 0.0;
    for (Index t = 0; t < queries.dim(); ++t)
      cosine += static_cast<double>(queries.mean_direction()(i, t)) * static_cast<double>(base.mean_direction()(j, t));
    const auto r = static_cast<std::size_t>(i);
    const double kappa_p = queries.kappa()[r], kappa_q = base.kappa()[static_cast<std::size_t>(j)];
    return log_c_q[r] - log_c_b[static_cast<std::size_t>(j)] + a_q[r] * (kappa_p - kappa_q * cosine);
  });
}

#define LATENT_PROBABILISTIC(T)                                                                                 \
  template RowMatrixd kl_divergence(const GaussianEmbedding<T>&, const GaussianEmbedding<T>&, KlDirection,      \
                                    const Parallel&);                                                           \
  template RowMatrixd wasserstein2_distance(const GaussianEmbedding<T>&, const GaussianEmbedding<T>&,           \
                                            const Parallel&);                                                   \
  template RowMatrixd bhattacharyya_distance(const GaussianEmbedding<T>&, const GaussianEmbedding<T>&,          \
                                             const Parallel&);                                                  \
  template RowMatrixd expected_squared_distance(const GaussianEmbedding<T>&, const GaussianEmbedding<T>&,       \
                                                const Parallel&);                                               \
  template RowMatrixd match_probability(const GaussianEmbedding<T>&, const GaussianEmbedding<T>&,               \
                                        const MatchProbabilityOptions&, const Parallel&);                       \
  template KnnGraph kl_knn(const GaussianEmbedding<T>&, const GaussianEmbedding<T>&, std::int64_t, KlDirection, \
                           const SearchOptions&);                                                               \
  template KnnGraph kl_knn_graph(const GaussianEmbedding<T>&, std::int64_t, KlDirection, const SearchOptions&); \
  template RowMatrixd vmf_kl_divergence(const VmfEmbedding<T>&, const VmfEmbedding<T>&, const Parallel&);
LATENT_PROBABILISTIC(float)
LATENT_PROBABILISTIC(double)
#undef LATENT_PROBABILISTIC

}  // namespace latent
