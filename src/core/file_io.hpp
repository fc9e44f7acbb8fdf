// POSIX file access shared by the core readers and writers (not installed).
//
// Every size read from a file is checked against the file's real size before it
// is used to allocate or to read, so a hostile file costs at most its own size in
// memory. POSIX calls (open/fstat/pread/mmap) are used rather than iostreams so
// that directories, short reads and failed writes are all seen and reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace latent::detail {

/// Raises IoError naming `function` and `path`.
[[noreturn]] void fail(std::string_view function, const std::string& path, std::string_view problem,
                       std::string_view numbers = {});

/// strerror(errno).
std::string errno_text();

/// The little-endian u32 at `p` (4 bytes).
std::uint32_t read_le_u32(const unsigned char* p);

// An open file descriptor, closed on scope exit.
class File {
 public:
  File(std::string_view function, const std::string& path);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  int fd() const { return fd_; }
  std::int64_t size() const { return size_; }

  // Reads exactly `count` bytes at `offset`; the caller has checked the file holds them.
  void read_at(std::string_view function, void* buffer, std::int64_t count, std::int64_t offset) const;

 private:
  std::string path_;
  int fd_ = -1;
  std::int64_t size_ = 0;
};

// Writes a file as a temporary sibling renamed over `path` when complete. The
// temporary is created with mode 0666 (the umask applies) so the result has the
// permissions a plain write would give it.
class AtomicWriter {
 public:
  AtomicWriter(std::string_view function, const std::string& path);
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  void write(const void* data, std::size_t count);
  void commit();

 private:
  std::string_view function_;
  const std::string& path_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace latent::detail
