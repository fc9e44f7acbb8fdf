// Anchors, relative projections, latent translation and the cross-space scores.
// Model classes are bound once per precision, like whitening's.
#include <pybind11/stl.h>

#include <cmath>

#include "bindings.hpp"
#include "convert.hpp"
#include "fitted.hpp"
#include "latent/relative.hpp"

namespace latent::python {
namespace {

RelativeOptions relative_options(const std::vector<std::string>& similarities, double p, const std::string& pre,
                                 const std::string& post, bool normalize_blocks, const std::string& aggregate,
                                 const std::string& zero_norm, double rcond, const std::optional<int>& threads) {
  RelativeOptions options;
  options.similarities.clear();
  for (const std::string& name : similarities)
    options.similarities.push_back(parse_relative_similarity(name, "similarity"));
  options.p = p;
  options.pre = parse_pre_transform(pre, "pre");
  options.post = parse_post_transform(post, "post");
  options.normalize_blocks = normalize_blocks;
  options.aggregation = parse_aggregation(aggregate, "aggregate");
  options.zero_norm = parse_zero_norm_policy(zero_norm, "zero_norm");
  options.rcond = rcond;
  options.parallel = parallel_of(threads);
  return options;
}

TranslationOptions translation_options(const std::string& method, bool scale, bool proper_rotation, double alpha,
                                       bool standardize, double rcond, const std::optional<int>& threads) {
  TranslationOptions options;
  options.method = parse_translation_method(method, "method");
  options.scale = scale;
  options.proper_rotation = proper_rotation;
  options.alpha = alpha;
  options.standardize = standardize;
  options.rcond = rcond;
  options.parallel = parallel_of(threads);
  return options;
}

template <class T>
void bind_relative_models(py::module_& m) {
  using Projection = RelativeProjection<T>;
  py::class_<Projection> projection(m, typed_name<T>("_RelativeProjection").c_str());
  projection.def(py::init([](const std::vector<std::string>& similarities, double p, const std::string& pre,
                             const std::string& post, bool normalize_blocks, const std::string& aggregate,
                             const std::string& zero_norm, double rcond, const std::optional<int>& threads) {
                   return Projection(relative_options(similarities, p, pre, post, normalize_blocks, aggregate,
                                                      zero_norm, rcond, threads));
                 }),
                 py::arg("similarities"), py::arg("p"), py::arg("pre"), py::arg("post"), py::arg("normalize_blocks"),
                 py::arg("aggregate"), py::arg("zero_norm"), py::arg("rcond"), py::arg("threads"));
  bind_fitted_methods<Projection, T>(projection);
  projection
      .def(
          "fit_ids",
          [](Projection& self, const py::object& x, const py::object& anchor_ids) -> Projection& {
            const Matrix<T> rows = as_matrix<T>(x, "x");
            const std::vector<std::int64_t> ids = as_ids(anchor_ids, "anchors");
            return without_gil([&]() -> Projection& { return self.fit(rows.view, ids); });
          },
          py::arg("x"), py::arg("anchor_ids"), py::return_value_policy::reference_internal)
      .def_property_readonly("anchors", [](const Projection& self) { return copy_to_numpy(self.anchors()); })
      .def_property_readonly("output_dim", &Projection::output_dim);

  using Map = LinearMap<T>;
  py::class_<Map>(m, typed_name<T>("_LinearMap").c_str())
      .def(py::init([](const py::object& matrix, const py::object& bias, const std::optional<int>& threads) {
             const Matrix<double> w = as_matrix<double>(matrix, "matrix");
             const std::vector<double> b = bias.is_none() ? std::vector<double>{} : as_doubles(bias, "bias");
             return Map(w.view, b, parallel_of(threads));
           }),
           py::arg("matrix"), py::arg("bias") = py::none(), py::arg("threads") = py::none())
      .def(
          "transform",
          [](const Map& self, const py::object& x) {
            const Matrix<T> rows = as_matrix<T>(x, "x");
            return to_numpy(without_gil([&] { return self.transform(rows.view); }));
          },
          py::arg("x"))
      .def(
          "save", [](const Map& self, const std::filesystem::path& path) { self.save(path.string()); }, py::arg("path"))
      .def_static(
          "load", [](const std::filesystem::path& path) { return Map::load(path.string()); }, py::arg("path"))
      .def_property_readonly("matrix", [](const Map& self) { return copy_to_numpy(self.matrix()); })
      .def_property_readonly("bias", [](const Map& self) { return copy_to_numpy(self.bias()); });

  using Translator = LatentTranslator<T>;
  py::class_<Translator> translator(m, typed_name<T>("_LatentTranslator").c_str());
  translator
      .def(py::init([](const std::string& method, bool scale, bool proper_rotation, double alpha, bool standardize,
                       double rcond, const std::optional<int>& threads) {
             return Translator(translation_options(method, scale, proper_rotation, alpha, standardize, rcond, threads));
           }),
           py::arg("method"), py::arg("scale"), py::arg("proper_rotation"), py::arg("alpha"), py::arg("standardize"),
           py::arg("rcond"), py::arg("threads"))
      .def(
          "fit",
          [](Translator& self, const py::object& source, const py::object& target,
             const py::object& ids) -> Translator& {
            const Matrix<T> s = as_matrix<T>(source, "source");
            const Matrix<T> t = as_matrix<T>(target, "target");
            if (ids.is_none()) return without_gil([&]() -> Translator& { return self.fit(s.view, t.view); });
            const std::vector<std::int64_t> pairs = as_ids(ids, "ids");
            return without_gil([&]() -> Translator& { return self.fit(s.view, t.view, pairs); });
          },
          py::arg("source"), py::arg("target"), py::arg("ids") = py::none(),
          py::return_value_policy::reference_internal)
      .def(
          "transform",
          [](const Translator& self, const py::object& x) {
            const Matrix<T> rows = as_matrix<T>(x, "x");
            return to_numpy(without_gil([&] { return self.transform(rows.view); }));
          },
          py::arg("x"))
      .def(
          "save",
          [](const Translator& self, const std::filesystem::path& path) {
            without_gil([&] { self.save(path.string()); });
          },
          py::arg("path"))
      .def_static(
          "load",
          [](const std::filesystem::path& path) {
            return without_gil([&] { return Translator::load(path.string()); });
          },
          py::arg("path"))
      .def("is_fitted", &Translator::is_fitted)
      .def("linear_map", &Translator::linear_map)
      .def_property_readonly("dtype", [](const Translator&) { return py::dtype::of<T>(); })
      .def_property_readonly("matrix", [](const Translator& self) { return copy_to_numpy(self.matrix()); })
      .def_property_readonly("input_shift", [](const Translator& self) { return copy_to_numpy(self.input_shift()); })
      .def_property_readonly("output_shift", [](const Translator& self) { return copy_to_numpy(self.output_shift()); })
      .def_property_readonly("rotation", [](const Translator& self) { return copy_to_numpy(self.rotation()); })
      .def_property_readonly("singular_values",
                             [](const Translator& self) { return copy_to_numpy(self.singular_values()); });
}

py::dict scores_dict(const CrossSpaceScores& s) {
  // NaN (a score that does not apply, e.g. cross-space cosines of different dims) is None, as in the CLI's JSON.
  const auto value = [](double v) { return std::isfinite(v) ? py::object(py::float_(v)) : py::object(py::none()); };
  py::dict out;
  out["jaccard"] = value(s.jaccard);
  out["mrr"] = value(s.mrr);
  out["top1"] = value(s.top1);
  out["mean_rank"] = value(s.mean_rank);
  out["mean_cos"] = value(s.mean_cos);
  out["cka"] = value(s.cka);
  return out;
}

}  // namespace

void bind_relative(py::module_& m) {
  bind_relative_models<float>(m);
  bind_relative_models<double>(m);

  m.def(
      "select_anchors",
      [](const py::object& x, std::int64_t count, const std::string& method, std::uint64_t seed,
         const py::object& labels, std::int64_t kmeans_iterations, const std::optional<int>& threads) {
        AnchorOptions options;
        options.method = parse_anchor_method(method, "method");
        options.seed = seed;
        options.kmeans_iterations = kmeans_iterations;
        options.parallel = parallel_of(threads);
        return with_matrix(x, "x", [&](auto rows) {
          if (labels.is_none()) return to_numpy(without_gil([&] { return select_anchors(rows.view, count, options); }));
          const std::vector<std::int64_t> y = as_ids(labels, "labels");
          return to_numpy(without_gil([&] { return select_anchors_stratified(rows.view, y, count, options); }));
        });
      },
      py::arg("x"), py::arg("count"), py::arg("method") = "uniform", py::arg("seed") = 0,
      py::arg("labels") = py::none(), py::arg("kmeans_iterations") = 25, py::arg("threads") = py::none(),
      R"doc(Row ids (int64) of `count` distinct anchors among the rows of x.

method: "uniform" (seeded draw, increasing ids), "first" (rows 0..count-1),
"farthest-point" (greedy, l2), "kmeans++" (D^2 seeding) or "kmeans" (the rows
nearest the Lloyd centroids). labels: draw in proportion to each class.
Deterministic for a given seed.)doc");

  m.def(
      "compare_spaces",
      [](const py::object& a, const py::object& b, std::int64_t k, const std::string& rank_metric, bool jaccard,
         bool cka, const std::optional<int>& threads) {
        CompareOptions options;
        options.k = k;
        options.rank_metric = parse_metric(rank_metric, "rank_metric");
        options.jaccard = jaccard;
        options.cka = cka;
        options.parallel = parallel_of(threads);
        return with_matrix(a, "a", [&](auto left) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(left.view.data)>>;
          const Matrix<T> right = as_matrix<T>(b, "b");
          return scores_dict(without_gil([&] { return compare_spaces(left.view, right.view, options); }));
        });
      },
      py::arg("a"), py::arg("b"), py::arg("k") = 10, py::arg("rank_metric") = "cosine", py::arg("jaccard") = true,
      py::arg("cka") = true, py::arg("threads") = py::none(),
      R"doc(How well the same items agree across two spaces (row i of a and b is one item).

Returns a dict: jaccard (mean Jaccard overlap of the k-NN sets, cosine), mrr,
top1 and mean_rank of each row's counterpart among all rows of b, mean_cos
(mean cos(a_i, b_i)) and cka (linear CKA of the centred rows). Scores that do
not apply (cross-space cosines when the dims differ) are None.)doc");

