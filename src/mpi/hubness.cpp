// reduce_hubness over rows sharded across the ranks. Every number is computed by
// the single-process code on the same inputs, so the result is identical:
// - candidates: distributed_knn_graph with exact_candidate_graph's margin, then
//   the double distances of each (local row, candidate) pair while the blocks
//   pass on the ring, and the same re-ranking (hubness_detail.hpp);
// - reduction: each rank re-ranks its own rows with the method's keys. The keys
//   read per-point values of candidates other ranks own (a statistic, a spread,
//   DisSimLocal's r, mutual proximity's candidate list); each rank computes its
//   own points' values and sends those asked of it (fetch_by_owner, Alltoallv).
//   A batch of rows becomes a compact problem: the distinct ids it references,
//   renumbered in increasing order (so ties between ids break the same way);
// - measures: the k-occurrence counts summed over the ranks (n integers).
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../hubness/hubness_detail.hpp"
#include "../hubness/method.hpp"
#include "comm.hpp"
#include "latent/core/errors.hpp"
#include "latent/mpi.hpp"

namespace latent::mpi {
namespace {

constexpr const char* kFunction = "distributed_reduce_hubness";

using latent::detail::QueryScorer;
using latent::detail::ReductionMethod;
using latent::detail::RowKeys;

// ---------------------------------------------------------------- the candidate graph

// exact_candidate_graph of the local rows against the whole set: the float
// search with a margin, the double distance of every listed pair (computed when
// the candidate's block is in hand), then each row's first C by (distance, id).
DistanceGraph exact_candidates(MPI_Comm comm, const detail::Layout& layout, const MatrixView<float>& local,
                               std::int64_t candidates, Metric metric, const SearchOptions& search) {
  const std::int64_t wide = latent::detail::candidate_search_width(candidates, layout.total);
  const KnnGraph graph = distributed_knn_graph(comm, local, wide, metric, search);
  const std::int64_t rows = local.rows, dim = local.cols;
  const auto norm = [dim](const float* x) { return latent::detail::exact_norm(x, dim); };
  std::vector<double> own_norms, block_norms;
  if (is_directional(metric)) {
    own_norms.resize(static_cast<std::size_t>(rows));
    for (std::int64_t i = 0; i < rows; ++i) own_norms[static_cast<std::size_t>(i)] = norm(local.row(i));
  }
  RowMatrixd distances(rows, wide);
  detail::ring_pass(comm, layout, local, [&](const MatrixView<float>& block, int owner) {
    const RowBlock& b = layout.blocks[static_cast<std::size_t>(owner)];
    if (is_directional(metric)) {
      block_norms.resize(static_cast<std::size_t>(block.rows));
      for (std::int64_t j = 0; j < block.rows; ++j) block_norms[static_cast<std::size_t>(j)] = norm(block.row(j));
    }
    parallel_for(rows, 64, search.parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) {
        for (std::int64_t p = 0; p < wide; ++p) {
          const std::int64_t id = graph.ids(i, p);
          if (id < b.begin || id >= b.end()) continue;
          const bool cosine = is_directional(metric);
          distances(i, p) = latent::detail::exact_distance(
              local.row(i), block.row(id - b.begin), dim, metric, cosine ? own_norms[static_cast<std::size_t>(i)] : 0,
              cosine ? block_norms[static_cast<std::size_t>(id - b.begin)] : 0);
        }
      }
    });
  });
  DistanceGraph out;
  out.ids.resize(rows, candidates);
  out.distances.resize(rows, candidates);
  out.metric = metric;
  out.self_excluded = true;
  std::vector<std::int64_t> order;
  for (std::int64_t i = 0; i < rows; ++i) {
    latent::detail::keep_nearest_candidates(&graph.ids(i, 0), &distances(i, 0), wide, candidates, order, &out.ids(i, 0),
                                            &out.distances(i, 0));
  }
  return out;
}

