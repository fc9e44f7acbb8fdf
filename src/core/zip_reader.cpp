// Zip archives: the central directory (ZIP64 included) and stored or deflated
// members, every number checked against the file before it is used.
#include "zip_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>

namespace latent::detail {
namespace {

constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kEndOfDirectory = 0x06054b50;
constexpr std::uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;
constexpr std::int64_t kEndBytes = 22, kZip64EndBytes = 56, kLocatorBytes = 20;
constexpr std::int64_t kCentralBytes = 46, kLocalBytes = 30;
constexpr std::int64_t kMaxComment = 65535;
// Deflate cannot expand a byte of input into more than 1032 bytes of output
// (a 258-byte match costs at least 2 bits), so a larger claim is a lie.
constexpr std::int64_t kMaxDeflateRatio = 1032;
constexpr std::int64_t kChunk = 1 << 20;

std::uint16_t u16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }
std::uint32_t u32(const unsigned char* p) { return read_le_u32(p); }
std::uint64_t u64(const unsigned char* p) { return u32(p) | static_cast<std::uint64_t>(u32(p + 4)) << 32; }

// Reads the ZIP64 extra field (id 1) of a central header: it holds, in this order,
// exactly the fields the header set to all ones.
void read_zip64_extra(const unsigned char* extra, std::size_t length, std::uint64_t& uncompressed,
                      std::uint64_t& compressed, std::uint64_t& local_offset, bool& ok) {
  std::size_t at = 0;
  while (at + 4 <= length) {
    const std::uint16_t id = u16(extra + at);
    const std::uint16_t size = u16(extra + at + 2);
    if (at + 4 + size > length) {
      ok = false;
      return;
    }
    if (id == 1) {
      const unsigned char* field = extra + at + 4;
      std::size_t used = 0;
      for (std::uint64_t* value : {&uncompressed, &compressed, &local_offset}) {
        if (*value != 0xffffffffu) continue;
        if (used + 8 > size) {
          ok = false;
          return;
        }
        *value = u64(field + used);
        used += 8;
      }
      return;
    }
    at += 4 + size;
  }
}

}  // namespace

ZipReader::ZipReader(std::string_view function, const std::string& path)
    : function_(function), path_(path), file_(function, path) {
  const std::int64_t size = file_.size();
  if (size < kEndBytes) fail(function_, path_, "is too short to be a zip archive (.npz)", std::to_string(size) + " bytes");
  const std::int64_t tail_bytes = std::min(size, kEndBytes + kMaxComment);
  std::vector<unsigned char> tail(static_cast<std::size_t>(tail_bytes));
  file_.read_at(function_, tail.data(), tail_bytes, size - tail_bytes);
  // The end record is the last one whose comment runs exactly to the end of the file.
  std::int64_t end = -1;
  for (std::int64_t at = tail_bytes - kEndBytes; at >= 0; --at) {
    const unsigned char* p = tail.data() + at;
    if (u32(p) == kEndOfDirectory && at + kEndBytes + u16(p + 20) == tail_bytes) {
      end = at;
      break;
    }
  }
  if (end < 0) fail(function_, path_, "is not a zip archive (.npz): no end-of-central-directory record");
  const unsigned char* record = tail.data() + end;
  const std::int64_t end_offset = size - tail_bytes + end;
  std::uint64_t entries = u16(record + 10);
  std::uint64_t directory_size = u32(record + 12);
  std::uint64_t directory_offset = u32(record + 16);
  if (u16(record + 4) != 0 && u16(record + 4) != 0xffff) fail(function_, path_, "is a multi-disk zip archive (not supported)");
  std::int64_t directory_limit = end_offset;  // the directory ends before the end records

  if (end_offset >= kLocatorBytes) {
    unsigned char locator[kLocatorBytes];
    file_.read_at(function_, locator, kLocatorBytes, end_offset - kLocatorBytes);
    if (u32(locator) == kZip64Locator) {
      const std::uint64_t zip64_offset = u64(locator + 8);
      if (zip64_offset > static_cast<std::uint64_t>(end_offset - kLocatorBytes - kZip64EndBytes)) {
        fail(function_, path_, "is corrupt: the ZIP64 end record lies outside the file",
             "offset " + std::to_string(zip64_offset) + ", file " + std::to_string(size) + " bytes");
      }
      unsigned char zip64[kZip64EndBytes];
      file_.read_at(function_, zip64, kZip64EndBytes, static_cast<std::int64_t>(zip64_offset));
      if (u32(zip64) != kZip64EndOfDirectory) fail(function_, path_, "is corrupt: bad ZIP64 end-of-central-directory signature");
      entries = u64(zip64 + 32);
      directory_size = u64(zip64 + 40);
      directory_offset = u64(zip64 + 48);
      directory_limit = static_cast<std::int64_t>(zip64_offset);
    }
  }
  if (directory_offset > static_cast<std::uint64_t>(directory_limit) ||
      directory_size > static_cast<std::uint64_t>(directory_limit) - directory_offset) {
    fail(function_, path_, "is corrupt or truncated: the central directory lies outside the file",
         "offset " + std::to_string(directory_offset) + ", " + std::to_string(directory_size) + " bytes, file " +
             std::to_string(size) + " bytes");
  }
  if (entries > directory_size / kCentralBytes) {
    fail(function_, path_, "is corrupt: more members than the central directory can hold",
         std::to_string(entries) + " members in " + std::to_string(directory_size) + " bytes");
  }
  read_directory(static_cast<std::int64_t>(directory_offset), static_cast<std::int64_t>(directory_size),
                 static_cast<std::int64_t>(entries));
}

