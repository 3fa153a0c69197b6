#include "cache/fleet/dir_removal.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "cache/cache_layout.h"

namespace s3hc::cache {

void remove_cache_dir(const std::string& dir, RecordChanges* changes) {
  const auto record = dir + "/" + std::string(kRecordFileName);
  const auto moved = CacheLayout::temp_path_for(record);
  if (::rename(record.c_str(), moved.c_str()) == 0) {
    ::unlink(moved.c_str());
    const auto hash = CacheLayout::object_hash_of_dir(dir);
    if (changes && hash) changes->count_change(*hash);
  }
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
    const auto name = entry.path().filename().string();
    if (name.find(kTempFileMarker) == std::string::npos) {
      std::filesystem::remove_all(entry.path(), ignored);
    }
  }
  ::rmdir(dir.c_str());  // fails, harmlessly, while a writer's temp file is still there
}

}  // namespace s3hc::cache
