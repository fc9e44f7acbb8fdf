// CSLS (cross-domain similarity local scaling): r_x = mean similarity to the
// k_local nearest candidates (cosine) or mean distance (other metrics); the key
// of (x, y) is -(2 cos(x, y) - r_x - r_y), or 2 d - r_x - r_y on distances.
// And the two-set form, csls_search, over the rows of two sets.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/hubness.hpp"
#include "latent/kernels/batched.hpp"
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

namespace latent {
namespace {

// Mean cosine of each query row to the base rows its graph lists, recomputed in
// double from the rows (the graph's scores are rounded to float); a zero row
// (allowed by ZeroNormPolicy::zero) has cosine 0.
template <class T>
std::vector<double> mean_cosines(const MatrixView<T>& queries, const MatrixView<T>& base, const KnnGraph& graph) {
  const auto norm = [](const T* x, std::int64_t dim) {
    double sum = 0;
    for (std::int64_t t = 0; t < dim; ++t) sum += static_cast<double>(x[t]) * static_cast<double>(x[t]);
    return std::sqrt(sum);
  };
  std::vector<double> means(static_cast<std::size_t>(graph.n_queries()));
  for (std::int64_t i = 0; i < graph.n_queries(); ++i) {
    const T* x = queries.row(i);
    const double norm_x = norm(x, queries.cols);
    double sum = 0;
    for (std::int64_t r = 0; r < graph.k(); ++r) {
      const T* y = base.row(graph.ids(i, r));
      double dot = 0;
      for (std::int64_t t = 0; t < queries.cols; ++t) dot += static_cast<double>(x[t]) * static_cast<double>(y[t]);
      const double scale = norm_x * norm(y, base.cols);
      sum += scale > 0 ? dot / scale : 0.0;
    }
    means[static_cast<std::size_t>(i)] = sum / static_cast<double>(graph.k());
  }
  return means;
}

template <class T>
CslsMatches csls_search_impl(const MatrixView<T>& source, const MatrixView<T>& target, std::int64_t k,
                             std::int64_t k_local, const SearchOptions& options) {
  constexpr std::string_view kFunction = "csls_search";
  require_non_empty(kFunction, "mapped_source", source);
  require_non_empty(kFunction, "target", target);
  require_k(kFunction, k, target.rows, "target");
  if (k_local < 1 || k_local > std::min(source.rows, target.rows))
    raise<InvalidK>(kFunction, "k_local", "must be in [1, min(source rows, target rows)]",
                    "k_local=" + std::to_string(k_local) + ", source rows " + std::to_string(source.rows) +
                        ", target rows " + std::to_string(target.rows));
  require_same_dim(kFunction, "target", target.cols, "mapped_source", source.cols);
  for (const auto& [argument, rows] : {std::pair{"mapped_source", source}, std::pair{"target", target}}) {
    if (options.validate_finite) require_finite(kFunction, argument, rows);
    if (options.zero_norm == ZeroNormPolicy::zero) continue;
    for (std::int64_t i = 0; i < rows.rows; ++i)
      if (std::all_of(rows.row(i), rows.row(i) + rows.cols, [](T v) { return v == T(0); }))
        raise<NumericalError>(kFunction, argument, "has a zero row, whose cosine is undefined",
                              "row " + std::to_string(i) + "; ZeroNormPolicy::zero gives it similarity 0");
  }
  SearchOptions checked = options;  // both sets are checked above
  checked.validate_finite = false;
  checked.zero_norm = ZeroNormPolicy::zero;
  CslsMatches out;
  out.r_source = mean_cosines(source, target, knn(source, target, k_local, Metric::cosine, checked));
  out.r_target = mean_cosines(target, source, knn(target, source, k_local, Metric::cosine, checked));
  // Blocks of source rows against every target row: ~16 M scores of scratch.
  const std::int64_t block = std::max<std::int64_t>(1, (std::int64_t{1} << 24) / target.rows);
  KnnGraph& graph = out.matches;
  graph.ids.resize(source.rows, k);
  graph.scores.resize(source.rows, k);
  graph.metric = Metric::cosine;
  for (std::int64_t start = 0; start < source.rows; start += block) {
    const std::int64_t count = std::min(block, source.rows - start);
    const RowMatrix<T> cosines = similarity(MatrixView<T>(source.row(start), count, source.cols, source.row_stride),
                                            target, Metric::cosine, checked);
    parallel_for(count, 16, options.parallel, [&](std::int64_t begin, std::int64_t end) {
      std::vector<float> scores(static_cast<std::size_t>(target.rows));
      for (std::int64_t r = begin; r < end; ++r) {
        const double r_x = out.r_source[static_cast<std::size_t>(start + r)];
        for (std::int64_t j = 0; j < target.rows; ++j)
          scores[static_cast<std::size_t>(j)] = static_cast<float>(2.0 * static_cast<double>(cosines(r, j)) - r_x -
                                                                   out.r_target[static_cast<std::size_t>(j)]);
        kernels::select_topk(scores.data(), target.rows, k, true, graph.ids.data() + (start + r) * k,
                             graph.scores.data() + (start + r) * k);
      }
    });
  }
  return out;
}

}  // namespace

CslsMatches csls_search(const MatrixView<float>& mapped_source, const MatrixView<float>& target, std::int64_t k,
                        std::int64_t k_local, const SearchOptions& options) {
  return csls_search_impl(mapped_source, target, k, k_local, options);
}
CslsMatches csls_search(const MatrixView<double>& mapped_source, const MatrixView<double>& target, std::int64_t k,
                        std::int64_t k_local, const SearchOptions& options) {
  return csls_search_impl(mapped_source, target, k, k_local, options);
}

}  // namespace latent
