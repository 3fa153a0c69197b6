#include "cache/fleet/dir_removal.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "cache/cache_layout.h"
#include "cache/synced_file.h"

namespace s3hc::cache {

namespace {

// Everything the directory holds but the temp files of writes in flight, then the directory
// when that leaves it empty. The record must be gone already.
void remove_all_but_temp_files(const std::string& dir) {
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
    const auto name = entry.path().filename().string();
    if (name.find(kTempFileMarker) == std::string::npos) {
      std::filesystem::remove_all(entry.path(), ignored);
    }
  }
  ::rmdir(dir.c_str());  // fails, harmlessly, while a writer's temp file is still there
}

}  // namespace

void remove_cache_dir(const std::string& dir, RecordChanges* changes) {
  const auto record = dir + "/" + std::string(kRecordFileName);
  const auto moved = CacheLayout::temp_path_for(record);
  if (::rename(record.c_str(), moved.c_str()) == 0) {
    ::unlink(moved.c_str());
    const auto hash = CacheLayout::object_hash_of_dir(dir);
    if (changes && hash) changes->count_change(*hash);
  }
  remove_all_but_temp_files(dir);
}

EvictionOutcome evict_cache_dir(const std::string& dir, const RecordStore& records,
                                const EvictedNews& forgotten, std::int64_t news_kept_after_ms) {
  const auto file = read_stamped_file(dir + "/" + std::string(kRecordFileName));
  SharedRecord current{.stamp = std::nullopt, .record = v1::CacheRecord()};
  auto& record = *current.record;
  if (!file || !record.ParseFromString(file->bytes) ||
      records.layout().object_dir(record.bucket(), record.key()) != dir) {
    remove_cache_dir(dir, records.changes());
    return EvictionOutcome::kRemoved;
  }
  current.stamp = file->stamp;
  if (record.fetched_at_unix_ms() >= news_kept_after_ms) {
    forgotten.raise(CacheLayout::object_hash(record.bucket(), record.key()),
                    record.fetched_at_unix_ms());
  }
  if (!records.remove_if_unchanged(current)) return EvictionOutcome::kChanged;
  remove_all_but_temp_files(dir);
  return EvictionOutcome::kRemoved;
}

}  // namespace s3hc::cache
