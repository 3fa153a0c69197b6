#include "cache/store/record_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include "cache/store/replace_claim.h"
#include "cache/synced_file.h"
#include "util/errno_error.h"

namespace s3hc::cache {

namespace {

// A claim older than this was left by a process that died between claiming a record's version
// and replacing it; a live one is held for a stat and a rename.
constexpr std::chrono::milliseconds kDeadClaimAfter{5000};

bool parses_as(v1::CacheRecord& record, const std::string& bytes, std::string_view bucket,
               std::string_view key) {
  return record.ParseFromString(bytes) && record.bucket() == bucket && record.key() == key;
}

}  // namespace

RecordStore::RecordStore(CacheLayout layout, std::shared_ptr<RecordChanges> changes)
    : layout_(std::move(layout)),
      root_(std::make_shared<const util::UniqueFd>(
          ::open(layout_.root().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC))),
      changes_(std::move(changes)) {}

std::optional<v1::CacheRecord> RecordStore::load(std::string_view bucket,
                                                 std::string_view key) const {
  return load_current(bucket, key).record;
}

std::optional<StampedRecord> RecordStore::load_stamped(std::string_view bucket,
                                                       std::string_view key) const {
  auto current = load_current(bucket, key);
  if (!current.record) return std::nullopt;
  return StampedRecord{.record = std::move(*current.record), .stamp = *current.stamp};
}

SharedRecord RecordStore::load_current(std::string_view bucket, std::string_view key) const {
  const auto file = read_stamped_file(layout_.record_path(bucket, key));
  if (!file) return {};
  SharedRecord current{.stamp = file->stamp, .record = v1::CacheRecord()};
  if (!parses_as(*current.record, file->bytes, bucket, key)) current.record.reset();
  return current;
}

std::optional<FileStamp> RecordStore::stamp(std::string_view bucket, std::string_view key) const {
  if (root_->get() >= 0) {
    if (auto stamp = stamp_at(root_->get(), CacheLayout::record_id(bucket, key).c_str())) {
      return stamp;
    }
  }
  // No record below the descriptor: gone, or the root was deleted and made anew under its
  // name (the descriptor still names the deleted one). The path tells.
  return stamp_of_path(layout_.record_path(bucket, key));
}

ChangeMark RecordStore::change_mark(std::string_view bucket, std::string_view key) const {
  return changes_ ? changes_->mark(CacheLayout::object_hash(bucket, key)) : ChangeMark{};
}

bool RecordStore::unchanged_since(const ChangeMark& earlier, std::string_view bucket,
                                  std::string_view key) const {
  return changes_ && changes_->unchanged_since(earlier, CacheLayout::object_hash(bucket, key));
}

void RecordStore::count_change(std::string_view bucket, std::string_view key) const {
  if (changes_) changes_->count_change(CacheLayout::object_hash(bucket, key));
}

std::optional<FileStamp> RecordStore::replace(v1::CacheRecord& record,
                                              const SharedRecord& current) const {
  const auto path = layout_.record_path(record.bucket(), record.key());
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  record.set_generation(current.record ? current.record->generation() + 1 : 1);
  if (!current.stamp) {
    // No record yet: the new one goes in place only if there still is none.
    const auto stamp = create_file_unless_present(path, record.SerializeAsString());
    if (stamp) count_change(record.bucket(), record.key());
    return stamp;
  }
  const auto temp = CacheLayout::temp_path_for(path);
  const auto stamp = write_new_file(temp, record.SerializeAsString());
  const auto discard = [&temp] {
    ::unlink(temp.c_str());
    return std::nullopt;
  };
  const auto [outcome, claim] = ReplaceClaim::take(path, *current.stamp, kDeadClaimAfter);
  if (outcome != ReplaceClaim::Outcome::kClaimed || stamp_of_path(path) != current.stamp) {
    return discard();
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    discard();
    errno = saved;
    util::throw_errno("rename " + path);
  }
  count_change(record.bucket(), record.key());
  return stamp;  // (a rename keeps a file's inode and modification time)
}

FileStamp RecordStore::store(v1::CacheRecord& record) const {
  for (;;) {
    const auto current = load_current(record.bucket(), record.key());
    if (const auto stamp = replace(record, current)) return *stamp;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool RecordStore::remove(std::string_view bucket, std::string_view key) const {
  if (::unlink(layout_.record_path(bucket, key).c_str()) != 0) return false;
  count_change(bucket, key);
  return true;
}

bool RecordStore::remove_if_unchanged(const SharedRecord& current) const {
  const auto& record = *current.record;
  const auto path = layout_.record_path(record.bucket(), record.key());
  const auto [outcome, claim] = ReplaceClaim::take(path, *current.stamp, kDeadClaimAfter);
  if (outcome != ReplaceClaim::Outcome::kClaimed || stamp_of_path(path) != current.stamp) {
    return false;
  }
  if (::unlink(path.c_str()) != 0) return false;
  count_change(record.bucket(), record.key());
  return true;
}

}  // namespace s3hc::cache
