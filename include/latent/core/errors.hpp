// latent/core/errors.hpp - the exception hierarchy and the input checks of every
// public entry point.
//
// Every error the library reports derives from `latent::Error` (itself a
// `std::runtime_error`), so a caller can catch all of them at once or one kind.
// Messages read "latent::<function>: <argument>: <problem> (<numbers>)", e.g.
// "latent::knn: k: exceeds the rows of base (k=20, rows=10)". Inputs are checked
// once, at the public boundary, with the `require_*` helpers below; inner code
// trusts them.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "latent/core/types.hpp"

namespace latent {

/// Root of every exception the library throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An argument has a value the function does not accept (unknown name, bad option).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};
/// Two inputs disagree in their number of columns (or another shared size).
class DimensionMismatch : public Error {
 public:
  using Error::Error;
};
/// An input holds NaN or +-Inf.
class NonFiniteValue : public Error {
 public:
  using Error::Error;
};
/// An input has no rows or no columns.
class EmptyInput : public Error {
 public:
  using Error::Error;
};
/// k is zero, negative, or larger than the number of candidates.
class InvalidK : public Error {
 public:
  using Error::Error;
};
/// A transform was used before `fit`.
class NotFitted : public Error {
 public:
  using Error::Error;
};
/// A computation failed numerically (singular matrix, zero-norm row under cosine).
class NumericalError : public Error {
 public:
  using Error::Error;
};
/// A file could not be read or written, or its content is malformed.
class IoError : public Error {
 public:
  using Error::Error;
};
/// The requested instruction set is unknown or not supported by this CPU.
class UnsupportedIsa : public Error {
 public:
  using Error::Error;
};
/// A backend (FAISS, BLAS) reported a failure.
class BackendError : public Error {
 public:
  using Error::Error;
};

/// Builds "latent::<function>: <argument>: <problem>" and, when `numbers` is not
/// empty, appends " (<numbers>)".
std::string error_message(std::string_view function, std::string_view argument,
                          std::string_view problem, std::string_view numbers = {});

/// Throws `E` with the message of `error_message`.
template <class E>
[[noreturn]] void raise(std::string_view function, std::string_view argument,
                        std::string_view problem, std::string_view numbers = {}) {
  throw E(error_message(function, argument, problem, numbers));
}

namespace detail {
[[noreturn]] void raise_non_finite(std::string_view function, std::string_view argument,
                                   double value, std::int64_t row, std::int64_t col);
}  // namespace detail

/// Throws `EmptyInput` when `matrix` has no rows or no columns.
template <class T>
void require_non_empty(std::string_view function, std::string_view argument,
                       const MatrixView<T>& matrix) {
  if (matrix.rows == 0 || matrix.cols == 0) {
    raise<EmptyInput>(function, argument, "is empty",
                      "rows=" + std::to_string(matrix.rows) +
                          ", cols=" + std::to_string(matrix.cols));
  }
}

/// Throws `DimensionMismatch` when `dim_a != dim_b`.
void require_same_dim(std::string_view function, std::string_view argument_a,
                      std::int64_t dim_a, std::string_view argument_b, std::int64_t dim_b);

/// Throws `NonFiniteValue`, naming the first NaN or Inf by row and column.
/// Cost: one pass over the matrix.
template <class T>
void require_finite(std::string_view function, std::string_view argument,
                    const MatrixView<T>& matrix) {
  for (std::int64_t i = 0; i < matrix.rows; ++i) {
    const T* row = matrix.row(i);
    // Summing x * 0 is NaN iff some x is NaN or Inf: one branch per row, not per value.
    T probe = 0;
    for (std::int64_t j = 0; j < matrix.cols; ++j) probe += row[j] * T(0);
    if (probe == T(0)) continue;
    for (std::int64_t j = 0; j < matrix.cols; ++j) {
      if (!std::isfinite(row[j])) {
        detail::raise_non_finite(function, argument, static_cast<double>(row[j]), i, j);
      }
    }
  }
}

/// Throws `InvalidK` when k < 1 or k > `available` (the number of candidates in
/// `argument`, e.g. the rows of base, minus one when the point itself is excluded).
void require_k(std::string_view function, std::int64_t k, std::int64_t available,
               std::string_view argument);

}  // namespace latent
