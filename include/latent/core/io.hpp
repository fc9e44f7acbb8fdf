// latent/core/io.hpp - reading and writing vectors and models: includes the
// `.npy` reader and writer (npy.hpp), the `.fvecs / .ivecs / .bvecs` files of the
// ANN benchmarks (vecs.hpp) and the versioned model file (model_file.hpp).
#pragma once

#include "latent/core/model_file.hpp"
#include "latent/core/npy.hpp"
#include "latent/core/vecs.hpp"
