// The FAISS adapter component links and reports the FAISS it was built with.
#include <gtest/gtest.h>

#include <faiss/Index.h>

#include <string>

#include "latent/index/faiss_index.hpp"

namespace latent::index {
namespace {

TEST(FaissIndex, ReportsTheLinkedFaissVersion) {
  // The test includes FAISS itself (the public header does not) to know the truth.
  const std::string expected = std::to_string(FAISS_VERSION_MAJOR) + "." + std::to_string(FAISS_VERSION_MINOR) +
                               "." + std::to_string(FAISS_VERSION_PATCH);
  EXPECT_EQ(faiss_version(), expected);
}

}  // namespace
}  // namespace latent::index
