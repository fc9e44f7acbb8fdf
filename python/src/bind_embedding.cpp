// Row normalisation, pooling, Matryoshka truncation, quantization, MUVERA, the
// hashed embedding tables and sparse autoencoders (latent/_sparse.py gives them
// scipy.sparse codes).
#include <pybind11/stl.h>

#include <tuple>

#include "bindings.hpp"
#include "convert.hpp"
#include "latent/embedding.hpp"

namespace latent::python {
namespace {

// Codes as numpy arrays of the CLI's dtypes: float16 / uint16 (bf16 bit
// patterns) / int8 [n x d], uint8 [n x ceil(d / 2)] packed int4 codes, uint8
// [n x ceil(d / 8)] packed bits for binary.
py::array codes_array(QuantizedMatrix&& codes) {
  auto* owned = new QuantizedMatrix(std::move(codes));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<QuantizedMatrix*>(p); });
  py::dtype dtype = py::dtype::of<std::uint8_t>();
  py::ssize_t cols = static_cast<py::ssize_t>(owned->bytes_per_row);
  switch (owned->type) {
    case QuantizationType::f16:
      dtype = py::dtype("float16");
      cols = owned->dim;
      break;
    case QuantizationType::bf16:
      dtype = py::dtype::of<std::uint16_t>();
      cols = owned->dim;
      break;
    case QuantizationType::int8:
      dtype = py::dtype::of<std::int8_t>();
      break;
    case QuantizationType::int4:
    case QuantizationType::binary:
      break;
  }
  const auto rows = static_cast<py::ssize_t>(owned->rows);
  return py::array(dtype, {rows, cols}, {static_cast<py::ssize_t>(owned->bytes_per_row), dtype.itemsize()},
                   owned->codes.data(), free_when_done);
}

// The inverse: a codes array of `quantizer`'s type, checked against its dtype and width.
QuantizedMatrix codes_of(const Quantizer& quantizer, const py::object& codes) {
  const QuantizationType type = quantizer.options().type;
  py::array array = py::array::ensure(codes, py::array::c_style);
  if (!array) {
    PyErr_Clear();
    throw InvalidArgument("codes: is not an array");
  }
  const py::dtype expected = type == QuantizationType::f16    ? py::dtype("float16")
                             : type == QuantizationType::bf16 ? py::dtype::of<std::uint16_t>()
                             : type == QuantizationType::int8 ? py::dtype::of<std::int8_t>()
                                                              : py::dtype::of<std::uint8_t>();
  if (!array.dtype().is(expected) || array.ndim() != 2 ||
      array.shape(1) * array.itemsize() != quantizer.bytes_per_row())
    throw InvalidArgument("codes: expected " + py::str(py::handle(expected)).cast<std::string>() + " [n x " +
                          std::to_string(quantizer.bytes_per_row() / expected.itemsize()) + "] codes of type " +
                          to_string(type) + " (got " + py::str(py::handle(array.dtype())).cast<std::string>() + " " +
                          py::str(array.attr("shape")).cast<std::string>() + ")");
  QuantizedMatrix out;
  out.type = type;
  out.rows = array.shape(0);
  out.dim = quantizer.dim();
  out.bytes_per_row = quantizer.bytes_per_row();
  const auto* data = static_cast<const std::uint8_t*>(array.data());
  out.codes.assign(data, data + out.rows * out.bytes_per_row);
  return out;
}

Quantizer make_quantizer(const std::string& type, double range_quantile, bool binary_center) {
  QuantizerOptions options;
  options.type = parse_quantization_type(type, "type");
  options.range_quantile = range_quantile;
  options.binary_center = binary_center;
  return Quantizer(options);
}

