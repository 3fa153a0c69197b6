#include "cache/file_stamp.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <ctime>

#include "util/errno_error.h"

namespace s3hc::cache {
namespace {

std::int64_t nanoseconds(std::int64_t seconds, std::int64_t nanos) {
  return seconds * 1'000'000'000 + nanos;
}

}  // namespace

std::optional<FileStamp> stamp_of_path(const std::string& path) {
  return stamp_at(AT_FDCWD, path.c_str());
}

std::optional<FileStamp> stamp_at(int dir_fd, const char* path) {
  struct statx status {};
  // FORCE_SYNC: on NFS the attributes come from the server, not from the attribute cache (a
  // no-op on local file systems).
  constexpr unsigned kWanted = STATX_INO | STATX_SIZE | STATX_MTIME | STATX_NLINK;
  if (::statx(dir_fd, path, AT_STATX_FORCE_SYNC, kWanted, &status) != 0) {
    return std::nullopt;
  }
  // A file already unlinked (NFSv4 keeps one open elsewhere alive) is not what the name names.
  if ((status.stx_mask & STATX_NLINK) && status.stx_nlink == 0) return std::nullopt;
  return FileStamp{
      .inode = status.stx_ino,
      .size = status.stx_size,
      .mtime_ns = nanoseconds(status.stx_mtime.tv_sec, status.stx_mtime.tv_nsec)};
}

FileStamp stamp_of_fd(int fd) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) return FileStamp{};
  return FileStamp{.inode = status.st_ino,
                   .size = static_cast<std::uint64_t>(status.st_size),
                   .mtime_ns = nanoseconds(status.st_mtim.tv_sec, status.st_mtim.tv_nsec)};
}

void stamp_precisely(int fd) {
  struct timespec times[2];
  times[0].tv_nsec = UTIME_OMIT;  // access time: untouched
  times[0].tv_sec = 0;
  if (::clock_gettime(CLOCK_REALTIME, &times[1]) != 0 || ::futimens(fd, times) != 0) {
    util::throw_errno("set the modification time");
  }
}

}  // namespace s3hc::cache
