// latent/core/vecs.hpp - the `.fvecs / .ivecs / .bvecs` files of the ANN benchmarks.
//
// Reading checks every record against the file's size before allocating, so a
// truncated or lying file raises `IoError` naming it. Writing is atomic: the
// data go to a temporary file in the same folder, renamed over the target only
// once complete. All functions are thread-safe (they share no state).
#pragma once

#include <cstdint>
#include <string>

#include "latent/core/types.hpp"

namespace latent {

/// `.fvecs` (float32), `.ivecs` (int32), `.bvecs` (uint8): each vector is stored
/// as a little-endian int32 dimension d followed by d values. Every record must
/// have the same d (1 <= d <= 2^24) and the file must be a whole number of
/// records; otherwise `IoError`. An empty file reads as a 0 x 0 matrix.
RowMatrixf read_fvecs(const std::string& path);
RowMatrix<std::int32_t> read_ivecs(const std::string& path);
RowMatrix<std::uint8_t> read_bvecs(const std::string& path);
/// Atomic writes of the same formats; a matrix with no columns is refused.
void write_fvecs(const std::string& path, const MatrixView<float>& matrix);
void write_ivecs(const std::string& path, const MatrixView<std::int32_t>& matrix);
void write_bvecs(const std::string& path, const MatrixView<std::uint8_t>& matrix);

}  // namespace latent
