// Localized centering (cosine only): LA(y) = mean similarity of y to its
// k_local nearest candidates; the key of (x, y) is -(cos(x, y) - LA(y)^gamma),
// with LA clamped at 0 when gamma != 1.
#include <algorithm>
#include <cmath>
#include <string>

#include "latent/core/errors.hpp"
#include "method.hpp"

namespace latent::detail {
namespace {

struct CenteredKeys final : RowKeys {
  const DistanceGraph* query = nullptr;
  const double* affinity = nullptr;  // the indexed points' LA
  double gamma = 1.0;

  void compute(std::int64_t row, double* key, double* /*second*/) override {
    const std::int64_t* ids = &query->ids(row, 0);
    const double* d = &query->distances(row, 0);
    for (std::int64_t p = 0; p < query->k(); ++p) {
      const double la = affinity[ids[p]];
      const double penalty = gamma == 1.0 ? la : std::pow(std::max(la, 0.0), gamma);
      key[p] = -((1.0 - d[p]) - penalty);
    }
  }
};

class LocalizedCentering final : public ReductionMethod {
 public:
  std::int64_t default_k_local() const override { return 40; }

  void check_fit(std::string_view function, const DistanceGraph& indexed, const VectorsRef&) const override {
    if (indexed.metric != Metric::cosine) {
      raise<InvalidArgument>(function, "indexed", "localized centering needs cosine distances",
                             "metric=" + std::string(to_string(indexed.metric)));
    }
  }

  void fit(std::string_view, const DistanceGraph& indexed, const VectorsRef&, const ReductionOptions&,
           HubnessReducer::State& state) const override {
    state.statistic.resize(static_cast<std::size_t>(state.n));
    for (std::int64_t i = 0; i < state.n; ++i) {
      state.statistic[static_cast<std::size_t>(i)] = mean_similarity(&indexed.distances(i, 0), state.k_local);
    }
  }

  std::unique_ptr<QueryScorer> prepare(const QueryContext& query) const override {
    CenteredKeys keys;
    keys.query = &query.query;
    keys.affinity = query.state.statistic.data();
    keys.gamma = query.options.lc_gamma;
    return std::make_unique<StatelessScorer<CenteredKeys>>(keys);
  }
};

}  // namespace

const ReductionMethod& localized_centering_method() {
  static const LocalizedCentering method;
  return method;
}

}  // namespace latent::detail
