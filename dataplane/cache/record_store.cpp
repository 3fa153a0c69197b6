#include "cache/record_store.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "cache/synced_file.h"

namespace s3hc::cache {

std::optional<v1::CacheRecord> RecordStore::load(std::string_view bucket,
                                                 std::string_view key) const {
  const auto bytes = read_whole_file(layout_.record_path(bucket, key));
  if (!bytes) return std::nullopt;
  v1::CacheRecord record;
  if (!record.ParseFromString(*bytes) || record.bucket() != bucket || record.key() != key) {
    return std::nullopt;
  }
  return record;
}

void RecordStore::store(v1::CacheRecord& record) const {
  const auto path = layout_.record_path(record.bucket(), record.key());
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const auto current = load(record.bucket(), record.key());
  record.set_generation(current ? current->generation() + 1 : 1);
  write_file_atomically(path, record.SerializeAsString());
}

bool RecordStore::remove(std::string_view bucket, std::string_view key) const {
  return ::unlink(layout_.record_path(bucket, key).c_str()) == 0;
}

}  // namespace s3hc::cache
