#include "cache/fleet/fleet_maintainer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "cache/fleet/dir_removal.h"
#include "cache/fleet/journal.h"
#include "cache/synced_file.h"

namespace s3hc::cache {
namespace {

// Objects the frequency sketch is sized for: more only blur its estimates a little.
constexpr std::size_t kSketchItems = 1 << 18;
// Entries sampled per eviction (Redis samples 5; more samples, closer to the exact policy).
constexpr std::size_t kEvictionSample = 16;
// Expired objects active expiry drops per round at most (a sample, not a scan).
constexpr int kExpiryChecksPerRound = 32;
// Evictions between two checks that the lease is still held.
constexpr int kEvictionsPerLeaseCheck = 64;
// Rotation periods (kJournalRotationRounds) after which an untouched segment is a dead
// proxy's.
constexpr int kIdleRotations = 4;

std::string fleet_path(const CacheLayout& layout, std::string_view name) {
  return layout.path_of("fleet/" + std::string(name));
}

std::string file_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

FleetMaintainer::FleetMaintainer(CacheLayout layout, std::string proxy_id, FleetOptions options,
                                 std::shared_ptr<const CapacityProbe> probe,
                                 std::shared_ptr<RecordChanges> changes)
    : layout_(layout),
      options_(options),
      changes_(changes),
      records_(layout, changes),
      forgotten_(layout),
      lease_(fleet_path(layout, "maintenance.lease"), std::move(proxy_id),
             LeaseOptions{.duration = options.lease_duration,
                          .takeover_grace = options.lease_duration / 5}),
      sweeper_(layout, options.sweep, std::move(changes)),
      probe_(probe ? std::move(probe) : std::make_shared<StatvfsProbe>(layout.root())),
      journal_dir_(journal_dir(layout)),
      reserve_path_(fleet_path(layout, "reserve")),
      sketch_(kSketchItems) {}

std::string FleetMaintainer::journal_dir(const CacheLayout& layout) {
  return fleet_path(layout, "journal");
}

void FleetMaintainer::round(std::int64_t now_ms, const SpaceNews& local) {
  news_ = local;
  if (!acquire_lease(now_ms)) {
    if (holding_) lose_lease();
    read_usage();
    return;
  }
  if (!holding_ || instance_id() != instance_) take_over(now_ms);
  consolidate(now_ms);
  sweep(now_ms);
  if (options_.active_expiry) expire(now_ms);
  capacity_ = effective_capacity(options_.max_size_bytes, index_.total_bytes(), probe_->space(),
                                 news_.no_space != 0);
  evict(now_ms);
  if (!holding_) return;
  publish(now_ms);
  if (!holding_) return;
  if (reserve_unchecked_) keep_reserve();
  if (now_ms - last_snapshot_ms_ >= options_.snapshot_interval.count()) {
    save_snapshot(now_ms);
    reserve_unchecked_ = true;  // (deleted with the directory, say) at the next round
  }
}

bool FleetMaintainer::acquire_lease(std::int64_t now_ms) {
  try {
    return lease_.acquire(now_ms).has_value();
  } catch (const std::system_error& error) {
    if (!is_no_space(error.code())) throw;
    // The file system is full, too full even for the lease's small files. This round evicts
    // (the file system said no: the capacity is at most what is accounted), which makes room
    // for good, and for the reserve again.
    ++news_.no_space;
    reserve_unchecked_ = true;
    if (::unlink(reserve_path_.c_str()) != 0) {
      // No reserve left: a hold that has not expired yet may still evict.
      if (holding_ && lease_.held(now_ms)) return true;
      throw;
    }
  }
  spdlog::warn("cache maintenance: no space left for the maintenance lease; released the "
               "reserve ({} bytes) to go on",
               kReserveBytes);
  return lease_.acquire(now_ms).has_value();
}

void FleetMaintainer::release(std::int64_t now_ms) {
  if (!holding_) return;
  if (lease_.held(now_ms)) save_snapshot(now_ms);
  lease_.release(now_ms);
  holding_ = false;
}

std::string FleetMaintainer::instance_id() {
  const auto path = fleet_path(layout_, "instance");
  if (auto id = read_whole_file(path); id && !id->empty()) return *id;
  // A new cache directory (first start, or deleted under the fleet): name it, so that state
  // saved for the old one is never applied to it.
  std::filesystem::create_directories(fleet_path(layout_, ""));
  const auto id = std::to_string(std::random_device{}()) + std::to_string(rng_());
  write_file_atomically(path, id);
  return id;
}

void FleetMaintainer::take_over(std::int64_t now_ms) {
  lose_lease();  // whatever this proxy knew from an earlier hold is stale
  holding_ = true;
  instance_ = instance_id();
  last_snapshot_ms_ = now_ms;
  v1::FleetSnapshot snapshot;
  const auto bytes = read_whole_file(fleet_path(layout_, "snapshot"));
  if (!bytes || !snapshot.ParseFromString(*bytes) || snapshot.instance() != instance_) {
    spdlog::info("cache maintenance: lease taken (token {}), starting from the journals",
                 lease_.token());
    return;
  }
  auto index = EvictionIndex::parse(snapshot.eviction_index());
  auto sketch = FrequencySketch::parse(snapshot.frequency_sketch());
  if (!index || !sketch) {
    spdlog::warn("cache maintenance: unreadable snapshot, starting from the journals");
    return;
  }
  index_ = std::move(*index);
  sketch_ = std::move(*sketch);
  for (const auto& cursor : snapshot.cursors()) cursors_[cursor.segment()] = cursor.offset();
  spdlog::info("cache maintenance: lease taken (token {}), resuming {} objects", lease_.token(),
               index_.size());
}

void FleetMaintainer::lose_lease() {
  holding_ = false;
  pass_audited_.clear();
  pass_started_ms_ = 0;
  index_ = EvictionIndex();
  sketch_ = FrequencySketch(kSketchItems);
  cursors_.clear();
  finished_.clear();
}

void FleetMaintainer::consolidate(std::int64_t now_ms) {
  const auto segments = list_journal_segments(journal_dir_);
  const auto idle_age = options_.interval * kJournalRotationRounds * kIdleRotations +
                        options_.lease_duration;
  std::set<std::string> present;
  std::uint64_t applied = 0;
  for (const auto& segment : segments) {
    const auto name = file_name(segment.path);
    present.insert(name);
    if (finished_.contains(name)) continue;
    auto& offset = cursors_[name];
    for (;;) {
      const auto read = read_journal_segment(segment.path, offset);
      for (const auto& record : read.records) {
        v1::JournalEntry entry;
        if (entry.ParseFromString(record)) apply(entry, now_ms);
      }
      applied += read.records.size();
      offset = read.next_offset;
      if (read.records.empty()) break;
    }
    if (journal_segment_closed(segment, segments, now_ms, idle_age)) finished_.insert(name);
  }
  std::erase_if(cursors_, [&](const auto& cursor) { return !present.contains(cursor.first); });
  std::erase_if(finished_, [&](const auto& name) { return !present.contains(name); });
  std::lock_guard lock(stats_mutex_);
  stats_.journal_entries += applied;
}

void FleetMaintainer::apply(const v1::JournalEntry& entry, std::int64_t now_ms) {
  const auto& id = entry.dir_id();
  if (id.empty()) {
    // Fills that found no room. Only recent news asks for room now (a successor re-reads
    // journals from the last snapshot's cursors).
    if (entry.at_unix_ms() + options_.lease_duration.count() >= now_ms) {
      news_.merge({.refused = entry.fills_refused(),
                   .no_space = entry.fills_no_space(),
                   .largest_bytes = entry.largest_fill_bytes()});
    }
    return;
  }
  const auto key = sketch_key(id);
  for (std::uint32_t i = 0; i < std::min<std::uint32_t>(entry.accesses(), 15); ++i) {
    sketch_.record(key);
  }
  auto known = index_.find(id);
  const auto recent_until = entry.at_unix_ms() + options_.protect_recent.count();
  if (!entry.stored() || (known && known->stored_at_ms > entry.at_unix_ms())) {
    // A read, or a change the index knows a later state of: only recency and protection move.
    if (known) {
      known->last_access_ms = std::max(known->last_access_ms, entry.at_unix_ms());
      known->protected_until_ms = std::max(known->protected_until_ms, recent_until);
      index_.upsert(id, *known);
    }
    return;
  }
  if (entry.bytes() == 0) {
    index_.erase(id);
    return;
  }
  EvictionEntry updated = known.value_or(EvictionEntry{});
  updated.bytes = entry.bytes();
  updated.stored_at_ms = entry.at_unix_ms();
  updated.last_access_ms = std::max(updated.last_access_ms, entry.at_unix_ms());
  updated.expires_at_ms = entry.expires_at_unix_ms();
  updated.from_write = entry.from_write();
  const auto protected_until =
      entry.tombstone() ? entry.at_unix_ms() + options_.sweep.tombstone_retention.count()
                        : recent_until;
  updated.protected_until_ms = std::max(updated.protected_until_ms, protected_until);
  index_.upsert(id, updated);
}

void FleetMaintainer::audit(const AuditedDir& dir, std::int64_t now_ms) {
  auto known = index_.find(dir.id);
  if (known && known->stored_at_ms > now_ms) return;  // news newer than this audit
  if (dir.bytes == 0) {
    index_.erase(dir.id);
    return;
  }
  EvictionEntry updated = known.value_or(EvictionEntry{});
  updated.bytes = dir.bytes;
  updated.stored_at_ms = now_ms;
  updated.from_write = dir.upload;
  if (const auto& record = dir.record) {
    const bool tombstone = record->etag().empty();
    updated.expires_at_ms = tombstone ? 0 : options_.ttls.expires_at_ms(*record);
    updated.from_write = record->from_write() && !tombstone;
    if (!known) updated.last_access_ms = record->fetched_at_unix_ms();
    // An object the sweeper finds before its proxy's news arrives is as new as its fetch.
    const auto retention =
        tombstone ? options_.sweep.tombstone_retention : options_.protect_recent;
    updated.protected_until_ms =
        std::max(updated.protected_until_ms, record->fetched_at_unix_ms() + retention.count());
  } else if (!known) {
    updated.last_access_ms = now_ms;
    updated.protected_until_ms = now_ms + options_.protect_recent.count();
  }
  index_.upsert(dir.id, updated);
}

void FleetMaintainer::sweep(std::int64_t now_ms) {
  const auto passes = sweeper_.passes();
  const auto audited = sweeper_.step(options_.sweep_per_round, now_ms);
  if (sweeper_.passes() != passes) {
    // The pass before this one saw every directory there was: one it did not find, and that
    // no news has mentioned since well before it began, is gone (its news lost with a killed
    // proxy).
    if (pass_started_ms_ != 0) {
      std::vector<std::string> gone;
      const auto news_before = pass_started_ms_ - options_.protect_recent.count();
      index_.for_each([&](std::string_view id, const EvictionEntry& entry) {
        if (entry.stored_at_ms < news_before && !pass_audited_.contains(std::string(id))) {
          gone.emplace_back(id);
        }
      });
      for (const auto& id : gone) index_.erase(id);
    }
    pass_audited_.clear();
    pass_started_ms_ = now_ms;
  }
  for (const auto& dir : audited) {
    pass_audited_.insert(dir.id);
    audit(dir, now_ms);
  }
}

void FleetMaintainer::expire(std::int64_t now_ms) {
  if (!lease_.held(now_ms)) {
    lose_lease();
    return;
  }
  for (int i = 0; i < kExpiryChecksPerRound; ++i) {
    const auto victim = index_.pick_victim(now_ms, options_.policy, sketch_, rng_, kEvictionSample);
    const auto entry = victim ? index_.find(*victim) : std::nullopt;
    if (!entry || entry->expires_at_ms == 0 || entry->expires_at_ms > now_ms) return;
    if (!drop(*victim, now_ms)) return;  // stored again meanwhile: the next round looks again
    std::lock_guard lock(stats_mutex_);
    ++stats_.expired;
  }
}

void FleetMaintainer::evict(std::int64_t now_ms) {
  if (capacity_ == 0) return;  // no limit: neither max_size nor a file system's size known
  const auto target =
      eviction_target(capacity_, options_.high_watermark, options_.low_watermark, news_);
  if (index_.total_bytes() <= target.above) return;
  for (int evicted = 0; index_.total_bytes() > target.down_to; ++evicted) {
    if (evicted % kEvictionsPerLeaseCheck == 0 && !lease_.held(now_ms)) {
      lose_lease();
      return;
    }
    const auto victim = index_.pick_victim(now_ms, options_.policy, sketch_, rng_, kEvictionSample);
    if (!victim) return;  // everything sampled is protected: next round
    const auto bytes = index_.find(*victim)->bytes;
    if (!drop(*victim, now_ms)) return;  // stored again meanwhile: the next round looks again
    std::lock_guard lock(stats_mutex_);
    ++stats_.evictions;
    stats_.evicted_bytes += bytes;
  }
}

bool FleetMaintainer::drop(const std::string& id, std::int64_t now_ms) {
  const auto news_kept_after_ms = now_ms - options_.sweep.max_fill_age().count();
  try {
    if (evict_cache_dir(layout_.path_of(id), records_, forgotten_, news_kept_after_ms) ==
        EvictionOutcome::kChanged) {
      return false;
    }
  } catch (const std::system_error& error) {
    // Removed anyway: a cache that cannot evict fills its file system. Without its time kept,
    // a fill older than the record may store what the record replaced (until its TTL).
    spdlog::warn("cache maintenance: {}: the time of {} not kept, evicted anyway", error.what(),
                 id);
    remove_cache_dir(layout_.path_of(id), changes_.get());
  }
  index_.erase(id);
  return true;
}

void FleetMaintainer::publish(std::int64_t now_ms) {
  if (!lease_.held(now_ms)) {
    lose_lease();
    return;
  }
  v1::FleetUsage usage;
  usage.set_total_bytes(index_.total_bytes());
  usage.set_written_bytes(index_.written_bytes());
  usage.set_objects(index_.size());
  usage.set_max_size_bytes(options_.max_size_bytes);
  usage.set_at_unix_ms(now_ms);
  usage.set_lease_token(lease_.token());
  usage.set_effective_capacity_bytes(capacity_);
  write_file_atomically(fleet_path(layout_, "usage"), usage.SerializeAsString());
  remember_usage(usage, true);
}

void FleetMaintainer::keep_reserve() {
  struct stat status {};
  if (::stat(reserve_path_.c_str(), &status) == 0 &&
      static_cast<std::uint64_t>(status.st_size) == kReserveBytes) {
    reserve_unchecked_ = false;
    return;
  }
  // Bytes no file system compresses or deduplicates away.
  std::string bytes(kReserveBytes, '\0');
  for (std::size_t i = 0; i + 8 <= bytes.size(); i += 8) {
    const auto word = rng_();
    std::memcpy(bytes.data() + i, &word, 8);
  }
  try {
    write_file_atomically(reserve_path_, bytes);
    reserve_unchecked_ = false;
  } catch (const std::system_error& error) {
    // Still full: the next round, after more evictions, tries again.
    spdlog::debug("cache maintenance: no reserve file yet: {}", error.what());
  }
}

void FleetMaintainer::remember_usage(const v1::FleetUsage& usage, bool holder) {
  std::lock_guard lock(stats_mutex_);
  usage_ = usage;
  stats_.holder = holder;
  stats_.total_bytes = usage.total_bytes();
  stats_.written_bytes = usage.written_bytes();
  stats_.objects = usage.objects();
  stats_.capacity_bytes =
      tighter_limit(options_.max_size_bytes, usage.effective_capacity_bytes());
}

void FleetMaintainer::save_snapshot(std::int64_t now_ms) {
  v1::FleetSnapshot snapshot;
  snapshot.set_lease_token(lease_.token());
  snapshot.set_at_unix_ms(now_ms);
  snapshot.set_instance(instance_);
  snapshot.set_eviction_index(index_.serialize());
  snapshot.set_frequency_sketch(sketch_.serialize());
  for (const auto& [segment, offset] : cursors_) {
    auto* cursor = snapshot.add_cursors();
    cursor->set_segment(segment);
    cursor->set_offset(offset);
  }
  write_file_atomically(fleet_path(layout_, "snapshot"), snapshot.SerializeAsString());
  last_snapshot_ms_ = now_ms;
  // Only now is what these segments said safe with a successor.
  for (const auto& name : finished_) {
    ::unlink((journal_dir_ + "/" + name).c_str());
    cursors_.erase(name);
  }
  finished_.clear();
}

void FleetMaintainer::read_usage() {
  v1::FleetUsage usage;
  const auto bytes = read_whole_file(fleet_path(layout_, "usage"));
  if (bytes && usage.ParseFromString(*bytes)) remember_usage(usage, false);
}

FleetStats FleetMaintainer::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

std::optional<v1::FleetUsage> FleetMaintainer::usage() const {
  std::lock_guard lock(stats_mutex_);
  return usage_;
}

}  // namespace s3hc::cache
