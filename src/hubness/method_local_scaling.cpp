// Local scaling and NICDM: the pair key divides a primary distance by the
// geometric mean of two local scales. Local scaling: sigma_x = the k_local-th
// distance, key d^2 / (sigma_x sigma_y), reported 1 - exp(-key). NICDM: mu_x =
// mean of the first k_local distances, key d / sqrt(mu_x mu_y).
#include <cmath>

#include "method.hpp"

namespace latent::detail {
namespace {

enum class Scale { kth_distance, mean_distance };

double scale_of_row(Scale kind, const double* d, std::int64_t k_local) {
  return kind == Scale::kth_distance ? d[k_local - 1] : mean_distance(d, k_local);
}

struct ScaledKeys final : RowKeys {
  Scale kind = Scale::kth_distance;
  const DistanceGraph* query = nullptr;
  const double* scales = nullptr;  // the indexed points' statistic
  std::int64_t k_local = 0;

  void compute(std::int64_t row, double* key, double* /*second*/) override {
    const std::int64_t* ids = &query->ids(row, 0);
    const double* d = &query->distances(row, 0);
    const double own = scale_of_row(kind, d, k_local);
    const bool squared = kind == Scale::kth_distance;
    for (std::int64_t p = 0; p < query->k(); ++p) {
      const double scale = own * scales[ids[p]];
      const double numerator = squared ? d[p] * d[p] : d[p];
      double s = 0;
      if (scale > 0) {
        s = numerator / (squared ? scale : std::sqrt(scale));
      } else if (numerator > 0) {
        s = HUGE_VAL;  // a zero scale (duplicates): only an equal point is near
      }
      key[p] = s;
    }
  }
};

class ScaledDistance final : public ReductionMethod {
 public:
  explicit ScaledDistance(Scale kind) : kind_(kind) {}

  std::int64_t default_k_local() const override { return 5; }

  void fit(std::string_view, const DistanceGraph& indexed, const VectorsRef&, const ReductionOptions&,
           HubnessReducer::State& state) const override {
    state.statistic.resize(static_cast<std::size_t>(state.n));
    for (std::int64_t i = 0; i < state.n; ++i) {
      state.statistic[static_cast<std::size_t>(i)] = scale_of_row(kind_, &indexed.distances(i, 0), state.k_local);
    }
  }

  std::unique_ptr<QueryScorer> prepare(const QueryContext& query) const override {
    ScaledKeys keys;
    keys.kind = kind_;
    keys.query = &query.query;
    keys.scales = query.state.statistic.data();
    keys.k_local = query.state.k_local;
    return std::make_unique<StatelessScorer<ScaledKeys>>(keys);
  }

  // Local scaling reports the similarity-turned-distance 1 - exp(-s); the key s
  // ranks the same without exp's saturation.
  double reported_distance(double key) const override {
    return kind_ == Scale::kth_distance ? -std::expm1(-key) : key;
  }

 private:
  Scale kind_;
};

}  // namespace

const ReductionMethod& local_scaling_method() {
  static const ScaledDistance method(Scale::kth_distance);
  return method;
}

const ReductionMethod& nicdm_method() {
  static const ScaledDistance method(Scale::mean_distance);
  return method;
}

}  // namespace latent::detail
