// Writes small HDF5 files with libhdf5's C API, for the tests of the HDF5 reader
// (h5py is not a dependency). Only built when the library reads HDF5.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace latent::testing {

/// One dataset at the root: `values` (row-major) of `dims`, stored as `file_type`
/// (e.g. H5T_IEEE_F32LE, H5T_STD_I32BE) from the native `memory_type`.
struct Hdf5Dataset {
  std::string name;
  hid_t file_type;
  hid_t memory_type;
  std::vector<hsize_t> dims;
  const void* values;
};

inline void write_hdf5(const std::string& path, const std::vector<Hdf5Dataset>& datasets) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) throw std::runtime_error("H5Fcreate failed: " + path);
  for (const Hdf5Dataset& d : datasets) {
    const hid_t space = H5Screate_simple(static_cast<int>(d.dims.size()), d.dims.data(), nullptr);
    const hid_t set = H5Dcreate2(file, d.name.c_str(), d.file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (set < 0 || H5Dwrite(set, d.memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.values) < 0) {
      throw std::runtime_error("writing dataset " + d.name + " failed");
    }
    H5Dclose(set);
    H5Sclose(space);
  }
  H5Fclose(file);
}

/// The ann-benchmarks layout: train float32 [5 x 3] (t[i][j] = i + j / 10),
/// test float64 [2 x 3] (-(i + j / 10)), neighbors int32 [2 x 4] (i * 4 + j),
/// distances float32 [2 x 4] (i + j / 4) and a big-endian int64 `labels` [5] (i * 11),
/// plus a group `extra` (not a dataset).
inline void write_ann_benchmarks_file(const std::string& path) {
  std::vector<float> train(15), distances(8);
  std::vector<double> test(6);
  std::vector<std::int32_t> neighbors(8);
  std::vector<std::int64_t> labels(5);
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 3; ++j) train[i * 3 + j] = static_cast<float>(i) + static_cast<float>(j) / 10.0f;
    labels[i] = i * 11;
  }
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) test[i * 3 + j] = -(i + j / 10.0);
    for (int j = 0; j < 4; ++j) {
      neighbors[i * 4 + j] = i * 4 + j;
      distances[i * 4 + j] = static_cast<float>(i) + static_cast<float>(j) / 4.0f;
    }
  }
  write_hdf5(path, {{"train", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {5, 3}, train.data()},
                    {"test", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2, 3}, test.data()},
                    {"neighbors", H5T_STD_I32LE, H5T_NATIVE_INT32, {2, 4}, neighbors.data()},
                    {"distances", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2, 4}, distances.data()},
                    {"labels", H5T_STD_I64BE, H5T_NATIVE_INT64, {5}, labels.data()}});
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  const hid_t group = H5Gcreate2(file, "extra", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(group);
  H5Fclose(file);
}

}  // namespace latent::testing
