// Fuzz target: the `latent` command line. The input is the argument list,
// separated by NUL bytes (argv[0] is added). The tool's own sources are compiled
// into this target with its `main` renamed (see fuzz/CMakeLists.txt), so every
// subcommand registered in tools/latent/main.cpp is reached without an entry here.
//
// The tool runs for real in a scratch folder that holds small valid inputs
// (rewritten before each run, so outputs never feed the next run): x.npy and
// y.npy [12 x 4] float32, x64.npy float64, ids.npy int64 anchors/fit ids,
// labels.npy int64, i32.npy int32, bad.npy (not an .npy), a.npz (numpy's
// savez of x [3 x 4] float32, y [2 x 3] float64, ids [5] int64, from the test
// fixtures), sae/ (sparse autoencoder weights over 4 dims, 6 features) and
// codes.npz (CSR codes [12 x 6]). The contract checked:
// exit status 0, 1 or 2 (anything else, a crash, a sanitizer report or an
// exception escaping `main` is a finding).
//
// Inputs are skipped (not run) when an argument holds '/' (the fuzzer must not
// read or write outside its folder; as root it could overwrite anything) or asks
// for more than 4 threads (thousands of threads per run would only slow it down).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "latent/core/io.hpp"

int latent_tool_main(int argc, char** argv);

namespace {

std::filesystem::path& scratch_dir() {
  static std::filesystem::path dir;
  return dir;
}

void write_fixtures() {
  const std::filesystem::path& dir = scratch_dir();
  for (const auto& entry : std::filesystem::directory_iterator(dir)) std::filesystem::remove_all(entry.path());
  latent::RowMatrixf x(12, 4);
  latent::RowMatrixf y(12, 4);
  latent::RowMatrixd x64(12, 4);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    x.data()[i] = static_cast<float>((i * 37) % 11) - 5.0f;
    y.data()[i] = static_cast<float>((i * 13) % 7) - 3.0f;
    x64.data()[i] = static_cast<double>(x.data()[i]) * 0.5;
  }
  latent::write_npy((dir / "x.npy").string(), x);
  latent::write_npy((dir / "y.npy").string(), y);
  latent::write_npy((dir / "x64.npy").string(), x64);
  latent::write_npy((dir / "ids.npy").string(), std::vector<std::int64_t>{0, 3, 5, 7, 9, 11});
  latent::write_npy((dir / "labels.npy").string(), std::vector<std::int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2});
  latent::write_npy((dir / "i32.npy").string(), std::vector<std::int32_t>{1, 2, 3});
  std::ofstream((dir / "bad.npy").string()) << "not an npy file";
  std::filesystem::copy_file(std::filesystem::path(LATENT_SOURCE_DIR) / "tests/core/fixtures/stored.npz",
                             dir / "a.npz");
  std::filesystem::create_directories(dir / "sae");
  latent::RowMatrixf w_enc(4, 6), w_dec(6, 4);
  for (Eigen::Index i = 0; i < w_enc.size(); ++i) {
    w_enc.data()[i] = static_cast<float>((i * 5) % 9) * 0.25f - 1.0f;
    w_dec.data()[i] = static_cast<float>((i * 7) % 5) * 0.5f - 1.0f;
  }
  latent::write_npy((dir / "sae/W_enc.npy").string(), w_enc);
  latent::write_npy((dir / "sae/b_enc.npy").string(), std::vector<float>(6, 0.1f));
  latent::write_npy((dir / "sae/W_dec.npy").string(), w_dec);
  latent::write_npy((dir / "sae/b_dec.npy").string(), std::vector<float>(4, 0.0f));
  latent::RowMatrixf codes = latent::RowMatrixf::Zero(12, 6);
  for (Eigen::Index i = 0; i < 12; ++i) codes(i, i % 6) = 1.0f + static_cast<float>(i);
  latent::write_sparse_npz((dir / "codes.npz").string(), latent::SparseMatrix::from_dense(codes));
}

bool allowed(const std::vector<std::string>& args) {
  if (args.size() > 64) return false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.find('/') != std::string::npos) return false;
    if (arg.rfind("--threads", 0) == 0) {
      const std::string value = arg == "--threads" ? (i + 1 < args.size() ? args[i + 1] : "") : arg.substr(9);
      if (value != "1" && value != "2" && value != "=1" && value != "=2" && value != "3" && value != "4" &&
          value != "=3" && value != "=4") {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  scratch_dir() = latent::fuzz::scratch_path(".cli");
  std::filesystem::create_directories(scratch_dir());
  std::filesystem::current_path(scratch_dir());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  if (!current.empty()) args.push_back(current);
  if (!allowed(args)) return -1;  // -1: libFuzzer keeps it out of the corpus

  write_fixtures();
  std::vector<std::string> storage = {"latent"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int status = latent_tool_main(static_cast<int>(storage.size()), argv.data());
  if (status != 0 && status != 1 && status != 2) std::abort();
  return 0;
}