// The measures of the whole set from the local lists: k-occurrences summed over the ranks.
HubnessMeasures whole_measures(MPI_Comm comm, const IdMatrix& ids, std::int64_t n, const HubnessOptions& options) {
  std::vector<std::int64_t> occurrence = k_occurrence(ids, n);
  detail::allreduce_sum(comm, occurrence);
  return hubness_measures(occurrence, ids.cols(), options);
}

// ---------------------------------------------------------------- DisSimLocal's r

// v of a row in double (x, or x / |x| under cosine), as the reducer forms it.
void dsl_vector(const float* x, std::int64_t dim, Metric metric, double* v) {
  for (std::int64_t t = 0; t < dim; ++t) v[t] = static_cast<double>(x[t]);
  if (metric == Metric::cosine) latent::detail::dsl_unit(latent::detail::dsl_norm(x, dim), dim, v);
}

// r_x of the local rows. The centroid's neighbours are chosen from the local
// lists; their vectors are copied out of the blocks as they pass on the ring
// ([rows x (k_local - 1) x dim] doubles) and added in the reducer's order.
std::vector<double> dsl_radii(MPI_Comm comm, const detail::Layout& layout, const MatrixView<float>& local,
                              const DistanceGraph& graph, std::int64_t k_local) {
  const std::int64_t rows = local.rows, dim = local.cols, c = graph.k(), need = k_local - 1;
  const Metric metric = graph.metric;
  std::vector<std::int64_t> nearest(static_cast<std::size_t>(rows * need));
  {
    std::vector<double> e(static_cast<std::size_t>(c));
    std::vector<std::pair<double, std::int64_t>> chosen;
    for (std::int64_t i = 0; i < rows; ++i) {
      for (std::int64_t p = 0; p < c; ++p)
        e[static_cast<std::size_t>(p)] = latent::detail::dsl_squared_distance(graph.distances(i, p), metric);
      latent::detail::dsl_nearest(&graph.ids(i, 0), e.data(), c, k_local, chosen);
      for (std::int64_t q = 0; q < need; ++q)
        nearest[static_cast<std::size_t>(i * need + q)] = chosen[static_cast<std::size_t>(q)].second;
    }
  }
  std::vector<double> neighbours(static_cast<std::size_t>(rows * need * dim));
  detail::ring_pass(comm, layout, local, [&](const MatrixView<float>& block, int owner) {
    const RowBlock& b = layout.blocks[static_cast<std::size_t>(owner)];
    for (std::size_t slot = 0; slot < nearest.size(); ++slot) {
      const std::int64_t id = nearest[slot];
      if (id >= b.begin && id < b.end())
        dsl_vector(block.row(id - b.begin), dim, metric, &neighbours[slot * static_cast<std::size_t>(dim)]);
    }
  });
  std::vector<double> radii(static_cast<std::size_t>(rows)), v(static_cast<std::size_t>(dim)),
      sum(static_cast<std::size_t>(dim));
  for (std::int64_t i = 0; i < rows; ++i) {
    dsl_vector(local.row(i), dim, metric, v.data());
    sum = v;
    for (std::int64_t q = 0; q < need; ++q) {
      const double* row = &neighbours[static_cast<std::size_t>((i * need + q) * dim)];
      for (std::int64_t t = 0; t < dim; ++t) sum[static_cast<std::size_t>(t)] += row[t];
    }
    radii[static_cast<std::size_t>(i)] = latent::detail::dsl_radius_of_sum(v.data(), sum.data(), dim, k_local);
  }
  return radii;
}

// ---------------------------------------------------------------- compact problems

// A batch of local rows renumbered: `ids` are the distinct global ids the rows
// and their candidates reference, increasing; `query` holds the rows with their
// candidates' compact ids; `self` each row's own compact id.
struct Compact {
  std::vector<std::int64_t> ids;
  DistanceGraph query;
  std::vector<std::int64_t> self;

  // The compact id of global `id`, or ids.size() when the batch does not reference it.
  std::int64_t index_of(std::int64_t id) const {
    const auto at = std::lower_bound(ids.begin(), ids.end(), id);
    return at != ids.end() && *at == id ? at - ids.begin() : static_cast<std::int64_t>(ids.size());
  }
};