void bind_quantization(py::module_& m) {
  py::class_<Quantizer>(m, "Quantizer",
                        "Per-dimension quantizer: f16, bf16, int8 or int4 (ranges from calibration rows, values "
                        "outside clipped) or binary (sign, or above the calibration column means).")
      .def(py::init(&make_quantizer), py::arg("type") = "int8", py::arg("range_quantile") = 0.0,
           py::arg("binary_center") = false)
      .def(
          "fit",
          [](Quantizer& self, const py::object& calibration) -> Quantizer& {
            const Matrix<float> rows = as_matrix<float>(calibration, "calibration");
            return without_gil([&]() -> Quantizer& { return self.fit(rows.view); });
          },
          py::arg("calibration"), py::return_value_policy::reference_internal)
      .def(
          "encode",
          [](const Quantizer& self, const py::object& x, const std::optional<int>& threads) {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            const Parallel parallel = parallel_of(threads);
            return codes_array(without_gil([&] { return self.encode(rows.view, parallel); }));
          },
          py::arg("x"), py::arg("threads") = py::none())
      .def(
          "decode",
          [](const Quantizer& self, const py::object& codes, const std::optional<int>& threads) {
            const QuantizedMatrix q = codes_of(self, codes);
            const Parallel parallel = parallel_of(threads);
            return to_numpy(without_gil([&] { return self.decode(q, parallel); }));
          },
          py::arg("codes"), py::arg("threads") = py::none())
      .def(
          "save", [](const Quantizer& self, const std::filesystem::path& path) { self.save(path.string()); },
          py::arg("path"))
      .def_static(
          "load", [](const std::filesystem::path& path) { return Quantizer::load(path.string()); }, py::arg("path"))
      .def("is_fitted", &Quantizer::is_fitted)
      .def_property_readonly("type", [](const Quantizer& self) { return std::string(to_string(self.options().type)); })
      .def_property_readonly("dim", &Quantizer::dim)
      .def_property_readonly("low", [](const Quantizer& self) { return copy_to_numpy(self.low()); })
      .def_property_readonly("high", [](const Quantizer& self) { return copy_to_numpy(self.high()); });

  m.def(
      "quantize",
      [](const py::object& x, const std::string& type, const py::object& calibration, double range_quantile,
         const std::optional<int>& threads) {
        const Matrix<float> rows = as_matrix<float>(x, "x");
        const QuantizationType kind = parse_quantization_type(type, "type");
        const bool ranged = kind == QuantizationType::int8 || kind == QuantizationType::int4;
        if (!calibration.is_none() && !ranged && kind != QuantizationType::binary)
          throw InvalidArgument("calibration: applies to type int8, int4 and binary");
        Quantizer quantizer =
            make_quantizer(type, range_quantile, kind == QuantizationType::binary && !calibration.is_none());
        const Parallel parallel = parallel_of(threads);
        if (ranged && calibration.is_none()) {
          without_gil([&] { quantizer.fit(rows.view); });
        } else if (!calibration.is_none()) {
          const Matrix<float> c = as_matrix<float>(calibration, "calibration");
          without_gil([&] { quantizer.fit(c.view); });
        } else {
          quantizer.fit_dim(rows.view.cols);
        }
        return codes_array(without_gil([&] { return quantizer.encode(rows.view, parallel); }));
      },
      py::arg("x"), py::arg("type") = "int8", py::arg("calibration") = py::none(), py::arg("range_quantile") = 0.0,
      py::arg("threads") = py::none(),
      R"doc(Compresses the rows of x, as `latent quantize` does.

type "f16": float16 [n x d]; "bf16": uint16 [n x d] bfloat16 bit patterns;
"int8": int8 [n x d], per-dimension ranges from the calibration rows (default x
itself; range_quantile q uses the q and 1-q quantiles), values outside clipped;
"int4": the same with 16 levels, uint8 [n x ceil(d / 2)], dimension 2j in the
low nibble of byte j and 2j + 1 in the high one; "binary": uint8 [n x ceil(d / 8)], numpy.packbits(x > t, axis=1) with t = 0 or
the calibration column means. Use Quantizer to decode or to keep the ranges.)doc");
}

