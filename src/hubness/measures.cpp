// Hubness measures from k-occurrences. Counts are integers; the Gini sum is
// accumulated exactly in int64 (|2i - n - 1| N_(i) summed in sorted order), the
// moments in double in index order, so results do not depend on threads.
#include <algorithm>
#include <cmath>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/hubness.hpp"

namespace latent {

std::vector<std::int64_t> select_hubs(const std::vector<std::int64_t>& occurrence, std::int64_t threshold) {
  if (threshold < 1)
    raise<InvalidArgument>("select_hubs", "threshold", "must be at least 1", "threshold=" + std::to_string(threshold));
  std::vector<std::int64_t> hubs;
  for (std::size_t i = 0; i < occurrence.size(); ++i)
    if (occurrence[i] >= threshold) hubs.push_back(static_cast<std::int64_t>(i));
  return hubs;
}

std::vector<std::int64_t> k_occurrence(const IdMatrix& ids, std::int64_t n_indexed) {
  if (n_indexed < 1) {
    raise<EmptyInput>("k_occurrence", "n_indexed", "must be at least 1", "n_indexed=" + std::to_string(n_indexed));
  }
  std::vector<std::int64_t> occurrence(static_cast<std::size_t>(n_indexed), 0);
  for (std::int64_t i = 0; i < ids.rows(); ++i) {
    for (std::int64_t p = 0; p < ids.cols(); ++p) {
      const std::int64_t id = ids(i, p);
      if (id == -1) continue;
      if (id < 0 || id >= n_indexed) {
        raise<InvalidArgument>("k_occurrence", "ids", "id outside the indexed points",
                               "row " + std::to_string(i) + ", id " + std::to_string(id) +
                                   ", n_indexed=" + std::to_string(n_indexed));
      }
      ++occurrence[static_cast<std::size_t>(id)];
    }
  }
  return occurrence;
}

HubnessMeasures hubness_measures(const std::vector<std::int64_t>& occurrence, std::int64_t k,
                                 const HubnessOptions& options) {
  constexpr std::string_view kFunction = "hubness_measures";
  if (occurrence.empty()) raise<EmptyInput>(kFunction, "occurrence", "has no points");
  if (k < 1) raise<InvalidK>(kFunction, "k", "must be at least 1", "k=" + std::to_string(k));
  if (!(options.hub_size > 0) || !(options.atkinson_eps >= 0)) {
    raise<InvalidArgument>(kFunction, "options", "hub_size must be > 0 and atkinson_eps >= 0",
                           "hub_size=" + std::to_string(options.hub_size) +
                               ", atkinson_eps=" + std::to_string(options.atkinson_eps));
  }
  const auto n = static_cast<std::int64_t>(occurrence.size());
  HubnessMeasures m;
  std::int64_t total = 0;
  for (const std::int64_t value : occurrence) {
    if (value < 0) raise<InvalidArgument>(kFunction, "occurrence", "has a negative count");
    total += value;
    m.k_occurrence_max = std::max(m.k_occurrence_max, value);
    if (value == 0) ++m.n_antihubs;
  }
  if (total == 0) raise<InvalidArgument>(kFunction, "occurrence", "lists no neighbour at all", "n=" + std::to_string(n));
  const double dn = static_cast<double>(n);
  const double dtotal = static_cast<double>(total);
  const double mean = dtotal / dn;

  double m2 = 0, m3 = 0, absolute = 0, hub_total = 0, powered = 0, logs = 0;
  const double hub_threshold = options.hub_size * static_cast<double>(k);
  const double eps = options.atkinson_eps;
  bool any_zero = false;
  for (const std::int64_t value : occurrence) {
    const double v = static_cast<double>(value);
    const double deviation = v - mean;
    m2 += deviation * deviation;
    m3 += deviation * deviation * deviation;
    absolute += std::abs(deviation);
    if (v >= hub_threshold) {
      ++m.n_hubs;
      hub_total += v;
    }
    if (eps == 1.0) {
      any_zero = any_zero || value == 0;
      if (value > 0) logs += std::log(v);
    } else {
      powered += std::pow(v, 1.0 - eps);
    }
  }
  m2 /= dn;
  m3 /= dn;
  // A constant N has no skew; scipy returns NaN there, the definition's limit is 0.
  m.k_skewness = m2 > 0 ? m3 / std::pow(m2, 1.5) : 0.0;
  m.robinhood = 0.5 * absolute / dtotal;
  m.antihub_occurrence = static_cast<double>(m.n_antihubs) / dn;
  m.hub_occurrence = hub_total / dtotal;
  m.groupie_ratio = static_cast<double>(m.k_occurrence_max) / dtotal;
  if (eps == 1.0) {
    m.atkinson = any_zero ? 1.0 : 1.0 - std::exp(logs / dn) / mean;
  } else {
    m.atkinson = 1.0 - std::pow(powered / dn, 1.0 / (1.0 - eps)) / mean;
  }
  // Gini by sorting: sum_i (2i - n - 1) N_(i) / (n S), exact in int64 (the sum
  // is at most n S, which is below 2^63 for any graph that fits in memory).
  std::vector<std::int64_t> sorted = occurrence;
  std::sort(sorted.begin(), sorted.end());
  std::int64_t weighted = 0;
  for (std::int64_t i = 0; i < n; ++i) weighted += (2 * (i + 1) - n - 1) * sorted[static_cast<std::size_t>(i)];
  m.gini = static_cast<double>(weighted) / (dn * dtotal);
  return m;
}

HubnessMeasures hubness_measures(const IdMatrix& ids, std::int64_t n_indexed, const HubnessOptions& options) {
  if (ids.rows() == 0 || ids.cols() == 0) {
    raise<EmptyInput>("hubness_measures", "ids", "is empty",
                      "rows=" + std::to_string(ids.rows()) + ", cols=" + std::to_string(ids.cols()));
  }
  return hubness_measures(k_occurrence(ids, n_indexed), ids.cols(), options);
}

HubnessMeasures hubness_measures(const KnnGraph& graph, const HubnessOptions& options) {
  if (!graph.self_excluded) {
    raise<InvalidArgument>("hubness_measures", "graph",
                           "is not self-excluded: pass its ids with the number of indexed points");
  }
  return hubness_measures(graph.ids, graph.n_queries(), options);
}

}  // namespace latent
