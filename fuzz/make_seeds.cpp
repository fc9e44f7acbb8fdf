// Writes the seed corpora of the fuzz targets: small valid files of every format
// and kind (plus a few near-misses the readers must refuse), and one command line
// per subcommand for fuzz_cli. The committed fuzz/corpus/ was made with
//   build/fuzz/fuzz/latent_fuzz_seeds fuzz/corpus
// Rerun it when a format changes (existing files are overwritten, others kept).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/embedding.hpp"
#include "latent/hubness.hpp"
#include "latent/relative.hpp"
#include "latent/whitening.hpp"
#include "support/npy_bytes.hpp"
#ifdef LATENT_SEEDS_HDF5
#include "core/hdf5_writer.hpp"
#endif

namespace fs = std::filesystem;

namespace {

latent::RowMatrixf rows(std::int64_t n, std::int64_t d, int salt) {
  latent::RowMatrixf x(n, d);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    x.data()[i] = static_cast<float>(((i + salt) * 2654435761u) % 1000) / 250.0f - 2.0f;
  }
  return x;
}

void write_raw(const fs::path& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// write_npy never produces these dtypes and layouts: hand-made headers.
std::string npy_bytes(const std::string& dict, const std::string& payload) {
  return latent::testing::npy_v1_header(dict) + payload;
}

void npy_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const latent::RowMatrixf x = rows(3, 4, 1);
  latent::write_npy((dir / "f32_3x4.npy").string(), x);
  const latent::RowMatrixd xd = x.cast<double>();
  latent::write_npy((dir / "f64_3x4.npy").string(), xd);
  latent::write_npy((dir / "i64_5.npy").string(), std::vector<std::int64_t>{0, 1, 2, -1, 4});
  latent::write_npy((dir / "i32_3.npy").string(), std::vector<std::int32_t>{7, 8, 9});
  latent::write_npy((dir / "u8_4.npy").string(), std::vector<std::uint8_t>{1, 2, 3, 255});
  latent::write_npy((dir / "f32_0x4.npy").string(), static_cast<const float*>(nullptr), {0, 4});
  const float scalar = 1.5f;
  latent::write_npy((dir / "f32_scalar.npy").string(), &scalar, {});
  write_raw(dir / "bool_2x2.npy", npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }",
                                            std::string("\x01\x00\x00\x01", 4)));
  write_raw(dir / "f32_fortran.npy",
            npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", std::string(8, '\0')));
  write_raw(dir / "f32_bigendian.npy",
            npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", std::string(8, '\0')));
  write_raw(dir / "f32_3d.npy",
            npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2), }", std::string(8, '\0')));
  write_raw(dir / "f64_bigendian_2x3.npy",
            npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", std::string(48, '\x01')));
  write_raw(dir / "i32_fortran_bigendian_2x3x2.npy",
            npy_bytes("{'descr': '>i4', 'fortran_order': True, 'shape': (2, 3, 2), }", std::string(48, '\x02')));
  write_raw(
      dir / "f32_lying_shape.npy",
      npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }", std::string(8, '\0')));
}

// The .npz fixtures numpy wrote for the tests (stored, deflated, ZIP64).
void npz_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path fixtures = fs::path(LATENT_SOURCE_DIR) / "tests" / "core" / "fixtures";
  for (const char* name : {"stored.npz", "compressed.npz", "zip64.npz", "single.npz"}) {
    fs::copy_file(fixtures / name, dir / name, fs::copy_options::overwrite_existing);
  }
}

// An ann-benchmarks file (tests/core/hdf5_writer.hpp), when the build reads HDF5.
void hdf5_seeds(const fs::path& dir) {
#ifdef LATENT_SEEDS_HDF5
  fs::create_directories(dir);
  latent::testing::write_ann_benchmarks_file((dir / "ann.hdf5").string());
#else
  (void)dir;
#endif
}

void vecs_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const latent::RowMatrixf x = rows(3, 4, 2);
  latent::write_fvecs((dir / "f_3x4.fvecs").string(), latent::MatrixView<float>(x));
  latent::RowMatrix<std::int32_t> ids(2, 3);
  ids << 0, 1, 2, 3, 4, 5;
  latent::write_ivecs((dir / "i_2x3.ivecs").string(), latent::MatrixView<std::int32_t>(ids));
  latent::RowMatrix<std::uint8_t> bytes(2, 5);
  bytes.setConstant(7);
  latent::write_bvecs((dir / "b_2x5.bvecs").string(), latent::MatrixView<std::uint8_t>(bytes));
  write_raw(dir / "lying_dim.fvecs", std::string("\xff\xff\xff\x7f\x00\x00\x80\x3f", 8));
}

