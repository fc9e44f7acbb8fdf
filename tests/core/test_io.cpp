// .npy and *vecs: round trips for every dtype, files written by numpy, and every
// malformed-file case the reader must refuse with IoError (never a crash or an
// allocation larger than the file).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

namespace fs = std::filesystem;

class IoTest : public testing::TempDirTest {
 protected:
  void write_bytes(const std::string& file, const std::string& bytes) const {
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  // The files in the test folder (to check that no temporary is left behind).
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
    return names;
  }
};

// A .npy file by hand: magic, version, little-endian header length, dict, data.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  std::string header = dict;
  const std::size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const auto n = static_cast<std::uint32_t>(header.size());
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) {
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 24) & 0xff);
  }
  return out + header + data;
}

std::string float_bytes(std::initializer_list<float> values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.begin(), out.size());
  return out;
}

// The message of the IoError `f` throws (fails the test if it throws nothing).
template <class F>
std::string io_error(F&& f) {
  return testing::message_of<IoError>(std::forward<F>(f));
}

// ---------------------------------------------------------------- round trips

template <class T>
RowMatrix<T> sample_matrix(int rows, int cols) {
  RowMatrix<T> m(rows, cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      if constexpr (std::is_same_v<T, bool>) {
        m(i, j) = (i * 7 + j) % 3 == 0;
      } else if constexpr (std::is_floating_point_v<T>) {
        m(i, j) = static_cast<T>(i) - static_cast<T>(j) / T(3) + T(0.125);
      } else {
        m(i, j) = static_cast<T>((i * 31 + j * 7) % 251);
      }
    }
  return m;
}

template <class T>
class NpyRoundTrip : public IoTest {};
using NpyTypes = ::testing::Types<float, double, std::int64_t, std::int32_t, std::uint8_t, bool>;
TYPED_TEST_SUITE(NpyRoundTrip, NpyTypes);

TYPED_TEST(NpyRoundTrip, MatrixVectorMappedAndHeader) {
  using T = TypeParam;
  const RowMatrix<T> m = sample_matrix<T>(17, 5);
  const std::string file = this->path("m.npy");
  write_npy<T>(file, MatrixView<T>(m));

  const RowMatrix<T> back = read_npy_matrix<T>(file);
  EXPECT_EQ(back.rows(), 17);
  EXPECT_EQ(back.cols(), 5);
  EXPECT_TRUE((back.array() == m.array()).all());

  const NpyHeader header = read_npy_header(file);
  EXPECT_EQ(header.dtype, dtype_of<T>());
  EXPECT_EQ(header.shape, (std::vector<std::int64_t>{17, 5}));
  EXPECT_EQ(header.data_offset % 64, 0);  // aligned data, as numpy writes it

  const MappedNpy mapped(file);
  const MatrixView<T> view = mapped.view<T>();
  ASSERT_EQ(view.rows, 17);
  ASSERT_EQ(view.cols, 5);
  for (int i = 0; i < 17; ++i)
    for (int j = 0; j < 5; ++j) EXPECT_EQ(view.row(i)[j], m(i, j));

  // Every dtype converts to float for the tools.
  const RowMatrixf as_float = to_matrix<float>(read_npy(file), file);
  for (int i = 0; i < 17; ++i)
    for (int j = 0; j < 5; ++j) EXPECT_EQ(as_float(i, j), static_cast<float>(m(i, j)));

  // 1-D arrays read back as a column.
  const std::string vec_file = this->path("v.npy");
  write_npy<T>(vec_file, m.data(), {85});
  EXPECT_EQ(read_npy_header(vec_file).shape, (std::vector<std::int64_t>{85}));
  const RowMatrix<T> column = read_npy_matrix<T>(vec_file);
  EXPECT_EQ(column.rows(), 85);
  EXPECT_EQ(column.cols(), 1);
  EXPECT_EQ(column(84, 0), m(16, 4));
}

