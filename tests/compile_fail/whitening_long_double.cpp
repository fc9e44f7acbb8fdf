// Must not compile: the fitted models of whitening.hpp take float or double rows
// only, and say so at compile time (a static_assert) rather than at link time.
#include "latent/whitening.hpp"

int main() {
  const latent::Whitening<long double> whitening;
  return whitening.is_fitted() ? 1 : 0;
}
