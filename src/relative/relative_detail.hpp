// Helpers shared by the relative module's sources (private).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "latent/core/errors.hpp"
#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent::detail {

/// NumericalError naming `argument` and the row when a row of `rows` is all zero
/// (its cosine is undefined; ZeroNormPolicy::raise).
template <class T>
void require_nonzero_rows(const char* function, const char* argument, const MatrixView<T>& rows) {
  for (std::int64_t i = 0; i < rows.rows; ++i) {
    const T* row = rows.row(i);
    bool zero = true;
    for (std::int64_t j = 0; j < rows.cols && zero; ++j) zero = row[j] == T(0);
    if (zero)
      raise<NumericalError>(function, argument, "has a zero row: its cosine is undefined", "row=" + std::to_string(i));
  }
}

/// out[i * b.rows + j] = metric(a.row(i), b.row(j)) through the kernel layer
/// (similarity_f32: GEMM path / tiles; similarity_f64). Defined in projection.cpp.
void similarity_block(Metric metric, const MatrixView<float>& a, const MatrixView<float>& b, float* out,
                      const Parallel& parallel);
void similarity_block(Metric metric, const MatrixView<double>& a, const MatrixView<double>& b, double* out,
                      const Parallel& parallel);

}  // namespace latent::detail
