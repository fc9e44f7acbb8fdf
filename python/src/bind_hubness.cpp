// Hubness: the measures of a kNN graph, the reduce-and-measure pipeline, and the
// reducer as a graph -> graph transform (the estimator layer wraps it).
#include <pybind11/stl.h>

#include <algorithm>
#include <variant>

#include "bindings.hpp"
#include "convert.hpp"
#include "latent/hubness.hpp"
#include "latent/metrics.hpp"

namespace latent::python {
namespace {

py::dict measures_dict(const HubnessMeasures& m) {
  py::dict out;
  out["k_skewness"] = m.k_skewness;
  out["robinhood"] = m.robinhood;
  out["antihub_occurrence"] = m.antihub_occurrence;
  out["hub_occurrence"] = m.hub_occurrence;
  out["gini"] = m.gini;
  out["atkinson"] = m.atkinson;
  out["groupie_ratio"] = m.groupie_ratio;
  return out;
}

// Candidates per row as the CLI counts them: k without a reduction, every other
// row for "all", else C raised to k and capped at n - 1.
std::int64_t candidate_count(const py::object& candidates, Reduction method, std::int64_t k, std::int64_t n) {
  if (method == Reduction::none) return k;
  if (py::isinstance<py::str>(candidates)) {
    if (candidates.cast<std::string>() != "all")
      throw InvalidArgument("candidates: must be a positive integer or 'all' (got '" + candidates.cast<std::string>() +
                            "')");
    return n - 1;
  }
  const auto asked = candidates.cast<std::int64_t>();
  if (asked < 1)
    throw InvalidArgument("candidates: must be a positive integer or 'all' (got " + std::to_string(asked) + ")");
  return std::min(std::max(asked, k), n - 1);
}

template <class T>
HubnessPipelineResult run_pipeline(const Matrix<T>& x, std::int64_t k, Metric metric, Reduction method,
                                   const py::object& candidates, const Parallel& parallel) {
  if (x.view.rows >= 2 && k >= x.view.rows)
    throw InvalidK("k: k=" + std::to_string(k) + " must be below the " + std::to_string(x.view.rows) +
                   " rows of x (self excluded)");
  HubnessPipelineOptions options;
  options.reduction.method = method;
  options.reduction.parallel = parallel;
  options.search.parallel = parallel;
  options.candidates = candidate_count(candidates, method, k, x.view.rows);
  return without_gil([&] { return reduce_hubness(x.view, k, metric, options); });
}

py::dict hubness_of(const py::object& x, std::int64_t k, const std::string& metric_name, const py::object& reduce,
                    const py::object& candidates, const py::object& labels, const std::optional<int>& threads) {
  const Metric metric = parse_metric(metric_name, "metric");
  const std::string reduce_name = reduce.is_none() ? "none" : reduce.cast<std::string>();
  const Reduction method = parse_reduction(reduce_name, "reduce");
  const Parallel parallel = parallel_of(threads);
  py::dict out;
  with_matrix(x, "x", [&](auto matrix) {
    const std::vector<std::int64_t> label_values =
        labels.is_none() ? std::vector<std::int64_t>{} : as_ids(labels, "labels");
    if (!labels.is_none() && static_cast<std::int64_t>(label_values.size()) != matrix.view.rows)
      throw DimensionMismatch("labels: needs one label per row of x (labels=" + std::to_string(label_values.size()) +
                              ", rows=" + std::to_string(matrix.view.rows) + ")");
    const HubnessPipelineResult result = run_pipeline(matrix, k, metric, method, candidates, parallel);
    const std::int64_t n = matrix.view.rows;
    out["n"] = n;
    out["dim"] = matrix.view.cols;
    out["k"] = k;
    out["metric"] = metric_name;
    out["reduce"] = reduce_name;
    out["candidates"] = result.candidates.k();
    out["exact"] = result.candidates.k() == n - 1;
    py::dict before = measures_dict(result.before), after = measures_dict(result.after);
    if (!label_values.empty()) {
      const IdMatrix top = result.candidates.ids.leftCols(k);
      before["knn_accuracy"] = without_gil([&] { return loo_knn_accuracy(top, label_values, 0, parallel); });
      after["knn_accuracy"] =
          without_gil([&] { return loo_knn_accuracy(result.reduced.ids, label_values, 0, parallel); });
    }
    out["before"] = before;
    if (method != Reduction::none) out["after"] = after;
    return py::none();
  });
  return out;
}

py::tuple reduce_hubness_of(const py::object& x, std::int64_t k, const std::string& metric_name,
                            const std::string& method_name, const py::object& candidates,
                            const std::optional<int>& threads) {
  const Metric metric = parse_metric(metric_name, "metric");
  const Reduction method = parse_reduction(method_name, "method");
  const Parallel parallel = parallel_of(threads);
  py::object out = with_matrix(x, "x", [&](auto matrix) {
    HubnessPipelineResult result = run_pipeline(matrix, k, metric, method, candidates, parallel);
    return py::make_tuple(to_numpy(std::move(result.reduced.ids)), to_numpy(std::move(result.reduced.distances)));
  });
  return out.cast<py::tuple>();
}

// The graph -> graph reducer over (ids, distances) pairs; the Python estimator
// converts scipy CSR graphs to and from them.
DistanceGraph distance_graph(const py::object& ids, const py::object& distances, const std::string& metric,
                             bool self_excluded) {
  DistanceGraph graph;
  graph.ids = as_id_matrix(ids, "ids");
  const Matrix<double> d = as_matrix<double>(distances, "distances");
  graph.distances = d.view.map();
  graph.metric = parse_metric(metric, "metric");
  graph.self_excluded = self_excluded;
  return graph;
}

py::tuple graph_pair(DistanceGraph&& graph) {
  return py::make_tuple(to_numpy(std::move(graph.ids)), to_numpy(std::move(graph.distances)));
}

void bind_reducer(py::module_& m) {
  py::class_<HubnessReducer>(m, "_HubnessReducer")
      .def(py::init(
               [](const std::string& method, std::int64_t k_local, double lc_gamma, const std::optional<int>& threads) {
                 ReductionOptions options;
                 options.method = parse_reduction(method, "method");
                 options.k_local = k_local;
                 options.lc_gamma = lc_gamma;
                 options.parallel = parallel_of(threads);
                 return HubnessReducer(options);
               }),
           py::arg("method"), py::arg("k_local") = 0, py::arg("lc_gamma") = 1.0, py::arg("threads") = py::none())
      .def(
          "fit",
          [](HubnessReducer& self, const py::object& ids, const py::object& distances, const std::string& metric,
             bool self_excluded, const py::object& vectors) {
            const DistanceGraph graph = distance_graph(ids, distances, metric, self_excluded);
            if (vectors.is_none()) {
              without_gil([&] { self.fit(graph); });
            } else {
              const Matrix<double> v = as_matrix<double>(vectors, "X");
              without_gil([&] { self.fit(graph, v.view); });
            }
          },
          py::arg("ids"), py::arg("distances"), py::arg("metric"), py::arg("self_excluded"),
          py::arg("vectors") = py::none())
      .def(
          "transform",
          [](const HubnessReducer& self, const py::object& ids, const py::object& distances, const std::string& metric,
             bool self_excluded, std::int64_t k, const py::object& vectors) {
            const DistanceGraph graph = distance_graph(ids, distances, metric, self_excluded);
            if (vectors.is_none()) return graph_pair(without_gil([&] { return self.transform(graph, k); }));
            const Matrix<double> v = as_matrix<double>(vectors, "X");
            return graph_pair(without_gil([&] { return self.transform(graph, v.view, k); }));
          },
          py::arg("ids"), py::arg("distances"), py::arg("metric"), py::arg("self_excluded"), py::arg("k") = 0,
          py::arg("vectors") = py::none())
      .def(
          "fit_transform",
          [](HubnessReducer& self, const py::object& ids, const py::object& distances, const std::string& metric,
             bool self_excluded, std::int64_t k, const py::object& vectors) {
            // One conversion of the graph for both steps (fit, then transform of the same rows).
            const DistanceGraph graph = distance_graph(ids, distances, metric, self_excluded);
            if (vectors.is_none()) return graph_pair(without_gil([&] { return self.fit_transform(graph, k); }));
            const Matrix<double> v = as_matrix<double>(vectors, "X");
            return graph_pair(without_gil([&] { return self.fit_transform(graph, v.view, k); }));
          },
          py::arg("ids"), py::arg("distances"), py::arg("metric"), py::arg("self_excluded"), py::arg("k") = 0,
          py::arg("vectors") = py::none())
      .def("is_fitted", &HubnessReducer::is_fitted);
}

}  // namespace

void bind_hubness(py::module_& m) {
  m.def("hubness", &hubness_of, py::arg("x"), py::arg("k") = 10, py::arg("metric") = "cosine",
        py::arg("reduce") = py::none(), py::arg("candidates") = 50, py::arg("labels") = py::none(),
        py::arg("threads") = py::none(),
        R"doc(Hubness of the self-excluded kNN graph of x, before and (with reduce) after a reduction.

Returns the dict of `latent hubness --json` without its timings: n, dim, k,
metric, reduce, candidates, exact, before and (with reduce) after, each a dict
of k_skewness (population skewness of N_k, the number of lists holding a point),
robinhood, antihub_occurrence, hub_occurrence (N_k >= 2k), gini, atkinson
(eps 0.5), groupie_ratio, and knn_accuracy (leave-one-out majority vote) when
labels are given. reduce: None, "mp", "mp-normal", "ls", "nicdm", "dsl", "dsg", "csls",
"lc". candidates: neighbours per row the reduction re-ranks (raised to k,
capped at n - 1) or "all".)doc");
  m.def("reduce_hubness", &reduce_hubness_of, py::arg("x"), py::arg("k") = 10, py::arg("metric") = "cosine",
        py::arg("method") = "mp", py::arg("candidates") = 50, py::arg("threads") = py::none(),
        "The reduced kNN graph of x: (ids int64 [n x k], secondary distances float64 [n x k]), nearest first. "
        "Candidates as in hubness().");
  m.def(
      "k_occurrence",
      [](const py::object& ids, std::int64_t n_indexed) {
        const IdMatrix graph = as_id_matrix(ids, "ids");
        return to_numpy(k_occurrence(graph, n_indexed));
      },
      py::arg("ids"), py::arg("n_indexed"), "N_k: how many rows of ids list each of the n_indexed points.");
  m.def(
      "select_hubs",
      [](const py::object& occurrence, std::int64_t threshold) {
        return to_numpy(select_hubs(as_ids(occurrence, "occurrence"), threshold));
      },
      py::arg("occurrence"), py::arg("threshold"),
      "Hub-prior sample selection: the ids (ascending) whose k-occurrence (k_occurrence) is >= threshold.");
  m.def(
      "hubness_measures",
      [](const py::object& ids, std::int64_t n_indexed, double hub_size, double atkinson_eps) {
        const IdMatrix graph = as_id_matrix(ids, "ids");
        return measures_dict(hubness_measures(graph, n_indexed, HubnessOptions{hub_size, atkinson_eps}));
      },
      py::arg("ids"), py::arg("n_indexed"), py::arg("hub_size") = 2.0, py::arg("atkinson_eps") = 0.5,
      "The hubness measures of neighbour lists (as in hubness()).");
  m.def(
      "csls_search",
      [](const py::object& source, const py::object& target, std::int64_t k, std::int64_t k_local,
         const std::optional<int>& threads) {
        SearchOptions options;
        options.parallel = parallel_of(threads);
        return with_matrix(target, "target", [&](auto t) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(t.view.data)>>;
          const Matrix<T> x = as_matrix<T>(source, "mapped_source");
          CslsMatches found = without_gil([&] { return csls_search(x.view, t.view, k, k_local, options); });
          return py::make_tuple(to_numpy(std::move(found.matches.ids)), to_numpy(std::move(found.matches.scores)));
        });
      },
      py::arg("mapped_source"), py::arg("target"), py::arg("k") = 10, py::arg("k_local") = 10,
      py::arg("threads") = py::none(),
      R"doc(Two-set CSLS retrieval (Conneau et al. 2018): for each row x of mapped_source
(source rows mapped into the target space), the k target rows y of largest
2 cos(x, y) - r_T(x) - r_S(y), with r_T(x) the mean cosine of x to its k_local
nearest targets and r_S(y) that of y to its k_local nearest sources. Returns
(ids int64 [m x k], scores float32 [m x k]), best first, ties to the smaller id.)doc");
  bind_reducer(m);
}

}  // namespace latent::python