void bind_multivector(py::module_& m) {
  const auto sets = [](const py::object& vectors, const py::object& lengths) {
    const Matrix<float> rows = as_matrix<float>(vectors, "vectors");
    return MultiVectorSet::from_lengths(rows.view.map(), as_ids(lengths, "lengths"));
  };
  py::class_<FdeEncoder>(m, "MuveraEncoder",
                         "MUVERA fixed dimensional encodings of multi-vector sets (SimHash partitions, "
                         "repetitions, optional inner and final projections), seeded.")
      .def(py::init([](std::int64_t dim, std::int64_t k_sim, std::int64_t repetitions, std::int64_t projection_dim,
                       bool fill_empty_partitions, std::int64_t final_dim, std::uint64_t seed) {
             return FdeEncoder(dim,
                               FdeOptions{k_sim, repetitions, projection_dim, fill_empty_partitions, final_dim, seed});
           }),
           py::arg("dim"), py::arg("k_sim") = 4, py::arg("repetitions") = 10, py::arg("projection_dim") = 0,
           py::arg("fill_empty_partitions") = true, py::arg("final_dim") = 0, py::arg("seed") = 1)
      .def_property_readonly("output_dim", &FdeEncoder::output_dim)
      .def(
          "encode_queries",
          [sets](const FdeEncoder& self, const py::object& vectors, const py::object& lengths,
                 const std::optional<int>& threads) {
            const MultiVectorSet set = sets(vectors, lengths);
            const Parallel parallel = parallel_of(threads);
            return to_numpy(without_gil([&] { return self.encode_queries(set, parallel); }));
          },
          py::arg("vectors"), py::arg("lengths"), py::arg("threads") = py::none(),
          "vectors: the sets' rows stacked [sum(lengths) x dim]; lengths: rows per set. Returns [sets x output_dim].")
      .def(
          "encode_documents",
          [sets](const FdeEncoder& self, const py::object& vectors, const py::object& lengths,
                 const std::optional<int>& threads) {
            const MultiVectorSet set = sets(vectors, lengths);
            const Parallel parallel = parallel_of(threads);
            return to_numpy(without_gil([&] { return self.encode_documents(set, parallel); }));
          },
          py::arg("vectors"), py::arg("lengths"), py::arg("threads") = py::none());
  m.def(
      "chamfer_similarity",
      [](const py::object& query, const py::object& document) {
        const Matrix<float> q = as_matrix<float>(query, "query");
        const Matrix<float> d = as_matrix<float>(document, "document");
        return chamfer_similarity(q.view, d.view);
      },
      py::arg("query"), py::arg("document"),
      "Chamfer (MaxSim) similarity: sum over query vectors of the best inner product with a document vector.");
}

}  // namespace

