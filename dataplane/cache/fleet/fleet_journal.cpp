#include "cache/fleet/fleet_journal.h"
#include "util/wall_clock.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace s3hc::cache {
namespace {


// Flushes remembered for unaccounted_growth(): a holder's round that started before the
// oldest of them has long been published.
constexpr std::size_t kFlushesKept = 8;

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
  const auto now_ms = util::unix_now_ms();
  std::lock_guard lock(mutex_);
  auto& entry = entry_for(dir_id);
  if (bytes > entry.bytes()) growth_ += bytes - entry.bytes();
  entry.set_at_unix_ms(now_ms);
  entry.set_stored(true);
  entry.set_bytes(bytes);
  const bool tombstone = record && record->etag().empty();
  entry.set_tombstone(tombstone);
  // (An upload's parts are written data: they become a written object. A write's tombstone
  // holds no written data.)
  entry.set_from_write(record ? record->from_write() && !tombstone
                              : dir_id.starts_with("uploads/"));
  entry.set_expires_at_unix_ms(record && !tombstone ? ttls_.expires_at_ms(*record) : 0);
}

void FleetJournal::accessed(std::string_view dir_id) {
  const auto now_ms = util::unix_now_ms();
  std::lock_guard lock(mutex_);
  auto& entry = entry_for(dir_id);
  entry.set_accesses(entry.accesses() + 1);
  if (!entry.stored()) entry.set_at_unix_ms(now_ms);
}

void FleetJournal::lacked_room(const SpaceNews& news) {
  if (!news.any()) return;
  const auto now_ms = util::unix_now_ms();
  std::lock_guard lock(mutex_);
  auto& entry = entry_for("");
  entry.set_at_unix_ms(now_ms);
  entry.set_fills_refused(entry.fills_refused() + news.refused);
  entry.set_fills_no_space(entry.fills_no_space() + news.no_space);
  entry.set_largest_fill_bytes(std::max(entry.largest_fill_bytes(), news.largest_bytes));
}

bool FleetJournal::flush() {
  std::unordered_map<std::string, v1::JournalEntry> batch;
  std::uint64_t growth = 0;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    growth = std::exchange(growth_, 0);
    // A batch older than any round a holder may still be running is in every usage read now.
    while (flushed_.size() > kFlushesKept) flushed_.pop_front();
  }
  if (batch.empty()) return true;
  std::vector<std::string> records;
  records.reserve(batch.size());
  for (const auto& [id, entry] : batch) records.push_back(entry.SerializeAsString());
  const bool appended = writer_.append(records);
  {
    std::lock_guard lock(mutex_);
    flushed_.push_back({util::unix_now_ms(), growth});
  }
  if (appended) return true;
  spdlog::warn("cache journal: lost {} entries (append failed)", records.size());
  return false;
}

std::uint64_t FleetJournal::unaccounted_growth(std::int64_t published_at_ms) const {
  std::lock_guard lock(mutex_);
  std::uint64_t growth = growth_;
  for (const auto& flushed : flushed_) {
    if (flushed.done_at_ms >= published_at_ms) growth += flushed.growth;
  }
  return growth;
}

}  // namespace s3hc::cache
