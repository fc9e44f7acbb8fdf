// Exact search: knn (a kNN graph or queries against a base), similarity matrices,
// the instruction-set switch, hyperbolic geometry (distances, kNN, norms and
// subsumption scores) and probabilistic embeddings (Gaussian divergences, KL
// search, von Mises-Fisher).
#include <pybind11/stl.h>

#include <optional>

#include "bindings.hpp"
#include "convert.hpp"
#include "latent/embedding.hpp"
#include "latent/kernels/isa.hpp"
#include "latent/similarity.hpp"

namespace latent::python {
namespace {

SearchOptions search_options(const std::optional<int>& threads, const std::string& zero_norm) {
  SearchOptions options;
  options.parallel = parallel_of(threads);
  options.zero_norm = parse_zero_norm_policy(zero_norm, "zero_norm");
  return options;
}

py::tuple knn_of(const py::object& base, const py::object& query, std::int64_t k, const std::string& metric_name,
                 const std::optional<int>& threads, const std::string& zero_norm, const py::object& allow_ids,
                 const py::object& deny_ids, const std::string& compute_name, std::int64_t rescore) {
  const Metric metric = parse_metric(metric_name, "metric");
  const SearchOptions options = search_options(threads, zero_norm);
  const ComputePrecision compute = parse_compute_precision(compute_name, "compute");
  if (compute != ComputePrecision::f32) {
    if (!allow_ids.is_none() || !deny_ids.is_none())
      throw InvalidArgument("compute: a bf16 or int8 search takes no allow_ids / deny_ids");
    const LowPrecisionOptions low{compute, rescore, options.parallel, options.zero_norm};
    const Matrix<float> b = as_matrix<float>(base, "base");
    if (query.is_none())
      return graph_tuple(without_gil([&] { return low_precision_knn_graph(b.view, k, metric, low); }));
    const Matrix<float> q = as_matrix<float>(query, "query");
    return graph_tuple(without_gil([&] { return low_precision_knn(q.view, b.view, k, metric, low); }));
  }
  if (rescore != 0) throw InvalidArgument("rescore: re-scores a compute='bf16' or 'int8' search");
  if (!allow_ids.is_none() && !deny_ids.is_none()) throw InvalidArgument("allow_ids: excludes deny_ids");
  std::optional<IdFilter> filter;
  if (!allow_ids.is_none()) filter = IdFilter::allow(as_ids(allow_ids, "allow_ids"));
  if (!deny_ids.is_none()) filter = IdFilter::deny(as_ids(deny_ids, "deny_ids"));
  if (filter && query.is_none()) throw InvalidArgument("allow_ids / deny_ids: filter a search with a query");
  return with_matrix(base, "base", [&](auto b) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(b.view.data)>>;
    if (query.is_none()) return graph_tuple(without_gil([&] { return knn_graph(b.view, k, metric, options); }));
    const Matrix<T> q = as_matrix<T>(query, "query");
    if (filter) return graph_tuple(without_gil([&] { return knn(q.view, b.view, k, metric, *filter, options); }));
    return graph_tuple(without_gil([&] { return knn(q.view, b.view, k, metric, options); }));
  });
}

py::object similarity_of(const py::object& query, const py::object& base, const std::string& metric_name,
                         const std::optional<int>& threads, const std::string& zero_norm) {
  const Metric metric = parse_metric(metric_name, "metric");
  const SearchOptions options = search_options(threads, zero_norm);
  return with_matrix(query, "query", [&](auto q) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(q.view.data)>>;
    const Matrix<T> b = base.is_none() ? q : as_matrix<T>(base, "base");
    return to_numpy(without_gil([&] { return similarity(q.view, b.view, metric, options); }));
  });
}

// Pairwise hyperbolic distances between query and base rows (base None: query itself).
template <class Fn>
py::object hyperbolic(const py::object& query, const py::object& base, double c, const std::optional<int>& threads,
                      Fn distances) {
  const Parallel parallel = parallel_of(threads);
  return with_matrix(query, "x", [&](auto q) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(q.view.data)>>;
    const Matrix<T> b = base.is_none() ? q : as_matrix<T>(base, "y");
    return to_numpy(without_gil([&] { return distances(q.view, b.view, c, parallel); }));
  });
}

HyperbolicEmbedding hyperbolic_space(const std::string& model, double c) {
  return {parse_hyperbolic_model(model, "model"), c};
}

