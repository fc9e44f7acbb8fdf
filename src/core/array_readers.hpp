// The per-format readers behind open_array and list_arrays (not installed).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "file_io.hpp"
#include "latent/core/array_file.hpp"

namespace latent::detail {

/// A read-only private map of the whole of `file` (non-empty), unmapped when the
/// last copy of the pointer goes.
std::shared_ptr<const unsigned char> map_file(const File& file, std::string_view function, const std::string& path);

/// Member `name` (or `name`.npy; empty: the only member) of the .npz at `path`.
ArrayFile open_npz_array(const std::string& path, const std::string& name);
std::vector<ArrayInfo> list_npz(const std::string& path);

/// Dataset `name` of the HDF5 file at `path`; IoError when the build has no HDF5.
ArrayFile open_hdf5_array(const std::string& path, const std::string& name);
std::vector<ArrayInfo> list_hdf5(const std::string& path);

}  // namespace latent::detail
