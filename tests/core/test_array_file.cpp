// open_array / list_arrays: .npz written by numpy (stored, compressed, ZIP64),
// big-endian and Fortran-ordered .npy converted on read, HDF5 in the
// ann-benchmarks layout, the spec's colon rule, and corrupt or truncated files
// of every format (an IoError naming the file, never a crash).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "support/test_support.hpp"
#ifdef LATENT_TEST_HDF5
#include "core/hdf5_writer.hpp"
#endif

namespace latent {
namespace {

namespace fs = std::filesystem;
using testing::message_of;

const std::string kFixtures = std::string(LATENT_SOURCE_DIR) + "/tests/core/fixtures/";

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The fixture formulas of make_fixtures.py.
float x_value(int i, int j) { return static_cast<float>(10 * i + j) + 0.5f; }
double y_value(int i, int j) { return -(10.0 * i + j) - 0.25; }
std::int64_t id_value(int i) { return 7 * i - 3; }

void expect_fixture_arrays(const std::string& archive) {
  SCOPED_TRACE(archive);
  const std::vector<ArrayInfo> arrays = list_arrays(archive);
  ASSERT_EQ(arrays.size(), 3u);
  EXPECT_EQ(arrays[0].describe(), "x [3, 4] float32");
  EXPECT_EQ(arrays[1].describe(), "y [2, 3] float64");
  EXPECT_EQ(arrays[2].describe(), "ids [5] int64");

  const ArrayFile x = open_array(archive + ":x");
  EXPECT_EQ(x.name(), "x");
  EXPECT_EQ(x.source(), archive + ":x");
  const MatrixView<float> xv = x.view<float>();
  ASSERT_EQ(xv.rows, 3);
  ASSERT_EQ(xv.cols, 4);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(xv.row(i)[j], x_value(i, j));

  const RowMatrixd y = open_array(archive + ":y.npy").matrix<double>();  // the member's own name works too
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(y(i, j), y_value(i, j));
  const std::vector<std::int64_t> ids = open_array(archive + ":ids").vector<std::int64_t>();
  ASSERT_EQ(ids.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ids[static_cast<std::size_t>(i)], id_value(i));
  // float64 converted to float32 as the CLI reads it.
  const RowMatrixf yf = open_array(archive + ":y").matrix<float>();
  EXPECT_EQ(yf(1, 2), static_cast<float>(y_value(1, 2)));
}

class ArrayFileTest : public testing::TempDirTest {};

TEST_F(ArrayFileTest, NpzStoredCompressedAndZip64) {
  expect_fixture_arrays(kFixtures + "stored.npz");
  expect_fixture_arrays(kFixtures + "compressed.npz");
  expect_fixture_arrays(kFixtures + "zip64.npz");
  EXPECT_FALSE(open_array(kFixtures + "compressed.npz:x").mapped());
}

TEST_F(ArrayFileTest, MappedWhenAlignedAndNative) {
  // A stored member is mapped only when its data are aligned for its dtype
  // (numpy's member headers usually leave them at an odd offset: then read).
  for (const char* name : {"x", "y", "ids"}) {
    const ArrayFile array = open_array(kFixtures + "stored.npz:" + name);
    if (array.mapped()) {
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(array.data()) % dtype_size(array.dtype()), 0u);
    }
  }
  const RowMatrixf x = testing::random_normal<float>(4, 3, 1);
  write_npy(path("x.npy"), x);
  const ArrayFile npy = open_array(path("x.npy"));
  EXPECT_TRUE(npy.mapped());
  EXPECT_EQ(npy.view<float>().row(3)[2], x(3, 2));
}

TEST_F(ArrayFileTest, NpzMemberChoice) {
  const ArrayFile only = open_array(kFixtures + "single.npz");
  EXPECT_EQ(only.name(), "emb");
  EXPECT_EQ(only.view<float>().row(2)[3], x_value(2, 3));

  const std::string several = message_of<IoError>([&] { open_array(kFixtures + "stored.npz"); });
  EXPECT_CONTAINS(several, "stored.npz");
  EXPECT_CONTAINS(several, "members: x, y, ids");
  const std::string missing = message_of<IoError>([&] { open_array(kFixtures + "stored.npz:nope"); });
  EXPECT_CONTAINS(missing, "stored.npz");
  EXPECT_CONTAINS(missing, "no array named 'nope'");
  EXPECT_CONTAINS(missing, "members: x, y, ids");
  EXPECT_EQ(missing.find('\n'), std::string::npos);
}

TEST_F(ArrayFileTest, SpecSplitsAtTheLastColonUnlessTheFileExists) {
  EXPECT_EQ(parse_array_spec("a/b.npz:x").path, "a/b.npz");
  EXPECT_EQ(parse_array_spec("a/b.npz:x").name, "x");
  EXPECT_EQ(parse_array_spec("c:/d.npz:x").path, "c:/d.npz");
  EXPECT_EQ(parse_array_spec("plain.npy").name, "");
  const RowMatrixf x = testing::random_normal<float>(2, 2, 3);
  write_npy(path("odd:name.npy"), x);  // the whole spec names a file: no split
  EXPECT_EQ(parse_array_spec(path("odd:name.npy")).path, path("odd:name.npy"));
  EXPECT_EQ(open_array(path("odd:name.npy")).view<float>().row(1)[1], x(1, 1));
  EXPECT_CONTAINS(message_of<IoError>([&] { open_array(path("odd:name.npy") + ":x"); }), "single array");
}

TEST_F(ArrayFileTest, AccessorsCheckDtypeAndShape) {
  const ArrayFile y = open_array(kFixtures + "stored.npz:y");
  EXPECT_CONTAINS(message_of<IoError>([&] { (void)y.view<float>(); }), "has dtype float64, expected float32");
  EXPECT_CONTAINS(message_of<IoError>([&] { (void)y.matrix<std::int64_t>(); }), "expected an integer dtype");
  EXPECT_CONTAINS(message_of<IoError>([&] { (void)y.vector<double>(); }), "expected a 1-D array");
  const ArrayFile cube = open_array(kFixtures + "cube_fortran_f8.npy");
  EXPECT_CONTAINS(message_of<IoError>([&] { (void)cube.matrix<double>(); }), "1-D or 2-D");
  EXPECT_EQ(open_array(kFixtures + "stored.npz:ids").matrix<double>()(4, 0), static_cast<double>(id_value(4)));
}

// ---------------------------------------------------------------- byte and memory order

TEST_F(ArrayFileTest, BigEndianAndFortranNpyEqualTheCOrderValues) {
  const RowMatrixf x_be = read_npy_matrix<float>(kFixtures + "x_be_f4.npy");
  const RowMatrixf x_f = read_npy_matrix<float>(kFixtures + "x_fortran_f4.npy");
  const RowMatrixd y_be = read_npy_matrix<double>(kFixtures + "y_be_f8.npy");
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      EXPECT_EQ(x_be(i, j), x_value(i, j));
      EXPECT_EQ(x_f(i, j), x_value(i, j));
    }
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(y_be(i, j), y_value(i, j));
  const std::vector<std::int64_t> ids = read_npy_vector<std::int64_t>(kFixtures + "ids_be_i8.npy");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ids[static_cast<std::size_t>(i)], id_value(i));

  // 3-D, Fortran order (and big endian): C order after reading, by every reader.
  for (const char* file : {"cube_fortran_be_i4.npy", "cube_fortran_f8.npy"}) {
    SCOPED_TRACE(file);
    const NpyArray cube = read_npy(kFixtures + file);
    EXPECT_FALSE(cube.header.big_endian);
    EXPECT_FALSE(cube.header.fortran_order);
    const RowMatrixd flat = to_matrix<double>(NpyArray{NpyHeader{cube.header.dtype, {24}, 0}, cube.bytes}, "cube");
    const ArrayFile opened = open_array(kFixtures + file);
    EXPECT_FALSE(opened.mapped());
    ASSERT_EQ(opened.bytes(), cube.bytes.size());
    EXPECT_EQ(std::memcmp(opened.data(), cube.bytes.data(), cube.bytes.size()), 0);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 4; ++k) EXPECT_EQ(flat(i * 12 + j * 4 + k, 0), 100 * i + 10 * j + k);
  }
  const NpyHeader stored = read_npy_header(kFixtures + "cube_fortran_be_i4.npy");
  EXPECT_TRUE(stored.big_endian);
  EXPECT_TRUE(stored.fortran_order);
  EXPECT_FALSE(stored.native_layout());

  // open_array converts what MappedNpy cannot map.
  EXPECT_CONTAINS(message_of<IoError>([&] { MappedNpy{kFixtures + "x_be_f4.npy"}; }), "big endian or Fortran");
  const ArrayFile be = open_array(kFixtures + "x_be_f4.npy");
  EXPECT_FALSE(be.mapped());
  EXPECT_EQ(be.view<float>().row(2)[3], x_value(2, 3));
}

