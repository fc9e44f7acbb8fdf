// One function per area of the library, each defined in its bind_*.cpp and
// called once by the module initialiser (module.cpp).
#pragma once

#include <pybind11/pybind11.h>

namespace latent::python {

namespace py = pybind11;

void bind_search(pybind11::module_& m);     // knn, similarity, semantic search, hyperbolic distances
void bind_hubness(pybind11::module_& m);    // hubness, reduce_hubness, HubnessReducer
void bind_whitening(pybind11::module_& m);  // whitening, all-but-the-top, f-norm, isotropy
void bind_relative(pybind11::module_& m);   // anchors, relative projection, translation, compare
void bind_embedding(pybind11::module_& m);  // normalisation, pooling, truncation, quantization, MUVERA
void bind_metrics(pybind11::module_& m);    // retrieval metrics, kNN accuracy, CKA, correlations
void bind_io(pybind11::module_& m);         // .npy reading and writing
void bind_index(pybind11::module_& m);      // FAISS indexes (built with FAISS only)

}  // namespace latent::python