TEST_F(IoTest, VectorRoundTrip) {
  const std::vector<std::int64_t> labels = {3, 1, 4, 1, 5, 9, 2, 6};
  write_npy(path("labels.npy"), labels);
  EXPECT_EQ(read_npy_vector<std::int64_t>(path("labels.npy")), labels);
  EXPECT_CONTAINS(io_error([&] { read_npy_vector<std::int32_t>(path("labels.npy")); }), "int64");
  const RowMatrixf m = RowMatrixf::Ones(3, 2);
  write_npy(path("m.npy"), m);
  EXPECT_CONTAINS(io_error([&] { read_npy_vector<float>(path("m.npy")); }), "expected a 1-D array");
}

TEST_F(IoTest, StridedViewIsWrittenCompact) {
  const RowMatrixf m = sample_matrix<float>(6, 8);
  write_npy(path("block.npy"), MatrixView<float>(m.block(1, 2, 4, 3)));
  const RowMatrixf back = read_npy_matrix<float>(path("block.npy"));
  ASSERT_EQ(back.rows(), 4);
  ASSERT_EQ(back.cols(), 3);
  EXPECT_TRUE(back.isApprox(m.block(1, 2, 4, 3)));
}

TEST_F(IoTest, EmptyAndScalarShapes) {
  const RowMatrixf empty(0, 64);
  write_npy(path("empty.npy"), empty);
  const RowMatrixf back = read_npy_matrix<float>(path("empty.npy"));
  EXPECT_EQ(back.rows(), 0);
  EXPECT_EQ(back.cols(), 64);
  EXPECT_EQ(MappedNpy(path("empty.npy")).view<float>().rows, 0);

  const double value = 2.5;
  write_npy<double>(path("scalar.npy"), &value, {});
  const NpyArray scalar = read_npy(path("scalar.npy"));
  EXPECT_TRUE(scalar.header.shape.empty());
  EXPECT_EQ(scalar.header.size(), 1);
  double read_back = 0;
  std::memcpy(&read_back, scalar.bytes.data(), 8);
  EXPECT_EQ(read_back, 2.5);
  EXPECT_CONTAINS(io_error([&] { read_npy_matrix<double>(path("scalar.npy")); }), "expected a 1-D or 2-D array");
}

TEST_F(IoTest, WriteReplacesAnExistingFile) {
  const RowMatrixf a = RowMatrixf::Ones(2, 2), b = RowMatrixf::Zero(3, 1);
  write_npy(path("x.npy"), a);
  write_npy(path("x.npy"), b);
  EXPECT_EQ(read_npy_matrix<float>(path("x.npy")).rows(), 3);
  EXPECT_EQ(listing().size(), 1u);
}

TEST_F(IoTest, MappedNpyMovesOwnership) {
  const RowMatrixf m = sample_matrix<float>(3, 3);
  write_npy(path("m.npy"), m);
  MappedNpy first(path("m.npy"));
  MappedNpy second(std::move(first));
  EXPECT_EQ(second.view<float>().row(2)[2], m(2, 2));
  EXPECT_THROW(first.view<float>(), IoError);  // NOLINT(bugprone-use-after-move): moved-from is checked
  EXPECT_CONTAINS(io_error([&] { second.view<double>(); }), "has dtype float32, expected float64");
}

// ---------------------------------------------------------------- files numpy wrote

TEST_F(IoTest, ReadsTheBundledFashionMnistSample) {
  // data/fashion-mnist/images.npy was written by numpy (make_sample.py).
  const std::string images = std::string(LATENT_SOURCE_DIR) + "/data/fashion-mnist/images.npy";
  const std::string labels = std::string(LATENT_SOURCE_DIR) + "/data/fashion-mnist/labels.npy";
  const RowMatrixf x = read_npy_matrix<float>(images);
  EXPECT_EQ(x.rows(), 1000);
  EXPECT_EQ(x.cols(), 784);
  EXPECT_GE(x.minCoeff(), 0.0f);
  EXPECT_LE(x.maxCoeff(), 1.0f);
  // Pixels are multiples of 1/255.
  EXPECT_FLOAT_EQ(x.maxCoeff() * 255.0f, 255.0f);
  const std::vector<std::int64_t> y = read_npy_vector<std::int64_t>(labels);
  ASSERT_EQ(y.size(), 1000u);
  // Fashion-MNIST's first test image is an ankle boot (class 9), the second a pullover (2).
  EXPECT_EQ(y[0], 9);
  EXPECT_EQ(y[1], 2);
  const MappedNpy mapped(images);
  EXPECT_EQ(mapped.view<float>().row(999)[783], x(999, 783));
}

