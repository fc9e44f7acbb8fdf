// The extension module latent._latent: the exception hierarchy and the bindings
// of every area (one bind_*.cpp each). The package's __init__.py re-exports it.
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "latent/core/errors.hpp"
#include "latent/kernels/isa.hpp"

namespace latent::python {
namespace {

// latent.Error and its subclasses; each library error type also derives from the
// Python built-in a caller would catch (ValueError for arguments and values,
// OSError for files), so `except ValueError` works as it does with numpy.
struct ErrorTypes {
  PyObject* error = nullptr;
  PyObject* invalid_argument = nullptr;
  PyObject* dimension_mismatch = nullptr;
  PyObject* non_finite_value = nullptr;
  PyObject* empty_input = nullptr;
  PyObject* invalid_k = nullptr;
  PyObject* not_fitted = nullptr;
  PyObject* numerical_error = nullptr;
  PyObject* io_error = nullptr;
  PyObject* unsupported_isa = nullptr;
  PyObject* backend_error = nullptr;
};
ErrorTypes errors;

PyObject* new_error(py::module_& m, const char* name, PyObject* latent_base, PyObject* builtin, const char* doc) {
  const std::string qualified = std::string("latent.") + name;
  py::tuple bases = builtin != nullptr ? py::make_tuple(py::handle(latent_base), py::handle(builtin))
                                       : py::make_tuple(py::handle(latent_base));
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (type == nullptr) throw py::error_already_set();
  m.attr(name) = py::handle(type);
  return type;
}

void bind_errors(py::module_& m) {
  errors.error =
      PyErr_NewExceptionWithDoc("latent.Error", "Base class of every error latent raises.", PyExc_Exception, nullptr);
  if (errors.error == nullptr) throw py::error_already_set();
  m.attr("Error") = py::handle(errors.error);
  errors.invalid_argument =
      new_error(m, "InvalidArgument", errors.error, PyExc_ValueError, "An argument out of its domain.");
  errors.dimension_mismatch =
      new_error(m, "DimensionMismatch", errors.error, PyExc_ValueError, "Shapes that do not fit together.");
  errors.non_finite_value =
      new_error(m, "NonFiniteValue", errors.error, PyExc_ValueError, "A NaN or infinite value in an input.");
  errors.empty_input = new_error(m, "EmptyInput", errors.error, PyExc_ValueError, "An input with no rows or columns.");
  errors.invalid_k = new_error(m, "InvalidK", errors.error, PyExc_ValueError, "k out of range for the rows searched.");
  errors.not_fitted = new_error(m, "NotFitted", errors.error, PyExc_ValueError, "A model used before fit (or load).");
  errors.numerical_error = new_error(m, "NumericalError", errors.error, PyExc_ArithmeticError,
                                     "A computation that has no finite answer (a zero row under cosine, ...).");
  errors.io_error = new_error(m, "IoError", errors.error, PyExc_OSError, "A file that cannot be read or written.");
  errors.unsupported_isa =
      new_error(m, "UnsupportedIsa", errors.error, PyExc_RuntimeError, "An instruction set this CPU lacks.");
  errors.backend_error =
      new_error(m, "BackendError", errors.error, PyExc_RuntimeError, "A failure inside FAISS or BLAS.");

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidArgument& e) {
      PyErr_SetString(errors.invalid_argument, e.what());
    } catch (const DimensionMismatch& e) {
      PyErr_SetString(errors.dimension_mismatch, e.what());
    } catch (const NonFiniteValue& e) {
      PyErr_SetString(errors.non_finite_value, e.what());
    } catch (const EmptyInput& e) {
      PyErr_SetString(errors.empty_input, e.what());
    } catch (const InvalidK& e) {
      PyErr_SetString(errors.invalid_k, e.what());
    } catch (const NotFitted& e) {
      PyErr_SetString(errors.not_fitted, e.what());
    } catch (const NumericalError& e) {
      PyErr_SetString(errors.numerical_error, e.what());
    } catch (const IoError& e) {
      PyErr_SetString(errors.io_error, e.what());
    } catch (const UnsupportedIsa& e) {
      PyErr_SetString(errors.unsupported_isa, e.what());
    } catch (const BackendError& e) {
      PyErr_SetString(errors.backend_error, e.what());
    } catch (const Error& e) {
      PyErr_SetString(errors.error, e.what());
    }
  });
}

}  // namespace
}  // namespace latent::python

PYBIND11_MODULE(_latent, m) {
  using namespace latent::python;
  m.doc() = "latent: measure, repair, align, compress and search embedding spaces (native core)";
  m.attr("__version__") = LATENT_VERSION_STRING;
  bind_errors(m);
  bind_search(m);
  bind_hubness(m);
  bind_whitening(m);
  bind_relative(m);
  bind_embedding(m);
  bind_metrics(m);
  bind_io(m);
#ifdef LATENT_PYTHON_HAVE_FAISS
  bind_index(m);
#endif
}