Compact compact_batch(const DistanceGraph& graph, std::int64_t first_global, std::int64_t begin, std::int64_t end) {
  Compact out;
  const std::int64_t rows = end - begin, c = graph.k();
  out.ids.reserve(static_cast<std::size_t>(rows * (c + 1)));
  for (std::int64_t i = begin; i < end; ++i) {
    out.ids.push_back(first_global + i);
    out.ids.insert(out.ids.end(), &graph.ids(i, 0), &graph.ids(i, 0) + c);
  }
  std::sort(out.ids.begin(), out.ids.end());
  out.ids.erase(std::unique(out.ids.begin(), out.ids.end()), out.ids.end());
  out.query.ids.resize(rows, c);
  out.query.distances = graph.distances.middleRows(begin, rows);
  out.query.metric = graph.metric;
  out.query.self_excluded = false;  // rows are not numbered as the compact points
  out.self.resize(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) {
    out.self[static_cast<std::size_t>(i)] = out.index_of(first_global + begin + i);
    for (std::int64_t p = 0; p < c; ++p) out.query.ids(i, p) = out.index_of(graph.ids(begin + i, p));
  }
  return out;
}

// Mutual proximity (empiric) of compact rows: the candidate rule over the
// fetched lists of the referenced points, with 1 - c / n over the whole set.
class MpScorer final : public QueryScorer {
 public:
  MpScorer(const DistanceGraph& lists, const Compact& batch, double n) : lists_(lists), batch_(batch), n_(n) {}
  std::unique_ptr<RowKeys> row_keys() const override { return std::make_unique<Keys>(*this); }

 private:
  struct Keys final : RowKeys {
    explicit Keys(const MpScorer& owner)
        : scorer(owner), mark(static_cast<std::size_t>(owner.lists_.n_queries() + 1), -1) {}
    void compute(std::int64_t row, double* key, double* /*second*/) override {
      latent::detail::mp_counts_candidates(scorer.lists_, scorer.batch_.query, row,
                                           scorer.batch_.self[static_cast<std::size_t>(row)], scorer.n_, mark, key);
    }
    const MpScorer& scorer;
    std::vector<std::int32_t> mark;  // one entry per compact point and one for every other point
  };
  const DistanceGraph& lists_;
  const Compact& batch_;
  double n_;
};

// DisSimLocal of compact rows: e - r_x - r_y, ties broken by e.
struct DslKeys final : RowKeys {
  const Compact* batch = nullptr;
  const double* radius = nullptr;  // of the compact points
  void compute(std::int64_t row, double* key, double* second) override {
    const DistanceGraph& query = batch->query;
    const std::int64_t* ids = &query.ids(row, 0);
    const double* d = &query.distances(row, 0);
    const double own = radius[batch->self[static_cast<std::size_t>(row)]];
    for (std::int64_t p = 0; p < query.k(); ++p) {
      second[p] = latent::detail::dsl_squared_distance(d[p], query.metric);
      key[p] = second[p] - own - radius[ids[p]];
    }
  }
};

// The candidate lists of the compact points, fetched from their owners, ids
// renumbered (points the batch does not reference share the id ids.size()).
DistanceGraph fetch_lists(MPI_Comm comm, const detail::Layout& layout, const DistanceGraph& graph,
                          const Compact& batch) {
  const std::int64_t m = static_cast<std::int64_t>(batch.ids.size()), c = graph.k();
  const std::vector<std::int64_t> ids = detail::fetch_by_owner(comm, layout, batch.ids, graph.ids.data(), c);
  const std::vector<double> distances = detail::fetch_by_owner(comm, layout, batch.ids, graph.distances.data(), c);
  DistanceGraph lists;
  lists.ids.resize(m, c);
  lists.distances = Eigen::Map<const RowMatrixd>(distances.data(), m, c);
  lists.metric = graph.metric;
  for (std::int64_t q = 0; q < m * c; ++q) lists.ids.data()[q] = batch.index_of(ids[static_cast<std::size_t>(q)]);
  return lists;
}

