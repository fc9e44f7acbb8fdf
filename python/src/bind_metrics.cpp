// Evaluation: kNN classification, retrieval metrics, neighbour recall, rank and
// linear correlation, alignment / uniformity, effective rank, the comparison of
// two spaces (CKA, RSA, CCA family, feature matching), LiDAR and collapse, and
// clustering agreement.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "latent/metrics.hpp"

namespace latent::python {
namespace {

// One list of ids (or gains) per query: a list of sequences or a 2-D array.
template <class T>
std::vector<std::vector<T>> ragged(const py::object& rows, const char* argument) {
  std::vector<std::vector<T>> out;
  if (!py::isinstance<py::sequence>(rows) && !py::isinstance<py::array>(rows))
    throw InvalidArgument(std::string(argument) + ": expected one sequence per query");
  for (const py::handle row : rows) {
    if (py::isinstance<py::int_>(row) || py::isinstance<py::float_>(row))
      throw InvalidArgument(std::string(argument) + ": expected one sequence per query (got a number)");
    if constexpr (std::is_same_v<T, std::int64_t>) {
      out.push_back(as_ids(row, argument));
    } else {
      out.push_back(as_doubles(py::array_t<double>::ensure(row), argument));
    }
  }
  return out;
}

py::dict report_dict(ClassificationReport&& report) {
  py::dict out;
  out["accuracy"] = report.accuracy;
  out["classes"] = to_numpy(std::move(report.classes));
  out["confusion"] = to_numpy(std::move(report.confusion));
  out["per_class_accuracy"] = to_numpy(std::move(report.per_class_accuracy));
  return out;
}

// A float64 input is classified in double, anything else in float32.
template <class Work>
py::object on_rows(const py::object& x, Work&& work) {
  return with_matrix(x, "x", [&](auto rows) { return work(rows.view); });
}

}  // namespace

void bind_metrics(py::module_& m) {
  m.def(
      "classification_report",
      [](const py::object& truth, const py::object& predicted) {
        return report_dict(classification_report(as_ids(truth, "truth"), as_ids(predicted, "predicted")));
      },
      py::arg("truth"), py::arg("predicted"),
      R"doc(Accuracy and confusion matrix of predicted labels against true ones.

Returns {"accuracy", "classes" (the distinct labels of both, ascending),
"confusion" ([C x C] int64: row = true class, column = predicted class, as
sklearn.metrics.confusion_matrix), "per_class_accuracy" (the recall of each
class; NaN for a class that is only ever predicted)}.)doc");
  py::class_<PrototypeClassifier>(m, "PrototypeClassifier",
                                  R"doc(Nearest class mean (prototype) classifier, as sklearn's NearestCentroid.

fit keeps the mean of each label's rows (summed in double); predict gives each
row the label of its nearest mean under metric: "cosine" (default), "l2" or
"sqeuclidean"; ties to the smaller label. float64 rows are classified in double.)doc")
      .def(py::init([](const std::string& metric) { return PrototypeClassifier(parse_metric(metric, "metric")); }),
           py::arg("metric") = "cosine")
      .def(
          "fit",
          [](PrototypeClassifier& self, const py::object& x, const py::object& labels) -> PrototypeClassifier& {
            const std::vector<std::int64_t> y = as_ids(labels, "labels");
            on_rows(x, [&](const auto& rows) {
              without_gil([&] { self.fit(rows, y); });
              return py::none();
            });
            return self;
          },
          py::arg("x"), py::arg("labels"), py::return_value_policy::reference_internal)
      .def(
          "predict",
          [](const PrototypeClassifier& self, const py::object& x, const std::optional<int>& threads) {
            const Parallel parallel = parallel_of(threads);
            return on_rows(x, [&](const auto& rows) {
              return to_numpy(without_gil([&] { return self.predict(rows, parallel); }));
            });
          },
          py::arg("x"), py::arg("threads") = py::none())
      .def(
          "score",
          [](const PrototypeClassifier& self, const py::object& x, const py::object& labels,
             const std::optional<int>& threads) {
            const std::vector<std::int64_t> y = as_ids(labels, "labels");
            const Parallel parallel = parallel_of(threads);
            return on_rows(x, [&](const auto& rows) {
              return report_dict(without_gil([&] { return self.score(rows, y, parallel); }));
            });
          },
          py::arg("x"), py::arg("labels"), py::arg("threads") = py::none(),
          "classification_report(labels, predict(x)).")
      .def("is_fitted", &PrototypeClassifier::is_fitted)
      .def_property_readonly("metric",
                             [](const PrototypeClassifier& self) { return std::string(to_string(self.metric())); })
      .def_property_readonly("classes_", [](const PrototypeClassifier& self) { return copy_to_numpy(self.classes()); })
      .def_property_readonly("prototypes_",
                             [](const PrototypeClassifier& self) { return copy_to_numpy(self.prototypes()); });
  m.def(
      "zero_shot_predict",
      [](const py::object& x, const py::object& class_embeddings, const std::string& metric,
         const py::object& class_labels, const std::optional<int>& threads) {
        const Metric parsed = parse_metric(metric, "metric");
        const std::vector<std::int64_t> labels =
            class_labels.is_none() ? std::vector<std::int64_t>{} : as_ids(class_labels, "class_labels");
        const Parallel parallel = parallel_of(threads);
        return on_rows(x, [&](const auto& rows) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(rows.data)>>;
          const Matrix<T> classes = as_matrix<T>(class_embeddings, "class_embeddings");
          return to_numpy(without_gil([&] { return zero_shot_predict(rows, classes.view, parsed, labels, parallel); }));
        });
      },
      py::arg("x"), py::arg("class_embeddings"), py::arg("metric") = "cosine", py::arg("class_labels") = py::none(),
      py::arg("threads") = py::none(),
      R"doc(Zero-shot classification (as CLIP's): the index of each row's nearest class
embedding (rows of class_embeddings [C x d], e.g. encoded prompts; cosine by
default, ties to the smaller index), or class_labels[index] when given.)doc");

