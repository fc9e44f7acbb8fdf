// Model-file helpers shared by the whitening module's sources (private).
#pragma once

#include <cstdint>
#include <string>

#include "latent/core/io.hpp"
#include "latent/core/types.hpp"

namespace latent::detail {

/// Stores `matrix` as the field `name`.
void write_view(ModelWriter& writer, const std::string& name, const RowMatrixd& matrix);

/// IoError: the file `reader` reads holds an inconsistent model (`what` says which part).
[[noreturn]] void inconsistent(const ModelReader& reader, const std::string& what);

/// IoError (inconsistent) unless the field `name`, read into `m`, is [rows x cols] and finite.
void require_shape(const ModelReader& reader, const std::string& name, const RowMatrixd& m, std::int64_t rows,
                   std::int64_t cols);

}  // namespace latent::detail