void model_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const latent::RowMatrixf x = rows(24, 4, 3);
  const latent::RowMatrixf y = rows(24, 3, 4);
  latent::Whitening<float> pca;
  pca.fit(x);
  pca.save((dir / "whitening-pca.model").string());
  latent::WhiteningOptions zca_options;
  zca_options.method = latent::WhiteningMethod::zca;
  zca_options.dim = 0;
  latent::Whitening<float> zca(zca_options);
  zca.fit(x);
  zca.save((dir / "whitening-zca.model").string());
  latent::AllButTheTop<float> abtt;
  abtt.fit(x);
  abtt.save((dir / "abtt.model").string());
  latent::Centering<float> centering;
  centering.fit(x);
  centering.save((dir / "centering.model").string());
  latent::Standardizer<float> standardizer;
  standardizer.fit(x);
  standardizer.save((dir / "standardizer.model").string());
  latent::FNorm<float> fnorm;
  fnorm.fit(x);
  fnorm.save((dir / "fnorm.model").string());

  const latent::DistanceGraph graph =
      latent::exact_candidate_graph(latent::MatrixView<float>(x), 8, latent::Metric::l2);
  for (const char* method : {"mp", "mp-normal", "ls", "nicdm", "dsl", "csls"}) {
    latent::ReductionOptions options;
    options.method = latent::parse_reduction(method);
    options.k_local = 3;
    latent::HubnessReducer reducer(options);
    reducer.fit(graph, latent::MatrixView<float>(x));
    reducer.save((dir / (std::string("reducer-") + method + ".model")).string());
  }

  latent::RelativeOptions relative_options;
  relative_options.similarities = {latent::RelativeSimilarity::cosine, latent::RelativeSimilarity::l2};
  latent::RelativeProjection<float> projection(relative_options);
  projection.fit(latent::MatrixView<float>(x), std::vector<std::int64_t>{0, 5, 9, 13});
  projection.save((dir / "relative.model").string());

  for (const char* method : {"procrustes", "affine"}) {
    latent::TranslationOptions options;
    options.method =
        std::string(method) == "affine" ? latent::TranslationMethod::affine : latent::TranslationMethod::procrustes;
    latent::LatentTranslator<float> translator(options);
    translator.fit(latent::MatrixView<float>(x), latent::MatrixView<float>(y));
    translator.save((dir / (std::string("translator-") + method + ".model")).string());
  }

  for (const auto type : {latent::QuantizationType::int8, latent::QuantizationType::binary}) {
    latent::Quantizer quantizer(latent::QuantizerOptions{type});
    quantizer.fit(latent::MatrixView<float>(x));
    quantizer.save(
        (dir / (std::string("quantizer-") + (type == latent::QuantizationType::int8 ? "int8" : "binary") + ".model"))
            .string());
  }
}

// CSR codes as write_sparse_npz writes them (stored, int64, aligned), an empty
// matrix, and one with an unsorted row (refused).
void sparse_npz_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  latent::RowMatrixf dense = rows(6, 9, 5);
  dense = (dense.array() > 0.5f).select(dense, 0.0f);
  latent::write_sparse_npz((dir / "codes.npz").string(), latent::SparseMatrix::from_dense(dense));
  latent::write_sparse_npz((dir / "empty.npz").string(), latent::SparseMatrix::from_dense(latent::RowMatrixf(3, 4)));
}

// A weights folder packed as fuzz_sae_weights reads it: three uint16 lengths,
// then W_enc [4 x 6], b_enc [6], W_dec [6 x 4], b_dec [4].
void sae_weights_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path scratch = dir / "scratch";
  fs::create_directories(scratch);
  latent::write_npy((scratch / "W_enc.npy").string(), rows(4, 6, 6));
  latent::write_npy((scratch / "b_enc.npy").string(), std::vector<float>(6, 0.25f));
  latent::write_npy((scratch / "W_dec.npy").string(), rows(6, 4, 7));
  latent::write_npy((scratch / "b_dec.npy").string(), std::vector<float>(4, -0.5f));
  std::string files[4];
  const char* names[4] = {"W_enc.npy", "b_enc.npy", "W_dec.npy", "b_dec.npy"};
  for (int i = 0; i < 4; ++i) {
    std::ifstream in(scratch / names[i], std::ios::binary);
    files[i].assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string packed;
  for (int i = 0; i < 3; ++i) {
    packed += static_cast<char>(files[i].size() & 0xff);
    packed += static_cast<char>(files[i].size() >> 8);
  }
  for (const std::string& file : files) packed += file;
  write_raw(dir / "weights", packed);
  fs::remove_all(scratch);
}

