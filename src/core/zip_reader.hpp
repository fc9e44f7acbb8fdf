// A read-only zip archive, written from PKWARE's APPNOTE (not installed): the
// end-of-central-directory record (and its ZIP64 locator and record), the central
// directory with ZIP64 extra fields, and each member's local header. Members are
// stored (method 0) or deflated (method 8, zlib's raw inflate). Every size and
// offset is checked against the file's size before it is used, so a corrupt or
// truncated archive raises IoError naming the file (and the member).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "file_io.hpp"

namespace latent::detail {

struct ZipMember {
  std::string name;
  int method = 0;                     ///< 0 stored, 8 deflated
  std::uint32_t crc = 0;              ///< CRC-32 of the uncompressed bytes
  std::int64_t compressed_size = 0;   ///< bytes in the archive
  std::int64_t uncompressed_size = 0;
  std::int64_t data_offset = 0;       ///< where the member's (compressed) bytes start in the file
};

class ZipReader {
 public:
  /// Opens and indexes `path`; `function` names the caller in errors.
  ZipReader(std::string_view function, const std::string& path);

  const std::string& path() const { return path_; }
  const File& file() const { return file_; }
  const std::vector<ZipMember>& members() const { return members_; }
  /// The member called `name`, or nullptr.
  const ZipMember* find(const std::string& name) const;

  /// The first min(limit, size) uncompressed bytes of `member`. Reading the whole
  /// member also checks that it inflates to exactly its declared size and that its
  /// CRC-32 matches. Memory grows with the bytes actually produced, never with
  /// what the archive claims.
  std::vector<unsigned char> read(const ZipMember& member,
                                  std::int64_t limit = std::numeric_limits<std::int64_t>::max()) const;
  /// Throws IoError when `bytes` (the whole member) do not match its CRC-32.
  void check_crc(const ZipMember& member, const unsigned char* bytes, std::int64_t count) const;
  /// "archive.npz:member" for error messages.
  std::string member_label(const ZipMember& member) const { return path_ + ":" + member.name; }

 private:
  void read_directory(std::int64_t offset, std::int64_t size, std::int64_t entries);
  std::vector<unsigned char> inflate_member(const ZipMember& member, std::int64_t limit) const;

  std::string_view function_;
  std::string path_;
  File file_;
  std::vector<ZipMember> members_;
};

}  // namespace latent::detail
