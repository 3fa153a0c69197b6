// The fleet's shared housekeeping, done by whichever proxy holds the maintenance lease
// (<root>/fleet/maintenance.lease, cache/fleet/lease_file.h). Every proxy runs a maintainer and
// calls round() on a timer; a round of the holder:
//   1. consolidates every proxy's journal (cache/fleet/journal.h, cache/fleet/fleet_journal.h) into the
//      index of directories (sizes, accesses, expiry) and the frequency sketch;
//   2. sweeps a few directories (cache/fleet/sweeper.h): cleans orphans, audits sizes;
//   3. in active expiry mode, drops a sample of expired objects;
//   4. works out the effective capacity, min(max_size, what the file system can hold for the
//      cache: cache/capacity.h, through a CapacityProbe), and above its high watermark evicts
//      (sampled TinyLFU or LRU, cache/fleet/eviction_index.h) down to the low watermark; fills that
//      found no room since the last round (refused, or ENOSPC: any proxy's journal, or this
//      proxy's own news) make it evict down to the low watermark, less the largest such fill;
//   5. publishes the fill level and the effective capacity (<root>/fleet/usage), which every
//      proxy reads to hold back new fills while the cache is full; keeps a small reserve file
//      (<root>/fleet/reserve) that any proxy deletes when the file system is too full for the
//      lease's own files, so that a full file system never stops the maintenance that empties
//      it;
//   6. now and then saves its state (<root>/fleet/snapshot) and only then deletes the journal
//      segments that state has consumed, so a successor resumes without losing news.
// Before each change only the holder may make (evictions, usage, snapshot) it checks that the
// lease file still names it; a holder that lost the lease (paused past its expiry) stops at
// once and drops its state. Anything a holder killed mid-round leaves half done is safe: an
// eviction keeps the record's time, then removes the record first (cache/fleet/dir_removal.h,
// cache/evicted_news.h), the journal is consumed
// idempotently from the last snapshot (sizes are absolute, not deltas), and the sweeper's
// audit corrects what was lost. See docs/ARCHITECTURE.md, "Fleet engine".
//
// Thread-safety: one thread calls round() and release(); stats() from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_set>

#include "cache/cache_layout.h"
#include "cache/capacity.h"
#include "cache/fleet/eviction_index.h"
#include "cache/fleet/fleet_journal.h"
#include "cache/frequency_sketch.h"
#include "cache/fleet/lease_file.h"
#include "cache/evicted_news.h"
#include "cache/fleet/sweeper.h"
#include "cache/store/record_store.h"
#include "s3hc/v1/fleet.pb.h"

namespace s3hc::cache {

// Every proxy closes its journal segment every this many rounds (FleetEngine), so that
// segments get closed and deleted, and one untouched for several such periods is a dead
// proxy's.
inline constexpr int kJournalRotationRounds = 30;

struct FleetOptions {
  // Bytes the shared directory may take (as du counts them); 0 = no limit but the file
  // system's (accounting runs). The file system may bound it further: the effective capacity,
  // cache/capacity.h.
  std::uint64_t max_size_bytes = 0;
  // Eviction starts above high_watermark x the effective capacity and stops at low_watermark
  // x it. Defaults: 0.90 and 0.80.
  double high_watermark = 0.90;
  double low_watermark = 0.80;
  // Share of the effective capacity that objects written through the proxies may take;
  // beyond it writes are forwarded without being cached. Default: 0.5.
  double max_written_share = 0.5;
  // Default: TinyLFU.
  EvictionPolicy policy = EvictionPolicy::kTinyLfu;
  // Active expiry: the holder also drops expired objects before the cache is full (they
  // would otherwise stay to be revalidated with a 304, the lazy default).
  bool active_expiry = false;
  // Objects stored or read less than this long ago are never evicted (fills in flight,
  // objects just written). Default: 10 s.
  std::chrono::milliseconds protect_recent{10000};
  // Between rounds; also the journal flush period. Default: 1 s.
  std::chrono::milliseconds interval{1000};
  // How long one round's hold of the lease lasts. Default: 10 s.
  std::chrono::milliseconds lease_duration{10000};
  // Between saved snapshots of the holder's state. Default: 30 s.
  std::chrono::milliseconds snapshot_interval{30000};
  // Directories swept per round. Default: 256.
  std::size_t sweep_per_round = 256;
  SweepOptions sweep;
  FreshnessTtls ttls;
};

// What the last round saw, for metrics and the health endpoint.
struct FleetStats {
  bool holder = false;
  std::uint64_t total_bytes = 0;    // published (or, when not holding, last read) usage
  std::uint64_t written_bytes = 0;
  std::uint64_t objects = 0;
  // What the cache may take (cache/capacity.h): as worked out by this proxy's round when
  // holding, else as last published and no more than this proxy's max_size; 0 = unlimited.
  std::uint64_t capacity_bytes = 0;
  std::uint64_t evictions = 0;      // by this proxy, since start
  std::uint64_t evicted_bytes = 0;
  std::uint64_t expired = 0;        // dropped by active expiry, since start
  std::uint64_t journal_entries = 0;  // consolidated by this proxy, since start
};

class FleetMaintainer {
 public:
  // `probe`: the file system's size and free space; null: statvfs of the cache directory.
  // `changes` (may be null) counts the records it removes (record_changes.h).
  FleetMaintainer(CacheLayout layout, std::string proxy_id, FleetOptions options,
                  std::shared_ptr<const CapacityProbe> probe = nullptr,
                  std::shared_ptr<RecordChanges> changes = nullptr);

