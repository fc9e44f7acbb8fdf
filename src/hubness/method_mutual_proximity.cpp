// Mutual proximity, empiric: the key of (x, y) is 1 - c(x, y) / n, c = the
// points farther from both. Fit keeps the indexed graph (and, for a complete
// graph of n <= 65535 points, its rank table); the counting itself is in
// mutual_proximity.cpp.
#include <algorithm>
#include <vector>

#include "hubness_detail.hpp"
#include "latent/core/errors.hpp"
#include "method.hpp"

namespace latent::detail {
namespace {

struct IndexedGraph final : MethodData {
  DistanceGraph graph;    // the indexed candidate lists
  bool complete = false;  // counts over all n points
  RankTable ranks;        // when complete
};

// Keeps `graph` (self-excluded, checked) and its rank table when complete.
std::unique_ptr<IndexedGraph> keep_graph(DistanceGraph graph, const Parallel& parallel) {
  auto data = std::make_unique<IndexedGraph>();
  const std::int64_t n = graph.n_queries();
  data->complete = graph.k() == n - 1 && n <= 65535;
  if (data->complete) data->ranks = build_rank_table(graph, parallel);
  data->graph = std::move(graph);
  return data;
}

class CountKeys final : public RowKeys {
 public:
  CountKeys(const IndexedGraph& indexed, const DistanceGraph& query, bool exact, std::int64_t keep)
      : indexed_(indexed), query_(query), exact_(exact), keep_(keep) {
    if (!exact_) mark_.assign(static_cast<std::size_t>(indexed.graph.n_queries()), -1);
  }

  void compute(std::int64_t row, double* key, double* /*second*/) override {
    if (exact_) {
      mp_counts_exact(indexed_.graph, indexed_.ranks, query_, row, keep_, query_ranks_, heap_, key);
    } else {
      mp_counts_candidates(indexed_.graph, query_, row, query_.self_excluded ? row : -1,
                           static_cast<double>(indexed_.graph.n_queries()), mark_, key);
    }
  }

 private:
  const IndexedGraph& indexed_;
  const DistanceGraph& query_;
  bool exact_;
  std::int64_t keep_;
  std::vector<std::uint16_t> query_ranks_;
  std::vector<double> heap_;
  std::vector<std::int32_t> mark_;
};

class CountScorer final : public QueryScorer {
 public:
  CountScorer(const IndexedGraph& indexed, const DistanceGraph& query, std::int64_t keep)
      : indexed_(indexed), query_(query), keep_(keep) {
    const std::int64_t n = indexed.graph.n_queries(), c = query.k();
    exact_ = indexed.complete && (query.self_excluded ? c == n - 1 : c == n);
  }
  // Small chunks for the O(n^2)-per-row exact count; for the candidate rule at
  // most ~128 chunks, since each allocates an n-entry marker array.
  std::int64_t chunk_rows() const override {
    return exact_ ? 16 : std::max<std::int64_t>(256, query_.n_queries() / 128);
  }
  std::unique_ptr<RowKeys> row_keys() const override {
    return std::make_unique<CountKeys>(indexed_, query_, exact_, keep_);
  }

 private:
  const IndexedGraph& indexed_;
  const DistanceGraph& query_;
  std::int64_t keep_;
  bool exact_ = false;
};

const IndexedGraph& indexed_graph(const HubnessReducer::State& state) {
  return static_cast<const IndexedGraph&>(*state.data);
}

class MutualProximity final : public ReductionMethod {
 public:
  std::int64_t default_k_local() const override { return 0; }
  bool keeps_statistic() const override { return false; }
  bool reads_k_local_columns() const override { return false; }

  void fit(std::string_view, const DistanceGraph& indexed, const VectorsRef&, const ReductionOptions& options,
           HubnessReducer::State& state) const override {
    state.data = keep_graph(indexed, options.parallel);
  }

  void save(ModelWriter& writer, const HubnessReducer::State& state) const override {
    const DistanceGraph& graph = indexed_graph(state).graph;
    writer.put("graph_ids", std::vector<std::int64_t>(graph.ids.data(), graph.ids.data() + graph.ids.size()));
    writer.put("graph_distances", MatrixView<double>(graph.distances));
  }

  void load(const ModelReader& reader, const ReductionOptions& options, HubnessReducer::State& state) const override {
    const std::string& path = reader.path();
    const auto n = static_cast<std::size_t>(state.n);
    DistanceGraph graph;
    const std::vector<std::int64_t> ids = reader.get_ints("graph_ids");
    graph.distances = reader.get_matrix("graph_distances");
    const std::int64_t c = graph.distances.cols();
    if (graph.distances.rows() != state.n || c < 1 || ids.size() != n * static_cast<std::size_t>(c))
      inconsistent_reducer(path, "the indexed graph");
    graph.ids = Eigen::Map<const IdMatrix>(ids.data(), state.n, c);
    graph.metric = state.metric;
    graph.self_excluded = true;
    try {
      check_distance_graph("HubnessReducer::load", "the indexed graph", graph, state.n);
    } catch (const Error& e) {
      inconsistent_reducer(path, e.what());
    }
    state.data = keep_graph(std::move(graph), options.parallel);
  }

  std::unique_ptr<QueryScorer> prepare(const QueryContext& query) const override {
    return std::make_unique<CountScorer>(indexed_graph(query.state), query.query, query.k);
  }

  bool exact_over_all(const HubnessReducer::State& state) const override {
    return state.data != nullptr && indexed_graph(state).complete;
  }
};

}  // namespace

const ReductionMethod& mutual_proximity_method() {
  static const MutualProximity method;
  return method;
}

}  // namespace latent::detail