TEST_F(IoTest, ReadsVersion2And3Headers) {
  for (const int major : {2, 3}) {
    const std::string file = path("v" + std::to_string(major) + ".npy");
    write_bytes(file, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                                float_bytes({1, 2, 3, 4}), major));
    const RowMatrixf m = read_npy_matrix<float>(file);
    EXPECT_EQ(m(1, 0), 3.0f);
  }
}

TEST_F(IoTest, AcceptsHeaderVariantsNumpyAndOthersWrite) {
  // Keys in another order, double quotes, no trailing comma, a Python 2 long.
  write_bytes(path("a.npy"), npy_bytes("{\"shape\": (2L, 1), \"fortran_order\": False, \"descr\": \"<f4\"}",
                                       float_bytes({7, 8})));
  EXPECT_EQ(read_npy_matrix<float>(path("a.npy"))(1, 0), 8.0f);
  // Fortran order is harmless when only one axis is longer than 1.
  write_bytes(path("b.npy"), npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3), }",
                                       float_bytes({1, 2, 3})));
  EXPECT_EQ(read_npy_matrix<float>(path("b.npy"))(0, 2), 3.0f);
}

// ---------------------------------------------------------------- malformed files

TEST_F(IoTest, MissingFileAndDirectory) {
  const std::string missing = path("nope.npy");
  const std::string message = io_error([&] { read_npy(missing); });
  EXPECT_EQ(message.rfind("latent::read_npy: " + missing + ": cannot open for reading", 0), 0u) << message;
  EXPECT_CONTAINS(io_error([&] { read_npy(dir_.string()); }), "is a directory");
  EXPECT_CONTAINS(io_error([&] { MappedNpy{dir_.string()}; }), "is a directory");
  EXPECT_CONTAINS(io_error([&] { read_fvecs(dir_.string()); }), "is a directory");
}

