// CSLS (cross-domain similarity local scaling): r_x = mean similarity to the
// k_local nearest candidates (cosine) or mean distance (other metrics); the key
// of (x, y) is -(2 cos(x, y) - r_x - r_y), or 2 d - r_x - r_y on distances.
#include "method.hpp"

namespace latent::detail {
namespace {

// r of one row: mean similarity 1 - d under cosine, summed as similarities (not
// as 1 - mean d, which rounds differently); mean distance otherwise.
double csls_radius(bool cosine, const double* d, std::int64_t k_local) {
  return cosine ? mean_similarity(d, k_local) : mean_distance(d, k_local);
}

struct CslsKeys final : RowKeys {
  const DistanceGraph* query = nullptr;
  const double* radius = nullptr;  // the indexed points' r
  std::int64_t k_local = 0;

  void compute(std::int64_t row, double* key, double* /*second*/) override {
    const std::int64_t* ids = &query->ids(row, 0);
    const double* d = &query->distances(row, 0);
    const std::int64_t c = query->k();
    const bool cosine = is_directional(query->metric);  // a similarity s at distance 1 - s
    const double r = csls_radius(cosine, d, k_local);
    if (cosine) {
      for (std::int64_t p = 0; p < c; ++p) key[p] = -(2.0 * (1.0 - d[p]) - r - radius[ids[p]]);
    } else {
      for (std::int64_t p = 0; p < c; ++p) key[p] = 2.0 * d[p] - r - radius[ids[p]];
    }
  }
};

class Csls final : public ReductionMethod {
 public:
  std::int64_t default_k_local() const override { return 10; }

  void fit(std::string_view, const DistanceGraph& indexed, const VectorsRef&, const ReductionOptions&,
           HubnessReducer::State& state) const override {
    const bool cosine = is_directional(indexed.metric);
    state.statistic.resize(static_cast<std::size_t>(state.n));
    for (std::int64_t i = 0; i < state.n; ++i) {
      state.statistic[static_cast<std::size_t>(i)] = csls_radius(cosine, &indexed.distances(i, 0), state.k_local);
    }
  }

  std::unique_ptr<QueryScorer> prepare(const QueryContext& query) const override {
    CslsKeys keys;
    keys.query = &query.query;
    keys.radius = query.state.statistic.data();
    keys.k_local = query.state.k_local;
    return std::make_unique<StatelessScorer<CslsKeys>>(keys);
  }
};

}  // namespace

const ReductionMethod& csls_method() {
  static const Csls method;
  return method;
}

}  // namespace latent::detail