// ---------------------------------------------------------------- corrupt files

// Runs `open`, which reads `file`: returns "ok" or "IoError" (a one-line message
// naming the file), and fails the test on any other exception (a crash fails it
// by itself).
template <class Open>
std::string outcome_of(const std::string& file, Open open) {
  try {
    open();
    return "ok";
  } catch (const IoError& e) {
    const std::string message = e.what();
    EXPECT_CONTAINS(message, file);
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return "IoError";
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an IoError: " << e.what();
    return "other";
  }
}

// Opens every member and lists the archive.
std::string outcome(const std::string& file) {
  return outcome_of(file, [&] {
    for (const char* name : {"x", "y", "ids"}) (void)open_array(file + ":" + name).matrix<double>();
    (void)list_arrays(file);
  });
}

TEST_F(ArrayFileTest, TruncatedNpzAtEveryOffsetIsAnIoError) {
  for (const char* fixture : {"stored.npz", "compressed.npz", "zip64.npz"}) {
    const std::string good = read_bytes(kFixtures + fixture);
    const std::string file = path(std::string("cut-") + fixture);
    for (std::size_t length = 0; length < good.size(); ++length) {
      write_bytes(file, good.substr(0, length));
      SCOPED_TRACE(std::string(fixture) + " cut at " + std::to_string(length));
      EXPECT_EQ(outcome(file), "IoError");
    }
  }
}

