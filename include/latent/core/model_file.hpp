// latent/core/model_file.hpp - the versioned binary file fitted objects save to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "latent/core/types.hpp"

namespace latent {

/// The small versioned binary file every fitted object (whitening, reducers,
/// projections, translators, quantizer calibrations) saves to. Layout, all
/// little endian: magic "LATENTMF", u32 format version (1), the object's kind
/// (u32 length + bytes, e.g. "whitening") and u32 kind version, u64 field count,
/// then per field its name (u32 length + bytes), a type byte (1 int64, 2 float64,
/// 3 string), a rank byte (0-2), u64 extents and the values; last, a 64-bit
/// FNV-1a checksum of everything before it. The reader checks the magic, the
/// checksum, every length against the file size, the kind and the version before
/// any field is used, so a corrupt, truncated or wrong-kind file raises IoError
/// naming the file. Writing is atomic (as write_npy).
class ModelWriter {
 public:
  ModelWriter(std::string kind, std::uint32_t kind_version);
  void put(const std::string& name, std::int64_t value);
  void put(const std::string& name, double value);
  void put(const std::string& name, const std::string& value);
  void put(const std::string& name, const std::vector<std::int64_t>& values);
  void put(const std::string& name, const std::vector<double>& values);
  void put(const std::string& name, const MatrixView<double>& values);
  /// Writes the file atomically; throws IoError when it cannot.
  void save(const std::string& path) const;

 private:
  void field(const std::string& name, unsigned char type, const std::vector<std::uint64_t>& extents,
             const void* data, std::size_t bytes);
  std::string kind_;
  std::uint32_t kind_version_;
  std::uint64_t count_ = 0;
  std::string body_;
};

/// Reads a model file written by ModelWriter. Throws IoError when the file is
/// missing, corrupt, truncated, of another kind (`kind` "*" accepts any), or of
/// a kind version above `max_kind_version`; the getters throw IoError naming the
/// file and the field when it is missing or of another type or rank.
class ModelReader {
 public:
  ModelReader(const std::string& path, std::string_view kind, std::uint32_t max_kind_version);
  const std::string& kind() const { return kind_; }
  std::uint32_t kind_version() const { return kind_version_; }
  const std::string& path() const { return path_; }
  bool has(const std::string& name) const;
  std::int64_t get_int(const std::string& name) const;
  double get_double(const std::string& name) const;
  std::string get_string(const std::string& name) const;
  std::vector<std::int64_t> get_ints(const std::string& name) const;
  std::vector<double> get_doubles(const std::string& name) const;
  RowMatrix<double> get_matrix(const std::string& name) const;

 private:
  struct Field {
    unsigned char type = 0;
    std::vector<std::uint64_t> extents;
    std::size_t offset = 0;  ///< of the values in bytes_
    std::size_t bytes = 0;
  };
  const Field& find(const std::string& name, unsigned char type, std::size_t rank) const;
  std::string path_;
  std::string kind_;
  std::uint32_t kind_version_ = 0;
  std::string bytes_;
  std::vector<std::pair<std::string, Field>> fields_;
};

}  // namespace latent