  m.def(
      "stitching_accuracy",
      [](const py::object& source, const py::object& target, const py::object& labels, const py::object& anchors,
         const py::object& train, const py::object& test, const std::string& method, const std::string& translation,
         const std::vector<std::string>& similarities) {
        const Matrix<float> a = as_matrix<float>(source, "source"), b = as_matrix<float>(target, "target");
        StitchingOptions options;
        options.method = parse_stitch_method(method, "method");
        options.translation.method = parse_translation_method(translation, "translation");
        options.relative.similarities.clear();
        for (const std::string& name : similarities)
          options.relative.similarities.push_back(parse_relative_similarity(name, "similarity"));
        const std::vector<std::int64_t> y = as_ids(labels, "labels"), anchor_ids = as_ids(anchors, "anchors"),
                                        train_ids = as_ids(train, "train"), test_ids = as_ids(test, "test");
        const StitchingResult result = without_gil(
            [&] { return stitching_accuracy(a.view, b.view, y, anchor_ids, train_ids, test_ids, options); });
        return py::make_tuple(result.accuracy, result.target_accuracy);
      },
      py::arg("source"), py::arg("target"), py::arg("labels"), py::arg("anchors"), py::arg("train"), py::arg("test"),
      py::arg("method") = "translation", py::arg("translation") = "procrustes",
      py::arg("similarity") = std::vector<std::string>{"cosine"},
      R"doc(Zero-shot stitching: (accuracy, target_accuracy).

A nearest-class-mean head (cosine) is fitted on target rows `train` with their
labels; source rows `test` reach it through method "translation" (a
LatentTranslator of kind `translation` fitted on the `anchors` row pairs) or
"relative" (both spaces as relative representations to their own anchors,
similarity `similarity`); accuracy is the share of them labelled right, and
target_accuracy the head's on the target's own test rows.)doc");
}

}  // namespace latent::python