namespace {

void bind_edits(py::module_& m) {
  m.def(
      "remove_subspace",
      [](const py::object& x, const py::object& directions, double strength) {
        const Matrix<double> d = as_matrix<double>(directions, "directions");
        return with_matrix(x, "x", [&](auto rows) {
          return to_numpy(without_gil([&] { return remove_subspace(rows.view, d.view, strength); }));
        });
      },
      py::arg("x"), py::arg("directions"), py::arg("strength") = 1.0,
      "x - strength (x Q) Q^T, Q an orthonormal basis of the span of the rows of `directions` (concept erasure; "
      "strength in [0, 1]).");
  m.def(
      "replace_subspace",
      [](const py::object& x, const py::object& m_rows, const py::object& coordinates) {
        const Matrix<double> basis = as_matrix<double>(m_rows, "m");
        const Matrix<double> y = as_matrix<double>(coordinates, "coordinates");
        return with_matrix(x, "x", [&](auto rows) {
          return to_numpy(without_gil([&] { return replace_subspace(rows.view, basis.view, y.view); }));
        });
      },
      py::arg("x"), py::arg("m"), py::arg("coordinates"),
      "x - (x M^T) M + y M: the coordinates along M's (orthonormal) rows replaced by y ([n x r] or [1 x r]).");
  m.def(
      "projection_scores",
      [](const py::object& x, const py::object& direction) {
        const std::vector<double> v = as_doubles(direction, "direction");
        return with_matrix(
            x, "x", [&](auto rows) { return to_numpy(without_gil([&] { return projection_scores(rows.view, v); })); });
      },
      py::arg("x"), py::arg("direction"), "<x, d> / |d| per row (float64).");
  m.def(
      "concept_direction",
      [](const py::object& x, const py::object& labels, std::int64_t positive, std::int64_t negative, bool normalize) {
        const std::vector<std::int64_t> y = as_ids(labels, "labels");
        return with_matrix(x, "x", [&](auto rows) {
          return to_numpy(without_gil([&] { return concept_direction(rows.view, y, positive, negative, normalize); }));
        });
      },
      py::arg("x"), py::arg("labels"), py::arg("positive"), py::arg("negative"), py::arg("normalize") = true,
      "The mean of the rows labelled `positive` minus the mean of those labelled `negative` (float64 [d]), unit "
      "length when normalize.");
  m.def(
      "steer",
      [](const py::object& x, const py::object& direction, double alpha) {
        const std::vector<double> v = as_doubles(direction, "direction");
        return with_matrix(
            x, "x", [&](auto rows) { return to_numpy(without_gil([&] { return steer(rows.view, v, alpha); })); });
      },
      py::arg("x"), py::arg("direction"), py::arg("alpha"), "x + alpha * direction on every row.");
  m.def(
      "random_projection_matrix",
      [](std::int64_t d_in, std::int64_t d_out, const std::string& kind, std::uint64_t seed) {
        return to_numpy(random_projection_matrix(d_in, d_out, parse_random_projection(kind, "kind"), seed));
      },
      py::arg("d_in"), py::arg("d_out"), py::arg("kind") = "gaussian", py::arg("seed") = 0,
      "The seeded projection matrix [d_in x d_out]: 'gaussian' N(0, 1/d_out), 'sign' +-1/sqrt(d_out), "
      "'count-sketch' one +-1 per input dimension.");
  m.def(
      "random_project",
      [](const py::object& x, std::int64_t d_out, const std::string& kind, std::uint64_t seed) {
        const RandomProjection parsed = parse_random_projection(kind, "kind");
        return with_matrix(x, "x", [&](auto rows) {
          return to_numpy(without_gil([&] { return random_project(rows.view, d_out, parsed, seed); }));
        });
      },
      py::arg("x"), py::arg("d_out"), py::arg("kind") = "gaussian", py::arg("seed") = 0,
      "x times random_projection_matrix(x.shape[1], d_out, kind, seed).");
  const auto float_blocks = [](const py::sequence& blocks, std::vector<Matrix<float>>& owned) {
    std::vector<MatrixView<float>> views;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const std::string name = "blocks[" + std::to_string(i) + "]";
      owned.push_back(as_matrix<float>(blocks[i], name.c_str()));
    }
    for (const Matrix<float>& block : owned) views.push_back(block.view);
    return views;
  };
  m.def(
      "concatenate_embeddings",
      [float_blocks](const py::sequence& blocks, const py::object& weights, bool normalize) {
        std::vector<Matrix<float>> owned;
        const std::vector<MatrixView<float>> views = float_blocks(blocks, owned);
        const std::vector<double> w = weights.is_none() ? std::vector<double>{} : as_doubles(weights, "weights");
        return to_numpy(without_gil([&] { return concatenate_embeddings(views, w, normalize); }));
      },
      py::arg("blocks"), py::arg("weights") = py::none(), py::arg("normalize") = true,
      "Several models' embeddings of the same rows side by side, each block L2-normalised per row and weighted.");
  m.def(
      "average_embeddings",
      [float_blocks](const py::sequence& blocks, bool normalize, const py::object& available) {
        std::vector<Matrix<float>> owned;
        const std::vector<MatrixView<float>> views = float_blocks(blocks, owned);
        std::vector<std::vector<std::uint8_t>> flags;
        if (!available.is_none())
          for (const py::handle row : available) {
            const std::vector<std::int64_t> values = as_ids(row, "available");
            flags.emplace_back(values.begin(), values.end());
          }
        return to_numpy(without_gil([&] { return average_embeddings(views, normalize, flags); }));
      },
      py::arg("blocks"), py::arg("normalize") = true, py::arg("available") = py::none(),
      "The averaged meta-embedding: blocks L2-normalised, zero-padded to the widest and averaged over the blocks "
      "available for each row (available: one 0/1 list per block; None: all).");
  m.def(
      "pair_features",
      [](const py::object& u, const py::object& v) {
        return with_matrix(u, "u", [&](auto left) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(left.view.data)>>;
          const Matrix<T> right = as_matrix<T>(v, "v");
          return to_numpy(without_gil([&] { return pair_features(left.view, right.view); }));
        });
      },
      py::arg("u"), py::arg("v"), "Sentence-pair features [u, v, |u - v|, u * v] per row pair.");
}

// Keys of a hash table: a sequence of str / bytes (hashed as their UTF-8 or raw
// bytes), or non-negative integers (hashed as 8 little-endian bytes).
struct HashKeys {
  bool strings = false;
  std::vector<std::string> text;
  std::vector<std::uint64_t> ids;
};

