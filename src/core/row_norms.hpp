// Row L2 normalisation shared by every module (private). One implementation, so
// that l2_normalize, whitening's and relative's `normalize` options and the FAISS
// adapter's cosine rows round the same way and treat a zero row the same way.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/parallel.hpp"
#include "latent/core/types.hpp"

namespace latent::detail {

/// Squared L2 norm of values[0..count), summed in double in index order (products
/// of two floats are exact in double, so for float only the additions round).
template <class T>
double squared_norm_in_order(const T* values, std::int64_t count) {
  double squares = 0;
  for (std::int64_t j = 0; j < count; ++j) squares += static_cast<double>(values[j]) * static_cast<double>(values[j]);
  return squares;
}

/// Divides each of `rows` rows (`cols` values, row i at data + i * row_stride) by
/// its L2 norm, in place: the norm is summed in double (squared_norm_in_order) and
/// each value is multiplied by 1 / norm in double and rounded to T once. A row of
/// norm 0 stays all zeros under ZeroNormPolicy::zero; under raise, NumericalError
/// from `function` naming `argument` and the first such row, whatever the thread
/// count (the other rows are then unspecified). Parallel over fixed row chunks:
/// the values do not depend on the thread count. Cost: 3 rows cols flops.
template <class T>
void normalize_rows(T* data, std::int64_t rows, std::int64_t cols, std::int64_t row_stride, ZeroNormPolicy zero,
                    std::string_view function, std::string_view argument, const Parallel& parallel) {
  constexpr std::int64_t kChunk = 256;
  // The first zero row of each chunk, so the one reported does not depend on threads.
  std::vector<std::int64_t> first_zero(static_cast<std::size_t>((rows + kChunk - 1) / kChunk), -1);
  parallel_for(rows, kChunk, parallel, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      T* row = data + i * row_stride;
      const double squares = squared_norm_in_order(row, cols);
      if (squares == 0) {
        std::int64_t& first = first_zero[static_cast<std::size_t>(begin / kChunk)];
        if (first < 0) first = i;
        continue;
      }
      const double inverse = 1.0 / std::sqrt(squares);
      for (std::int64_t j = 0; j < cols; ++j) row[j] = static_cast<T>(static_cast<double>(row[j]) * inverse);
    }
  });
  if (zero != ZeroNormPolicy::raise) return;
  for (const std::int64_t row : first_zero) {
    if (row >= 0) {
      raise<NumericalError>(function, argument, "has a zero row, whose direction is undefined",
                            "row " + std::to_string(row) + "; ZeroNormPolicy::zero keeps it zero");
    }
  }
}

/// normalize_rows on every row of a matrix, with zero rows left as zeros (nothing
/// raises): the `normalize` options of whitening, FNorm and relative projections.
template <class T>
void normalize_rows(RowMatrix<T>& rows, const Parallel& parallel) {
  normalize_rows(rows.data(), rows.rows(), rows.cols(), rows.cols(), ZeroNormPolicy::zero, {}, {}, parallel);
}

/// normalize_rows on every row of a matrix.
template <class T>
void normalize_rows(RowMatrix<T>& rows, ZeroNormPolicy zero, std::string_view function, std::string_view argument,
                    const Parallel& parallel) {
  normalize_rows(rows.data(), rows.rows(), rows.cols(), rows.cols(), zero, function, argument, parallel);
}

}  // namespace latent::detail
