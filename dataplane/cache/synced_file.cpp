#include "cache/synced_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "cache/cache_layout.h"
#include "util/errno_error.h"

namespace s3hc::cache {

FileStamp write_new_file(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) util::throw_errno("create " + path);
  while (!bytes.empty()) {
    const auto written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      const int saved = errno;
      ::close(fd);
      ::unlink(path.c_str());
      errno = saved;
      util::throw_errno("write " + path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  try {
    stamp_precisely(fd);
  } catch (...) {
    ::close(fd);
    ::unlink(path.c_str());
    throw;
  }
  const auto stamp = stamp_of_fd(fd);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    util::throw_errno("sync " + path);
  }
  return stamp;
}

FileStamp write_file_atomically(const std::string& path, std::string_view bytes) {
  const auto temp = CacheLayout::temp_path_for(path);
  const auto stamp = write_new_file(temp, bytes);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    errno = saved;
    util::throw_errno("rename " + path);
  }
  return stamp;  // (a rename keeps a file's inode and modification time)
}

std::optional<FileStamp> create_file_unless_present(const std::string& path,
                                                    std::string_view bytes) {
  const auto temp = CacheLayout::temp_path_for(path);
  const auto stamp = write_new_file(temp, bytes);
  const bool linked = ::link(temp.c_str(), path.c_str()) == 0;
  const int saved = errno;
  ::unlink(temp.c_str());
  if (linked) return stamp;  // (a link keeps a file's inode and modification time)
  if (saved == EEXIST) return std::nullopt;
  errno = saved;
  util::throw_errno("link " + path);
}

std::optional<StampedBytes> read_stamped_file(const std::string& path) {
  // On NFS the open revalidates the file's attributes (close-to-open), so the stamp read from
  // the descriptor is the server's, for the very file whose bytes are read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  StampedBytes stamped{.bytes = {}, .stamp = stamp_of_fd(fd)};
  auto& bytes = stamped.bytes;
  char buffer[16 * 1024];
  for (;;) {
    const auto got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (got == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return stamped;
}

std::optional<std::string> read_whole_file(const std::string& path) {
  auto stamped = read_stamped_file(path);
  if (!stamped) return std::nullopt;
  return std::move(stamped->bytes);
}

}  // namespace s3hc::cache
