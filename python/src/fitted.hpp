// The methods every fitted transform of the library shares (Whitening,
// AllButTheTop, Centering, Standardizer, FNorm, RelativeProjection), bound once:
// fit, partial_fit (where the model has it), transform, fit_transform, save,
// load, is_fitted. Inputs of the other float precision are converted to the
// model's; the GIL is released while the model computes.
#pragma once

#include <string>
#include <type_traits>

#include "convert.hpp"

namespace latent::python {

template <class Model, class T>
void bind_fitted_methods(py::class_<Model>& cls) {
  cls.def(
         "fit",
         [](Model& self, const py::object& x) -> Model& {
           const Matrix<T> m = as_matrix<T>(x, "x");
           return without_gil([&]() -> Model& { return self.fit(m.view); });
         },
         py::arg("x"), py::return_value_policy::reference_internal)
      .def(
          "transform",
          [](const Model& self, const py::object& x) {
            const Matrix<T> m = as_matrix<T>(x, "x");
            return to_numpy(without_gil([&] { return self.transform(m.view); }));
          },
          py::arg("x"))
      .def(
          "fit_transform",
          [](Model& self, const py::object& x) {
            const Matrix<T> m = as_matrix<T>(x, "x");
            return to_numpy(without_gil([&] { return self.fit_transform(m.view); }));
          },
          py::arg("x"))
      .def(
          "save",
          [](const Model& self, const std::filesystem::path& path) { without_gil([&] { self.save(path.string()); }); },
          py::arg("path"))
      .def_static(
          "load",
          [](const std::filesystem::path& path) { return without_gil([&] { return Model::load(path.string()); }); },
          py::arg("path"))
      .def("is_fitted", &Model::is_fitted)
      .def_property_readonly("dtype", [](const Model&) { return py::dtype::of<T>(); });
}

template <class Model, class T>
void bind_partial_fit(py::class_<Model>& cls) {
  cls.def(
      "partial_fit",
      [](Model& self, const py::object& x) -> Model& {
        const Matrix<T> m = as_matrix<T>(x, "x");
        return without_gil([&]() -> Model& { return self.partial_fit(m.view); });
      },
      py::arg("x"), py::return_value_policy::reference_internal);
}

template <class Model, class T>
void bind_inverse_transform(py::class_<Model>& cls) {
  cls.def(
      "inverse_transform",
      [](const Model& self, const py::object& y) {
        const Matrix<T> m = as_matrix<T>(y, "y");
        return to_numpy(without_gil([&] { return self.inverse_transform(m.view); }));
      },
      py::arg("y"));
}

/// The name of a model class for precision T: "_Whitening" -> "_Whitening_float32".
template <class T>
std::string typed_name(const char* name) {
  return std::string(name) + (std::is_same_v<T, float> ? "_float32" : "_float64");
}

}  // namespace latent::python
