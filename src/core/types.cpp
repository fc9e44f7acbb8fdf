// Names of the metrics, shared by the API, the CLI and error messages.
#include "latent/core/types.hpp"

#include <array>
#include <string>

#include "latent/core/errors.hpp"

namespace latent {
namespace {
constexpr std::array<std::pair<Metric, std::string_view>, 6> kMetricNames{{
    {Metric::cosine, "cosine"},
    {Metric::ip, "ip"},
    {Metric::l2, "l2"},
    {Metric::sqeuclidean, "sqeuclidean"},
    {Metric::l1, "l1"},
    {Metric::linf, "linf"},
}};
}  // namespace

std::string_view to_string(Metric metric) {
  for (const auto& [value, name] : kMetricNames) {
    if (value == metric) return name;
  }
  return "unknown";
}

Metric parse_metric(std::string_view name, std::string_view argument) {
  for (const auto& [value, known] : kMetricNames) {
    if (known == name) return value;
  }
  raise<InvalidArgument>("parse_metric", argument, "unknown metric '" + std::string(name) + "'",
                         "expected cosine, ip, l2, sqeuclidean, l1 or linf");
}

}  // namespace latent