  m.def(
      "retrieval_scores",
      [](const py::object& ids, const py::object& relevant, std::int64_t k, const py::object& gains) {
        const IdMatrix retrieved = as_id_matrix(ids, "ids");
        Relevance relevance;
        relevance.ids = ragged<std::int64_t>(relevant, "relevant");
        if (!gains.is_none()) relevance.gains = ragged<double>(gains, "gains");
        const RetrievalScores s = without_gil([&] { return retrieval_scores(retrieved, relevance, k); });
        py::dict out;
        out["k"] = s.k;
        out["queries"] = s.queries;
        out["skipped"] = s.skipped;
        out["recall"] = s.recall;
        out["precision"] = s.precision;
        out["mrr"] = s.mrr;
        out["ndcg"] = s.ndcg;
        out["map"] = s.map;
        out["hit@k"] = s.hit;
        out["r_precision"] = s.r_precision;
        out["median_rank"] = s.median_rank;
        out["mean_rank"] = s.mean_rank;
        out["unranked"] = s.unranked;
        return out;
      },
      py::arg("ids"), py::arg("relevant"), py::arg("k"), py::arg("gains") = py::none(),
      R"doc(Retrieval metrics at cut-off k of ranked ids [n_queries x K] (nearest first).

relevant: one sequence of relevant ids per query; gains (optional, same shape):
graded relevance for nDCG. Averages over the queries with a relevant id
(others counted in "skipped"): recall = hits / |relevant|, precision = hits / k,
mrr = 1 / rank of the first hit, ndcg = DCG / IDCG (gain / log2(rank + 1)),
map = sum of precision@r over relevant ranks / min(k, |relevant|),
hit@k = share of queries with a hit in the top k. Over all K columns:
r_precision = hits in the first R = |relevant| / R; median_rank and mean_rank
of the 1-based rank of the first relevant id (K + 1 when none is listed;
those queries are counted in "unranked").)doc");
  m.def(
      "knn_accuracy",
      [](const py::object& ids, const py::object& labels, const py::object& query_labels, std::int64_t k,
         const std::optional<int>& threads) {
        const IdMatrix neighbours = as_id_matrix(ids, "ids");
        const std::vector<std::int64_t> y = as_ids(labels, "labels");
        const Parallel parallel = parallel_of(threads);
        if (query_labels.is_none()) return without_gil([&] { return loo_knn_accuracy(neighbours, y, k, parallel); });
        const std::vector<std::int64_t> q = as_ids(query_labels, "query_labels");
        return without_gil([&] { return knn_accuracy(neighbours, y, q, k, parallel); });
      },
      py::arg("ids"), py::arg("labels"), py::arg("query_labels") = py::none(), py::arg("k") = 0,
      py::arg("threads") = py::none(),
      "Share of rows whose majority vote over their first k neighbours (0: all; ties to the nearest) equals "
      "their label. query_labels None: leave-one-out on a self-excluded graph of the labelled rows.");
  m.def(
      "knn_predict",
      [](const py::object& ids, const py::object& labels, std::int64_t k, const py::object& distances,
         const std::optional<int>& threads) {
        const IdMatrix neighbours = as_id_matrix(ids, "ids");
        const std::vector<std::int64_t> y = as_ids(labels, "labels");
        const Parallel parallel = parallel_of(threads);
        if (distances.is_none()) return to_numpy(without_gil([&] { return knn_predict(neighbours, y, k, parallel); }));
        const RowMatrixd d = as_matrix<double>(distances, "distances").view.map();
        return to_numpy(without_gil([&] { return knn_predict_weighted(neighbours, d, y, k, parallel); }));
      },
      py::arg("ids"), py::arg("labels"), py::arg("k") = 0, py::arg("distances") = py::none(),
      py::arg("threads") = py::none(),
      R"doc(k-NN classification from neighbour lists ids [m x K] (first k columns, 0: all;
id -1 does not vote): the class of each row's majority vote (ties to the nearest
tied neighbour), or with distances [m x K] (>= 0; a cosine graph's 1 - scores) the
distance-weighted vote of scikit-learn's weights="distance": weight 1/d, and only
the neighbours at distance 0 when there are any. int64 [m]; -1 for a row without
neighbours.)doc");
  m.def(
      "knn_regress",
      [](const py::object& ids, const py::object& targets, std::int64_t k, const py::object& distances,
         const std::optional<int>& threads) {
        const IdMatrix neighbours = as_id_matrix(ids, "ids");
        py::array values = py::array::ensure(targets);
        const bool vector = values && values.ndim() == 1;
        const Matrix<double> t = as_matrix<double>(vector ? values.attr("reshape")(-1, 1) : targets, "targets");
        const Parallel parallel = parallel_of(threads);
        RowMatrixd d;
        if (!distances.is_none()) d = as_matrix<double>(distances, "distances").view.map();
        RowMatrixd out = without_gil(
            [&] { return knn_regress(neighbours, t.view, k, distances.is_none() ? nullptr : &d, parallel); });
        py::object result = to_numpy(std::move(out));
        return vector ? result.attr("reshape")(-1) : result;
      },
      py::arg("ids"), py::arg("targets"), py::arg("k") = 0, py::arg("distances") = py::none(),
      py::arg("threads") = py::none(),
      R"doc(k-NN regression (decoding): the mean of the targets (rows [n x t], or values
[n]) of each row's first k neighbours, or their 1/d-weighted mean with distances
(scikit-learn's KNeighborsRegressor(weights="distance")). float64, the shape of
targets with one row per row of ids; NaN for a row without neighbours.)doc");
  m.def(
      "neighbor_recall",
      [](const py::object& found, const py::object& exact, std::int64_t k) {
        return neighbor_recall(as_id_matrix(found, "found"), as_id_matrix(exact, "exact"), k);
      },
      py::arg("found"), py::arg("exact"), py::arg("k"),
      "Mean share of the first k exact neighbours found among the first k found ones (recall@k).");
  m.def(
      "pearson",
      [](const py::object& x, const py::object& y) { return pearson(as_doubles(x, "x"), as_doubles(y, "y")); },
      py::arg("x"), py::arg("y"), "Pearson correlation.");
  m.def(
      "spearman",
      [](const py::object& x, const py::object& y) { return spearman(as_doubles(x, "x"), as_doubles(y, "y")); },
      py::arg("x"), py::arg("y"), "Spearman rank correlation (average ranks for ties, as scipy.stats.spearmanr).");
  m.def(
      "alignment",
      [](const py::object& a, const py::object& b, double alpha) {
        const Matrix<float> x = as_matrix<float>(a, "a"), y = as_matrix<float>(b, "b");
        return without_gil([&] { return alignment(x.view, y.view, alpha); });
      },
      py::arg("a"), py::arg("b"), py::arg("alpha") = 2.0,
      "Alignment (Wang & Isola): mean |a_i - b_i|^alpha over positive pairs (rows i).");
  m.def(
      "uniformity",
      [](const py::object& x, double t, const std::optional<int>& threads) {
        const Matrix<float> rows = as_matrix<float>(x, "x");
        const Parallel parallel = parallel_of(threads);
        return without_gil([&] { return uniformity(rows.view, t, parallel); });
      },
      py::arg("x"), py::arg("t") = 2.0, py::arg("threads") = py::none(),
      "Uniformity (Wang & Isola): log mean over pairs i < j of exp(-t |x_i - x_j|^2).");
  m.def(
      "effective_rank",
      [](const py::object& singular_values) { return effective_rank(as_doubles(singular_values, "singular_values")); },
      py::arg("singular_values"), "RankMe: exp of the entropy of the normalised singular values.");
  m.def(
      "linear_cka",
      [](const py::object& a, const py::object& b) {
        return with_matrix(a, "a", [&](auto x) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(x.view.data)>>;
          const Matrix<T> y = as_matrix<T>(b, "b");
          return py::float_(without_gil([&] { return linear_cka(x.view, y.view); }));
        });
      },
      py::arg("a"), py::arg("b"),
      "Linear CKA of the centred rows: |Yc^T Xc|_F^2 / (|Xc^T Xc|_F |Yc^T Yc|_F); rows are the same items.");
  const auto two_spaces = [&m](const char* name, double (*measure)(const MatrixView<float>&, const MatrixView<float>&),
                               const char* doc) {
    m.def(
        name,
        [measure](const py::object& a, const py::object& b) {
          const Matrix<float> x = as_matrix<float>(a, "a"), y = as_matrix<float>(b, "b");
          return without_gil([&] { return measure(x.view, y.view); });
        },
        py::arg("a"), py::arg("b"), doc);
  };
  two_spaces("rbf_cka", &rbf_cka,
             "RBF-kernel CKA, K = exp(-d^2 / (2 sigma^2)) with sigma the median pairwise distance of each space; "
             "O(n^2) memory: pass a sample of rows.");
  two_spaces("rsa", &rsa,
             "Representational similarity: Spearman correlation of the upper triangles of the cosine-distance "
             "matrices of a and b.");
  two_spaces("affine_r2", &affine_r2, "R^2 of the least-squares affine map from a to b, total over b's dimensions.");
  m.def(
      "silhouette",
      [](const py::object& x, const py::object& labels, const std::string& metric, const std::optional<int>& threads) {
        const Matrix<float> rows = as_matrix<float>(x, "x");
        const std::vector<std::int64_t> y = as_ids(labels, "labels");
        const Metric parsed = parse_metric(metric, "metric");
        const Parallel parallel = parallel_of(threads);
        return without_gil([&] { return silhouette(rows.view, y, parsed, parallel); });
      },
      py::arg("x"), py::arg("labels"), py::arg("metric") = "cosine", py::arg("threads") = py::none(),
      "Mean silhouette of the labels (scikit-learn's silhouette_score), distance 1 - cos or l2.");
  m.def(
      "minibatch_cka",
      [](const py::object& a, const py::object& b, std::int64_t batch_size, std::uint64_t seed) {
        const Matrix<float> x = as_matrix<float>(a, "a"), y = as_matrix<float>(b, "b");
        return without_gil([&] { return minibatch_cka(x.view, y.view, batch_size, seed); });
      },
      py::arg("a"), py::arg("b"), py::arg("batch_size") = 1000, py::arg("seed") = 0,
      "Minibatch linear CKA (Nguyen et al. 2021): unbiased HSIC averaged over batches of rows shuffled by seed "
      "(a last, smaller batch is dropped).");
  m.def(
      "canonical_correlations",
      [](const py::object& a, const py::object& b) {
        const Matrix<float> x = as_matrix<float>(a, "a"), y = as_matrix<float>(b, "b");
        return to_numpy(without_gil([&] { return canonical_correlations(x.view, y.view); }));
      },
      py::arg("a"), py::arg("b"), "Canonical correlations (CCA) of the centred rows, largest first, float64.");
  m.def(
      "svcca",
      [](const py::object& a, const py::object& b, double variance) {
        const Matrix<float> x = as_matrix<float>(a, "a"), y = as_matrix<float>(b, "b");
        return without_gil([&] { return svcca(x.view, y.view, variance); });
      },
      py::arg("a"), py::arg("b"), py::arg("variance") = 0.99,
      "SVCCA: mean canonical correlation after keeping the top principal directions that explain `variance` of "
      "each space's variance (1: plain mean CCA).");
  two_spaces("pwcca", &pwcca,
             "Projection-weighted CCA (Morcos et al. 2018): canonical correlations weighted by the variates' "
             "projections onto the centred units of the space of fewer dimensions.");
  m.def(
      "match_features",
      [](const py::object& a, const py::object& b, bool one_to_one) {
        const Matrix<float> x = as_matrix<float>(a, "a"), y = as_matrix<float>(b, "b");
        FeatureMatching result = without_gil([&] { return match_features(x.view, y.view, one_to_one); });
        return py::make_tuple(to_numpy(std::move(result.match)), to_numpy(std::move(result.correlation)),
                              result.mean_correlation);
      },
      py::arg("a"), py::arg("b"), py::arg("one_to_one") = true,
      "Matches a's units (columns) to b's by Pearson correlation over the rows: one-to-one (Hungarian, largest "
      "total) or each to its best (argmax). Returns (match int64 [d_a], -1 if unmatched; correlation [d_a x d_b]; "
      "mean matched correlation).");
  m.def(
      "lidar",
      [](const py::object& x, const py::object& labels, double delta, double epsilon) {
        const Matrix<float> rows = as_matrix<float>(x, "x");
        const std::vector<std::int64_t> y = as_ids(labels, "labels");
        return without_gil([&] { return lidar(rows.view, y, delta, epsilon); });
      },
      py::arg("x"), py::arg("labels"), py::arg("delta") = 1e-4, py::arg("epsilon") = 1e-8,
      "LiDAR (Thilak et al. 2023): effective rank of S_w^-1/2 S_b S_w^-1/2 for the labelled rows.");
  m.def(
      "collapse_diagnostics",
      [](const py::object& x, double active_threshold) {
        const Matrix<float> rows = as_matrix<float>(x, "x");
        CollapseDiagnostics d = without_gil([&] { return collapse_diagnostics(rows.view, active_threshold); });
        py::dict out;
        out["std"] = to_numpy(std::move(d.std));
        out["min_std"] = d.min_std;
        out["mean_std"] = d.mean_std;
        out["vicreg_variance"] = d.vicreg_variance;
        out["vicreg_covariance"] = d.vicreg_covariance;
        out["active_units"] = d.active_units;
        out["rankme"] = d.rankme;
        return out;
      },
      py::arg("x"), py::arg("active_threshold") = 0.01,
      "Collapse diagnostics: per-dimension std (divisor n - 1), VICReg variance and covariance terms, active units "
      "(variance > active_threshold) and RankMe.");
  m.def(
      "linear_assignment",
      [](const py::object& cost, bool maximize) {
        const Matrix<double> c = as_matrix<double>(cost, "cost");
        const RowMatrixd owned = c.view.map();
        return to_numpy(without_gil([&] { return linear_assignment(owned, maximize); }));
      },
      py::arg("cost"), py::arg("maximize") = false,
      "Minimum-cost (or maximum with maximize) one-to-one assignment, as scipy's linear_sum_assignment: per row, "
      "its column or -1.");
  const auto agreement = [&m](const char* name,
                              double (*measure)(const std::vector<std::int64_t>&, const std::vector<std::int64_t>&),
                              const char* doc) {
    m.def(
        name,
        [measure](const py::object& truth, const py::object& predicted) {
          return measure(as_ids(truth, "truth"), as_ids(predicted, "predicted"));
        },
        py::arg("truth"), py::arg("predicted"), doc);
  };
  agreement("normalized_mutual_info", &normalized_mutual_info,
            "NMI with the arithmetic mean of the entropies (scikit-learn's default).");
  agreement("adjusted_rand_index", &adjusted_rand_index, "Adjusted Rand index (Hubert & Arabie).");
  agreement("cluster_accuracy", &cluster_accuracy,
            "Share of rows in agreement under the best one-to-one map of clusters to labels (Hungarian).");
  py::class_<RidgeProbe>(m, "RidgeProbe",
                         R"doc(A closed-form ridge linear probe (scikit-learn's RidgeClassifier).

fit(x, labels) with the constructor's alpha, or fit_cv(x, labels, alphas,
folds=5) choosing alpha by k-fold accuracy (fold f: rows i % folds == f; the
smallest alpha among the best); predict(x), score(x, labels) as
classification_report; alpha, cv_accuracy, classes, weights [d x C], bias.)doc")
      .def(py::init<double>(), py::arg("alpha") = 1.0)
      .def(
          "fit",
          [](RidgeProbe& self, const py::object& x, const py::object& labels) -> RidgeProbe& {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            const std::vector<std::int64_t> y = as_ids(labels, "labels");
            return without_gil([&]() -> RidgeProbe& { return self.fit(rows.view, y); });
          },
          py::arg("x"), py::arg("labels"), py::return_value_policy::reference_internal)
      .def(
          "fit_cv",
          [](RidgeProbe& self, const py::object& x, const py::object& labels, const std::vector<double>& alphas,
             std::int64_t folds) -> RidgeProbe& {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            const std::vector<std::int64_t> y = as_ids(labels, "labels");
            return without_gil([&]() -> RidgeProbe& { return self.fit_cv(rows.view, y, alphas, folds); });
          },
          py::arg("x"), py::arg("labels"), py::arg("alphas"), py::arg("folds") = 5,
          py::return_value_policy::reference_internal)
      .def(
          "predict",
          [](const RidgeProbe& self, const py::object& x) {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            return to_numpy(without_gil([&] { return self.predict(rows.view); }));
          },
          py::arg("x"))
      .def(
          "score",
          [](const RidgeProbe& self, const py::object& x, const py::object& labels) {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            const std::vector<std::int64_t> y = as_ids(labels, "labels");
            return report_dict(without_gil([&] { return self.score(rows.view, y); }));
          },
          py::arg("x"), py::arg("labels"))
      .def_property_readonly("alpha", &RidgeProbe::alpha)
      .def_property_readonly("cv_accuracy", [](const RidgeProbe& self) { return copy_to_numpy(self.cv_accuracy()); })
      .def_property_readonly("classes", [](const RidgeProbe& self) { return copy_to_numpy(self.classes()); })
      .def_property_readonly("weights", [](const RidgeProbe& self) { return copy_to_numpy(self.weights()); })
      .def_property_readonly("bias", [](const RidgeProbe& self) { return copy_to_numpy(self.bias()); });
  m.def(
      "conse_predict",
      [](const py::object& probabilities, const py::object& seen, const py::object& unseen, std::int64_t top) {
        const Matrix<double> p = as_matrix<double>(probabilities, "probabilities");
        const Matrix<float> s = as_matrix<float>(seen, "seen_embeddings"),
                            u = as_matrix<float>(unseen, "unseen_embeddings");
        return to_numpy(without_gil([&] { return conse_predict(p.view, s.view, u.view, top); }));
      },
      py::arg("probabilities"), py::arg("seen_embeddings"), py::arg("unseen_embeddings"), py::arg("top") = 10,
      "ConSE: the unseen class nearest (cosine) to the probability-weighted mean of the top seen classes' "
      "embeddings; int64 [n] indices into unseen_embeddings.");
  m.def(
      "solve_analogies",
      [](const py::object& vectors, const py::object& questions, const std::string& method,
         const std::optional<int>& threads) {
        const Matrix<float> v = as_matrix<float>(vectors, "vectors");
        const IdMatrix q = as_id_matrix(questions, "questions");
        const AnalogyMethod parsed = parse_analogy_method(method, "method");
        const Parallel parallel = parallel_of(threads);
        return to_numpy(without_gil([&] { return solve_analogies(v.view, q, parsed, parallel); }));
      },
      py::arg("vectors"), py::arg("questions"), py::arg("method") = "3cosadd", py::arg("threads") = py::none(),
      "a : b :: c : ? for each row (a, b, c) of questions: the best id other than a, b, c by 3CosAdd or 3CosMul.");
  m.def(
      "weat",
      [](const py::object& x, const py::object& y, const py::object& a, const py::object& b, std::int64_t permutations,
         std::uint64_t seed) {
        const Matrix<float> mx = as_matrix<float>(x, "x"), my = as_matrix<float>(y, "y"), ma = as_matrix<float>(a, "a"),
                            mb = as_matrix<float>(b, "b");
        const WeatResult r = without_gil([&] { return weat(mx.view, my.view, ma.view, mb.view, permutations, seed); });
        py::dict out;
        out["effect_size"] = r.effect_size;
        out["statistic"] = r.statistic;
        out["p_value"] = r.p_value;
        out["partitions"] = r.partitions;
        out["exact"] = r.exact;
        return out;
      },
      py::arg("x"), py::arg("y"), py::arg("a"), py::arg("b"), py::arg("permutations") = 10000, py::arg("seed") = 0,
      "WEAT effect size, statistic and one-sided permutation p-value of targets x, y and attributes a, b.");
  m.def(
      "evalrank",
      [](const py::object& vectors, const py::object& pairs, const std::optional<int>& threads) {
        const Matrix<float> v = as_matrix<float>(vectors, "vectors");
        const IdMatrix p = as_id_matrix(pairs, "pairs");
        const Parallel parallel = parallel_of(threads);
        const EvalRankScores r = without_gil([&] { return evalrank(v.view, p, parallel); });
        py::dict out;
        out["mrr"] = r.mrr;
        out["hits1"] = r.hits1;
        out["hits3"] = r.hits3;
        out["pairs"] = r.pairs;
        return out;
      },
      py::arg("vectors"), py::arg("pairs"), py::arg("threads") = py::none(),
      "EvalRank: MRR, Hits@1, Hits@3 of each pair's second row among all rows by cosine to its first.");
  m.def(
      "renyi_entropy",
      [](const py::object& x, double alpha, bool normalize_rows) {
        const Matrix<float> rows = as_matrix<float>(x, "x");
        return without_gil([&] { return renyi_entropy(rows.view, alpha, normalize_rows); });
      },
      py::arg("x"), py::arg("alpha") = 1.0, py::arg("normalize_rows") = false,
      "Matrix-based Renyi alpha-entropy of the Gram matrix Z Z^T / trace (natural log; alpha 1: von Neumann); "
      "normalize_rows: of the L2-normalised rows.");
  m.def(
      "trajectory_curvature",
      [](const py::object& x) {
        const Matrix<float> rows = as_matrix<float>(x, "x");
        return without_gil([&] { return trajectory_curvature(rows.view); });
      },
      py::arg("x"), "Mean angle (radians) between consecutive steps of the rows taken as a path.");
}

}  // namespace latent::python
