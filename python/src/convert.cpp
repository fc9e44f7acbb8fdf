// numpy <-> library conversions (see convert.hpp).
#include "convert.hpp"

#include <cstdint>

namespace latent::python {
namespace {

std::string dtype_name(const py::array& array) { return py::str(py::handle(array.dtype())).cast<std::string>(); }

[[noreturn]] void refuse(const char* argument, const std::string& problem) {
  throw InvalidArgument(std::string(argument) + ": " + problem);
}

// Rows contiguous, a row stride that is a whole number of elements, aligned data:
// the layouts MatrixView describes without a copy.
template <class T>
bool viewable(const py::array& array) {
  const auto item = static_cast<py::ssize_t>(sizeof(T));
  if (array.ndim() != 2 || reinterpret_cast<std::uintptr_t>(array.data()) % alignof(T) != 0) return false;
  const py::ssize_t rows = array.shape(0), cols = array.shape(1);
  if (rows == 0 || cols == 0) return true;
  if (cols > 1 && array.strides(1) != item) return false;
  if (rows == 1) return true;
  return array.strides(0) % item == 0 && array.strides(0) >= cols * item;
}

}  // namespace

bool is_float64(const py::handle& obj) {
  return py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).dtype().is(py::dtype::of<double>());
}

py::array float_input(const py::handle& obj, const char* argument) {
  if (obj.is_none()) refuse(argument, "is None (expected a float32 or float64 array)");
  py::array array;
  if (py::isinstance<py::array>(obj)) {
    array = py::reinterpret_borrow<py::array>(obj);
  } else {
    // A list or tuple of numbers: numpy's own conversion (np.asarray), then the
    // same dtype rule as for arrays.
    array = py::array::ensure(obj);
    if (!array) {
      PyErr_Clear();
      refuse(argument, "is not an array (got " + std::string(py::str(py::type::of(obj).attr("__name__"))) + ")");
    }
  }
  if (!array.dtype().is(py::dtype::of<float>()) && !array.dtype().is(py::dtype::of<double>()))
    refuse(argument, "has dtype " + dtype_name(array) + " (expected float32 or float64)");
  return array;
}

template <class T>
Matrix<T> as_matrix(const py::handle& obj, const char* argument) {
  py::array array = float_input(obj, argument);
  if (array.ndim() != 2)
    refuse(argument,
           "must be 2-D [rows x dim] (got " + std::to_string(array.ndim()) + "-D; a single row is x[None, :])");
  if (!array.dtype().is(py::dtype::of<T>()) || !viewable<T>(array))
    array = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(array);
  const auto rows = static_cast<std::int64_t>(array.shape(0));
  const auto cols = static_cast<std::int64_t>(array.shape(1));
  const std::int64_t stride =
      rows > 1 && cols > 0 ? static_cast<std::int64_t>(array.strides(0)) / static_cast<std::int64_t>(sizeof(T)) : cols;
  return {array, MatrixView<T>(static_cast<const T*>(array.data()), rows, cols, stride)};
}

template Matrix<float> as_matrix<float>(const py::handle&, const char*);
template Matrix<double> as_matrix<double>(const py::handle&, const char*);

namespace {

// An integer array of `ndim` dimensions as C-order int64.
py::array_t<std::int64_t> integer_input(const py::handle& obj, const char* argument, int ndim) {
  if (obj.is_none()) refuse(argument, "is None (expected an integer array)");
  py::array array = py::array::ensure(obj);
  if (!array) {
    PyErr_Clear();
    refuse(argument, "is not an array");
  }
  const char kind = array.dtype().kind();
  if (kind != 'i' && kind != 'u' && !(kind == 'f' && array.size() == 0))  // [] arrives as float64
    refuse(argument, "has dtype " + dtype_name(array) + " (expected integers)");
  if (array.ndim() != ndim)
    refuse(argument, "must be " + std::to_string(ndim) + "-D (got " + std::to_string(array.ndim()) + "-D)");
  return py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(array);
}

}  // namespace

std::vector<std::int64_t> as_ids(const py::handle& obj, const char* argument) {
  const auto values = integer_input(obj, argument, 1);
  const std::int64_t* data = values.data();
  return std::vector<std::int64_t>(data, data + values.size());
}

IdMatrix as_id_matrix(const py::handle& obj, const char* argument) {
  const auto values = integer_input(obj, argument, 2);
  return Eigen::Map<const IdMatrix>(values.data(), values.shape(0), values.shape(1));
}

std::vector<double> as_doubles(const py::handle& obj, const char* argument) {
  py::array array = float_input(obj, argument);
  if (array.ndim() != 1) refuse(argument, "must be 1-D (got " + std::to_string(array.ndim()) + "-D)");
  auto values = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(array);
  const double* data = values.data();
  return std::vector<double>(data, data + values.size());
}

Parallel parallel_of(const std::optional<int>& threads) {
  if (threads && *threads < 1)
    throw InvalidArgument("threads: must be at least 1 or None (got " + std::to_string(*threads) + ")");
  return Parallel{threads.value_or(0)};
}

py::tuple graph_tuple(KnnGraph&& graph) {
  return py::make_tuple(to_numpy(std::move(graph.ids)), to_numpy(std::move(graph.scores)));
}

py::tuple sparse_tuple(const SparseMatrix& m) {
  std::vector<std::int64_t> offsets(m.offsets(), m.offsets() + m.rows() + 1);
  std::vector<std::int64_t> indices(m.indices(), m.indices() + m.nnz());
  std::vector<float> values(m.values(), m.values() + m.nnz());
  return py::make_tuple(to_numpy(std::move(offsets)), to_numpy(std::move(indices)), to_numpy(std::move(values)),
                        py::make_tuple(m.rows(), m.cols()));
}

SparseMatrix sparse_of(const py::object& indptr, const py::object& indices, const py::object& data, std::int64_t rows,
                       std::int64_t cols) {
  const auto ints = [](const py::object& a) {
    const auto array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
    if (!array) throw InvalidArgument("codes: indptr and indices must be integer arrays");
    return std::vector<std::int64_t>(array.data(), array.data() + array.size());
  };
  const auto values = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(data);
  if (!values) throw InvalidArgument("codes: data must be a float array");
  return SparseMatrix(rows, cols, ints(indptr), ints(indices),
                      std::vector<float>(values.data(), values.data() + values.size()));
}

}  // namespace latent::python