HashKeys hash_keys(const py::object& keys) {
  HashKeys out;
  if (py::isinstance<py::str>(keys) || py::isinstance<py::bytes>(keys))
    throw InvalidArgument("keys: must be a sequence of keys, not one string");
  const bool sequence = py::isinstance<py::list>(keys) || py::isinstance<py::tuple>(keys);
  if (sequence && py::len(keys) > 0) {
    const py::handle first = keys.attr("__getitem__")(0);
    if (py::isinstance<py::str>(first) || py::isinstance<py::bytes>(first)) {
      out.strings = true;
      for (const py::handle key : keys) {
        if (py::isinstance<py::str>(key) || py::isinstance<py::bytes>(key))
          out.text.push_back(key.cast<std::string>());
        else
          throw InvalidArgument("keys: mixes strings with other values");
      }
      return out;
    }
  }
  const py::array array = py::module_::import("numpy").attr("asarray")(keys);
  const char kind = array.dtype().kind();
  if (array.ndim() > 1 || (array.size() > 0 && kind != 'i' && kind != 'u'))
    throw InvalidArgument("keys: must be strings or a 1-d sequence of non-negative integers");
  if (kind == 'i' && array.size() > 0 && array.attr("min")().cast<std::int64_t>() < 0)
    throw InvalidArgument("keys: integer keys must be >= 0");
  const auto values = py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>::ensure(array);
  out.ids.assign(values.data(), values.data() + values.size());
  return out;
}

void bind_hashing(py::module_& m) {
  py::class_<HashEmbedding>(m, "HashEmbedding", R"doc(A multi-hash embedding table (spaCy / thinc's HashEmbed).

Each key is hashed with MurmurHash3_x64_128 (seeded); the four 32-bit words of
the hash (low, high half of h1, then of h2) taken mod the table's rows pick
`hashes` rows, and the key's embedding is their sum. hashes=1 is the hashing
trick. Keys: non-negative integers (8 little-endian bytes) or strings (UTF-8
bytes).)doc")
      .def(py::init([](const py::object& table, int hashes, std::uint32_t seed, const std::optional<int>& threads) {
             const Matrix<float> t = as_matrix<float>(table, "table");
             return HashEmbedding(RowMatrixf(t.view.map()), HashEmbeddingOptions{hashes, seed, parallel_of(threads)});
           }),
           py::arg("table"), py::arg("hashes") = 4, py::arg("seed") = 0, py::arg("threads") = py::none())
      .def_property_readonly("rows", &HashEmbedding::rows)
      .def_property_readonly("dim", &HashEmbedding::dim)
      .def_property_readonly("table", [](const HashEmbedding& h) { return copy_to_numpy(h.table()); })
      .def(
          "lookup",
          [](const HashEmbedding& h, const py::object& keys) {
            const HashKeys k = hash_keys(keys);
            return to_numpy(without_gil([&] { return k.strings ? h.lookup(k.text) : h.lookup(k.ids); }));
          },
          py::arg("keys"), "The embeddings of the keys, float32 [n x dim].")
      .def(
          "buckets",
          [](const HashEmbedding& h, const py::object& keys) {
            const HashKeys k = hash_keys(keys);
            return to_numpy(without_gil([&] { return k.strings ? h.buckets(k.text) : h.buckets(k.ids); }));
          },
          py::arg("keys"), "The table rows each key reads, int64 [n x hashes].");
  m.def(
      "hash_collision_rate",
      [](const py::object& keys, std::int64_t rows, int hashes, std::uint32_t seed) {
        const HashKeys k = hash_keys(keys);
        if (k.strings) throw InvalidArgument("keys: hash_collision_rate takes integer keys");
        return without_gil([&] { return hash_collision_rate(k.ids, rows, hashes, seed); });
      },
      py::arg("keys"), py::arg("rows"), py::arg("hashes") = 4, py::arg("seed") = 0,
      "Share of the distinct keys whose whole bucket tuple is also another key's (they get the same "
      "embedding whatever the table holds).");
  m.def(
      "murmurhash3_x86_32",
      [](const py::bytes& data, std::uint32_t seed) {
        const std::string bytes = data;
        return murmurhash3_x86_32(bytes.data(), bytes.size(), seed);
      },
      py::arg("data"), py::arg("seed") = 0, "MurmurHash3_x86_32 of the bytes, an unsigned 32-bit int.");
  m.def(
      "murmurhash3_x64_128",
      [](const py::bytes& data, std::uint32_t seed) {
        const std::string bytes = data;
        const std::array<std::uint64_t, 2> h = murmurhash3_x64_128(bytes.data(), bytes.size(), seed);
        return py::make_tuple(h[0], h[1]);
      },
      py::arg("data"), py::arg("seed") = 0, "MurmurHash3_x64_128 of the bytes: the halves (h1, h2).");
  py::class_<QuotientRemainderEmbedding>(m, "QuotientRemainderEmbedding",
                                         "Quotient-remainder embedding: id -> combine(E_R[id mod m], E_Q[id // m]).")
      .def(py::init([](const py::object& remainder, const py::object& quotient, const std::string& combine) {
             const Matrix<float> r = as_matrix<float>(remainder, "remainder");
             const Matrix<float> q = as_matrix<float>(quotient, "quotient");
             return QuotientRemainderEmbedding(RowMatrixf(r.view.map()), RowMatrixf(q.view.map()),
                                               parse_qr_combine(combine, "combine"));
           }),
           py::arg("remainder"), py::arg("quotient"), py::arg("combine") = "multiply",
           "combine: multiply or add (element-wise; equal widths) or concat.")
      .def_property_readonly("capacity", &QuotientRemainderEmbedding::capacity)
      .def_property_readonly("dim", &QuotientRemainderEmbedding::dim)
      .def(
          "lookup",
          [](const QuotientRemainderEmbedding& e, const py::object& ids, const std::optional<int>& threads) {
            const std::vector<std::int64_t> v = as_ids(ids, "ids");
            return to_numpy(without_gil([&] { return e.lookup(v, parallel_of(threads)); }));
          },
          py::arg("ids"), py::arg("threads") = py::none(), "The embeddings of ids in [0, capacity), [n x dim].");
}