TEST_F(ArrayFileTest, CorruptNpzBytesNeverCrash) {
  int refused = 0;
  for (const char* fixture : {"stored.npz", "compressed.npz", "zip64.npz"}) {
    const std::string good = read_bytes(kFixtures + fixture);
    const std::string file = path(std::string("flip-") + fixture);
    for (std::size_t at = 0; at < good.size(); ++at) {
      for (const int mask : {0x01, 0xff}) {
        std::string bytes = good;
        bytes[at] = static_cast<char>(bytes[at] ^ mask);
        write_bytes(file, bytes);
        SCOPED_TRACE(std::string(fixture) + " byte " + std::to_string(at));
        refused += outcome(file) == "IoError" ? 1 : 0;
      }
    }
  }
  EXPECT_GT(refused, 0);
}

TEST_F(ArrayFileTest, CrcMismatchNamesTheMember) {
  for (const char* fixture : {"stored.npz", "zip64.npz"}) {
    std::string bytes = read_bytes(kFixtures + fixture);
    // x[2][3] = 23.5f: flip its lowest mantissa bit inside the stored member.
    const float value = x_value(2, 3);
    const std::size_t at = bytes.find(std::string(reinterpret_cast<const char*>(&value), 4));
    ASSERT_NE(at, std::string::npos);
    bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
    const std::string file = path(std::string("crc-") + fixture);
    write_bytes(file, bytes);
    const std::string message = message_of<IoError>([&] { open_array(file + ":x"); });
    EXPECT_CONTAINS(message, file + ":x.npy");
    EXPECT_CONTAINS(message, "CRC-32 mismatch");
    EXPECT_EQ(open_array(file + ":y").matrix<double>()(1, 2), y_value(1, 2));  // the others still read
  }
}

TEST_F(ArrayFileTest, NotAnArchive) {
  write_bytes(path("text.npz"), "hello, not a zip archive at all\n");
  EXPECT_CONTAINS(message_of<IoError>([&] { open_array(path("text.npz")); }), "no end-of-central-directory");
  EXPECT_CONTAINS(message_of<IoError>([&] { list_arrays(path("missing.npz")); }), "cannot open");
}

// ---------------------------------------------------------------- HDF5

#ifdef LATENT_TEST_HDF5

