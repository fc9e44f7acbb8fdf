// Reading and writing arrays in the library's file formats.
#include <pybind11/stl.h>

#include <cstring>
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

// An array of a file: a view of its bytes (read-only, kept alive by a copy of the
// ArrayFile, which shares the mapping or the buffer), or a writable copy.
py::array array_of(const ArrayFile& file, bool mmap) {
  const std::vector<py::ssize_t> shape(file.shape().begin(), file.shape().end());
  if (!mmap) {
    py::array out(numpy_dtype(file.dtype()), shape);
    std::memcpy(out.mutable_data(), file.data(), file.bytes());
    return out;
  }
  auto* owned = new ArrayFile(file);
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<ArrayFile*>(p); });
  py::array out(numpy_dtype(file.dtype()), shape, owned->data(), free_when_done);
  py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return out;
}

}  // namespace

void bind_io(py::module_& m) {
  m.def(
      "read",
      [](const std::filesystem::path& spec, bool mmap) {
        return array_of(without_gil([&] { return open_array(spec.string()); }), mmap);
      },
      py::arg("spec"), py::arg("mmap") = false,
      R"doc(Reads one array named by `spec`, as the CLI does wherever it takes an array.

FILE.npy (either byte order, C or Fortran order; converted to native C order),
FILE.npz:NAME (a member of numpy's savez / savez_compressed; FILE.npz alone for a
one-array archive), FILE.hdf5:NAME or FILE.h5:NAME (a dataset of an HDF5 file,
e.g. train, test, neighbors, distances of the ann-benchmarks files), FILE.fvecs /
.ivecs / .bvecs. mmap=False: a new writable array; mmap=True: a read-only view
of the file's memory map where the data allow one (an uncompressed, aligned,
little-endian C-order array), else of the one copy read. A missing, corrupt or
truncated file or member is an IoError naming it.)doc");
  m.def(
      "list_arrays",
      [](const std::filesystem::path& path) {
        py::list out;
        for (const ArrayInfo& info : without_gil([&] { return list_arrays(path.string()); })) {
          py::dict entry;
          entry["name"] = info.name;
          entry["dtype"] = numpy_dtype(info.dtype);
          entry["shape"] = py::tuple(py::cast(info.shape));
          out.append(entry);
        }
        return out;
      },
      py::arg("path"),
      "The arrays of an .npz or HDF5 file in file order, each a dict of name, dtype and shape (a single-array "
      "file: one entry with an empty name).");
  m.def("hdf5_supported", &hdf5_supported, "True when this build reads HDF5 files.");
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