// The per-point values the keys of `method` read for a candidate, of the local
// points ([rows x width], width 0 for mutual proximity, which reads lists).
std::vector<double> local_point_values(MPI_Comm comm, const detail::Layout& layout, const MatrixView<float>& local,
                                       const DistanceGraph& graph, std::int64_t k_local,
                                       const ReductionOptions& options, std::int64_t& width) {
  width = 0;
  if (options.method == Reduction::mutual_proximity) return {};
  width = 1;
  if (options.method == Reduction::dis_sim_local) return dsl_radii(comm, layout, local, graph, k_local);
  const ReductionMethod& method = latent::detail::reduction_method(options.method);
  HubnessReducer::State state;  // the method's fit over the local rows' lists
  state.n = graph.n_queries();
  state.k_local = k_local;
  state.metric = graph.metric;
  method.fit("HubnessReducer::fit", graph, {}, options, state);
  if (!method.keeps_spread()) return state.statistic;
  width = 2;
  std::vector<double> values(static_cast<std::size_t>(2 * state.n));
  for (std::size_t i = 0; i < state.statistic.size(); ++i) {
    values[2 * i] = state.statistic[i];
    values[2 * i + 1] = state.spread[i];
  }
  return values;
}

// The keys of one compact batch, re-ranked as transform does (compact ids).
DistanceGraph reduce_batch(MPI_Comm comm, const detail::Layout& layout, const DistanceGraph& graph,
                           const Compact& batch, const std::vector<double>& values, std::int64_t width, std::int64_t k,
                           std::int64_t k_local, const ReductionOptions& options) {
  const ReductionMethod& method = latent::detail::reduction_method(options.method);
  const bool empty = batch.query.n_queries() == 0;
  if (options.method == Reduction::mutual_proximity) {
    const DistanceGraph lists = fetch_lists(comm, layout, graph, batch);
    if (empty) return {};
    const MpScorer scorer(lists, batch, static_cast<double>(layout.total));
    return latent::detail::rank_by_keys(method, scorer, batch.query, k, options.parallel);
  }
  const std::vector<double> fetched = detail::fetch_by_owner(comm, layout, batch.ids, values.data(), width);
  if (empty) return {};
  if (options.method == Reduction::dis_sim_local) {
    DslKeys keys;
    keys.batch = &batch;
    keys.radius = fetched.data();
    const latent::detail::StatelessScorer<DslKeys> scorer(keys);
    return latent::detail::rank_by_keys(method, scorer, batch.query, k, options.parallel);
  }
  // The method's own keys over a state holding the compact points' statistics.
  HubnessReducer::State state;
  state.n = static_cast<std::int64_t>(batch.ids.size());
  state.k_local = k_local;
  state.metric = graph.metric;
  state.statistic.resize(batch.ids.size());
  if (width == 2) state.spread.resize(batch.ids.size());
  for (std::size_t q = 0; q < batch.ids.size(); ++q) {
    state.statistic[q] = fetched[q * static_cast<std::size_t>(width)];
    if (width == 2) state.spread[q] = fetched[2 * q + 1];
  }
  const std::unique_ptr<QueryScorer> scorer =
      method.prepare(latent::detail::QueryContext{state, options, batch.query, {}, k});
  return latent::detail::rank_by_keys(method, *scorer, batch.query, k, options.parallel);
}

