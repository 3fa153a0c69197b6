#include "cache/fleet_journal.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace s3hc::cache {
namespace {

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

FleetJournal::FleetJournal(std::string journal_dir, std::string proxy_id, FreshnessTtls ttls)
    : ttls_(ttls), writer_(std::move(journal_dir), std::move(proxy_id)) {}

v1::JournalEntry& FleetJournal::entry_for(std::string_view dir_id) {
  auto found = pending_.find(std::string(dir_id));
  if (found == pending_.end()) {
    found = pending_.emplace(std::string(dir_id), v1::JournalEntry()).first;
    found->second.set_dir_id(std::string(dir_id));
  }
  return found->second;
}

void FleetJournal::stored(std::string_view dir_id, std::uint64_t bytes,
                          const v1::CacheRecord* record) {
  // Timed after the change: an audit of the directory that missed the change ran earlier.
  const auto now_ms = wall_clock_ms();
  std::lock_guard lock(mutex_);
  auto& entry = entry_for(dir_id);
  if (bytes > entry.bytes()) growth_ += bytes - entry.bytes();
  entry.set_at_unix_ms(now_ms);
  entry.set_stored(true);
  entry.set_bytes(bytes);
  const bool tombstone = record && record->etag().empty();
  entry.set_tombstone(tombstone);
  entry.set_from_write(record && record->from_write());
  entry.set_expires_at_unix_ms(record && !tombstone ? ttls_.expires_at_ms(*record) : 0);
}

void FleetJournal::accessed(std::string_view dir_id) {
  const auto now_ms = wall_clock_ms();
  std::lock_guard lock(mutex_);
  auto& entry = entry_for(dir_id);
  entry.set_accesses(entry.accesses() + 1);
  if (!entry.stored()) entry.set_at_unix_ms(now_ms);
}

bool FleetJournal::flush() {
  std::unordered_map<std::string, v1::JournalEntry> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    growth_ = 0;
  }
  if (batch.empty()) return true;
  std::vector<std::string> records;
  records.reserve(batch.size());
  for (const auto& [id, entry] : batch) records.push_back(entry.SerializeAsString());
  if (writer_.append(records)) return true;
  spdlog::warn("cache journal: lost {} entries (append failed)", records.size());
  return false;
}

std::uint64_t FleetJournal::unflushed_growth() const {
  std::lock_guard lock(mutex_);
  return growth_;
}

}  // namespace s3hc::cache