TEST_F(IoTest, RefusesEveryMalformedHeader) {
  const std::string data = float_bytes({1, 2, 3, 4});
  const std::string good_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  struct Case {
    const char* name;
    std::string bytes;
    const char* expected;
  };
  std::string bad_magic = npy_bytes(good_dict, data);
  bad_magic[1] = 'X';
  std::string bad_version = npy_bytes(good_dict, data);
  bad_version[6] = 9;
  std::string absurd_v2 = npy_bytes(good_dict, data, 2);
  absurd_v2[8] = absurd_v2[9] = absurd_v2[10] = absurd_v2[11] = '\xff';
  std::string long_v1 = npy_bytes(good_dict, data);
  long_v1[8] = '\xff';
  long_v1[9] = '\x7f';
  std::string nonprintable = npy_bytes(good_dict, data);
  nonprintable[20] = '\x01';

  const std::vector<Case> cases = {
      {"empty", "", "too short"},
      {"short", "\x93NUM", "too short"},
      {"bad_magic", bad_magic, "bad magic"},
      {"bad_version", bad_version, "unsupported .npy format version"},
      {"absurd_header_length", absurd_v2, "header length is absurd"},
      {"header_past_end", long_v1, "truncated inside the header"},
      {"nonprintable", nonprintable, "non-printable"},
      {"not_a_dict", npy_bytes("hello", data), "malformed header"},
      {"missing_shape", npy_bytes("{'descr': '<f4', 'fortran_order': False, }", data), "missing"},
      {"unknown_key", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}", data),
       "unexpected key"},
      {"unterminated", npy_bytes("{'descr': '<f4, 'fortran_order': False, 'shape': (4,)}", data), "malformed"},
      {"bad_bool", npy_bytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (4,), }", data), "True or False"},
      {"negative_extent", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", data),
       "non-integer"},
      {"float_extent", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }", data),
       "expected ',' or ')'"},
      {"extent_overflow",
       npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", data),
       "overflows"},
      {"size_overflow",
       npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000, 4000000000), }", data),
       "absurd"},
      {"too_many_dims",
       npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
                 "1,1,1,1,1,1,1,1,1,1,1,1), }",
                 data),
       "more than 32 dimensions"},
      {"int16", npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': (8,), }", data),
       "unsupported dtype '<i2'"},
      {"big_endian_int16", npy_bytes("{'descr': '>i2', 'fortran_order': False, 'shape': (8,), }", data),
       "unsupported dtype '>i2'"},
      {"object", npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", data),
       "unsupported dtype '|O'"},
      {"structured", npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", data),
       "structured"},
      {"truncated_data", npy_bytes(good_dict, data.substr(0, 10)), "is truncated"},
      {"lying_shape", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 784), }", data),
       "promises more data"},
      {"trailing_bytes", npy_bytes(good_dict, data + "junk"), "unexpected bytes after the data"},
      {"trailing_text", npy_bytes(good_dict + " x", data), "trailing characters"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = path(std::string(c.name) + ".npy");
    write_bytes(file, c.bytes);
    const std::string message = io_error([&] { read_npy(file); });
    EXPECT_CONTAINS(message, c.expected);
    EXPECT_CONTAINS(message, file);  // names the file
    EXPECT_EQ(message.find('\n'), std::string::npos);
    // Every reader shares the checks.
    EXPECT_THROW(read_npy_header(file), IoError);
    EXPECT_THROW(read_npy_matrix<float>(file), IoError);
    EXPECT_THROW(MappedNpy{file}, IoError);
    EXPECT_THROW(open_array(file), IoError);
  }
}

TEST_F(IoTest, ConvertsBigEndianAndFortranOrderOnRead) {
  // Fortran order: the bytes 1, 2, 3, 4 of a (2, 2) array are its columns.
  write_bytes(path("f.npy"), npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                                       float_bytes({1, 2, 3, 4})));
  const RowMatrixf f = read_npy_matrix<float>(path("f.npy"));
  EXPECT_EQ(f(0, 0), 1.0f);
  EXPECT_EQ(f(0, 1), 3.0f);
  EXPECT_EQ(f(1, 0), 2.0f);
  EXPECT_EQ(f(1, 1), 4.0f);
  EXPECT_TRUE(read_npy_header(path("f.npy")).fortran_order);
  EXPECT_CONTAINS(io_error([&] { MappedNpy{path("f.npy")}; }), "Fortran");
  // Big endian: each element's bytes reversed.
  std::string swapped = float_bytes({1.5f, -2.0f});
  for (std::size_t i = 0; i < swapped.size(); i += 4) std::reverse(swapped.begin() + i, swapped.begin() + i + 4);
  write_bytes(path("b.npy"), npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", swapped));
  const std::vector<float> b = read_npy_vector<float>(path("b.npy"));
  EXPECT_EQ(b[0], 1.5f);
  EXPECT_EQ(b[1], -2.0f);
  const NpyArray whole = read_npy(path("b.npy"));
  EXPECT_FALSE(whole.header.big_endian);
  EXPECT_EQ(to_matrix<double>(whole, "b")(1, 0), -2.0);
  // One-byte codes have no byte order.
  write_bytes(path("u.npy"), npy_bytes("{'descr': '>u1', 'fortran_order': False, 'shape': (2,), }", "\x07\x09"));
  EXPECT_EQ(MappedNpy(path("u.npy")).view<std::uint8_t>().row(1)[0], 9);
}