void ZipReader::read_directory(std::int64_t offset, std::int64_t size, std::int64_t entries) {
  std::vector<unsigned char> directory(static_cast<std::size_t>(size));
  file_.read_at(function_, directory.data(), size, offset);
  std::set<std::string> seen;
  std::int64_t at = 0;
  members_.reserve(static_cast<std::size_t>(entries));
  for (std::int64_t i = 0; i < entries; ++i) {
    const std::string where = "central directory entry " + std::to_string(i);
    if (at + kCentralBytes > size || u32(directory.data() + at) != kCentralHeader) {
      fail(function_, path_, "is corrupt: bad " + where);
    }
    const unsigned char* h = directory.data() + at;
    const std::int64_t name_length = u16(h + 28), extra_length = u16(h + 30), comment_length = u16(h + 32);
    if (at + kCentralBytes + name_length + extra_length + comment_length > size) {
      fail(function_, path_, "is corrupt: " + where + " runs past the directory");
    }
    ZipMember member;
    member.name.assign(reinterpret_cast<const char*>(h + kCentralBytes), static_cast<std::size_t>(name_length));
    const std::string label = member_label(member);
    if (member.name.empty() || member.name.find('\0') != std::string::npos) fail(function_, label, "has an invalid member name");
    if ((u16(h + 8) & 1) != 0) fail(function_, label, "is encrypted (not supported)");
    member.method = u16(h + 10);
    if (member.method != 0 && member.method != 8) {
      fail(function_, label, "uses compression method " + std::to_string(member.method) +
                                 " (supported: 0 stored, 8 deflated)");
    }
    member.crc = u32(h + 16);
    std::uint64_t compressed = u32(h + 20), uncompressed = u32(h + 24), local = u32(h + 42);
    bool ok = true;
    read_zip64_extra(h + kCentralBytes + name_length, static_cast<std::size_t>(extra_length), uncompressed, compressed,
                     local, ok);
    if (!ok) fail(function_, label, "has a corrupt ZIP64 extra field");
    const auto file_size = static_cast<std::uint64_t>(file_.size());
    if (local > file_size || compressed > file_size || uncompressed > static_cast<std::uint64_t>(INT64_MAX)) {
      fail(function_, label, "is corrupt: its sizes or offset exceed the file",
           "offset " + std::to_string(local) + ", " + std::to_string(compressed) + " bytes");
    }
    member.compressed_size = static_cast<std::int64_t>(compressed);
    member.uncompressed_size = static_cast<std::int64_t>(uncompressed);
    if (member.method == 0 && compressed != uncompressed) fail(function_, label, "is corrupt: a stored member with two sizes");
    if (member.method == 8 && member.uncompressed_size / kMaxDeflateRatio > member.compressed_size + 1) {
      fail(function_, label, "is corrupt: claims more bytes than deflate can produce from its data",
           std::to_string(uncompressed) + " from " + std::to_string(compressed));
    }
    // The local header repeats the name; its own extra field may differ in length.
    unsigned char header[kLocalBytes];
    const auto local_offset = static_cast<std::int64_t>(local);
    if (local_offset + kLocalBytes > offset) fail(function_, label, "is corrupt: its local header lies outside the data");
    file_.read_at(function_, header, kLocalBytes, local_offset);
    if (u32(header) != kLocalHeader) fail(function_, label, "is corrupt: bad local header signature");
    const std::int64_t local_name = u16(header + 26), local_extra = u16(header + 28);
    member.data_offset = local_offset + kLocalBytes + local_name + local_extra;
    if (member.data_offset > offset || member.compressed_size > offset - member.data_offset) {
      fail(function_, label, "is truncated or corrupt: its data run past the archive's data",
           "data at " + std::to_string(member.data_offset) + ", " + std::to_string(member.compressed_size) + " bytes");
    }
    std::string name_again(static_cast<std::size_t>(local_name), '\0');
    file_.read_at(function_, name_again.data(), local_name, local_offset + kLocalBytes);
    if (name_again != member.name) fail(function_, label, "is corrupt: its local header names another member");
    if (!seen.insert(member.name).second) fail(function_, label, "appears twice in the archive");
    members_.push_back(std::move(member));
    at += kCentralBytes + name_length + extra_length + comment_length;
  }
}

