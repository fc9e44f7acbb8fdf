// Reading and writing arrays in the library's file formats.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "latent/core/io.hpp"

namespace latent::python {
namespace {

py::dtype numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::float32:
      return py::dtype::of<float>();
    case DType::float64:
      return py::dtype::of<double>();
    case DType::int64:
      return py::dtype::of<std::int64_t>();
    case DType::int32:
      return py::dtype::of<std::int32_t>();
    case DType::uint8:
      return py::dtype::of<std::uint8_t>();
    case DType::boolean:
      return py::dtype::of<bool>();
    case DType::int8:
      return py::dtype::of<std::int8_t>();
    case DType::uint16:
      return py::dtype::of<std::uint16_t>();
    case DType::float16:
      return py::dtype("float16");
  }
  throw InvalidArgument("dtype: not a stored dtype");
}

DType stored_dtype(const py::array& array) {
  for (const DType dtype : {DType::float32, DType::float64, DType::int64, DType::int32, DType::uint8, DType::boolean,
                            DType::int8, DType::uint16, DType::float16}) {
    if (array.dtype().is(numpy_dtype(dtype))) return dtype;
  }
  throw InvalidArgument("array: dtype " + py::str(py::handle(array.dtype())).cast<std::string>() +
                        " cannot be written (float32, float64, int64, int32, uint8, bool, int8, uint16, float16)");
}

// A whole array read into memory, moved into the numpy array that owns it.
py::array array_of(NpyArray&& npy) {
  auto* owned = new NpyArray(std::move(npy));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<NpyArray*>(p); });
  std::vector<py::ssize_t> shape(owned->header.shape.begin(), owned->header.shape.end());
  return py::array(numpy_dtype(owned->header.dtype), shape, owned->bytes.data(), free_when_done);
}

}  // namespace

void bind_io(py::module_& m) {
  m.def(
      "read_npy",
      [](const std::filesystem::path& path) { return array_of(without_gil([&] { return read_npy(path.string()); })); },
      py::arg("path"),
      "Reads a .npy file (float32, float64, int64, int32, uint8, bool, int8, uint16, float16) into a new "
      "array. A corrupt or truncated file raises IoError naming it.");
  m.def(
      "write_npy",
      [](const std::filesystem::path& path, const py::object& values) {
        const py::array array = py::array::ensure(values, py::array::c_style);
        if (!array) throw InvalidArgument("array: is not an array");
        const DType dtype = stored_dtype(array);
        const std::vector<std::int64_t> shape(array.shape(), array.shape() + array.ndim());
        const auto bytes = static_cast<std::size_t>(array.nbytes());
        without_gil([&] { write_npy_bytes(path.string(), dtype, array.data(), bytes, shape); });
      },
      py::arg("path"), py::arg("array"),
      "Writes an array as .npy (version 1, C order), atomically: a failed write leaves no file.");
}

}  // namespace latent::python
