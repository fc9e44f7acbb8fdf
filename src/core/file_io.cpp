// POSIX file access shared by the core readers and writers.
#include "file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "latent/core/errors.hpp"

namespace latent::detail {

void fail(std::string_view function, const std::string& path, std::string_view problem, std::string_view numbers) {
  raise<IoError>(function, path, problem, numbers);
}

std::string errno_text() { return std::strerror(errno); }

std::uint32_t read_le_u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

File::File(std::string_view function, const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(function, path, "cannot open for reading", errno_text());
  struct stat info {};
  if (::fstat(fd_, &info) != 0) {
    ::close(fd_);
    fail(function, path, "cannot stat", errno_text());
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd_);
    fail(function, path, S_ISDIR(info.st_mode) ? "is a directory" : "is not a regular file");
  }
  size_ = static_cast<std::int64_t>(info.st_size);
}
File::~File() { ::close(fd_); }

void File::read_at(std::string_view function, void* buffer, std::int64_t count, std::int64_t offset) const {
  auto* out = static_cast<unsigned char*>(buffer);
  while (count > 0) {
    const auto step = static_cast<std::size_t>(std::min<std::int64_t>(count, 1 << 30));
    const ssize_t got = ::pread(fd_, out, step, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(function, path_, "read failed", errno_text());
    if (got == 0) fail(function, path_, "is truncated (the file shrank while it was read)");
    out += got;
    offset += got;
    count -= got;
  }
}

AtomicWriter::AtomicWriter(std::string_view function, const std::string& path) : function_(function), path_(path) {
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
    temp_ = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  if (fd_ < 0) fail(function_, path_, "cannot be written", errno_text());
}
AtomicWriter::~AtomicWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicWriter::write(const void* data, std::size_t count) {
  const auto* in = static_cast<const unsigned char*>(data);
  while (count > 0) {
    const ssize_t done = ::write(fd_, in, std::min<std::size_t>(count, std::size_t{1} << 30));
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) fail(function_, path_, "write failed", errno_text());
    in += done;
    count -= static_cast<std::size_t>(done);
  }
}
void AtomicWriter::commit() {
  if (::fsync(fd_) != 0) fail(function_, path_, "write failed (fsync)", errno_text());
  const int status = ::close(fd_);
  fd_ = -1;
  if (status != 0) fail(function_, path_, "write failed (close)", errno_text());
  if (::rename(temp_.c_str(), path_.c_str()) != 0) fail(function_, path_, "cannot be replaced", errno_text());
  committed_ = true;
}

}  // namespace latent::detail
