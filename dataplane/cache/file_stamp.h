// Which version of a file a path names, as one stat tells: how a proxy confirms that the
// record it holds in memory or in its local mirror is still the one on the shared directory
// without reading it again (strict read-after-write across the fleet, docs/CACHING.md).
//
// Files stamped this way are only ever replaced whole (a new file renamed over the old one),
// never edited in place, so a new version is a new inode. An inode number alone is not enough
// (a file system reuses the numbers of deleted files), so the writer also sets the new file's
// modification time to the wall clock in nanoseconds (stamp_precisely) before renaming it into
// place: a reused inode number would also need the same size and the same nanosecond.
//
// On NFS, stamp_of_path asks the server (statx AT_STATX_FORCE_SYNC), whatever the client's
// attribute cache holds; docs/OPERATIONS.md says which mount options the check relies on.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace s3hc::cache {

struct FileStamp {
  std::uint64_t inode = 0;  // 0: no file (never equal to a real stamp)
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;

  bool operator==(const FileStamp&) const = default;
};

// The stamp of the file `path` names now; nullopt when there is none (or it cannot be
// stat'ed: the caller reads the file again, which tells it the truth).
std::optional<FileStamp> stamp_of_path(const std::string& path);
// The same for `path` relative to the directory open as `dir_fd` (O_PATH will do): a shorter
// walk than the full path's, on every hit.
std::optional<FileStamp> stamp_at(int dir_fd, const char* path);

// The stamp of an open file.
FileStamp stamp_of_fd(int fd);

// Sets the modification time of the open file `fd` to the wall clock in nanoseconds (see
// above); call after its last write. Throws std::system_error when it cannot.
void stamp_precisely(int fd);

}  // namespace s3hc::cache