SaeEncodeOptions sae_encode_options(const std::string& activation, std::int64_t k, double threshold,
                                    const std::optional<int>& threads) {
  SaeEncodeOptions options;
  options.activation = parse_sae_activation(activation, "activation");
  options.k = k;
  options.threshold = threshold;
  options.parallel = parallel_of(threads);
  return options;
}

std::vector<FeatureEdit> feature_edits(const std::vector<std::tuple<std::int64_t, std::string, float>>& edits) {
  std::vector<FeatureEdit> out;
  for (const auto& [feature, kind, value] : edits) {
    if (kind != "scale" && kind != "add")
      throw InvalidArgument("edits: each edit is (feature, 'scale' or 'add', value), got '" + kind + "'");
    out.push_back({feature, kind == "scale" ? FeatureEdit::Kind::scale : FeatureEdit::Kind::add, value});
  }
  return out;
}

void bind_sparse_autoencoder(py::module_& m) {
  py::class_<SparseAutoencoder>(m, "_SparseAutoencoder")
      .def(py::init(
          [](const py::object& w_enc, const py::object& b_enc, const py::object& w_dec, const py::object& b_dec) {
            const Matrix<float> enc = as_matrix<float>(w_enc, "W_enc");
            const Matrix<float> dec = as_matrix<float>(w_dec, "W_dec");
            const Matrix<float> be = as_matrix<float>(b_enc, "b_enc");
            const Matrix<float> bd = as_matrix<float>(b_dec, "b_dec");
            const auto vector_of = [](const Matrix<float>& v) {
              return std::vector<float>(v.view.data, v.view.data + v.view.rows * v.view.cols);
            };
            return SparseAutoencoder(enc.view, vector_of(be), RowMatrixf(dec.view.map()), vector_of(bd));
          }))
      .def_static("load", &SparseAutoencoder::load, py::arg("dir"))
      .def_property_readonly("dim", &SparseAutoencoder::dim)
      .def_property_readonly("features", &SparseAutoencoder::features)
      .def(
          "encode",
          [](const SparseAutoencoder& sae, const py::object& x, const std::string& activation, std::int64_t k,
             double threshold, const std::optional<int>& threads) {
            const Matrix<float> rows = as_matrix<float>(x, "x");
            const SaeEncodeOptions options = sae_encode_options(activation, k, threshold, threads);
            return sparse_tuple(without_gil([&] { return sae.encode(rows.view, options); }));
          },
          py::arg("x"), py::arg("activation"), py::arg("k"), py::arg("threshold"), py::arg("threads"))
      .def("decode",
           [](const SparseAutoencoder& sae, const py::object& indptr, const py::object& indices, const py::object& data,
              std::int64_t rows, std::int64_t cols, const std::optional<int>& threads) {
             const SparseMatrix codes = sparse_of(indptr, indices, data, rows, cols);
             return to_numpy(without_gil([&] { return sae.decode(codes, parallel_of(threads)); }));
           })
      .def("stats",
           [](const SparseAutoencoder& sae, const py::object& x, const std::string& activation, std::int64_t k,
              double threshold, const std::optional<int>& threads) {
             const Matrix<float> rows = as_matrix<float>(x, "x");
             const SaeEncodeOptions options = sae_encode_options(activation, k, threshold, threads);
             const SaeStats s = without_gil([&] { return sae_stats(sae, rows.view, options); });
             py::dict out;
             out["rows"] = s.rows;
             out["features"] = s.features;
             out["mse"] = s.mse;
             out["explained_variance"] = s.explained_variance;
             out["dead_fraction"] = s.dead_fraction;
             out["mean_active"] = s.mean_active;
             return out;
           })
      .def("steer",
           [](const SparseAutoencoder& sae, const py::object& x,
              const std::vector<std::tuple<std::int64_t, std::string, float>>& edits, const std::string& activation,
              std::int64_t k, double threshold, const std::optional<int>& threads) {
             const Matrix<float> rows = as_matrix<float>(x, "x");
             const SaeEncodeOptions options = sae_encode_options(activation, k, threshold, threads);
             const std::vector<FeatureEdit> changes = feature_edits(edits);
             return to_numpy(without_gil([&] { return steer(sae, rows.view, changes, options); }));
           });
}

}  // namespace

