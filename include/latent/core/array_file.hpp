// latent/core/array_file.hpp - one array named by a string, from any of the
// formats embedding sets come in: the entry point of the CLI and of the Python
// readers.
//
// A spec names a file and, for containers, an array inside it:
//   FILE.npy                      a .npy (see npy.hpp: any supported dtype, either
//                                 byte order, C or Fortran order)
//   FILE.npz:NAME                 member NAME (or NAME.npy) of a numpy savez /
//                                 savez_compressed archive; FILE.npz alone when
//                                 the archive holds exactly one array
//   FILE.hdf5:NAME, FILE.h5:NAME  dataset NAME of an HDF5 file, e.g. the train,
//                                 test, neighbors and distances datasets of the
//                                 ann-benchmarks files (float32, float64, int32,
//                                 int64); only when the library was built with
//                                 HDF5 (hdf5_supported()), else IoError saying so
//   FILE.fvecs, .ivecs, .bvecs    the ANN-benchmark vector files (vecs.hpp)
// Where the colon splits: when the whole spec names an existing file it is that
// file (a path may hold colons); otherwise the spec is split at its LAST ':'. The
// format comes from the file's extension; any other extension is read as .npy.
//
// Data are little-endian C order in memory. A .npy or a stored (uncompressed)
// .npz member whose data are aligned for its dtype and already in that layout is
// memory-mapped (no copy, paged in on use); everything else (deflated members,
// big-endian or Fortran-ordered data, HDF5 datasets, *vecs files) is read into
// memory once. The CRC-32 of an .npz member is checked when it is opened.
//
// Errors: IoError naming the file (and the member or dataset) for a missing
// file, a missing member (the message lists the members), a corrupt or truncated
// file of any format, an unsupported dtype, and an accessor asked for a dtype or
// shape the array does not have. Readers trust nothing they read: sizes,
// offsets, names and shapes are checked against the file's size before any
// allocation (a deflated member may inflate to at most the 1032:1 that deflate
// can reach, and memory only grows with the bytes it really produces).
// All functions are thread-safe (they share no state); an ArrayFile is
// immutable and may be read from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "latent/core/npy.hpp"
#include "latent/core/types.hpp"

namespace latent {

/// A spec split into its file and its array name (empty for a single-array file).
struct ArraySpec {
  std::string path;
  std::string name;
};
/// Splits `spec` by the colon rule above (it looks at the file system).
ArraySpec parse_array_spec(const std::string& spec);

/// What list_arrays reports of one array.
struct ArrayInfo {
  std::string name;                 ///< the name open_array takes after the colon ("train", "x")
  DType dtype = DType::float32;
  std::vector<std::int64_t> shape;  ///< empty for a 0-d (scalar) array
  /// "train [60000, 784] float32".
  std::string describe() const;
};

/// The arrays of a container file, in file order: the members of an .npz
/// (names without ".npy"), or the datasets at the root of an HDF5 file (in name
/// order; groups and datasets of unsupported types are skipped). A single-array
/// file lists one entry with an empty name. Throws IoError.
std::vector<ArrayInfo> list_arrays(const std::string& path);

/// True when this build reads HDF5 (LATENT_WITH_HDF5 found libhdf5).
bool hdf5_supported();

/// One array in memory or mapped from its file. Cheap to copy (the bytes are
/// shared and immutable); the data live as long as any copy.
class ArrayFile {
 public:
  /// An array over `bytes` (size() * dtype_size(dtype) bytes, little-endian C
  /// order) kept alive by `owner`; `mapped` says whether they are a file mapping.
  /// For readers of other formats; IoError when the sizes disagree.
  ArrayFile(std::string path, std::string name, DType dtype, std::vector<std::int64_t> shape,
            std::shared_ptr<const void> owner, const unsigned char* bytes, bool mapped);

  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }
  /// "FILE" or "FILE:NAME", for messages.
  std::string source() const { return name_.empty() ? path_ : path_ + ":" + name_; }
  DType dtype() const { return dtype_; }
  const std::vector<std::int64_t>& shape() const { return shape_; }
  /// Number of elements (1 for a 0-d array).
  std::int64_t size() const;
  /// "[60000, 784] float32".
  std::string describe() const;
  /// True when the bytes are a memory map of the file (no copy was made).
  bool mapped() const { return mapped_; }
  /// The data: size() * dtype_size(dtype()) bytes, little-endian C order.
  const unsigned char* data() const { return data_; }
  std::size_t bytes() const;

  /// The data in place as a matrix (1-D arrays as n x 1). T is one of the
  /// dtypes of npy.hpp with a C++ type and must be the array's dtype exactly; a
  /// bool array holding a byte other than 0 or 1 is refused. IoError otherwise.
  template <class T>
  MatrixView<T> view() const;
  /// A copy as a matrix (1-D as n x 1), converted as static_cast does: T = float
  /// or double takes every dtype (float16 widened exactly, bool as 0/1); T =
  /// std::int64_t takes the integer dtypes only (no silent rounding of floats).
  /// IoError on another dtype or a shape that is not 1-D or 2-D.
  template <class T>
  RowMatrix<T> matrix() const;
  /// A 1-D array (or [n x 1]) as a vector, converted as matrix<T>() does.
  template <class T>
  std::vector<T> vector() const;

 private:
  std::string path_;
  std::string name_;
  DType dtype_ = DType::float32;
  std::vector<std::int64_t> shape_;
  std::shared_ptr<const void> owner_;
  const unsigned char* data_ = nullptr;
  bool mapped_ = false;
};

/// Opens the array `spec` names (see above). Throws IoError.
ArrayFile open_array(const std::string& spec);

}  // namespace latent
