// Conversions between numpy arrays and the library's matrices, shared by every
// binding.
//
// In: a float32 or float64 array whose rows are contiguous (C order, or rows of a
// C-order array sliced by columns) is viewed where it lies, with no copy; any
// other float32/float64 layout (Fortran order, a column stride, misaligned) is
// converted once. Other dtypes are refused with InvalidArgument naming the
// argument (no silent float conversion of integers or float16).
// Out: arrays that own their memory: the library's result matrix is moved into
// the array's base capsule, never copied, and never shares memory with an input.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl/filesystem.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/parallel.hpp"
#include "latent/core/sparse.hpp"
#include "latent/core/types.hpp"

namespace latent::python {

namespace py = pybind11;

/// A 2-D input of scalar T: the view, and the array that keeps its memory alive
/// (the caller's array itself, or the one converted copy).
template <class T>
struct Matrix {
  py::array owner;
  MatrixView<T> view;
};

/// True when `obj` is a float64 numpy array (else float32 is assumed; see float_input).
bool is_float64(const py::handle& obj);

/// Checks that `obj` is a numpy array (or converts a list / scalar sequence) of
/// float32 or float64 and returns it. Throws InvalidArgument naming `argument`.
py::array float_input(const py::handle& obj, const char* argument);

/// `obj` as a 2-D matrix of scalar T (a float array of the other precision is
/// converted once). Throws InvalidArgument (dtype, dimensions) naming `argument`.
template <class T>
Matrix<T> as_matrix(const py::handle& obj, const char* argument);

/// A 1-D integer array (ids, labels) as int64 values. Throws InvalidArgument.
std::vector<std::int64_t> as_ids(const py::handle& obj, const char* argument);

/// A 2-D integer array (neighbour ids) as an IdMatrix (a copy). Throws InvalidArgument.
IdMatrix as_id_matrix(const py::handle& obj, const char* argument);

/// A 1-D float array as double values. Throws InvalidArgument.
std::vector<double> as_doubles(const py::handle& obj, const char* argument);

/// Calls `body(as_matrix<T>(obj))` with T = double for a float64 array and
/// T = float otherwise: the precision of the input is the precision of the work.
template <class Body>
py::object with_matrix(const py::handle& obj, const char* argument, Body&& body) {
  if (is_float64(obj)) return py::object(body(as_matrix<double>(obj, argument)));
  return py::object(body(as_matrix<float>(obj, argument)));
}

/// Moves a library matrix into a numpy array of the same shape (no copy).
template <class T>
py::array_t<T> to_numpy(RowMatrix<T>&& matrix) {
  auto* owned = new RowMatrix<T>(std::move(matrix));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<RowMatrix<T>*>(p); });
  const auto rows = static_cast<py::ssize_t>(owned->rows());
  const auto cols = static_cast<py::ssize_t>(owned->cols());
  return py::array_t<T>({rows, cols}, {cols * static_cast<py::ssize_t>(sizeof(T)), static_cast<py::ssize_t>(sizeof(T))},
                        owned->data(), free_when_done);
}

/// Moves a vector into a 1-D numpy array (no copy).
template <class T>
py::array_t<T> to_numpy(std::vector<T>&& values) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(owned->size())}, owned->data(), free_when_done);
}

/// A copy of a vector the library keeps (a fitted model's mean, eigenvalues).
template <class T>
py::array_t<T> copy_to_numpy(const std::vector<T>& values) {
  return to_numpy(std::vector<T>(values));
}
template <class T>
py::array_t<T> copy_to_numpy(const RowMatrix<T>& values) {
  return to_numpy(RowMatrix<T>(values));
}

/// The `threads=None|int` argument: None means the library default (0).
Parallel parallel_of(const std::optional<int>& threads);

/// The neighbour lists as the tuple (ids int64 [m x k], scores [m x k]).
py::tuple graph_tuple(KnnGraph&& graph);

/// A SparseMatrix as (indptr, indices, data, (rows, cols)) numpy arrays, and back
/// (latent/_sparse.py builds and takes scipy.sparse.csr_matrix from these).
py::tuple sparse_tuple(const SparseMatrix& m);
SparseMatrix sparse_of(const py::object& indptr, const py::object& indices, const py::object& data, std::int64_t rows,
                       std::int64_t cols);

/// Runs `work` with the GIL released (the library never calls back into Python).
template <class Work>
decltype(auto) without_gil(Work&& work) {
  py::gil_scoped_release release;
  return work();
}

}  // namespace latent::python
