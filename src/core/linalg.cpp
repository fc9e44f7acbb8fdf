// The library's dense decompositions (see linalg.hpp): Eigen's BDCSVD and
// SelfAdjointEigenSolver over column-major double matrices, the one
// instantiation of each in the library, and, when built with LAPACKE, LAPACK's
// divide-and-conquer drivers (dsyevd, dgesdd) for matrices of kLapackMinRows
// rows or more, where they are 1.7x (d = 128) to 2x (d = 784) faster than
// Eigen's solvers compiled for baseline x86-64, on one BLAS thread (see
// with_one_blas_thread). A LAPACK call that reports an error falls back to
// Eigen.
#include "linalg.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <Eigen/SVD>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>

#if defined(LATENT_HAVE_LAPACK)
#include <lapacke.h>
#include <sys/resource.h>

// OpenBLAS's thread control, when the LAPACK in use is OpenBLAS's (weak: null
// with another LAPACK).
extern "C" {
int openblas_get_num_threads(void) __attribute__((weak));
void openblas_set_num_threads(int) __attribute__((weak));
}
#endif

namespace latent::detail {
namespace {

using ColMatrixd = Eigen::MatrixXd;

// Below this size Eigen's solvers are as fast (the LAPACK call's set-up and its
// blocked steps do not pay off).
constexpr Eigen::Index kLapackMinRows = 64;

std::atomic<bool> g_lapack_enabled{true};

#if defined(LATENT_HAVE_LAPACK)
// OpenBLAS reserves a 128 MB buffer at its first call and, when the address
// space is capped (ulimit -v, prlimit --as, or a data limit) below that, retries
// the allocation forever: the process hangs instead of failing. Under such a
// limit the decompositions stay with Eigen (the same models within 1e-10).
bool address_space_unlimited() {
  static const bool unlimited = [] {
    rlimit as{}, data{};
    return getrlimit(RLIMIT_AS, &as) == 0 && getrlimit(RLIMIT_DATA, &data) == 0 && as.rlim_cur == RLIM_INFINITY &&
           data.rlim_cur == RLIM_INFINITY;
  }();
  return unlimited;
}
#endif

bool use_lapack(Eigen::Index rows) {
#if defined(LATENT_HAVE_LAPACK)
  return rows >= kLapackMinRows && g_lapack_enabled.load(std::memory_order_relaxed) && address_space_unlimited();
#else
  (void)rows;
  return false;
#endif
}

#if defined(LATENT_HAVE_LAPACK)
// Runs a LAPACK call with OpenBLAS on one thread. Threaded, OpenBLAS's
// level-2 steps (the tridiagonal reduction's symmetric products) sum in an
// order that depends on its thread count (OPENBLAS_NUM_THREADS, the cores),
// so a model's bits would too; and on the 64-d test data two threads gave
// whitening matrices 1e-10 away from numpy's where one thread gave 2e-11. One
// thread still takes half of Eigen's time at d = 784. The previous count
// is restored; the mutex keeps concurrent callers from restoring each other's.
// One mutex for every call (a static inside the template would be one per
// instantiation, and two kinds of call could then restore each other's count).
std::mutex g_blas_threads_mutex;

template <class Call>
bool with_one_blas_thread(Call call) {
  const std::lock_guard<std::mutex> lock(g_blas_threads_mutex);
  const int previous =
      openblas_get_num_threads != nullptr && openblas_set_num_threads != nullptr ? openblas_get_num_threads() : 1;
  if (previous != 1) openblas_set_num_threads(1);
  const bool done = call();
  if (previous != 1) openblas_set_num_threads(previous);
  return done;
}

// dsyevd on the lower triangle: eigenvalues ascending (as Eigen's), vectors
// as columns. False when LAPACK reports an error.
bool lapack_symmetric_eigen(const Eigen::MatrixXd& m, bool vectors, SymmetricEigen& out) {
  const auto n = static_cast<lapack_int>(m.rows());
  ColMatrixd a = m;
  Eigen::VectorXd values(m.rows());
  if (!with_one_blas_thread([&] {
        return LAPACKE_dsyevd(LAPACK_COL_MAJOR, vectors ? 'V' : 'N', 'L', n, a.data(), n, values.data()) == 0;
      }))
    return false;
  out.converged = true;
  out.values = std::move(values);
  if (vectors) out.vectors = std::move(a);
  return true;
}

// dgesdd of a square matrix, all of U and V^T. False when LAPACK reports an error.
bool lapack_square_svd(const RowMatrixd& m, ColMatrixd& u, ColMatrixd& vt, Eigen::VectorXd& sigma) {
  const auto n = static_cast<lapack_int>(m.rows());
  ColMatrixd a = m;
  u.resize(n, n);
  vt.resize(n, n);
  sigma.resize(n);
  return with_one_blas_thread([&] {
    return LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'A', n, n, a.data(), n, sigma.data(), u.data(), n, vt.data(), n) == 0;
  });
}
#endif

}  // namespace

