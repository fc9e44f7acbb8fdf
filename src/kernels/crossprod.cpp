// The f64 cross-product behind covariances: C = (A - 1 shift^T)^T (A - 1 shift^T).
//
// Rows are taken in chunks of kChunkRows; each chunk is converted to double,
// shifted and packed into column panels of the table's crossprod_nr values
// ([rows][nr], so both sides of the micro-tile stream contiguously), then every
// tile of the upper triangle continues its chains over the chunk. Each element
// of C is one fused multiply-add chain over the rows in order, whoever computes
// the tile, so the result is bitwise independent of the thread count; the lower
// triangle is a copy of the upper one, so C is exactly symmetric.
#include <algorithm>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/kernels/batched.hpp"
#include "table.hpp"

namespace latent::kernels {
namespace {

// 256 rows x 784 columns of doubles is 1.6 MB of panels: each tile streams two
// panels of 48 KB, which stay in L2 while the tiles of one panel column run.
constexpr std::int64_t kChunkRows = 256;

template <class In>
void crossprod(const MatrixView<In>& a, const double* shift, double* c, std::int64_t ldc, const BlockOptions& options,
               double* column_sums, const char* function) {
  const std::int64_t n = a.rows, d = a.cols;
  if (d < 1) raise<InvalidArgument>(function, "a", "has no columns");
  if (c == nullptr) raise<InvalidArgument>(function, "c", "is null");
  if (ldc < d)
    raise<InvalidArgument>(function, "ldc", "is smaller than the columns of a",
                           "ldc=" + std::to_string(ldc) + ", cols=" + std::to_string(d));
  const detail::KernelTable& table = detail::active_table();
  const std::int64_t mr = table.crossprod_mr, nr = table.crossprod_nr;
  const std::int64_t panels = (d + nr - 1) / nr, padded = panels * nr;

  // Tiles of the upper triangle: (first column i0 of the broadcast side, panel q)
  // with some column of the panel at or right of i0.
  struct Tile {
    std::int64_t row, panel;
  };
  std::vector<Tile> tiles;
  for (std::int64_t q = 0; q < panels; ++q)
    for (std::int64_t i0 = 0; i0 < d && i0 < (q + 1) * nr; i0 += mr) tiles.push_back({i0, q});

  // Below a few million flops per chunk a parallel region costs more than it saves.
  constexpr std::int64_t kParallelFlops = std::int64_t{1} << 22;
  const Parallel parallel = kChunkRows * d * d < kParallelFlops ? Parallel{1} : options.parallel;

  if (column_sums != nullptr) std::fill(column_sums, column_sums + d, 0.0);
  std::vector<double> sums(static_cast<std::size_t>(padded * padded), 0.0);
  std::vector<double> packed(static_cast<std::size_t>(kChunkRows * padded));
  for (std::int64_t start = 0; start < n; start += kChunkRows) {
    const std::int64_t rows = std::min(kChunkRows, n - start);
    parallel_for(panels, 1, parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t q = begin; q < end; ++q) {
        double* panel = packed.data() + q * kChunkRows * nr;
        const std::int64_t width = std::min(nr, d - q * nr);
        for (std::int64_t r = 0; r < rows; ++r) {
          const In* row = a.row(start + r) + q * nr;
          double* out = panel + r * nr;
          for (std::int64_t j = 0; j < width; ++j)
            out[j] = static_cast<double>(row[j]) - (shift != nullptr ? shift[q * nr + j] : 0.0);
          for (std::int64_t j = width; j < nr; ++j) out[j] = 0.0;
        }
        if (column_sums != nullptr) {  // this panel's columns belong to this thread alone
          for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t j = 0; j < width; ++j) column_sums[q * nr + j] += panel[r * nr + j];
        }
      }
    });
    parallel_for(static_cast<std::int64_t>(tiles.size()), 4, parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t t = begin; t < end; ++t) {
        const Tile tile = tiles[static_cast<std::size_t>(t)];
        const std::int64_t a_panel = tile.row / nr, offset = tile.row % nr;
        table.crossprod_tile_f64(static_cast<std::size_t>(rows), packed.data() + a_panel * kChunkRows * nr + offset,
                                 packed.data() + tile.panel * kChunkRows * nr,
                                 sums.data() + tile.row * padded + tile.panel * nr, static_cast<std::size_t>(padded));
      }
    });
  }
  for (std::int64_t i = 0; i < d; ++i)
    for (std::int64_t j = 0; j < d; ++j)
      c[i * ldc + j] =
          j >= i ? sums[static_cast<std::size_t>(i * padded + j)] : sums[static_cast<std::size_t>(j * padded + i)];
}

}  // namespace

void crossprod_f64(const MatrixView<float>& a, const double* shift, double* c, std::int64_t ldc,
                   const BlockOptions& options, double* column_sums) {
  crossprod(a, shift, c, ldc, options, column_sums, "crossprod_f64");
}

void crossprod_f64(const MatrixView<double>& a, const double* shift, double* c, std::int64_t ldc,
                   const BlockOptions& options, double* column_sums) {
  crossprod(a, shift, c, ldc, options, column_sums, "crossprod_f64");
}

}  // namespace latent::kernels
