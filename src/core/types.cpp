// Names of the metrics, shared by the API, the CLI and error messages.
#include "latent/core/types.hpp"

#include "latent/core/names.hpp"

namespace latent {
namespace {
constexpr NamedValue<Metric> kMetricNames[] = {
    {"cosine", Metric::cosine}, {"ip", Metric::ip}, {"l2", Metric::l2},
    {"sqeuclidean", Metric::sqeuclidean}, {"l1", Metric::l1}, {"linf", Metric::linf},
};
}  // namespace

std::string_view to_string(Metric metric) { return name_of(kMetricNames, metric); }

Metric parse_metric(std::string_view name, std::string_view argument) {
  return parse_name(kMetricNames, name, "parse_metric", argument, "metric");
}

constexpr NamedValue<ZeroNormPolicy> kZeroNormNames[] = {{"raise", ZeroNormPolicy::raise},
                                                         {"zero", ZeroNormPolicy::zero}};

std::string_view to_string(ZeroNormPolicy policy) { return name_of(kZeroNormNames, policy); }

ZeroNormPolicy parse_zero_norm_policy(std::string_view name, std::string_view argument) {
  return parse_name(kZeroNormNames, name, "parse_zero_norm_policy", argument, "zero-norm policy");
}

}  // namespace latent
