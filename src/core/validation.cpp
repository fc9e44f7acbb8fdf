// Argument checks shared by the fitted models (see validation.hpp).
#include "validation.hpp"

#include "latent/core/errors.hpp"

namespace latent::detail {

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

}  // namespace latent::detail
