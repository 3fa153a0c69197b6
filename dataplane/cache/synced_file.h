// Whole small files (records, upload manifests), written so that readers, on this host or
// another one sharing the directory over NFS, see the old file or the new one, never a part:
// the bytes go to a temp file beside the target, are synced, and the temp file is renamed over
// the target. And read back whole with plain system calls (no stream buffers). Every file
// written is stamped (file_stamp.h), so a reader can tell later, with one stat, whether the
// path still names the version it read. Any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cache/file_stamp.h"

namespace s3hc::cache {

// Returns the stamp of the file written. Throws std::system_error when the file cannot be
// written; the temp file is removed then.
FileStamp write_file_atomically(const std::string& path, std::string_view bytes);

// Creates `path` (which must not exist) with `bytes`, stamped and synced: the first half of
// write_file_atomically, for callers that put the file in place themselves. Throws
// std::system_error when it cannot (and removes what it created).
FileStamp write_new_file(const std::string& path, std::string_view bytes);

// Puts a file with `bytes` at `path` unless one is there: written whole and synced beside it,
// then linked into place (of processes racing, one wins; none sees a part). Returns the stamp
// of the file put in place, nullopt when one was there. Throws std::system_error when it
// cannot write or link (and removes what it created).
std::optional<FileStamp> create_file_unless_present(const std::string& path,
                                                    std::string_view bytes);

struct StampedBytes {
  std::string bytes;
  FileStamp stamp;  // of the file these bytes were read from
};
// The file's bytes and stamp; nullopt when it is missing or unreadable.
std::optional<StampedBytes> read_stamped_file(const std::string& path);

// The file's bytes; nullopt when it is missing or unreadable.
std::optional<std::string> read_whole_file(const std::string& path);

}  // namespace s3hc::cache