  // One round (see above) at wall-clock `now_ms`. `local`: this proxy's fills that found no
  // room since its last round (also journaled; told directly too, since a full file system
  // may have lost the journal's append).
  void round(std::int64_t now_ms, const SpaceNews& local = {});
  // Saves the state and gives the lease up, when held (on shutdown).
  void release(std::int64_t now_ms);

  FleetStats stats() const;
  // The fill level as last published by any holder; nullopt before the first one.
  std::optional<v1::FleetUsage> usage() const;

  static std::string journal_dir(const CacheLayout& layout);
  // Bytes of <root>/fleet/reserve.
  static constexpr std::uint64_t kReserveBytes = 256 * 1024;

 private:
  bool acquire_lease(std::int64_t now_ms);
  void take_over(std::int64_t now_ms);
  std::string instance_id();
  void consolidate(std::int64_t now_ms);
  void apply(const v1::JournalEntry& entry, std::int64_t now_ms);
  void sweep(std::int64_t now_ms);
  void audit(const AuditedDir& dir, std::int64_t now_ms);
  void expire(std::int64_t now_ms);
  void evict(std::int64_t now_ms);
  // Evicts or expires an object (evict_cache_dir); false when it was stored again meanwhile
  // (then it stays).
  bool drop(const std::string& id, std::int64_t now_ms);
  void publish(std::int64_t now_ms);
  void keep_reserve();
  void save_snapshot(std::int64_t now_ms);
  void read_usage();
  void remember_usage(const v1::FleetUsage& usage, bool holder);
  void lose_lease();

  CacheLayout layout_;
  FleetOptions options_;
  std::shared_ptr<RecordChanges> changes_;
  RecordStore records_;      // whose records evictions remove
  EvictedNews forgotten_;    // the times of those that fills may be older than
  LeaseFile lease_;
  Sweeper sweeper_;
  std::shared_ptr<const CapacityProbe> probe_;
  std::string journal_dir_;
  std::string reserve_path_;
  // Whether the reserve is to be checked (and written if missing) after this round's
  // publication: in this process's first hold, after releasing it, and once per snapshot
  // interval. (Not at once when a deleted directory is taken on again: a big write then
  // would race an operator's rm -rf of it.)
  bool reserve_unchecked_ = true;
  // This round's: fills that found no room (local and journaled news), the effective capacity.
  SpaceNews news_;
  std::uint64_t capacity_ = 0;
  // The holder's state; meaningful only while holding.
  bool holding_ = false;
  std::string instance_;
  EvictionIndex index_;
  FrequencySketch sketch_;
  std::map<std::string, std::uint64_t> cursors_;  // journal segment file name -> offset
  std::set<std::string> finished_;  // closed segments read to their end: deleted after a snapshot
  std::int64_t last_snapshot_ms_ = 0;
  // The sweeper's current pass: when it began (0: not within this hold) and what it found.
  std::int64_t pass_started_ms_ = 0;
  std::unordered_set<std::string> pass_audited_;
  std::mt19937_64 rng_{std::random_device{}()};

  mutable std::mutex stats_mutex_;
  FleetStats stats_;
  std::optional<v1::FleetUsage> usage_;
};

}  // namespace s3hc::cache
