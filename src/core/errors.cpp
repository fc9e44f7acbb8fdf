// Message formatting and the non-template input checks.
#include "latent/core/errors.hpp"

#include <cstdio>
#include <string>

namespace latent {

std::string error_message(std::string_view function, std::string_view argument,
                          std::string_view problem, std::string_view numbers) {
  std::string message = "latent::";
  message.append(function).append(": ");
  if (!argument.empty()) message.append(argument).append(": ");
  message.append(problem);
  if (!numbers.empty()) message.append(" (").append(numbers).append(")");
  return message;
}

namespace detail {
void raise_non_finite(std::string_view function, std::string_view argument, double value,
                      std::int64_t row, std::int64_t col) {
  const char* kind = std::isnan(value) ? "NaN" : (value > 0 ? "+Inf" : "-Inf");
  raise<NonFiniteValue>(function, argument, "contains a non-finite value",
                        std::string(kind) + " at row " + std::to_string(row) + ", column " +
                            std::to_string(col));
}
}  // namespace detail

void require_same_dim(std::string_view function, std::string_view argument_a, std::int64_t dim_a,
                      std::string_view argument_b, std::int64_t dim_b) {
  if (dim_a == dim_b) return;
  std::string argument(argument_b);
  raise<DimensionMismatch>(function, argument,
                           "has " + std::to_string(dim_b) + " columns but " +
                               std::string(argument_a) + " has " + std::to_string(dim_a),
                           std::string(argument_a) + ".cols=" + std::to_string(dim_a) + ", " +
                               argument + ".cols=" + std::to_string(dim_b));
}

void require_k(std::string_view function, std::int64_t k, std::int64_t available,
               std::string_view argument) {
  if (k < 1) {
    raise<InvalidK>(function, "k", "must be at least 1", "k=" + std::to_string(k));
  }
  if (k > available) {
    raise<InvalidK>(function, "k",
                    "exceeds the " + std::to_string(available) + " candidates in " +
                        std::string(argument),
                    "k=" + std::to_string(k) + ", available=" + std::to_string(available));
  }
}

}  // namespace latent
