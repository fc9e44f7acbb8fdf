// Argument checks shared by the fitted models of several modules (private).
#pragma once

#include <cstdint>

#include "latent/core/types.hpp"

namespace latent::detail {

/// DimensionMismatch unless x has `dim` columns (dim < 0: any), NonFiniteValue.
template <class T>
void check_rows(const char* function, const char* argument, const MatrixView<T>& x, std::int64_t dim);

/// NotFitted unless `fitted`.
void require_fitted(const char* function, bool fitted);

}  // namespace latent::detail
