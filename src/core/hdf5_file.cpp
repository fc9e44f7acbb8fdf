// HDF5 datasets (the ann-benchmarks layout: train, test, neighbors, distances)
// through libhdf5's C API, when the build found it (LATENT_HAVE_HDF5). libhdf5's
// own error-stack printing is silenced and its failures become IoError; the
// superblock's end-of-file address is checked against the file's size before
// libhdf5 sees the file, and a dataset's extent against the bytes it stores
// before anything is allocated. Nothing outside the named file is read: external
// links, external storage and virtual datasets (which point libhdf5 at other
// files by name) are refused.
#include "array_readers.hpp"
#include "latent/core/errors.hpp"

#ifdef LATENT_HAVE_HDF5
#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>
#endif

namespace latent::detail {

#ifndef LATENT_HAVE_HDF5

ArrayFile open_hdf5_array(const std::string& path, const std::string&) {
  fail("open_array", path, "is an HDF5 file, and this build of latent has no HDF5 support",
       "rebuild with libhdf5-dev installed and LATENT_WITH_HDF5=AUTO or ON");
}
std::vector<ArrayInfo> list_hdf5(const std::string& path) {
  fail("list_arrays", path, "is an HDF5 file, and this build of latent has no HDF5 support",
       "rebuild with libhdf5-dev installed and LATENT_WITH_HDF5=AUTO or ON");
}

#else

namespace {

constexpr int kMaxDims = 32;
constexpr std::int64_t kMaxEmptyExtents = std::int64_t{1} << 24;
constexpr std::int64_t kMaxDeflateRatio = 1032;  // a filtered chunk cannot inflate further

// libhdf5 keeps global state; one call at a time from this library.
std::mutex& hdf5_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Closes an HDF5 identifier on scope exit.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

std::uint64_t read_le(const unsigned char* p, int bytes) {
  std::uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = value << 8 | p[i];
  return value;
}

// Finds the superblock (at 0, 512, 1024, 2048, ...) and checks that the file
// holds the bytes it claims: libhdf5 would otherwise read past a truncated end.
void check_superblock(const std::string& function, const std::string& path) {
  const File file(function, path);
  static const unsigned char kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  std::int64_t at = -1;
  for (std::int64_t offset = 0; offset + 8 <= file.size(); offset = offset == 0 ? 512 : offset * 2) {
    unsigned char signature[8];
    file.read_at(function, signature, 8, offset);
    if (std::memcmp(signature, kSignature, 8) == 0) {
      at = offset;
      break;
    }
  }
  if (at < 0) fail(function, path, "is not an HDF5 file (no superblock signature)");
  unsigned char block[96] = {};
  const std::int64_t available = std::min<std::int64_t>(sizeof block, file.size() - at);
  file.read_at(function, block, available, at);
  const int version = block[8];
  int offset_size = 0;
  std::int64_t addresses = 0;  // where base address, ..., end-of-file address start
  int eof_index = 0;           // which address is the end of file
  if (version == 0 || version == 1) {
    offset_size = block[13];
    addresses = version == 0 ? 24 : 28;
    eof_index = 2;  // base, free-space info, end of file
  } else if (version == 2 || version == 3) {
    offset_size = block[9];
    addresses = 12;
    eof_index = 2;  // base, superblock extension, end of file
  } else {
    fail(function, path, "has an unsupported HDF5 superblock version", "version " + std::to_string(version));
  }
  if (offset_size != 2 && offset_size != 4 && offset_size != 8) {
    fail(function, path, "is corrupt: bad HDF5 offset size", std::to_string(offset_size));
  }
  const std::int64_t end = addresses + static_cast<std::int64_t>(eof_index + 1) * offset_size;
  if (end > available) fail(function, path, "is truncated inside the HDF5 superblock");
  const std::uint64_t base = read_le(block + addresses, offset_size);
  const std::uint64_t eof = read_le(block + addresses + eof_index * offset_size, offset_size);
  const auto size = static_cast<std::uint64_t>(file.size());
  if (base > size || eof > size - base) {
    fail(function, path, "is truncated: its HDF5 superblock claims more bytes than the file holds",
         "end of file at " + std::to_string(eof) + ", file has " + std::to_string(size) + " bytes");
  }
}

// Opens `path` read-only after the superblock check, with libhdf5's printing off.
hid_t open_file(const std::string& function, const std::string& path) {
  check_superblock(function, path);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) fail(function, path, "libhdf5 cannot open it (corrupt or not HDF5)");
  return file;
}

// The DType of a dataset's stored type, or false when unsupported.
bool dtype_of_type(hid_t type, DType& dtype, hid_t& memory_type) {
  const H5T_class_t type_class = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (type_class == H5T_FLOAT && size == 4) {
    dtype = DType::float32;
    memory_type = H5T_NATIVE_FLOAT;
  } else if (type_class == H5T_FLOAT && size == 8) {
    dtype = DType::float64;
    memory_type = H5T_NATIVE_DOUBLE;
  } else if (type_class == H5T_INTEGER && size == 4 && H5Tget_sign(type) == H5T_SGN_2) {
    dtype = DType::int32;
    memory_type = H5T_NATIVE_INT32;
  } else if (type_class == H5T_INTEGER && size == 8 && H5Tget_sign(type) == H5T_SGN_2) {
    dtype = DType::int64;
    memory_type = H5T_NATIVE_INT64;
  } else {
    return false;
  }
  return true;
}

struct DatasetShape {
  DType dtype = DType::float32;
  hid_t memory_type = -1;
  std::vector<std::int64_t> shape;
  std::int64_t bytes = 0;
};

// Type, extent and a bound of the extent by the bytes the dataset stores.
DatasetShape inspect(hid_t dataset, const std::string& function, const std::string& label, std::int64_t file_size) {
  DatasetShape out;
  const Handle type(H5Dget_type(dataset), H5Tclose);
  if (!type.ok() || !dtype_of_type(type.get(), out.dtype, out.memory_type)) {
    fail(function, label, "has an unsupported HDF5 type", "supported: float32, float64, int32, int64");
  }
  const Handle space(H5Dget_space(dataset), H5Sclose);
  const int dims = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (dims < 0 || dims > kMaxDims) fail(function, label, "has an unreadable or absurd HDF5 dataspace");
  std::vector<hsize_t> extent(static_cast<std::size_t>(dims));
  if (dims > 0 && H5Sget_simple_extent_dims(space.get(), extent.data(), nullptr) < 0) {
    fail(function, label, "has an unreadable HDF5 dataspace");
  }
  const auto width = static_cast<std::int64_t>(dtype_size(out.dtype));
  std::int64_t count = 1, claimed = 1;
  bool too_many = false;
  for (const hsize_t e : extent) {
    if (e > static_cast<hsize_t>(std::numeric_limits<std::int64_t>::max())) fail(function, label, "has an absurd extent");
    const auto value = static_cast<std::int64_t>(e);
    if (value != 0 && count > std::numeric_limits<std::int64_t>::max() / 8 / value) fail(function, label, "has an absurd shape");
    count *= value;
    if (value != 0 && claimed > kMaxEmptyExtents / value) too_many = true;
    if (value != 0 && !too_many) claimed *= value;
    out.shape.push_back(value);
  }
  if (count == 0 && too_many) fail(function, label, "has an absurd shape (an empty dataset claiming more than 2^24 rows or columns)");
  out.bytes = count * width;
  const Handle plist(H5Dget_create_plist(dataset), H5Pclose);
  if (!plist.ok()) fail(function, label, "has an unreadable HDF5 creation property list");
  if (H5Pget_layout(plist.get()) == H5D_VIRTUAL || H5Pget_external_count(plist.get()) != 0) {
    fail(function, label, "keeps its data in other files (external or virtual storage), which are not read");
  }
  const int filters = H5Pget_nfilters(plist.get());
  const auto stored = static_cast<std::int64_t>(H5Dget_storage_size(dataset));
  const std::int64_t bound = filters > 0 ? stored * kMaxDeflateRatio : stored;
  if (stored > file_size || out.bytes > bound) {
    fail(function, label, "is corrupt: its extent needs more bytes than it stores",
         std::to_string(out.bytes) + " bytes of data, " + std::to_string(stored) + " stored");
  }
  return out;
}

std::int64_t file_size_of(const std::string& function, const std::string& path) { return File(function, path).size(); }

std::string dataset_list(hid_t file);

}  // namespace