void bind_embedding(py::module_& m) {
  bind_edits(m);
  bind_hashing(m);
  bind_sparse_autoencoder(m);
  m.def(
      "l2_normalize",
      [](const py::object& x, const std::string& zero_norm) {
        const ZeroNormPolicy zero = parse_zero_norm_policy(zero_norm, "zero_norm");
        return with_matrix(
            x, "x", [&](auto rows) { return to_numpy(without_gil([&] { return l2_normalize(rows.view, zero); })); });
      },
      py::arg("x"), py::arg("zero_norm") = "raise",
      "Rows scaled to unit L2 norm. zero_norm: 'raise' (a zero row is an error) or 'zero' (it stays 0).");
  m.def(
      "center_rows",
      [](const py::object& x) {
        return with_matrix(x, "x",
                           [&](auto rows) { return to_numpy(without_gil([&] { return center_rows(rows.view); })); });
      },
      py::arg("x"), "Each column minus its mean.");
  m.def(
      "standardize_rows",
      [](const py::object& x) {
        return with_matrix(
            x, "x", [&](auto rows) { return to_numpy(without_gil([&] { return standardize_rows(rows.view); })); });
      },
      py::arg("x"), "Each column minus its mean, divided by its population standard deviation (0 stays 0).");
  m.def(
      "truncate_dims",
      [](const py::object& x, std::int64_t dim, bool renormalize, const std::string& zero_norm) {
        const ZeroNormPolicy zero = parse_zero_norm_policy(zero_norm, "zero_norm");
        return with_matrix(x, "x", [&](auto rows) {
          return to_numpy(without_gil([&] { return truncate_dims(rows.view, dim, renormalize, zero); }));
        });
      },
      py::arg("x"), py::arg("dim"), py::arg("renormalize") = true, py::arg("zero_norm") = "raise",
      "Matryoshka truncation: the first `dim` columns, re-normalised to unit L2 norm unless renormalize=False.");
  m.def(
      "funnel_knn",
      [](const py::object& base, const py::object& query, std::int64_t k, std::int64_t shortlist_dim,
         std::int64_t shortlist, const std::string& metric, const std::optional<int>& threads) {
        const Matrix<float> b = as_matrix<float>(base, "base"), q = as_matrix<float>(query, "query");
        FunnelOptions options;
        options.shortlist_dim = shortlist_dim;
        options.shortlist = shortlist;
        options.metric = parse_metric(metric, "metric");
        options.parallel = parallel_of(threads);
        return graph_tuple(without_gil([&] { return funnel_knn(q.view, b.view, k, options); }));
      },
      py::arg("base"), py::arg("query"), py::arg("k") = 10, py::arg("shortlist_dim") = 64, py::arg("shortlist") = 100,
      py::arg("metric") = "cosine", py::arg("threads") = py::none(),
      "Matryoshka funnel retrieval: the `shortlist` nearest base rows by exact search in the first `shortlist_dim` "
      "dimensions (renormalised for cosine and angular), re-scored in all of them; (ids, scores) of the best k.");
  m.def(
      "sweep_ladder",
      [](const std::vector<py::object>& layers, const std::vector<std::int64_t>& layer_ids,
         const std::vector<std::int64_t>& dims, const py::function& measure, bool renormalize) {
        std::vector<Matrix<float>> kept;
        std::vector<MatrixView<float>> views;
        for (std::size_t l = 0; l < layers.size(); ++l) kept.push_back(as_matrix<float>(layers[l], "layers"));
        for (const Matrix<float>& layer : kept) views.push_back(layer.view);
        const std::vector<SweepCell> cells = sweep_ladder(
            views, ladder(layer_ids, dims),
            [&](const MatrixView<float>& rows) { return measure(to_numpy(RowMatrixf(rows.map()))).cast<double>(); },
            renormalize);
        py::list out;
        for (const SweepCell& c : cells) {
          py::dict cell;
          cell["layer"] = c.layer;
          cell["dim"] = c.dim;
          cell["value"] = c.value;
          cell["seconds"] = c.seconds;
          out.append(cell);
        }
        return out;
      },
      py::arg("layers"), py::arg("layer_ids"), py::arg("dims"), py::arg("measure"), py::arg("renormalize") = true,
      "2D Matryoshka sweep: measure(rows) for every (layer, dim) of layer_ids x dims, the rows being layers[layer] "
      "truncated to the first dim columns (renormalised unless renormalize=False); a list of dicts "
      "{layer, dim, value, seconds} in that order.");
  m.def(
      "pool",
      [](const py::object& tokens, const py::object& mask, const std::string& method, const py::object& weights,
         const std::string& padding, const std::optional<int>& threads) {
        py::array t = float_input(tokens, "tokens");
        if (t.ndim() != 3) throw InvalidArgument("tokens: must be 3-D [batch, seq_len, dim]");
        const py::ssize_t batch = t.shape(0), seq = t.shape(1), dim = t.shape(2);
        PoolingOptions options;
        options.method = parse_pooling(method, "method");
        options.padding = parse_padding(padding, "padding");
        if (!weights.is_none()) options.weights = as_doubles(weights, "weights");
        RowMatrix<std::uint8_t> mask_rows = RowMatrix<std::uint8_t>::Ones(batch, seq);
        if (!mask.is_none()) {
          const auto m8 = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(mask);
          if (!m8 || m8.ndim() != 2 || m8.shape(0) != batch || m8.shape(1) != seq)
            throw DimensionMismatch("mask: must be [batch, seq_len] = [" + std::to_string(batch) + ", " +
                                    std::to_string(seq) + "] (1 = token, 0 = padding)");
          mask_rows = Eigen::Map<const RowMatrix<std::uint8_t>>(m8.data(), batch, seq);
        }
        const Parallel parallel = parallel_of(threads);
        const py::object flat = t.attr("reshape")(py::make_tuple(batch * seq, dim));
        return with_matrix(flat, "tokens", [&](auto rows) {
          return to_numpy(without_gil([&] { return pool_padded(rows.view, mask_rows, options, parallel); }));
        });
      },
      py::arg("tokens"), py::arg("mask") = py::none(), py::arg("method") = "mean", py::arg("weights") = py::none(),
      py::arg("padding") = "any", py::arg("threads") = py::none(),
      R"doc(Pools token embeddings [batch, seq_len, dim] into one row per sequence, [batch x dim].

mask [batch, seq_len]: 1 for a token, 0 for padding (default: every token), as
the attention mask of a transformer. method: mean, max, min, mean-max (the mean
then the max: [batch x 2 dim]), first (CLS), last (EOS), sum or weighted-mean
(weights [seq_len], default position t + 1).)doc");
  bind_quantization(m);
  bind_multivector(m);
}

}  // namespace latent::python
