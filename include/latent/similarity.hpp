// latent/similarity.hpp - the similarity module: exact search (similarity
// matrices, knn, kNN graphs, semantic search, paraphrase mining) and hyperbolic
// geometry (Poincaré ball, Lorentz model). See the two headers.
#pragma once

#include "latent/similarity/hyperbolic.hpp"
#include "latent/similarity/search.hpp"
