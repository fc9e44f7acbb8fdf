// Must not compile: the fitted models of relative.hpp take float or double rows
// only, and say so at compile time (a static_assert) rather than at link time.
#include "latent/relative.hpp"

int main() {
  const latent::LatentTranslator<int> translator;
  return translator.is_fitted() ? 1 : 0;
}
