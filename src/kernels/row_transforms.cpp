// Row transforms shared by the fitted models (see row_transforms.hpp). Rows are
// centred and projected through the kernel layer's GEMM path in their own type,
// in blocks of kProjectRows rows (bounded scratch); the GEMM's results never
// depend on threads.
#include "row_transforms.hpp"

#include <algorithm>
#include <cmath>

#include "latent/kernels/batched.hpp"

namespace latent::detail {

constexpr std::int64_t kProjectRows = 2048;

namespace {

// C = A B^T on the kernel layer's GEMM path in T (gemm_nt_f32, or the f64
// path's inner products: the same raw products).
void multiply_nt(const MatrixView<float>& a, const MatrixView<float>& b, float* c, std::int64_t ldc,
                 const Parallel& parallel) {
  kernels::gemm_nt_f32(a, b, c, ldc, kernels::BlockOptions{parallel});
}
void multiply_nt(const MatrixView<double>& a, const MatrixView<double>& b, double* c, std::int64_t ldc,
                 const Parallel& parallel) {
  kernels::similarity_f64(Metric::ip, a, b, c, ldc, kernels::BlockOptions{parallel});
}

template <class T>
RowMatrix<T> project_rows(const MatrixView<T>& x, const std::vector<double>& shift, const RowMatrixd& matrix,
                          const Parallel& parallel) {
  const std::int64_t n = x.rows, d = x.cols, k = matrix.cols();
  const RowMatrix<T> transposed = matrix.transpose().cast<T>();  // [k x d], the GEMM's B side
  const std::vector<T> shift_t(shift.begin(), shift.end());
  RowMatrix<T> out(n, k);
  RowMatrix<T> block(std::min(n, kProjectRows), d);
  for (std::int64_t start = 0; start < n; start += kProjectRows) {
    const std::int64_t rows = std::min(kProjectRows, n - start);
    parallel_for(rows, 64, parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t r = begin; r < end; ++r) {
        const T* in = x.row(start + r);
        T* centred = block.data() + r * d;
        for (std::int64_t j = 0; j < d; ++j) centred[j] = in[j] - shift_t[static_cast<std::size_t>(j)];
      }
    });
    multiply_nt(MatrixView<T>(block.data(), rows, d), MatrixView<T>(transposed), out.data() + start * k, k, parallel);
  }
  return out;
}

}  // namespace

RowMatrix<float> project(const MatrixView<float>& x, const std::vector<double>& shift, const RowMatrixd& matrix,
                         const Parallel& parallel) {
  return project_rows(x, shift, matrix, parallel);
}

RowMatrix<double> project(const MatrixView<double>& x, const std::vector<double>& shift, const RowMatrixd& matrix,
                          const Parallel& parallel) {
  return project_rows(x, shift, matrix, parallel);
}

}  // namespace latent::detail
