// FAISS indexes: latent.Index over float rows (cosine, ip, l2) and
// latent.BinaryIndex over packed binary codes (Hamming), with the library's id
// map, exact re-ranking, hubness-aware re-ranking and save/load; k-means and the
// trained codecs (PQ, OPQ, VQ).
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "latent/core/names.hpp"
#include "latent/index/faiss_binary_index.hpp"
#include "latent/index/faiss_clustering.hpp"
#include "latent/index/faiss_codec.hpp"
#include "latent/index/faiss_index.hpp"

namespace latent::python {
namespace {

using index::FaissBinaryIndex;
using index::FaissIndex;

constexpr NamedValue<index::Rerank> kRerankNames[] = {
    {"none", index::Rerank::none}, {"exact", index::Rerank::exact}, {"hubness", index::Rerank::hubness}};

index::IndexSearchOptions search_options(const std::optional<int>& nprobe, const std::optional<int>& ef_search,
                                         const std::string& rerank, std::int64_t candidates,
                                         const std::optional<int>& threads) {
  index::IndexSearchOptions options;
  options.nprobe = nprobe.value_or(0);
  options.ef_search = ef_search.value_or(0);
  if ((nprobe && *nprobe < 1) || (ef_search && *ef_search < 1))
    throw InvalidArgument("nprobe, ef_search: must be at least 1 or None (FAISS's default)");
  options.rerank = parse_name(kRerankNames, rerank, "Index.search", "rerank", "re-ranking");
  options.candidates = candidates;
  options.parallel = parallel_of(threads);
  return options;
}

// Packed binary codes as a uint8 [n x bytes] view (converted once when needed).
struct Codes {
  py::array_t<std::uint8_t> owner;
  MatrixView<std::uint8_t> view;
};
Codes as_codes(const py::object& obj, const char* argument) {
  py::array array = py::array::ensure(obj);
  if (!array || !array.dtype().is(py::dtype::of<std::uint8_t>()) || array.ndim() != 2) {
    PyErr_Clear();
    throw InvalidArgument(std::string(argument) + ": expected uint8 [n x bytes] packed codes (numpy.packbits)");
  }
  auto codes = py::array_t<std::uint8_t, py::array::c_style>::ensure(array);
  return {codes, MatrixView<std::uint8_t>(codes.data(), codes.shape(0), codes.shape(1))};
}

py::tuple range_tuple(index::RangeResult&& r) {
  return py::make_tuple(to_numpy(std::move(r.offsets)), to_numpy(std::move(r.ids)), to_numpy(std::move(r.scores)));
}

void bind_float_index(py::module_& m) {
  py::class_<FaissIndex>(m, "Index", R"doc(A FAISS index over float rows, built from a factory string.

metric "cosine" (rows normalised by the index, scores are cosines), "ip" or
"l2" (scores are Euclidean distances, not squared). Ids are the rows' order of
addition unless given; search returns (ids int64 [m x k], scores float32
[m x k]) nearest first, ties to the smaller id, -1 where fewer than k exist.)doc")
      .def(py::init([](std::int64_t d, const std::string& factory, const std::string& metric, bool keep_vectors,
                       const std::string& zero_norm, int ef_construction) {
             index::IndexOptions options;
             options.keep_vectors = keep_vectors;
             options.zero_norm = parse_zero_norm_policy(zero_norm, "zero_norm");
             options.ef_construction = ef_construction;
             return FaissIndex(d, factory, parse_metric(metric, "metric"), options);
           }),
           py::arg("d"), py::arg("factory") = "Flat", py::arg("metric") = "l2", py::arg("keep_vectors") = false,
           py::arg("zero_norm") = "raise", py::arg("ef_construction") = 0)
      .def_property_readonly("d", &FaissIndex::dim)
      .def_property_readonly("ntotal", &FaissIndex::ntotal)
      .def_property_readonly("metric", [](const FaissIndex& self) { return std::string(to_string(self.metric())); })
      .def_property_readonly("factory", &FaissIndex::factory)
      .def_property_readonly("is_trained", &FaissIndex::is_trained)
      .def(
          "train",
          [](FaissIndex& self, const py::object& x, const std::optional<int>& threads) {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            const Parallel parallel = parallel_of(threads);
            without_gil([&] { self.train(rows.view, parallel); });
          },
          py::arg("x"), py::arg("threads") = py::none())
      .def(
          "add",
          [](FaissIndex& self, const py::object& x, const py::object& ids, const std::optional<int>& threads) {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            const Parallel parallel = parallel_of(threads);
            if (ids.is_none()) return without_gil([&] { self.add(rows.view, parallel); });
            const std::vector<std::int64_t> given = as_ids(ids, "ids");
            without_gil([&] { self.add_with_ids(rows.view, given, parallel); });
          },
          py::arg("x"), py::arg("ids") = py::none(), py::arg("threads") = py::none())
      .def(
          "search",
          [](const FaissIndex& self, const py::object& q, std::int64_t k, const std::optional<int>& nprobe,
             const std::optional<int>& ef_search, const std::string& rerank, std::int64_t candidates,
             const std::optional<int>& threads) {
            const Matrix<float> rows = as_matrix<float>(q, "q");
            const index::IndexSearchOptions options = search_options(nprobe, ef_search, rerank, candidates, threads);
            return graph_tuple(without_gil([&] { return self.search(rows.view, k, options); }));
          },
          py::arg("q"), py::arg("k") = 10, py::arg("nprobe") = py::none(), py::arg("ef_search") = py::none(),
          py::arg("rerank") = "none", py::arg("candidates") = 0, py::arg("threads") = py::none(),
          "rerank: none, exact (the top `candidates` re-scored from the kept vectors) or hubness (after "
          "fit_hubness).")
      .def(
          "range_search",
          [](const FaissIndex& self, const py::object& q, float radius, const std::optional<int>& threads) {
            const Matrix<float> rows = as_matrix<float>(q, "q");
            index::IndexSearchOptions options;
            options.parallel = parallel_of(threads);
            return range_tuple(without_gil([&] { return self.range_search(rows.view, radius, options); }));
          },
          py::arg("q"), py::arg("radius"), py::arg("threads") = py::none(),
          "Every row within radius: (offsets [m + 1], ids, scores); query i owns [offsets[i], offsets[i + 1]).")
      .def(
          "remove_ids", [](FaissIndex& self, const py::object& ids) { return self.remove_ids(as_ids(ids, "ids")); },
          py::arg("ids"))
      .def(
          "reconstruct", [](const FaissIndex& self, std::int64_t id) { return to_numpy(self.reconstruct(id)); },
          py::arg("id"))
      .def(
          "fit_hubness",
          [](FaissIndex& self, const std::string& method, std::int64_t candidates, const std::optional<int>& threads) {
            ReductionOptions reduction;
            reduction.method = parse_reduction(method, "method");
            reduction.parallel = parallel_of(threads);
            index::IndexSearchOptions options;
            options.parallel = reduction.parallel;
            without_gil([&] { self.fit_hubness(reduction, candidates, options); });
          },
          py::arg("method") = "csls", py::arg("candidates") = 0, py::arg("threads") = py::none())
      .def(
          "save",
          [](const FaissIndex& self, const std::filesystem::path& path) {
            without_gil([&] { self.save(path.string()); });
          },
          py::arg("path"))
      .def_static(
          "load",
          [](const std::filesystem::path& path) {
            return without_gil([&] { return FaissIndex::load(path.string()); });
          },
          py::arg("path"));
}

void bind_binary_index(py::module_& m) {
  py::class_<FaissBinaryIndex>(m, "BinaryIndex",
                               "A FAISS binary index (BFlat, BHNSW{M}, BIVF{n}) over packed codes, uint8 [n x "
                               "bits / 8] (numpy.packbits); scores are Hamming distances.")
      .def(py::init([](std::int64_t bits, const std::string& factory, int ef_construction) {
             return FaissBinaryIndex(bits, factory, index::BinaryIndexOptions{ef_construction});
           }),
           py::arg("bits"), py::arg("factory") = "BFlat", py::arg("ef_construction") = 0)
      .def_property_readonly("bits", &FaissBinaryIndex::dim)
      .def_property_readonly("ntotal", &FaissBinaryIndex::ntotal)
      .def_property_readonly("factory", &FaissBinaryIndex::factory)
      .def(
          "train",
          [](FaissBinaryIndex& self, const py::object& codes) {
            const Codes c = as_codes(codes, "codes");
            without_gil([&] { self.train(c.view); });
          },
          py::arg("codes"))
      .def(
          "add",
          [](FaissBinaryIndex& self, const py::object& codes, const py::object& ids) {
            const Codes c = as_codes(codes, "codes");
            if (ids.is_none()) return without_gil([&] { self.add(c.view); });
            const std::vector<std::int64_t> given = as_ids(ids, "ids");
            without_gil([&] { self.add_with_ids(c.view, given); });
          },
          py::arg("codes"), py::arg("ids") = py::none())
      .def(
          "search",
          [](const FaissBinaryIndex& self, const py::object& codes, std::int64_t k, const std::optional<int>& nprobe,
             const std::optional<int>& ef_search, const std::optional<int>& threads) {
            const Codes c = as_codes(codes, "codes");
            const index::IndexSearchOptions options = search_options(nprobe, ef_search, "none", 0, threads);
            return graph_tuple(without_gil([&] { return self.search(c.view, k, options); }));
          },
          py::arg("codes"), py::arg("k") = 10, py::arg("nprobe") = py::none(), py::arg("ef_search") = py::none(),
          py::arg("threads") = py::none())
      .def(
          "save",
          [](const FaissBinaryIndex& self, const std::filesystem::path& path) {
            without_gil([&] { self.save(path.string()); });
          },
          py::arg("path"))
      .def_static(
          "load",
          [](const std::filesystem::path& path) {
            return without_gil([&] { return FaissBinaryIndex::load(path.string()); });
          },
          py::arg("path"));
}

void bind_codec(py::module_& m) {
  using index::VectorCodec;
  py::class_<VectorCodec>(m, "VectorCodec", R"doc(A vector codec trained on rows, through FAISS.

kind "pq": M sub-vectors of d / M values, each replaced by the nearest of 2^bits
k-means centroids of its sub-space (FAISS's ProductQuantizer; codes of
ceil(M bits / 8) bytes); "opq": a learned rotation first (FAISS's OPQMatrix),
then the PQ of the rotated rows; "vq": the nearest of `centroids` k-means
centroids (its id in little-endian bytes).)doc")
      .def(py::init([](const std::string& kind, std::int64_t subquantizers, int bits, std::int64_t centroids,
                       std::int64_t iterations, std::int64_t rotation_iterations, std::uint64_t seed,
                       const std::optional<int>& threads) {
             index::CodecOptions options;
             options.kind = index::parse_codec_kind(kind, "kind");
             options.subquantizers = subquantizers;
             options.bits = bits;
             options.centroids = centroids;
             options.iterations = iterations;
             options.rotation_iterations = rotation_iterations;
             options.seed = seed;
             options.parallel = parallel_of(threads);
             return VectorCodec(options);
           }),
           py::arg("kind") = "pq", py::arg("subquantizers") = 8, py::arg("bits") = 8, py::arg("centroids") = 256,
           py::arg("iterations") = 25, py::arg("rotation_iterations") = 25, py::arg("seed") = 1234,
           py::arg("threads") = py::none())
      .def(
          "fit",
          [](VectorCodec& self, const py::object& x) -> VectorCodec& {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            return without_gil([&]() -> VectorCodec& { return self.fit(rows.view); });
          },
          py::arg("x"), py::return_value_policy::reference_internal)
      .def(
          "encode",
          [](const VectorCodec& self, const py::object& x) {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            return to_numpy(without_gil([&] { return self.encode(rows.view); }));
          },
          py::arg("x"), "uint8 codes [n x code_size].")
      .def(
          "decode",
          [](const VectorCodec& self,
             const py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>& codes) {
            if (codes.ndim() != 2) throw InvalidArgument("codes: expected a 2-d uint8 array");
            const MatrixView<std::uint8_t> view(codes.data(), codes.shape(0), codes.shape(1));
            return to_numpy(without_gil([&] { return self.decode(view); }));
          },
          py::arg("codes"), "float32 rows [n x d].")
      .def(
          "assign",
          [](const VectorCodec& self, const py::object& x) {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            return to_numpy(without_gil([&] { return self.assign(rows.view); }));
          },
          py::arg("x"), "vq: the nearest centroid of each row.")
      .def(
          "reconstruction_error",
          [](const VectorCodec& self, const py::object& x) {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            return without_gil([&] { return self.reconstruction_error(rows.view); });
          },
          py::arg("x"), "Mean over the rows of |x - decode(encode(x))|^2.")
      .def_property_readonly("code_size", &VectorCodec::code_size)
      .def_property_readonly("dim", &VectorCodec::dim)
      .def("is_fitted", &VectorCodec::is_fitted)
      .def("save", [](const VectorCodec& self, const std::filesystem::path& path) { self.save(path.string()); })
      .def_static(
          "load", [](const std::filesystem::path& path) { return VectorCodec::load(path.string()); }, py::arg("path"));
}

}  // namespace

void bind_index(py::module_& m) {
  bind_float_index(m);
  bind_binary_index(m);
  bind_codec(m);
  m.def("faiss_version", &index::faiss_version, "The version of the FAISS library linked.");
  m.def(
      "kmeans",
      [](const py::object& x, std::int64_t k, bool spherical, std::int64_t iterations, std::uint64_t seed,
         std::int64_t restarts, std::int64_t max_points_per_centroid, const std::optional<int>& threads) {
        const Matrix<float> rows = as_matrix<float>(x, "x");
        index::KMeansOptions options;
        options.spherical = spherical;
        options.iterations = iterations;
        options.seed = seed;
        options.restarts = restarts;
        options.max_points_per_centroid = max_points_per_centroid;
        options.parallel = parallel_of(threads);
        index::KMeansResult result = without_gil([&] { return index::kmeans(rows.view, k, options); });
        return py::make_tuple(to_numpy(std::move(result.centroids)), to_numpy(std::move(result.assignment)),
                              result.objective);
      },
      py::arg("x"), py::arg("k"), py::arg("spherical") = false, py::arg("iterations") = 25, py::arg("seed") = 1234,
      py::arg("restarts") = 1, py::arg("max_points_per_centroid") = 256, py::arg("threads") = py::none(),
      R"doc(k-means through FAISS's Clustering: (centroids float32 [k x d], assignment int64 [n], objective).

spherical: rows L2-normalised, assignment by inner product, centroids
normalised after each update; the objective is then the summed cosine to the
assigned centroid, otherwise the summed squared Euclidean distance. The final
assignment is latent's exact nearest centroid (ties to the smaller id), the
same for any thread count.)doc");
}

}  // namespace latent::python