// A copy of an array's rows (strided views included), for the containers that own them.
template <class T>
RowMatrix<T> owned(const py::object& array, const char* argument) {
  return as_matrix<T>(array, argument).view.map();
}

// Calls body(queries, base) with the Gaussians (mean, variance) of both sets in the
// precision of query_mean; base None: the queries again.
template <class Body>
py::object with_gaussians(const py::object& query_mean, const py::object& query_variance, const py::object& base_mean,
                          const py::object& base_variance, Body body) {
  return with_matrix(query_mean, "query_mean", [&](auto first) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(first.view.data)>>;
    const GaussianEmbedding<T> queries(owned<T>(query_mean, "query_mean"), owned<T>(query_variance, "query_variance"));
    if (base_mean.is_none()) return body(queries, queries);
    const GaussianEmbedding<T> base(owned<T>(base_mean, "base_mean"), owned<T>(base_variance, "base_variance"));
    return body(queries, base);
  });
}

}  // namespace

// A SparseGraph as (indptr, indices, data) arrays; latent/_graphs.py makes the
// scipy.sparse.csr_matrix.
py::tuple csr_tuple(SparseGraph&& graph) {
  return py::make_tuple(to_numpy(std::move(graph.offsets)), to_numpy(std::move(graph.ids)),
                        to_numpy(std::move(graph.scores)));
}

