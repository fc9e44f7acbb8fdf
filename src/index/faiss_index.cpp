// The FAISS adapter. FAISS headers are included here only, never in public headers.
#include "latent/index/faiss_index.hpp"

#include <faiss/Index.h>

namespace latent::index {

std::string faiss_version() {
  return std::to_string(FAISS_VERSION_MAJOR) + "." + std::to_string(FAISS_VERSION_MINOR) + "." +
         std::to_string(FAISS_VERSION_PATCH);
}

}  // namespace latent::index
