// Row transforms shared by the fitted models (see row_transforms.hpp). Float rows
// are projected through the kernel layer's GEMM in blocks of kProjectRows rows
// (bounded scratch); double rows through Eigen, in fixed blocks so that results
// never depend on threads.
#include "row_transforms.hpp"

#include <algorithm>
#include <cmath>

#include "latent/kernels/batched.hpp"

namespace latent::detail {

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

}  // namespace latent::detail
