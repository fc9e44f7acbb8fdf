// Reduction::none: the key of a pair is its primary distance, so transform
// returns the candidates unchanged (cut to k columns).
#include <algorithm>

#include "method.hpp"

namespace latent::detail {
namespace {

struct PrimaryKeys final : RowKeys {
  const DistanceGraph* query = nullptr;
  std::int64_t c = 0;

  void compute(std::int64_t row, double* key, double* /*second*/) override {
    const double* d = &query->distances(row, 0);
    std::copy(d, d + c, key);
  }
};

class NoReduction final : public ReductionMethod {
 public:
  std::int64_t default_k_local() const override { return 0; }
  bool keeps_statistic() const override { return false; }
  bool reads_k_local_columns() const override { return false; }
  void fit(std::string_view, const DistanceGraph&, const VectorsRef&, const ReductionOptions&,
           HubnessReducer::State&) const override {}
  std::unique_ptr<QueryScorer> prepare(const QueryContext& query) const override {
    PrimaryKeys keys;
    keys.query = &query.query;
    keys.c = query.query.k();
    return std::make_unique<StatelessScorer<PrimaryKeys>>(keys);
  }
};

}  // namespace

const ReductionMethod& no_reduction_method() {
  static const NoReduction method;
  return method;
}

}  // namespace latent::detail