const ZipMember* ZipReader::find(const std::string& name) const {
  for (const ZipMember& member : members_) {
    if (member.name == name) return &member;
  }
  return nullptr;
}

void ZipReader::check_crc(const ZipMember& member, const unsigned char* bytes, std::int64_t count) const {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  for (std::int64_t done = 0; done < count;) {
    const auto step = static_cast<uInt>(std::min<std::int64_t>(count - done, 1 << 30));
    crc = ::crc32(crc, bytes + done, step);
    done += step;
  }
  if (static_cast<std::uint32_t>(crc) != member.crc) {
    char numbers[64];
    std::snprintf(numbers, sizeof numbers, "stored %08x, computed %08x", member.crc, static_cast<unsigned>(crc));
    fail(function_, member_label(member), "is corrupt: CRC-32 mismatch", numbers);
  }
}

std::vector<unsigned char> ZipReader::read(const ZipMember& member, std::int64_t limit) const {
  const bool whole = limit >= member.uncompressed_size;
  std::vector<unsigned char> bytes;
  if (member.method == 0) {
    bytes.resize(static_cast<std::size_t>(std::min(limit, member.uncompressed_size)));
    file_.read_at(function_, bytes.data(), static_cast<std::int64_t>(bytes.size()), member.data_offset);
  } else {
    bytes = inflate_member(member, std::min(limit, member.uncompressed_size));
  }
  if (whole) check_crc(member, bytes.data(), static_cast<std::int64_t>(bytes.size()));
  return bytes;
}

// Inflates up to `limit` bytes. When `limit` is the whole member, the stream must
// end exactly there: one byte more of room tells an overlong stream apart.
std::vector<unsigned char> ZipReader::inflate_member(const ZipMember& member, std::int64_t limit) const {
  const std::string label = member_label(member);
  const bool whole = limit == member.uncompressed_size;
  const std::int64_t room = limit + (whole ? 1 : 0);
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) fail(function_, label, "cannot start zlib's inflate");
  struct End {
    z_stream* s;
    ~End() { inflateEnd(s); }
  } end{&stream};
  std::vector<unsigned char> out(static_cast<std::size_t>(std::min(room, 4 * member.compressed_size + 65536)));
  std::vector<unsigned char> input(static_cast<std::size_t>(std::min(member.compressed_size, kChunk)));
  std::int64_t consumed = 0, produced = 0;
  bool finished = false;
  while (!finished && produced < room) {
    if (stream.avail_in == 0 && consumed < member.compressed_size) {
      const std::int64_t step = std::min<std::int64_t>(kChunk, member.compressed_size - consumed);
      file_.read_at(function_, input.data(), step, member.data_offset + consumed);
      consumed += step;
      stream.next_in = input.data();
      stream.avail_in = static_cast<uInt>(step);
    }
    if (static_cast<std::int64_t>(out.size()) == produced) {
      out.resize(static_cast<std::size_t>(std::min(room, 2 * produced)));
    }
    const auto space = static_cast<uInt>(std::min<std::int64_t>(static_cast<std::int64_t>(out.size()) - produced, 1 << 30));
    stream.next_out = out.data() + produced;
    stream.avail_out = space;
    const int status = ::inflate(&stream, Z_NO_FLUSH);
    produced += space - stream.avail_out;
    if (status == Z_STREAM_END) {
      finished = true;
    } else if (status == Z_BUF_ERROR && stream.avail_in == 0 && consumed == member.compressed_size) {
      fail(function_, label, "is truncated: its deflate stream ends early",
           std::to_string(produced) + " of " + std::to_string(member.uncompressed_size) + " bytes");
    } else if (status != Z_OK && status != Z_BUF_ERROR) {
      fail(function_, label, "is corrupt: invalid deflate data", stream.msg != nullptr ? stream.msg : "");
    }
  }
  if (whole && (produced != member.uncompressed_size || !finished)) {
    fail(function_, label, "is corrupt: it does not inflate to its declared size",
         std::to_string(member.uncompressed_size) + " bytes declared" +
             (produced > member.uncompressed_size ? ", more produced" : ""));
  }
  out.resize(static_cast<std::size_t>(std::min(produced, limit)));
  return out;
}

}  // namespace latent::detail