void cli_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const std::vector<std::vector<std::string>> lines = {
      {"--version"},
      {"info", "x.npy", "--json"},
      {"info", "bad.npy"},
      {"knn", "--base", "x.npy", "-k", "3", "--metric", "cosine", "--ids", "o.npy", "--scores", "s.npy"},
      {"knn", "--base", "x.npy", "--query", "y.npy", "-k", "2", "--metric", "l1", "--ids", "o.npy", "--threads", "2"},
      {"whiten", "--fit", "x.npy", "--method", "zca", "-o", "o.npy", "--save", "m.bin"},
      {"whiten", "--fit", "x64.npy", "--apply", "y.npy", "--method", "abtt", "--dim", "1", "-o", "o.npy"},
      {"isotropy", "x.npy", "--json"},
      {"hubness", "x.npy", "-k", "3", "--metric", "l2", "--reduce", "mp", "--labels", "labels.npy", "--json"},
      {"hubness", "x.npy", "-k", "2", "--metric", "cosine", "--reduce", "dsl", "--candidates", "5", "--ids", "o.npy"},
      {"relative", "x.npy", "--anchors", "ids.npy", "--similarity", "cosine,l2", "--aggregate", "sum", "-o", "o.npy"},
      {"align", "--source", "x.npy", "--target", "y.npy", "--fit-ids", "ids.npy", "--method", "ridge", "-o", "o.npy",
       "--save", "t.bin"},
      {"compare", "x.npy", "y.npy", "--anchors", "ids.npy", "-k", "3", "--rows", "10", "--similarity", "cosine,l1",
       "--json"},
      {"report", "x.npy", "-k", "3", "--labels", "labels.npy", "--compare", "y.npy", "--n-anchors", "4", "--html",
       "o.html", "--json"},
      {"quantize", "x.npy", "--type", "int8", "--calibration", "y.npy", "-o", "o.npy", "--save", "q.bin"},
      {"quantize", "x.npy", "--type", "binary", "-o", "o.npy"},
      {"eval", "--ids", "ids.npy", "--relevance", "labels.npy", "-k", "1", "--json"},
      {"info", "a.npz"},
      {"knn", "--base", "a.npz:x", "-k", "2", "--metric", "l2", "--ids", "o.npy"},
      {"analyze", "x.npy", "y.npy", "--labels", "labels.npy", "--measures",
       "cka,svcca,pwcca,stitching,lidar,nmi,ridge_probe,renyi_entropy", "--rows", "6", "--json"},
      {"knn", "--base", "x.npy", "--query", "y.npy", "-k", "2", "--metric", "cosine", "--compute", "int8", "--rescore",
       "3", "--ids", "o.npy", "--json"},
      {"knn", "--base", "x.npy", "-k", "2", "--metric", "poincare", "--curvature", "0.001", "--ids", "o.npy"},
      {"sae", "encode", "x.npy", "--weights", "sae", "--activation", "topk", "--k", "2", "-o", "c.npz"},
      {"sae", "decode", "codes.npz", "--weights", "sae", "-o", "o.npy", "--json"},
      {"sae", "stats", "x.npy", "--weights", "sae", "--activation", "jumprelu", "--threshold", "0.5"},
  };
  int index = 0;
  for (const auto& line : lines) {
    std::string bytes;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (i > 0) bytes += '\0';
      bytes += line[i];
    }
    write_raw(dir / ("cmd-" + std::to_string(index++) + "-" + line[0].substr(line[0].find_first_not_of('-'))), bytes);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: latent_fuzz_seeds OUTDIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  npy_seeds(out / "npy");
  npy_seeds(out / "npy_mmap");
  npz_seeds(out / "npz");
  hdf5_seeds(out / "hdf5");
  vecs_seeds(out / "vecs");
  model_seeds(out / "model");
  sparse_npz_seeds(out / "sparse_npz");
  sae_weights_seeds(out / "sae_weights");
  cli_seeds(out / "cli");
  return 0;
}
