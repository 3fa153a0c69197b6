// Whole small files (records, upload manifests) written so that readers, on this host or
// another one sharing the directory over NFS, see the old file or the new one, never a part:
// the bytes go to a temp file beside the target, are synced, and the temp file is renamed over
// the target. Any thread.
#pragma once

#include <string>
#include <string_view>

namespace s3hc::cache {

// Throws std::system_error when the file cannot be written; the temp file is removed then.
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace s3hc::cache