ArrayFile open_hdf5_array(const std::string& path, const std::string& name) {
  const std::lock_guard<std::mutex> lock(hdf5_mutex());
  const std::string label = path + ":" + name;
  const std::int64_t file_size = file_size_of("open_array", path);
  const Handle file(open_file("open_array", path), H5Fclose);
  if (name.empty() || H5Lexists(file.get(), name.c_str(), H5P_DEFAULT) <= 0) {
    fail("open_array", path, "has no dataset named '" + name + "'", "datasets: " + dataset_list(file.get()));
  }
  H5L_info_t link{};
  if (H5Lget_info(file.get(), name.c_str(), &link, H5P_DEFAULT) < 0 ||
      (link.type != H5L_TYPE_HARD && link.type != H5L_TYPE_SOFT)) {
    fail("open_array", label, "is a link to another file (not followed)");
  }
  const Handle dataset(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.ok()) fail("open_array", label, "is not a dataset (a group?)", "datasets: " + dataset_list(file.get()));
  const DatasetShape shape = inspect(dataset.get(), "open_array", label, file_size);
  auto bytes = std::make_shared<std::vector<unsigned char>>(static_cast<std::size_t>(shape.bytes));
  if (shape.bytes > 0 &&
      H5Dread(dataset.get(), shape.memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes->data()) < 0) {
    fail("open_array", label, "libhdf5 cannot read it (corrupt or truncated data)");
  }
  const unsigned char* data = bytes->data();
  return ArrayFile(path, name, shape.dtype, shape.shape, std::move(bytes), data, false);
}