void bind_search(py::module_& m) {
  m.def("knn", &knn_of, py::arg("base"), py::arg("query") = py::none(), py::arg("k") = 10, py::arg("metric") = "cosine",
        py::arg("threads") = py::none(), py::arg("zero_norm") = "raise", py::arg("allow_ids") = py::none(),
        py::arg("deny_ids") = py::none(), py::arg("compute") = "f32", py::arg("rescore") = 0,
        R"doc(Exact k nearest neighbours (or, with compute, nearly exact and faster).

query None: the kNN graph of base, each row's own id left out (k < rows).
Otherwise the k nearest base rows of every query row. metric: cosine, ip, l2,
sqeuclidean, l1, linf or angular (1 - arccos(cosine) / pi). Returns (ids int64
[m x k], scores float32 [m x k]), nearest first, equal scores ordered by the
smaller id; scores are in the metric's units (cosine, ip and angular:
similarity, descending; the others: distance, ascending). zero_norm: "raise" (a
zero row under cosine or angular is an error) or "zero" (its cosine is 0). The query is converted to the base's precision.
allow_ids / deny_ids (with a query, one of them): only these base ids are
returned, or never these; equal to searching the rows let through.
compute: "f32" (exact), "bf16" or "int8": both sides converted once (cosine
and angular: their unit rows; int8 calibrated on the base's per-dimension
min and max, each query quantized to 8 bits) and searched on the CPU's bf16 /
int8 dot-product instructions, as float32 input; metrics cosine, ip, l2,
sqeuclidean, angular. rescore C (>= k): C candidates per row re-scored exactly
in float32, the best k kept.)doc");
  m.def("similarity", &similarity_of, py::arg("query"), py::arg("base") = py::none(), py::arg("metric") = "cosine",
        py::arg("threads") = py::none(), py::arg("zero_norm") = "raise",
        "The full [m x n] score matrix between query and base rows (base None: query itself), in the metric's "
        "units, in the query's precision.");

  m.def(
      "active_isa", [] { return std::string(kernels::to_string(kernels::active_isa())); },
      "The instruction set the kernels use now (scalar, avx2, avx512, ...).");
  m.def(
      "best_isa", [] { return std::string(kernels::to_string(kernels::best_isa())); },
      "The best instruction set this build and CPU support.");
  m.def(
      "set_isa", [](const std::string& name) { kernels::set_isa(kernels::parse_isa(name, "isa")); }, py::arg("isa"),
      "Switches every kernel to `isa` (as LATENT_ISA does); UnsupportedIsa if the CPU lacks it.");

  m.def(
      "_symmetric_knn_graph",
      [](const py::object& x, std::int64_t k, const std::string& metric_name, bool mutual,
         const std::optional<int>& threads) {
        const Metric metric = parse_metric(metric_name, "metric");
        const SearchOptions options = search_options(threads, "raise");
        return with_matrix(x, "x", [&](auto rows) {
          return csr_tuple(without_gil([&] {
            return symmetric_knn_graph(knn_graph(rows.view, k, metric, options),
                                       mutual ? Symmetry::mutual : Symmetry::either);
          }));
        });
      },
      py::arg("x"), py::arg("k"), py::arg("metric"), py::arg("mutual"), py::arg("threads") = py::none());
  m.def(
      "_epsilon_graph",
      [](const py::object& x, double epsilon, const std::string& metric_name, const std::optional<int>& threads) {
        const Metric metric = parse_metric(metric_name, "metric");
        const SearchOptions options = search_options(threads, "raise");
        return with_matrix(x, "x", [&](auto rows) {
          return csr_tuple(without_gil([&] { return epsilon_graph(rows.view, epsilon, metric, options); }));
        });
      },
      py::arg("x"), py::arg("epsilon"), py::arg("metric"), py::arg("threads") = py::none());

  m.def(
      "poincare_distances",
      [](const py::object& x, const py::object& y, double c, const std::optional<int>& threads) {
        return hyperbolic(x, y, c, threads, [](const auto& a, const auto& b, double cc, const Parallel& p) {
          return poincare_distances(a, b, cc, p);
        });
      },
      py::arg("x"), py::arg("y") = py::none(), py::arg("c") = 1.0, py::arg("threads") = py::none(),
      "Poincare-ball distances d(x_i, y_j) = arcosh(1 + 2c |x_i - y_j|^2 / ((1 - c |x_i|^2)(1 - c |y_j|^2))) / "
      "sqrt(c), [m x n].");
  m.def(
      "lorentz_distances",
      [](const py::object& x, const py::object& y, double c, const std::optional<int>& threads) {
        return hyperbolic(x, y, c, threads, [](const auto& a, const auto& b, double cc, const Parallel& p) {
          return lorentz_distances(a, b, cc, p);
        });
      },
      py::arg("x"), py::arg("y") = py::none(), py::arg("c") = 1.0, py::arg("threads") = py::none(),
      "Lorentz-hyperboloid distances from the space parts of the points, [m x n].");
  m.def(
      "lorentz_inner_products",
      [](const py::object& x, const py::object& y, double c, const std::optional<int>& threads) {
        return hyperbolic(x, y, c, threads, [](const auto& a, const auto& b, double cc, const Parallel& p) {
          return lorentz_inner_products(a, b, cc, p);
        });
      },
      py::arg("x"), py::arg("y") = py::none(), py::arg("c") = 1.0, py::arg("threads") = py::none(),
      "Lorentz inner products <x_i, y_j>_L = x_i . y_j - t(x_i) t(y_j), t(x) = sqrt(1/c + |x|^2), of the points "
      "whose space parts are the rows, [m x n] (always <= -1/c).");
  m.def(
      "mobius_add",
      [](const py::object& x, const py::object& y, double c, const std::optional<int>& threads) {
        return hyperbolic(x, y, c, threads, [](const auto& a, const auto& b, double cc, const Parallel& p) {
          return mobius_add(a, b, cc, p);
        });
      },
      py::arg("x"), py::arg("y"), py::arg("c") = 1.0, py::arg("threads") = py::none(),
      "Mobius addition in the Poincare ball, row by row (y: the rows of x, or one row added to each): "
      "((1 + 2c<x,y> + c|y|^2) x + (1 - c|x|^2) y) / (1 + 2c<x,y> + c^2 |x|^2 |y|^2).");
  m.def(
      "hyperbolic_knn",
      [](const py::object& base, const py::object& query, std::int64_t k, const std::string& model, double c,
         const std::optional<int>& threads) {
        const HyperbolicEmbedding space = hyperbolic_space(model, c);
        const SearchOptions options = search_options(threads, "raise");
        return with_matrix(base, "base", [&](auto b) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(b.view.data)>>;
          if (query.is_none())
            return graph_tuple(without_gil([&] { return hyperbolic_knn_graph(b.view, k, space, options); }));
          const Matrix<T> q = as_matrix<T>(query, "query");
          return graph_tuple(without_gil([&] { return hyperbolic_knn(q.view, b.view, k, space, options); }));
        });
      },
      py::arg("base"), py::arg("query") = py::none(), py::arg("k") = 10, py::arg("model") = "poincare",
      py::arg("c") = 1.0, py::arg("threads") = py::none(),
      R"doc(Exact k nearest neighbours in a hyperbolic space of curvature -c.