TEST_F(IoTest, RefusesWrongDtypeAndDimensionality) {
  const std::vector<std::int64_t> ids = {1, 2, 3};
  write_npy(path("ids.npy"), ids);
  const std::string message = io_error([&] { read_npy_matrix<float>(path("ids.npy")); });
  EXPECT_CONTAINS(message, "has dtype int64, expected float32");
  EXPECT_CONTAINS(message, path("ids.npy"));

  const std::vector<float> cube(8, 1.0f);
  write_npy<float>(path("cube.npy"), cube.data(), {2, 2, 2});
  EXPECT_CONTAINS(io_error([&] { read_npy_matrix<float>(path("cube.npy")); }), "expected a 1-D or 2-D array");
  EXPECT_CONTAINS(io_error([&] { MappedNpy(path("cube.npy")).view<float>(); }), "expected a 1-D or 2-D array");
  EXPECT_CONTAINS(io_error([&] { to_matrix<float>(read_npy(path("cube.npy")), "cube"); }), "cube");
}

TEST_F(IoTest, RefusesBoolBytesOtherThanZeroOrOne) {
  write_bytes(path("b.npy"), npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                                       std::string("\x01\x02\x00", 3)));
  EXPECT_CONTAINS(io_error([&] { read_npy_matrix<bool>(path("b.npy")); }), "other than 0 or 1");
  EXPECT_CONTAINS(io_error([&] { MappedNpy(path("b.npy")).view<bool>(); }), "other than 0 or 1");
}

TEST_F(IoTest, MappedNpyRefusesMisalignedData) {
  // A hand-made header whose data start at an offset that is not a multiple of 4.
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } ";
  if ((10 + dict.size() + 1) % 4 == 0) dict += ' ';
  dict += "\n";
  ASSERT_NE((10 + dict.size()) % 4, 0u);
  std::string bytes = "\x93NUMPY\x01";
  bytes += '\0';
  bytes += static_cast<char>(dict.size());
  bytes += '\0';
  bytes += dict + float_bytes({1, 2});
  write_bytes(path("odd.npy"), bytes);
  EXPECT_EQ(read_npy_matrix<float>(path("odd.npy"))(1, 0), 2.0f);  // a full read copes
  EXPECT_CONTAINS(io_error([&] { MappedNpy{path("odd.npy")}; }), "not aligned");
}

// ---------------------------------------------------------------- atomic writes

TEST_F(IoTest, FailedWriteLeavesNoFile) {
  const RowMatrixf m = RowMatrixf::Ones(4, 4);
  const std::string missing_dir = path("no/such/dir/x.npy");
  const std::string message = io_error([&] { write_npy(missing_dir, m); });
  EXPECT_CONTAINS(message, "latent::write_npy: " + missing_dir + ": cannot be written");

  // The target is a directory: the data are written, the final rename fails, and
  // the temporary is removed.
  fs::create_directory(path("target.npy"));
  EXPECT_CONTAINS(io_error([&] { write_npy(path("target.npy"), m); }), "cannot be replaced");
  EXPECT_EQ(listing(), std::vector<std::string>{"target.npy"});
  EXPECT_TRUE(fs::is_directory(path("target.npy")));

  EXPECT_THROW(write_fvecs(path("target.npy"), MatrixView<float>(m)), IoError);
  EXPECT_EQ(listing(), std::vector<std::string>{"target.npy"});
}

TEST_F(IoTest, WriteRefusesInvalidArguments) {
  EXPECT_THROW(write_npy<float>(path("x.npy"), nullptr, {3}), InvalidArgument);
  const float one = 1;
  EXPECT_THROW(write_npy<float>(path("x.npy"), &one, {-1}), InvalidArgument);
  EXPECT_THROW(write_npy(path("x.npy"), MatrixView<float>(&one, 1, 2, 1)), InvalidArgument);
  EXPECT_TRUE(listing().empty());
}

// ---------------------------------------------------------------- *vecs

