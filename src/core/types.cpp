// Names of the metrics, shared by the API, the CLI and error messages.
#include "latent/core/types.hpp"

#include <cmath>

#include "latent/core/names.hpp"

namespace latent {
namespace {
constexpr NamedValue<Metric> kMetricNames[] = {
    {"cosine", Metric::cosine},           {"ip", Metric::ip}, {"l2", Metric::l2},
    {"sqeuclidean", Metric::sqeuclidean}, {"l1", Metric::l1}, {"linf", Metric::linf},
    {"angular", Metric::angular},
};
}  // namespace

std::string_view to_string(Metric metric) { return name_of(kMetricNames, metric); }

Metric parse_metric(std::string_view name, std::string_view argument) {
  return parse_name(kMetricNames, name, "parse_metric", argument, "metric");
}

namespace {
constexpr double kPi = 3.141592653589793238462643383279502884;
}  // namespace

double angular_from_cosine(double cosine) {
  if (std::isnan(cosine)) return cosine;
  return 1.0 - std::acos(cosine > 1.0 ? 1.0 : (cosine < -1.0 ? -1.0 : cosine)) / kPi;
}

double cosine_from_angular(double angular) { return std::cos(kPi * (1.0 - angular)); }

constexpr NamedValue<ZeroNormPolicy> kZeroNormNames[] = {{"raise", ZeroNormPolicy::raise},
                                                         {"zero", ZeroNormPolicy::zero}};

std::string_view to_string(ZeroNormPolicy policy) { return name_of(kZeroNormNames, policy); }

ZeroNormPolicy parse_zero_norm_policy(std::string_view name, std::string_view argument) {
  return parse_name(kZeroNormNames, name, "parse_zero_norm_policy", argument, "zero-norm policy");
}

}  // namespace latent
