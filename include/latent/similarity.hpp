// latent/similarity.hpp - the similarity module: exact search (similarity
// matrices, knn, kNN graphs, semantic search, paraphrase mining) and hyperbolic
// geometry (Poincaré ball, Lorentz model), and scores with a given matrix,
// softmax / InfoNCE and hard-negative mining. See the three headers.
#pragma once

#include "latent/similarity/hyperbolic.hpp"
#include "latent/similarity/scores.hpp"
#include "latent/similarity/search.hpp"