namespace {

struct Listing {
  std::string function, path;
  std::int64_t file_size = 0;
  std::vector<ArrayInfo> arrays;
  std::vector<std::string> names;  // every dataset, supported or not
};

herr_t visit_link(hid_t group, const char* name, const H5L_info_t* link, void* data) {
  auto& listing = *static_cast<Listing*>(data);
  if (link == nullptr || (link->type != H5L_TYPE_HARD && link->type != H5L_TYPE_SOFT)) return 0;  // not followed
  const Handle object(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
  if (!object.ok() || H5Iget_type(object.get()) != H5I_DATASET) return 0;
  listing.names.emplace_back(name);
  if (listing.function.empty()) return 0;  // names only
  DType dtype = DType::float32;
  hid_t memory_type = -1;
  const Handle type(H5Dget_type(object.get()), H5Tclose);
  if (!type.ok() || !dtype_of_type(type.get(), dtype, memory_type)) return 0;  // unsupported: skipped
  const DatasetShape shape = inspect(object.get(), listing.function, listing.path + ":" + name, listing.file_size);
  listing.arrays.push_back({name, shape.dtype, shape.shape});
  return 0;
}

std::string dataset_list(hid_t file) {
  Listing listing;
  H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, nullptr, visit_link, &listing);
  std::string names;
  for (const std::string& name : listing.names) names += (names.empty() ? "" : ", ") + name;
  return names.empty() ? "none" : names;
}

}  // namespace

std::vector<ArrayInfo> list_hdf5(const std::string& path) {
  const std::lock_guard<std::mutex> lock(hdf5_mutex());
  Listing listing{"list_arrays", path, file_size_of("list_arrays", path), {}, {}};
  const Handle file(open_file("list_arrays", path), H5Fclose);
  // An IoError thrown inside the iteration would cross libhdf5's C frames: catch
  // it there and rethrow it here.
  std::string error;
  struct Guard {
    Listing* listing;
    std::string* error;
  } guard{&listing, &error};
  const auto visit = [](hid_t group, const char* name, const H5L_info_t* info, void* data) -> herr_t {
    auto* g = static_cast<Guard*>(data);
    try {
      return visit_link(group, name, info, g->listing);
    } catch (const Error& e) {
      *g->error = e.what();
      return -1;
    }
  };
  if (H5Literate(file.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, visit, &guard) < 0) {
    if (!error.empty()) throw IoError(error);
    fail("list_arrays", path, "libhdf5 cannot list its datasets (corrupt file)");
  }
  return listing.arrays;
}

#endif

}  // namespace latent::detail
