#include "cache/record_store.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>
#include <utility>

#include "cache/synced_file.h"

namespace s3hc::cache {

std::optional<v1::CacheRecord> RecordStore::load(std::string_view bucket,
                                                 std::string_view key) const {
  auto stamped = load_stamped(bucket, key);
  if (!stamped) return std::nullopt;
  return std::move(stamped->record);
}

std::optional<StampedRecord> RecordStore::load_stamped(std::string_view bucket,
                                                       std::string_view key) const {
  const auto file = read_stamped_file(layout_.record_path(bucket, key));
  if (!file) return std::nullopt;
  StampedRecord stamped{.record = {}, .stamp = file->stamp};
  auto& record = stamped.record;
  if (!record.ParseFromString(file->bytes) || record.bucket() != bucket || record.key() != key) {
    return std::nullopt;
  }
  return stamped;
}

std::optional<FileStamp> RecordStore::stamp(std::string_view bucket, std::string_view key) const {
  return stamp_of_path(layout_.record_path(bucket, key));
}

FileStamp RecordStore::store(v1::CacheRecord& record) const {
  const auto path = layout_.record_path(record.bucket(), record.key());
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const auto current = load(record.bucket(), record.key());
  record.set_generation(current ? current->generation() + 1 : 1);
  return write_file_atomically(path, record.SerializeAsString());
}

bool RecordStore::remove(std::string_view bucket, std::string_view key) const {
  return ::unlink(layout_.record_path(bucket, key).c_str()) == 0;
}

}  // namespace s3hc::cache
