// .npz archives (numpy's savez and savez_compressed): each member NAME.npy is a
// .npy stream inside a zip archive (zip_reader.hpp).
#include <algorithm>
#include <cstring>

#include "array_readers.hpp"
#include "latent/core/errors.hpp"
#include "npy_parse.hpp"
#include "zip_reader.hpp"

namespace latent::detail {
namespace {

// The .npy preamble and header are at most 12 + 65536 bytes (npy_parse.cpp).
constexpr std::int64_t kHeaderPrefix = 12 + (1 << 16);

std::string array_name(const std::string& member) {
  const bool npy = member.size() > 4 && member.compare(member.size() - 4, 4, ".npy") == 0;
  return npy ? member.substr(0, member.size() - 4) : member;
}

std::string member_list(const ZipReader& zip) {
  std::string names;
  for (const ZipMember& member : zip.members()) names += (names.empty() ? "" : ", ") + array_name(member.name);
  return names.empty() ? "none" : names;
}

// A ReadAt over bytes already in memory (a prefix of a member, or all of it).
ReadAt read_from(const std::vector<unsigned char>& bytes, const std::string& label) {
  return [&bytes, label](void* buffer, std::int64_t count, std::int64_t offset) {
    if (offset < 0 || count < 0 || offset + count > static_cast<std::int64_t>(bytes.size())) {
      fail("open_array", label, "is truncated: its data end early");
    }
    std::memcpy(buffer, bytes.data() + offset, static_cast<std::size_t>(count));
  };
}

// A ReadAt over a stored member's bytes in the file.
ReadAt read_stored(const ZipReader& zip, const ZipMember& member) {
  return [&zip, &member](void* buffer, std::int64_t count, std::int64_t offset) {
    zip.file().read_at("open_array", buffer, count, member.data_offset + offset);
  };
}

NpyHeader member_header(const ZipReader& zip, const ZipMember& member) {
  const std::string label = zip.member_label(member);
  if (member.method == 0) return parse_npy_header("open_array", label, member.uncompressed_size, read_stored(zip, member));
  const std::vector<unsigned char> prefix = zip.read(member, kHeaderPrefix);
  return parse_npy_header("open_array", label, member.uncompressed_size, read_from(prefix, label));
}

const ZipMember& choose_member(const ZipReader& zip, const std::string& name) {
  if (name.empty()) {
    if (zip.members().size() == 1) return zip.members().front();
    fail("open_array", zip.path(),
         "holds " + std::to_string(zip.members().size()) + " arrays: name one as " + zip.path() + ":NAME",
         "members: " + member_list(zip));
  }
  const ZipMember* member = zip.find(name);
  if (member == nullptr) member = zip.find(name + ".npy");
  if (member == nullptr) fail("open_array", zip.path(), "has no array named '" + name + "'", "members: " + member_list(zip));
  return *member;
}

}  // namespace

ArrayFile open_npz_array(const std::string& path, const std::string& name) {
  const ZipReader zip("open_array", path);
  const ZipMember& member = choose_member(zip, name);
  const std::string label = zip.member_label(member);
  const std::string shown = array_name(member.name);
  if (member.method == 0) {
    NpyHeader header = member_header(zip, member);
    const std::int64_t start = member.data_offset + header.data_offset;
    if (header.native_layout() && header.bytes() > 0 && start % static_cast<std::int64_t>(dtype_size(header.dtype)) == 0) {
      auto base = map_file(zip.file(), "open_array", path);
      zip.check_crc(member, base.get() + member.data_offset, member.uncompressed_size);
      const unsigned char* data = base.get() + start;
      return ArrayFile(path, shown, header.dtype, header.shape, std::move(base), data, true);
    }
  }
  auto bytes = std::make_shared<std::vector<unsigned char>>(zip.read(member));  // CRC checked
  NpyHeader header = parse_npy_header("open_array", label, static_cast<std::int64_t>(bytes->size()), read_from(*bytes, label));
  bytes->erase(bytes->begin(), bytes->begin() + header.data_offset);
  to_native_order(header, *bytes);
  const unsigned char* data = bytes->data();
  return ArrayFile(path, shown, header.dtype, header.shape, std::move(bytes), data, false);
}

std::vector<ArrayInfo> list_npz(const std::string& path) {
  const ZipReader zip("list_arrays", path);
  std::vector<ArrayInfo> arrays;
  for (const ZipMember& member : zip.members()) {
    const NpyHeader header = member_header(zip, member);
    arrays.push_back({array_name(member.name), header.dtype, header.shape});
  }
  return arrays;
}

}  // namespace latent::detail
