// latent/index/faiss_index.hpp - the FAISS adapter component (`latent::faiss`).
//
// FAISS types never appear in this header: the adapter keeps them in src/index/,
// so code that includes it does not need FAISS's headers. Link `latent::faiss`
// (found with `find_package(latent COMPONENTS faiss)`) to use it.
#pragma once

#include <string>

namespace latent::index {

/// The version of the FAISS library the adapter was built against ("1.7.3").
std::string faiss_version();

}  // namespace latent::index