// The reduced lists of the local rows. Mutual proximity fetches a C-wide list
// per referenced point, so its rows go in about C batches (O(rows x C) each).
DistanceGraph reduce_local_rows(MPI_Comm comm, const detail::Layout& layout, const MatrixView<float>& local,
                                const DistanceGraph& graph, std::int64_t k, std::int64_t k_local,
                                const ReductionOptions& options) {
  std::int64_t width = 0;
  std::vector<double> values;
  if (options.method == Reduction::dis_sim_local) {  // collective: the ring brings the neighbours' vectors
    values = local_point_values(comm, layout, local, graph, k_local, options, width);
  } else {
    collectively(comm, [&] { values = local_point_values(comm, layout, local, graph, k_local, options, width); });
  }
  const std::int64_t rows = graph.n_queries();
  const std::int64_t batches =
      options.method == Reduction::mutual_proximity ? std::min(graph.k(), layout.max_rows()) : 1;
  DistanceGraph out;
  out.ids.resize(rows, k);
  out.distances.resize(rows, k);
  out.metric = graph.metric;
  out.self_excluded = true;
  for (std::int64_t t = 0; t < batches; ++t) {
    const RowBlock part = row_block(rows, static_cast<int>(t), static_cast<int>(batches));
    const Compact batch = compact_batch(graph, layout.local().begin, part.begin, part.end());
    const DistanceGraph reduced = reduce_batch(comm, layout, graph, batch, values, width, k, k_local, options);
    for (std::int64_t i = 0; i < part.rows; ++i) {
      for (std::int64_t p = 0; p < k; ++p) {
        out.ids(part.begin + i, p) = batch.ids[static_cast<std::size_t>(reduced.ids(i, p))];
        out.distances(part.begin + i, p) = reduced.distances(i, p);
      }
    }
  }
  return out;
}

}  // namespace

HubnessPipelineResult distributed_reduce_hubness(MPI_Comm comm, const MatrixView<float>& local_rows, std::int64_t k,
                                                 Metric metric, const HubnessPipelineOptions& options) {
  const ReductionMethod& method = latent::detail::reduction_method(options.reduction.method);
  detail::Layout layout;
  std::int64_t candidates = 0, k_local = 0;
  // Checks of arguments every rank sees alike (they fail on every rank alike).
  collectively(comm, [&] {
    layout = detail::checked_layout(comm, local_rows.rows, local_rows.cols, k, true, kFunction, "local_rows");
    candidates = options.candidates;
    if (candidates <= 0 || candidates >= layout.total - 1) {
      raise<InvalidArgument>(
          kFunction, "options.candidates",
          "must be in [1, n - 2]: the complete graph (0 or n - 1 candidates) needs O(n^2) "
          "memory, use reduce_hubness in one process",
          "candidates=" + std::to_string(options.candidates) + ", n=" + std::to_string(layout.total));
    }
    if (k > candidates) {
      raise<InvalidK>(kFunction, "k", "exceeds the candidates",
                      "k=" + std::to_string(k) + ", candidates=" + std::to_string(candidates));
    }
    if (metric == Metric::ip) {
      raise<InvalidArgument>(kFunction, "metric",
                             "ip is not a distance (use cosine, angular, l2, sqeuclidean, l1, linf)");
    }
    if (options.reduction.method == Reduction::dis_sim_global) {
      raise<InvalidArgument>(kFunction, "options.reduction.method",
                             "dsg (DisSimGlobal) runs in one process: its dataset mean would be summed in "
                             "another order across ranks");
    }
    k_local = HubnessReducer(options.reduction).k_local();
    if (options.reduction.method != Reduction::none) {
      DistanceGraph shape;
      shape.metric = metric;
      method.check_fit("HubnessReducer::fit", shape, latent::detail::VectorsRef{&local_rows, nullptr});
      if (k_local > candidates) {
        raise<InvalidK>("HubnessReducer::fit", "k_local", "exceeds the candidates per row of the graph",
                        "k_local=" + std::to_string(k_local) + ", candidates=" + std::to_string(candidates));
      }
    }
  });
  HubnessPipelineResult result;
  result.candidates = exact_candidates(comm, layout, local_rows, candidates, metric, options.search);
  result.before = whole_measures(comm, result.candidates.ids.leftCols(k).eval(), layout.total, options.measures);
  if (options.reduction.method == Reduction::none) {
    result.reduced = keep_top(result.candidates, k);
  } else {
    result.reduced = reduce_local_rows(comm, layout, local_rows, result.candidates, k, k_local, options.reduction);
  }
  result.after = whole_measures(comm, result.reduced.ids, layout.total, options.measures);
  return result;
}

}  // namespace latent::mpi
