// latent/similarity.hpp - the similarity module: exact search (similarity
// matrices, knn, kNN graphs, semantic search, paraphrase mining), hyperbolic
// geometry and search (Poincaré ball, Lorentz model), probabilistic embeddings
// (diagonal Gaussians, von Mises-Fisher: divergences and KL search), products
// and top-k search over sparse rows, and scores with a given matrix, softmax /
// InfoNCE and hard-negative mining. See the five headers.
#pragma once

#include "latent/similarity/hyperbolic.hpp"
#include "latent/similarity/probabilistic.hpp"
#include "latent/similarity/scores.hpp"
#include "latent/similarity/search.hpp"
#include "latent/similarity/sparse_search.hpp"