TEST_F(IoTest, VecsRoundTrips) {
  const RowMatrixf f = sample_matrix<float>(9, 13);
  write_fvecs(path("a.fvecs"), MatrixView<float>(f));
  EXPECT_EQ(fs::file_size(path("a.fvecs")), 9u * (4 + 13 * 4));
  EXPECT_TRUE((read_fvecs(path("a.fvecs")).array() == f.array()).all());

  const RowMatrix<std::int32_t> i = sample_matrix<std::int32_t>(5, 3);
  write_ivecs(path("a.ivecs"), MatrixView<std::int32_t>(i));
  EXPECT_TRUE((read_ivecs(path("a.ivecs")).array() == i.array()).all());

  const RowMatrix<std::uint8_t> b = sample_matrix<std::uint8_t>(4, 128);
  write_bvecs(path("a.bvecs"), MatrixView<std::uint8_t>(b.block(1, 0, 3, 100)));
  const RowMatrix<std::uint8_t> b_back = read_bvecs(path("a.bvecs"));
  EXPECT_EQ(b_back.rows(), 3);
  EXPECT_EQ(b_back.cols(), 100);
  EXPECT_TRUE((b_back.array() == b.block(1, 0, 3, 100).array()).all());

  write_bytes(path("empty.fvecs"), "");
  EXPECT_EQ(read_fvecs(path("empty.fvecs")).size(), 0);
}

std::string int_bytes(std::int32_t value) {
  std::string out(4, '\0');
  std::memcpy(out.data(), &value, 4);
  return out;
}

TEST_F(IoTest, VecsRefuseMalformedFiles) {
  const std::string record = int_bytes(2) + float_bytes({1, 2});
  struct Case {
    const char* name;
    std::string bytes;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"tiny", "\x02\x00", "truncated inside the first record"},
      {"zero_dim", int_bytes(0) + record, "invalid dimension"},
      {"negative_dim", int_bytes(-5) + record, "invalid dimension"},
      {"huge_dim", int_bytes(0x7fffffff) + record, "invalid dimension"},
      {"partial_record", record + record.substr(0, 6), "whole number of records"},
      {"mixed_dims", record + int_bytes(3) + float_bytes({1, 2}), "different dimensions"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = path(std::string(c.name) + ".fvecs");
    write_bytes(file, c.bytes);
    const std::string message = io_error([&] { read_fvecs(file); });
    EXPECT_CONTAINS(message, c.expected);
    EXPECT_CONTAINS(message, "latent::read_fvecs: " + file);
  }
  // bvecs records are 4 + d bytes: a file of fvecs records is rejected as bvecs.
  write_bytes(path("f.bvecs"), record + record);
  EXPECT_THROW(read_bvecs(path("f.bvecs")), IoError);
  const RowMatrixf none(3, 0);
  EXPECT_THROW(write_fvecs(path("none.fvecs"), MatrixView<float>(none)), InvalidArgument);
}

// ---------------------------------------------------------------- model files

