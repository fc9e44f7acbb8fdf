// Model-file and moment checks shared by the whitening module's sources (private).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "latent/core/io.hpp"
#include "latent/core/types.hpp"
#include "latent/whitening.hpp"

namespace latent::detail {

/// Stores `matrix` as the field `name`.
void write_view(ModelWriter& writer, const std::string& name, const RowMatrixd& matrix);

/// IoError: the file `reader` reads holds an inconsistent model (`what` says which part).
[[noreturn]] void inconsistent(const ModelReader& reader, const std::string& what);

/// IoError (inconsistent) unless the field `name`, read into `m`, is [rows x cols] and finite.
void require_shape(const ModelReader& reader, const std::string& name, const RowMatrixd& m, std::int64_t rows,
                   std::int64_t cols);

/// The check of every fit(const MomentAccumulator&): `moments` must have the
/// mode of `expected` (centring, full or diagonal, fourth order; InvalidArgument
/// naming the difference) and at least `min_count` rows (EmptyInput).
void require_moments_like(std::string_view function, const MomentAccumulator& moments,
                          const MomentAccumulator& expected, std::int64_t min_count);

}  // namespace latent::detail
