// Whitening (PCA/BERT, ZCA, shrinkage), all-but-the-top, centering,
// standardization, f-norm and the isotropy measures. The model classes are bound
// once per precision (_Whitening_float32, _Whitening_float64, ...); the
// estimators of the package pick one by the dtype they are fitted on.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "fitted.hpp"
#include "latent/whitening.hpp"

namespace latent::python {
namespace {

template <class T>
void bind_whitening_models(py::module_& m) {
  py::class_<Whitening<T>> whitening(m, typed_name<T>("_Whitening").c_str());
  whitening.def(py::init([](const std::string& method, std::int64_t dim, double variance, bool center, bool normalize,
                            const std::string& covariance, const std::string& shrinkage, double alpha, double epsilon,
                            const std::optional<int>& threads) {
                  WhiteningOptions options;
                  options.method = parse_whitening_method(method, "method");
                  options.dim = dim;
                  options.variance = variance;
                  options.center = center;
                  options.normalize = normalize;
                  options.covariance = parse_covariance_convention(covariance, "covariance");
                  options.shrinkage = parse_shrinkage(shrinkage, "shrinkage");
                  options.alpha = alpha;
                  options.epsilon = epsilon;
                  options.parallel = parallel_of(threads);
                  return Whitening<T>(options);
                }),
                py::arg("method"), py::arg("dim"), py::arg("variance"), py::arg("center"), py::arg("normalize"),
                py::arg("covariance"), py::arg("shrinkage"), py::arg("alpha"), py::arg("epsilon"), py::arg("threads"));
  bind_fitted_methods<Whitening<T>, T>(whitening);
  bind_partial_fit<Whitening<T>, T>(whitening);
  bind_inverse_transform<Whitening<T>, T>(whitening);
  whitening.def_property_readonly("mean", [](const Whitening<T>& w) { return copy_to_numpy(w.mean()); })
      .def_property_readonly("eigenvalues", [](const Whitening<T>& w) { return copy_to_numpy(w.eigenvalues()); })
      .def_property_readonly("eigenvectors", [](const Whitening<T>& w) { return copy_to_numpy(w.eigenvectors()); })
      .def_property_readonly("matrix", [](const Whitening<T>& w) { return copy_to_numpy(w.matrix()); })
      .def_property_readonly("n_samples", &Whitening<T>::n_samples)
      .def_property_readonly("n_floored", &Whitening<T>::n_floored)
      .def_property_readonly("eigenvalue_floor", &Whitening<T>::eigenvalue_floor)
      .def_property_readonly("shrinkage_intensity", &Whitening<T>::shrinkage_intensity)
      .def_property_readonly("params", [](const Whitening<T>& w) {
        const WhiteningOptions& o = w.options();
        py::dict params;
        params["method"] = std::string(to_string(o.method));
        params["dim"] = o.dim == 0 ? py::object(py::none()) : py::object(py::int_(o.dim));
        params["variance"] = o.variance == 0 ? py::object(py::none()) : py::object(py::float_(o.variance));
        params["center"] = o.center;
        params["normalize"] = o.normalize;
        params["covariance"] = std::string(to_string(o.covariance));
        params["shrinkage"] = o.shrinkage == Shrinkage::none ? py::object(py::none())
                                                             : py::object(py::str(std::string(to_string(o.shrinkage))));
        params["alpha"] = o.alpha;
        params["epsilon"] = o.epsilon;
        return params;
      });

  py::class_<AllButTheTop<T>> top(m, typed_name<T>("_AllButTheTop").c_str());
  top.def(py::init([](std::int64_t components, const std::optional<int>& threads) {
            return AllButTheTop<T>(AllButTheTopOptions{components, parallel_of(threads)});
          }),
          py::arg("components"), py::arg("threads"));
  bind_fitted_methods<AllButTheTop<T>, T>(top);
  bind_partial_fit<AllButTheTop<T>, T>(top);
  top.def_property_readonly("mean", [](const AllButTheTop<T>& a) { return copy_to_numpy(a.mean()); })
      .def_property_readonly("directions", [](const AllButTheTop<T>& a) { return copy_to_numpy(a.directions()); });

  py::class_<Centering<T>> centering(m, typed_name<T>("_Centering").c_str());
  centering.def(py::init<>());
  bind_fitted_methods<Centering<T>, T>(centering);
  bind_partial_fit<Centering<T>, T>(centering);
  bind_inverse_transform<Centering<T>, T>(centering);
  centering.def_property_readonly("mean", [](const Centering<T>& c) { return copy_to_numpy(c.mean()); });

  py::class_<Standardizer<T>> standardizer(m, typed_name<T>("_Standardizer").c_str());
  standardizer.def(py::init<>());
  bind_fitted_methods<Standardizer<T>, T>(standardizer);
  bind_partial_fit<Standardizer<T>, T>(standardizer);
  bind_inverse_transform<Standardizer<T>, T>(standardizer);
  standardizer.def_property_readonly("mean", [](const Standardizer<T>& s) { return copy_to_numpy(s.mean()); })
      .def_property_readonly("scale", [](const Standardizer<T>& s) { return copy_to_numpy(s.scale()); });

  py::class_<FNorm<T>> fnorm(m, typed_name<T>("_FNorm").c_str());
  fnorm.def(py::init([](const std::optional<int>& threads) { return FNorm<T>(parallel_of(threads)); }),
            py::arg("threads"));
  bind_fitted_methods<FNorm<T>, T>(fnorm);
}

py::dict isotropy_dict(const IsotropyReport& r) {
  py::dict out;
  out["rows"] = r.rows;
  out["dim"] = r.dim;
  out["eigenvalues"] = copy_to_numpy(r.eigenvalues);
  out["explained_variance_ratio"] = copy_to_numpy(r.explained_variance_ratio);
  out["components_90"] = r.components_90;
  out["components_99"] = r.components_99;
  out["average_cosine"] = r.average_cosine;
  out["partition_isotropy"] = r.partition_isotropy;
  out["effective_rank"] = r.effective_rank;
  return out;
}

}  // namespace

void bind_whitening(py::module_& m) {
  bind_whitening_models<float>(m);
  bind_whitening_models<double>(m);
  m.def(
      "isotropy",
      [](const py::object& x, const std::optional<int>& threads) {
        const Parallel parallel = parallel_of(threads);
        return with_matrix(x, "x", [&](auto matrix) {
          return isotropy_dict(without_gil([&] { return isotropy(matrix.view, parallel); }));
        });
      },
      py::arg("x"), py::arg("threads") = py::none(),
      R"doc(Isotropy measures of the rows of x (dict): eigenvalues of the covariance (descending)
and their explained_variance_ratio, components_90 / components_99 (components
reaching 90% / 99% of the variance), average_cosine (mean cosine over pairs
i != j), partition_isotropy (min_c Z(c) / max_c Z(c), Z(c) = sum_i exp(c . x_i),
c over the eigenvectors of X^T X and their negatives; 1 = isotropic) and
effective_rank (exp of the entropy of the normalised singular values of X).)doc");
  m.def(
      "average_cosine",
      [](const py::object& x) {
        return with_matrix(
            x, "x", [&](auto matrix) { return py::float_(without_gil([&] { return average_cosine(matrix.view); })); });
      },
      py::arg("x"), "Mean cosine similarity over all pairs of distinct rows.");
}

}  // namespace latent::python