std::string read_bytes(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(IoTest, ModelFileRoundTripsEveryFieldType) {
  RowMatrixd matrix(2, 3);
  matrix << 1.5, -2.0, 3.25, 0.0, 1e-300, -7.0;
  ModelWriter writer("test-kind", 3);
  writer.put("count", std::int64_t{-42});
  writer.put("epsilon", 1e-9);
  writer.put("method", std::string("zca"));
  writer.put("ids", std::vector<std::int64_t>{5, -1, 9});
  writer.put("mean", std::vector<double>{0.5, -0.25});
  writer.put("empty", std::vector<double>{});
  writer.put("matrix", matrix);
  writer.save(path("model.bin"));

  const ModelReader reader(path("model.bin"), "test-kind", 3);
  EXPECT_EQ(reader.kind_version(), 3u);
  EXPECT_EQ(reader.get_int("count"), -42);
  EXPECT_EQ(reader.get_double("epsilon"), 1e-9);
  EXPECT_EQ(reader.get_string("method"), "zca");
  EXPECT_EQ(reader.get_ints("ids"), (std::vector<std::int64_t>{5, -1, 9}));
  EXPECT_EQ(reader.get_doubles("mean"), (std::vector<double>{0.5, -0.25}));
  EXPECT_TRUE(reader.get_doubles("empty").empty());
  EXPECT_EQ(reader.get_matrix("matrix"), matrix);
  EXPECT_TRUE(reader.has("mean"));
  EXPECT_FALSE(reader.has("median"));
  EXPECT_CONTAINS(io_error([&] { reader.get_double("median"); }), "'median'");
  EXPECT_CONTAINS(io_error([&] { reader.get_double("mean"); }), "field 'mean'");
  EXPECT_CONTAINS(io_error([&] { reader.get_matrix("mean"); }), "rank 1");
  EXPECT_EQ(listing(), std::vector<std::string>{"model.bin"});  // no temporary left
}

TEST_F(IoTest, ModelFileRefusesOtherKindsNewerVersionsAndGarbage) {
  ModelWriter writer("whitening", 2);
  writer.put("mean", std::vector<double>{1.0, 2.0, 3.0});
  writer.save(path("model.bin"));
  EXPECT_CONTAINS(io_error([&] { ModelReader(path("model.bin"), "fnorm", 9); }),
                  "another kind of model");
  EXPECT_CONTAINS(io_error([&] { ModelReader(path("model.bin"), "whitening", 1); }), "newer version");
  EXPECT_EQ(ModelReader(path("model.bin"), "*", 2).kind(), "whitening");
  write_bytes(path("text.bin"), "this is not a model file, only some text of sufficient length");
  EXPECT_CONTAINS(io_error([&] { ModelReader(path("text.bin"), "whitening", 2); }), "bad magic");
  EXPECT_CONTAINS(io_error([&] { ModelReader(path("missing.bin"), "whitening", 2); }), "missing.bin");
  EXPECT_CONTAINS(io_error([&] { ModelReader(dir_.string(), "whitening", 2); }), "directory");
}

TEST_F(IoTest, ModelFileDetectsEveryTruncationAndEveryFlippedByte) {
  ModelWriter writer("whitening", 1);
  writer.put("n", std::int64_t{7});
  writer.put("mean", std::vector<double>{1.0, 2.0});
  writer.save(path("model.bin"));
  const std::string good = read_bytes(path("model.bin"));
  for (std::size_t length = 0; length < good.size(); ++length) {
    write_bytes(path("cut.bin"), good.substr(0, length));
    EXPECT_THROW(ModelReader(path("cut.bin"), "whitening", 1), IoError) << "length " << length;
  }
  for (std::size_t at = 0; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    write_bytes(path("flipped.bin"), bad);
    EXPECT_THROW(ModelReader(path("flipped.bin"), "whitening", 1), IoError) << "byte " << at;
  }
}

// The dtypes of quantized codes: float16 widens exactly, int8 and uint16 convert.
TEST_F(IoTest, QuantizedCodeDtypes) {
  const std::vector<std::uint16_t> halves = {0x3c00, 0xc000, 0x0001, 0x7bff};  // 1, -2, 2^-24, 65504
  write_npy_bytes(path("h.npy"), DType::float16, halves.data(), 8, {2, 2});
  const RowMatrixf h = to_matrix<float>(read_npy(path("h.npy")), "h");
  EXPECT_EQ(h(0, 0), 1.0f);
  EXPECT_EQ(h(0, 1), -2.0f);
  EXPECT_EQ(h(1, 0), std::ldexp(1.0f, -24));
  EXPECT_EQ(h(1, 1), 65504.0f);
  EXPECT_EQ(read_npy_header(path("h.npy")).describe(), "[2, 2] float16");
  const std::vector<std::int8_t> bytes = {-128, 127, 0};
  write_npy(path("i.npy"), bytes);
  EXPECT_EQ(to_matrix<double>(read_npy(path("i.npy")), "i")(0, 0), -128.0);
  EXPECT_EQ(read_npy_matrix<std::int8_t>(path("i.npy"))(1, 0), 127);
  EXPECT_THROW(write_npy_bytes(path("x.npy"), DType::float16, halves.data(), 6, {2, 2}), InvalidArgument);
}

}  // namespace
}  // namespace latent