bool lapack_built() {
#if defined(LATENT_HAVE_LAPACK)
  return true;
#else
  return false;
#endif
}

ScopedLapack::ScopedLapack(bool enabled) : previous_(g_lapack_enabled.exchange(enabled)) {}
ScopedLapack::~ScopedLapack() { g_lapack_enabled.store(previous_); }

RowMatrixd svd_least_squares(const RowMatrixd& a, const RowMatrixd& b, double threshold) {
  Eigen::BDCSVD<ColMatrixd> svd(a, Eigen::ComputeThinU | Eigen::ComputeThinV);
  svd.setThreshold(threshold > 0
                       ? threshold
                       : std::numeric_limits<double>::epsilon() * static_cast<double>(std::max(a.rows(), a.cols())));
  return svd.solve(ColMatrixd(b));
}

RowMatrixd svd_orthogonal_factor(const RowMatrixd& m, bool proper_rotation, std::vector<double>& singular_values) {
  ColMatrixd u, vt;
  Eigen::VectorXd sigma;
  bool done = false;
#if defined(LATENT_HAVE_LAPACK)
  done = m.rows() == m.cols() && use_lapack(m.rows()) && lapack_square_svd(m, u, vt, sigma);
#endif
  if (!done) {
    Eigen::BDCSVD<ColMatrixd> svd(m, Eigen::ComputeFullU | Eigen::ComputeFullV);
    u = svd.matrixU();
    vt = svd.matrixV().transpose();
    sigma = svd.singularValues();
  }
  // U V^T does not depend on the signs each solver picks for the singular
  // vectors (a pair's signs cancel), only on the subspaces.
  if (proper_rotation && (u * vt).determinant() < 0) u.col(u.cols() - 1) *= -1.0;
  singular_values.assign(sigma.data(), sigma.data() + sigma.size());
  return u * vt;
}

bool svd_pseudo_inverse_transposed(const RowMatrixd& a, double rcond, RowMatrixd& out) {
  Eigen::BDCSVD<ColMatrixd> svd(a, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::VectorXd& sigma = svd.singularValues();
  if (sigma.size() == 0 || !(sigma(0) > 0)) return false;
  const double cutoff =
      rcond > 0 ? rcond : std::numeric_limits<double>::epsilon() * static_cast<double>(std::max(a.rows(), a.cols()));
  Eigen::VectorXd inverse = Eigen::VectorXd::Zero(sigma.size());
  for (Eigen::Index i = 0; i < sigma.size(); ++i)
    if (sigma(i) > cutoff * sigma(0)) inverse(i) = 1.0 / sigma(i);
  // A = U S V^T, A^+ = V S^+ U^T [d x k]; its transpose is U S^+ V^T [k x d].
  const RowMatrixd pinv_t = svd.matrixU() * inverse.asDiagonal() * svd.matrixV().transpose();
  out = pinv_t;
  return true;
}

SvdFactors svd_factors(const Eigen::MatrixXd& m, unsigned int options) {
  const Eigen::BDCSVD<ColMatrixd> svd(m, options);
  SvdFactors out;
  out.values = svd.singularValues();
  if (svd.computeU()) out.u = svd.matrixU();
  if (svd.computeV()) out.v = svd.matrixV();
  return out;
}

SymmetricEigen symmetric_eigen(const Eigen::MatrixXd& m, bool vectors) {
#if defined(LATENT_HAVE_LAPACK)
  if (use_lapack(m.rows())) {
    SymmetricEigen out;
    if (lapack_symmetric_eigen(m, vectors, out)) return out;
  }
#endif
  const Eigen::SelfAdjointEigenSolver<ColMatrixd> solver(m,
                                                         vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
  SymmetricEigen out;
  out.converged = solver.info() == Eigen::Success;
  out.values = solver.eigenvalues();
  if (vectors) out.vectors = solver.eigenvectors();
  return out;
}

Eigen::MatrixXd inverse_sqrt(const SymmetricEigen& eigen) {
  return eigen.vectors * eigen.values.cwiseInverse().cwiseSqrt().asDiagonal() * eigen.vectors.adjoint();
}

}  // namespace latent::detail
