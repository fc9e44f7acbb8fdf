// Mutual proximity with a normal model: mu_x, sd_x (ddof 0) over a row's listed
// distances and the point itself (distance 0); the key of (x, y) is
// 1 - SF(d; mu_x, sd_x) SF(d; mu_y, sd_y).
#include <cmath>
#include <utility>

#include "method.hpp"

namespace latent::detail {
namespace {

// scipy.special.ndtr(a), the structure of cephes' ndtr, so keys match scipy's
// norm.sf to the last bits as far as erf / erfc agree.
double ndtr(double a) {
  constexpr double kSqrtHalf = 0.70710678118654752440;
  const double x = a * kSqrtHalf;
  const double z = std::abs(x);
  if (z < kSqrtHalf) return 0.5 + 0.5 * std::erf(x);
  const double y = 0.5 * std::erfc(z);
  return x > 0 ? 1.0 - y : y;
}

// Survival function of N(mu, sd) at t (sd = 0: a step at mu).
double normal_sf(double t, double mu, double sd) {
  if (sd > 0) return ndtr(-((t - mu) / sd));
  return t > mu ? 0.0 : (t < mu ? 1.0 : 0.5);
}

// (mean, standard deviation) over the `count` listed distances and the point
// itself (distance 0).
std::pair<double, double> moments_with_self(const double* d, std::int64_t count) {
  const double values = static_cast<double>(count + 1);
  double sum = 0;
  for (std::int64_t p = 0; p < count; ++p) sum += d[p];
  const double mean = sum / values;
  double squares = mean * mean;
  for (std::int64_t p = 0; p < count; ++p) squares += (d[p] - mean) * (d[p] - mean);
  return {mean, std::sqrt(squares / values)};
}

struct NormalKeys final : RowKeys {
  const DistanceGraph* query = nullptr;
  const double* mean = nullptr;    // the indexed points' mu
  const double* spread = nullptr;  // and sd

  void compute(std::int64_t row, double* key, double* /*second*/) override {
    const std::int64_t* ids = &query->ids(row, 0);
    const double* d = &query->distances(row, 0);
    const std::int64_t c = query->k();
    const auto [own_mean, own_spread] = moments_with_self(d, c);
    for (std::int64_t p = 0; p < c; ++p) {
      const std::int64_t y = ids[p];
      key[p] = 1.0 - normal_sf(d[p], own_mean, own_spread) * normal_sf(d[p], mean[y], spread[y]);
    }
  }
};

class MutualProximityNormal final : public ReductionMethod {
 public:
  std::int64_t default_k_local() const override { return 0; }
  bool keeps_spread() const override { return true; }

  void fit(std::string_view, const DistanceGraph& indexed, const VectorsRef&, const ReductionOptions&,
           HubnessReducer::State& state) const override {
    state.statistic.resize(static_cast<std::size_t>(state.n));
    state.spread.resize(static_cast<std::size_t>(state.n));
    for (std::int64_t i = 0; i < state.n; ++i) {
      const auto [mean, spread] = moments_with_self(&indexed.distances(i, 0), indexed.k());
      state.statistic[static_cast<std::size_t>(i)] = mean;
      state.spread[static_cast<std::size_t>(i)] = spread;
    }
  }

  std::unique_ptr<QueryScorer> prepare(const QueryContext& query) const override {
    NormalKeys keys;
    keys.query = &query.query;
    keys.mean = query.state.statistic.data();
    keys.spread = query.state.spread.data();
    return std::make_unique<StatelessScorer<NormalKeys>>(keys);
  }
};

}  // namespace

const ReductionMethod& mutual_proximity_normal_method() {
  static const MutualProximityNormal method;
  return method;
}

}  // namespace latent::detail
