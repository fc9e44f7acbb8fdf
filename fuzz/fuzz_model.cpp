// Fuzz target: the model files of core/io (ModelReader) and every loader built on
// them. Each input is offered to every loader of the table below (a wrong kind
// fails fast, so the seeds of one kind mutate into the others' headers too); a
// model that loads is then used once on a small finite input of its dimension,
// so a file that passes the checksum but holds inconsistent shapes must be caught
// by load (IoError), not crash transform.
//
// Adding a parser: one row in `loaders()` (a name and a lambda that loads the
// file and uses the result), plus a seed file in fuzz/corpus/model/ written by
// fuzz/make_seeds.cpp.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "latent/core/io.hpp"
#include "latent/embedding.hpp"
#include "latent/hubness.hpp"
#include "latent/relative.hpp"
#include "latent/whitening.hpp"

namespace {

using Loader = std::function<void(const std::string& path)>;

// A small finite input with `dim` columns (nothing when dim is absurd: the
// loader accepted it, which the file size already bounds).
latent::RowMatrixf probe(std::int64_t dim) {
  latent::RowMatrixf x(3, std::clamp<std::int64_t>(dim, 0, 1 << 16));
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>((i * 7) % 5) - 1.5f;
  return x;
}

template <class Model>
void use_unknown_dim(const Model& model) {
  for (std::int64_t dim : {1, 2, 3, 4, 8}) {
    latent::fuzz::expect_only_latent_errors([&] {
      const latent::RowMatrixf x = probe(dim);
      (void)model.transform(x);
    });
  }
}

const std::vector<std::pair<const char*, Loader>>& loaders() {
  static const std::vector<std::pair<const char*, Loader>> table = {
      {"model-reader",
       [](const std::string& path) {
         const latent::ModelReader reader(path, "*", 0xffffffffu);
         for (const char* name : {"dim", "mean", "matrix", "method", "anchors", "options"}) {
           if (!reader.has(name)) continue;
           latent::fuzz::expect_only_latent_errors([&] { (void)reader.get_int(name); });
           latent::fuzz::expect_only_latent_errors([&] { (void)reader.get_double(name); });
           latent::fuzz::expect_only_latent_errors([&] { (void)reader.get_string(name); });
           latent::fuzz::expect_only_latent_errors([&] { (void)reader.get_ints(name); });
           latent::fuzz::expect_only_latent_errors([&] { (void)reader.get_doubles(name); });
           latent::fuzz::expect_only_latent_errors([&] { (void)reader.get_matrix(name); });
         }
       }},
      {"whitening",
       [](const std::string& path) {
         const auto model = latent::Whitening<float>::load(path);
         const latent::RowMatrixf x = probe(model.input_dim());
         const latent::RowMatrixf y = model.transform(x);
         latent::fuzz::expect_only_latent_errors([&] { (void)model.inverse_transform(y); });
       }},
      {"all-but-the-top", [](const std::string& path) { use_unknown_dim(latent::AllButTheTop<float>::load(path)); }},
      {"centering", [](const std::string& path) { use_unknown_dim(latent::Centering<float>::load(path)); }},
      {"standardizer", [](const std::string& path) { use_unknown_dim(latent::Standardizer<float>::load(path)); }},
      {"fnorm", [](const std::string& path) { use_unknown_dim(latent::FNorm<float>::load(path)); }},
      {"hubness-reducer",
       [](const std::string& path) {
         const latent::HubnessReducer reducer = latent::HubnessReducer::load(path);
         const auto n = static_cast<std::int64_t>(std::max<std::size_t>(reducer.point_statistic().size(), 1));
         const std::int64_t k = std::clamp<std::int64_t>(reducer.k_local(), 1, 64);
         latent::DistanceGraph query;
         query.ids.resize(2, k);
         query.distances.resize(2, k);
         for (std::int64_t i = 0; i < 2; ++i) {
           for (std::int64_t j = 0; j < k; ++j) {
             query.ids(i, j) = j % n;
             query.distances(i, j) = 0.25 * static_cast<double>(j + 1);
           }
         }
         query.metric = latent::Metric::l2;
         (void)reducer.transform(query);
       }},
      {"relative-projection",
       [](const std::string& path) {
         const auto model = latent::RelativeProjection<float>::load(path);
         (void)model.transform(probe(model.input_dim()));
       }},
      {"translator",
       [](const std::string& path) {
         const auto model = latent::LatentTranslator<float>::load(path);
         (void)model.transform(probe(model.source_dim()));
       }},
      {"quantizer",
       [](const std::string& path) {
         const auto model = latent::Quantizer::load(path);
         const latent::QuantizedMatrix codes = model.encode(probe(model.dim()));
         latent::fuzz::expect_only_latent_errors([&] { (void)model.decode(codes); });
       }},
  };
  return table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = latent::fuzz::scratch_path(".model");
  latent::fuzz::write_file(path, data, size);
  for (const auto& entry : loaders()) {
    latent::fuzz::expect_only_latent_errors([&] { entry.second(path); });
  }
  return 0;
}
