// latent/core/io.hpp - reading and writing vectors and models: includes the
// `.npy` reader and writer (npy.hpp), the `.fvecs / .ivecs / .bvecs` files of the
// ANN benchmarks (vecs.hpp), the versioned model file (model_file.hpp), and
// open_array, which reads one array named by a string from a .npy, an .npz
// member, an HDF5 dataset or a *vecs file (array_file.hpp), and sparse CSR
// matrices in scipy's .npz layout (sparse.hpp).
#pragma once

#include "latent/core/array_file.hpp"
#include "latent/core/model_file.hpp"
#include "latent/core/npy.hpp"
#include "latent/core/sparse.hpp"
#include "latent/core/vecs.hpp"