TEST_F(ArrayFileTest, Hdf5AnnBenchmarksLayout) {
  ASSERT_TRUE(hdf5_supported());
  const std::string file = path("fashion.hdf5");
  testing::write_ann_benchmarks_file(file);
  const std::vector<ArrayInfo> arrays = list_arrays(file);
  ASSERT_EQ(arrays.size(), 5u);  // name order; the group is skipped
  EXPECT_EQ(arrays[0].describe(), "distances [2, 4] float32");
  EXPECT_EQ(arrays[1].describe(), "labels [5] int64");
  EXPECT_EQ(arrays[2].describe(), "neighbors [2, 4] int32");
  EXPECT_EQ(arrays[3].describe(), "test [2, 3] float64");
  EXPECT_EQ(arrays[4].describe(), "train [5, 3] float32");

  const ArrayFile train_file = open_array(file + ":train");  // the view lives as long as it does
  const MatrixView<float> train = train_file.view<float>();
  ASSERT_EQ(train.rows, 5);
  EXPECT_EQ(train.row(4)[2], 4.0f + 2.0f / 10.0f);
  EXPECT_EQ(open_array(file + ":test").matrix<float>()(1, 1), static_cast<float>(-(1 + 1 / 10.0)));
  EXPECT_EQ(open_array(file + ":neighbors").view<std::int32_t>().row(1)[3], 7);
  EXPECT_EQ(open_array(file + ":labels").vector<std::int64_t>()[4], 44);  // big endian in the file

  const std::string missing = message_of<IoError>([&] { open_array(file + ":queries"); });
  EXPECT_CONTAINS(missing, file);
  EXPECT_CONTAINS(missing, "no dataset named 'queries'");
  EXPECT_CONTAINS(missing, "datasets: distances, labels, neighbors, test, train");
  EXPECT_CONTAINS(message_of<IoError>([&] { open_array(file + ":extra"); }), "not a dataset");
  EXPECT_CONTAINS(message_of<IoError>([&] { open_array(file); }), "name one");
  // The .h5 extension too.
  fs::copy_file(file, path("same.h5"));
  EXPECT_EQ(open_array(path("same.h5") + ":train").view<float>().row(1)[0], 1.0f);
}

TEST_F(ArrayFileTest, Hdf5NeverReadsOtherFiles) {
  const std::string other = path("other.hdf5");
  testing::write_ann_benchmarks_file(other);
  const std::string raw = path("secret.bin");
  write_bytes(raw, std::string(64, 'S'));
  const std::string file = path("links.hdf5");
  const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(H5Lcreate_external(other.c_str(), "train", f, "train", H5P_DEFAULT, H5P_DEFAULT), 0);
  const hid_t storage = H5Pcreate(H5P_DATASET_CREATE);
  ASSERT_GE(H5Pset_external(storage, raw.c_str(), 0, 64), 0);
  const hsize_t dims[2] = {4, 4};
  const hid_t space = H5Screate_simple(2, dims, nullptr);
  const hid_t outside = H5Dcreate2(f, "outside", H5T_IEEE_F32LE, space, H5P_DEFAULT, storage, H5P_DEFAULT);
  ASSERT_GE(outside, 0);
  H5Dclose(outside);
  H5Sclose(space);
  H5Pclose(storage);
  H5Fclose(f);
  EXPECT_CONTAINS(message_of<IoError>([&] { open_array(file + ":train"); }), "link to another file");
  EXPECT_CONTAINS(message_of<IoError>([&] { open_array(file + ":outside"); }), "other files");
  EXPECT_CONTAINS(message_of<IoError>([&] { list_arrays(file); }), file + ":outside");
}

TEST_F(ArrayFileTest, Hdf5TruncatedOrCorruptIsAnIoError) {
  const std::string good_file = path("good.hdf5");
  testing::write_ann_benchmarks_file(good_file);
  const std::string good = read_bytes(good_file);
  const std::string file = path("bad.hdf5");
  auto attempt = [&] {
    return outcome_of(file, [&] {
      (void)list_arrays(file);
      for (const char* name : {"train", "test", "neighbors", "distances", "labels"}) (void)open_array(file + ":" + name);
    });
  };
  for (std::size_t length = 0; length < good.size(); length += 7) {
    write_bytes(file, good.substr(0, length));
    SCOPED_TRACE("cut at " + std::to_string(length));
    EXPECT_EQ(attempt(), "IoError");
  }
  // Bit flips in the superblock and the object headers that follow it.
  for (std::size_t at = 0; at < std::min<std::size_t>(good.size(), 2048); ++at) {
    std::string bytes = good;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x10);
    write_bytes(file, bytes);
    SCOPED_TRACE("flip at " + std::to_string(at));
    (void)attempt();
  }
}

#else

TEST_F(ArrayFileTest, Hdf5WithoutSupportIsAnIoError) {
  EXPECT_FALSE(hdf5_supported());
  write_bytes(path("x.hdf5"), "\x89HDF\r\n\x1a\n");
  EXPECT_CONTAINS(message_of<IoError>([&] { open_array(path("x.hdf5") + ":train"); }), "no HDF5 support");
  EXPECT_CONTAINS(message_of<IoError>([&] { list_arrays(path("x.hdf5")); }), "no HDF5 support");
}

#endif

}  // namespace
}  // namespace latent