model "poincare": rows are points of the open ball |x| < 1/sqrt(c); "lorentz":
rows are the space components x of hyperboloid points (time sqrt(1/c + |x|^2)
implied). query None: the kNN graph of base, each row's own id left out.
Returns (ids int64 [m x k], distances float32 [m x k]), nearest first, equal
distances ordered by the smaller id. Runs as an inner-product search of
[-t_q, q] against [t_x, x] in double, re-scored with the stable distance and
certified exact (a query the rounding bound cannot certify is scanned).)doc");
  m.def(
      "hyperbolic_norms",
      [](const py::object& x, const std::string& model, double c, const std::optional<int>& threads) {
        const HyperbolicEmbedding space = hyperbolic_space(model, c);
        return with_matrix(x, "x", [&](auto rows) {
          return to_numpy(without_gil([&] { return hyperbolic_norms(rows.view, space, parallel_of(threads)); }));
        });
      },
      py::arg("x"), py::arg("model") = "poincare", py::arg("c") = 1.0, py::arg("threads") = py::none(),
      "The hyperbolic norm d_c(x, 0) of every row, a generality / depth score (specific concepts lie far "
      "out): Poincare (2/sqrt(c)) artanh(sqrt(c)|x|), Lorentz asinh(sqrt(c)|x|) / sqrt(c).");
  m.def(
      "subsumption_scores",
      [](const py::object& children, const py::object& parents, double lam, const std::string& model, double c,
         const std::optional<int>& threads) {
        const HyperbolicEmbedding space = hyperbolic_space(model, c);
        return with_matrix(children, "children", [&](auto rows) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(rows.view.data)>>;
          const Matrix<T> p = as_matrix<T>(parents, "parents");
          return to_numpy(
              without_gil([&] { return subsumption_scores(rows.view, p.view, space, lam, parallel_of(threads)); }));
        });
      },
      py::arg("children"), py::arg("parents"), py::arg("lam"), py::arg("model") = "poincare", py::arg("c") = 1.0,
      py::arg("threads") = py::none(),
      "HiT's subsumption score of each child row under its parent row (parents: the rows of children or one "
      "row): -(d_c(child, parent) + lam (|parent|_c - |child|_c)), |.|_c the hyperbolic norm.");
  const auto gaussian_matrix = [&m](const char* name, auto function, const char* doc) {
    m.def(
        name,
        [function](const py::object& qm, const py::object& qv, const py::object& bm, const py::object& bv,
                   const std::optional<int>& threads) {
          return with_gaussians(qm, qv, bm, bv, [&](const auto& q, const auto& b) {
            return to_numpy(without_gil([&] { return function(q, b, parallel_of(threads)); }));
          });
        },
        py::arg("query_mean"), py::arg("query_variance"), py::arg("base_mean") = py::none(),
        py::arg("base_variance") = py::none(), py::arg("threads") = py::none(), doc);
  };
  gaussian_matrix(
      "wasserstein2_distance",
      [](const auto& q, const auto& b, const Parallel& p) { return wasserstein2_distance(q, b, p); },
      "2-Wasserstein distances sqrt(|mu_q - mu_b|^2 + |sigma_q - sigma_b|^2) between diagonal Gaussians "
      "(rows: means and variances), float64 [m x n]; base None: the queries.");
  gaussian_matrix(
      "bhattacharyya_distance",
      [](const auto& q, const auto& b, const Parallel& p) { return bhattacharyya_distance(q, b, p); },
      "Bhattacharyya distances sum[(mu_q - mu_b)^2 / (4 (s_q + s_b)) + log((s_q + s_b) / (2 sqrt(s_q s_b))) / 2] "
      "between diagonal Gaussians, float64 [m x n].");
  gaussian_matrix(
      "expected_squared_distance",
      [](const auto& q, const auto& b, const Parallel& p) { return expected_squared_distance(q, b, p); },
      "E|z_q - z_b|^2 = |mu_q - mu_b|^2 + sum s_q + sum s_b, float64 [m x n].");
  m.def(
      "kl_divergence",
      [](const py::object& qm, const py::object& qv, const py::object& bm, const py::object& bv,
         const std::string& direction, const std::optional<int>& threads) {
        const KlDirection d = parse_kl_direction(direction, "direction");
        return with_gaussians(qm, qv, bm, bv, [&](const auto& q, const auto& b) {
          return to_numpy(without_gil([&] { return kl_divergence(q, b, d, parallel_of(threads)); }));
        });
      },
      py::arg("query_mean"), py::arg("query_variance"), py::arg("base_mean") = py::none(),
      py::arg("base_variance") = py::none(), py::arg("direction") = "forward", py::arg("threads") = py::none(),
      "KL divergences between diagonal Gaussians, float64 [m x n]: forward KL(q || b), reverse KL(b || q) or "
      "symmetric (their sum).");
  m.def(
      "match_probability",
      [](const py::object& qm, const py::object& qv, const py::object& bm, const py::object& bv, double scale,
         double shift, int samples, std::uint64_t seed, const std::optional<int>& threads) {
        const MatchProbabilityOptions options{scale, shift, samples, seed};
        return with_gaussians(qm, qv, bm, bv, [&](const auto& q, const auto& b) {
          return to_numpy(without_gil([&] { return match_probability(q, b, options, parallel_of(threads)); }));
        });
      },
      py::arg("query_mean"), py::arg("query_variance"), py::arg("base_mean") = py::none(),
      py::arg("base_variance") = py::none(), py::arg("scale") = 1.0, py::arg("shift") = 0.0, py::arg("samples") = 8,
      py::arg("seed") = 0, py::arg("threads") = py::none(),
      "Hedged Instance Embedding's match probability E sigmoid(-scale |z_q - z_b| + shift) over samples x "
      "samples seeded draws, float64 [m x n].");
  m.def(
      "kl_knn",
      [](const py::object& bm, const py::object& bv, const py::object& qm, const py::object& qv, std::int64_t k,
         const std::string& direction, const std::optional<int>& threads) {
        const KlDirection d = parse_kl_direction(direction, "direction");
        const SearchOptions options = search_options(threads, "raise");
        const bool graph = qm.is_none();
        return with_gaussians(graph ? bm : qm, graph ? bv : qv, graph ? py::none() : bm, graph ? py::none() : bv,
                              [&](const auto& q, const auto& b) {
                                if (graph)
                                  return graph_tuple(without_gil([&] { return kl_knn_graph(b, k, d, options); }));
                                return graph_tuple(without_gil([&] { return kl_knn(q, b, k, d, options); }));
                              });
      },
      py::arg("base_mean"), py::arg("base_variance"), py::arg("query_mean") = py::none(),
      py::arg("query_variance") = py::none(), py::arg("k") = 10, py::arg("direction") = "forward",
      py::arg("threads") = py::none(),
      "Exact k nearest diagonal Gaussians by KL divergence (the KL -> MIPS reduction, certified): (ids int64 "
      "[m x k], divergences float32 [m x k]), smallest first; query None: the graph of the base, self left out.");
  m.def(
      "vmf_kl_divergence",
      [](const py::object& qd, const py::object& qk, const py::object& bd, const py::object& bk,
         const std::optional<int>& threads) {
        return with_matrix(qd, "query_direction", [&](auto first) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(first.view.data)>>;
          const auto kappa = [](const py::object& values) { return values.cast<std::vector<T>>(); };
          const VmfEmbedding<T> q(owned<T>(qd, "query_direction"), kappa(qk));
          const VmfEmbedding<T> b = bd.is_none() ? q : VmfEmbedding<T>(owned<T>(bd, "base_direction"), kappa(bk));
          return to_numpy(without_gil([&] { return vmf_kl_divergence(q, b, parallel_of(threads)); }));
        });
      },
      py::arg("query_direction"), py::arg("query_kappa"), py::arg("base_direction") = py::none(),
      py::arg("base_kappa") = py::none(), py::arg("threads") = py::none(),
      "KL divergences between von Mises-Fisher distributions (mean directions, scaled to unit rows, and "
      "concentrations), float64 [m x n].");
  m.def("log_bessel_i", &log_bessel_i, py::arg("nu"), py::arg("x"),
        "log I_nu(x) of the modified Bessel function of the first kind, for any order and argument.");
  m.def("vmf_log_normalizer", &vmf_log_normalizer, py::arg("dim"), py::arg("kappa"),
        "log C_d(kappa) of the von Mises-Fisher density on the sphere S^(d-1).");
  m.def("vmf_mean_resultant_length", &vmf_mean_resultant_length, py::arg("dim"), py::arg("kappa"),
        "A_d(kappa) = I_(d/2)(kappa) / I_(d/2-1)(kappa), the expected cosine of a draw to the mean direction.");
  py::class_<SparseIndex>(m, "_SparseIndex")
      .def(py::init([](const py::object& indptr, const py::object& indices, const py::object& data, std::int64_t rows,
                       std::int64_t cols) { return SparseIndex(sparse_of(indptr, indices, data, rows, cols)); }))
      .def_property_readonly("rows", &SparseIndex::rows)
      .def_property_readonly("cols", &SparseIndex::cols)
      .def("search",
           [](const SparseIndex& index, const py::object& indptr, const py::object& indices, const py::object& data,
              std::int64_t rows, std::int64_t cols, std::int64_t k, const std::optional<int>& threads) {
             const SparseMatrix queries = sparse_of(indptr, indices, data, rows, cols);
             return graph_tuple(without_gil([&] { return index.search(queries, k, parallel_of(threads)); }));
           });
  const auto with_matrix_scores =
      [&m](const char* name,
           RowMatrixd (*score)(const MatrixView<float>&, const MatrixView<float>&, const MatrixView<double>&),
           const char* doc) {
        m.def(
            name,
            [score](const py::object& q, const py::object& b, const py::object& matrix) {
              const Matrix<float> x = as_matrix<float>(q, "queries"), y = as_matrix<float>(b, "base");
              const Matrix<double> w = as_matrix<double>(matrix, "matrix");
              return to_numpy(without_gil([&] { return score(x.view, y.view, w.view); }));
            },
            py::arg("queries"), py::arg("base"), py::arg("matrix"), doc);
      };
  with_matrix_scores("bilinear_scores", &bilinear_scores, "q_i^T M b_j for every pair, float64 [m x n].");
  with_matrix_scores("mahalanobis_distances", &mahalanobis_distances,
                     "sqrt((q_i - b_j)^T M (q_i - b_j)) for M symmetric positive semi-definite, float64 [m x n].");
  m.def(
      "softmax_scores",
      [](const py::object& q, const py::object& k, double temperature, const std::string& metric) {
        const Matrix<float> x = as_matrix<float>(q, "queries"), y = as_matrix<float>(k, "keys");
        const Metric parsed = parse_metric(metric, "metric");
        return to_numpy(without_gil([&] { return softmax_scores(x.view, y.view, temperature, parsed); }));
      },
      py::arg("queries"), py::arg("keys"), py::arg("temperature"), py::arg("metric") = "cosine",
      "Row-wise softmax of similarity / temperature, float64 [m x n].");
  m.def(
      "info_nce",
      [](const py::object& q, const py::object& k, double temperature, const std::string& metric) {
        const Matrix<float> x = as_matrix<float>(q, "queries"), y = as_matrix<float>(k, "keys");
        const Metric parsed = parse_metric(metric, "metric");
        return without_gil([&] { return info_nce(x.view, y.view, temperature, parsed); });
      },
      py::arg("queries"), py::arg("keys"), py::arg("temperature"), py::arg("metric") = "cosine",
      "InfoNCE of paired rows: mean over i of -log softmax(s_i / temperature)[i].");
  m.def(
      "mine_hard_negatives",
      [](const py::object& q, const py::object& corpus, const py::object& positives, std::int64_t count,
         std::int64_t rank_min, std::int64_t rank_max, const std::optional<double>& margin,
         const std::optional<double>& max_ratio, const std::string& metric, const std::optional<int>& threads) {
        const Matrix<float> x = as_matrix<float>(q, "queries"), c = as_matrix<float>(corpus, "corpus");
        std::vector<std::vector<std::int64_t>> lists;
        for (const py::handle row : positives) lists.push_back(as_ids(row, "positives"));
        HardNegativeOptions options;
        options.count = count;
        options.rank_min = rank_min;
        options.rank_max = rank_max;
        if (margin) options.margin = *margin;
        if (max_ratio) options.max_ratio = *max_ratio;
        options.metric = parse_metric(metric, "metric");
        options.parallel = parallel_of(threads);
        return to_numpy(without_gil([&] { return mine_hard_negatives(x.view, c.view, lists, options); }));
      },
      py::arg("queries"), py::arg("corpus"), py::arg("positives"), py::arg("count") = 1, py::arg("rank_min") = 0,
      py::arg("rank_max") = 100, py::arg("margin") = py::none(), py::arg("max_ratio") = py::none(),
      py::arg("metric") = "cosine", py::arg("threads") = py::none(),
      "Per query, the first `count` corpus ids of ranks [rank_min, rank_max) among the non-positives (and with "
      "margin, scored below the lowest positive minus margin; with max_ratio, at most max_ratio times it); int64 "
      "[m x count], -1 where fewer.");
}

}  // namespace latent::python
