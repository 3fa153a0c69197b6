#include "cache/disk_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <string_view>

#include "cache/cache_layout.h"

namespace s3hc::cache {
namespace {

// st_blocks is in 512-byte units whatever the file system's block size (POSIX).
constexpr std::uint64_t kStatBlockBytes = 512;

}  // namespace

std::uint64_t directory_disk_usage(const std::string& dir) {
  DIR* stream = ::opendir(dir.c_str());
  if (!stream) return 0;
  const int dir_fd = ::dirfd(stream);
  struct stat status {};
  std::uint64_t bytes = ::fstat(dir_fd, &status) == 0 ? status.st_blocks * kStatBlockBytes : 0;
  while (const dirent* entry = ::readdir(stream)) {
    const std::string_view name(entry->d_name);
    if (name == "." || name == ".." || name.find(kTempFileMarker) != std::string_view::npos) {
      continue;
    }
    if (::fstatat(dir_fd, entry->d_name, &status, AT_SYMLINK_NOFOLLOW) == 0) {
      bytes += static_cast<std::uint64_t>(status.st_blocks) * kStatBlockBytes;
    }
  }
  ::closedir(stream);
  return bytes;
}

}  // namespace s3hc::cache
