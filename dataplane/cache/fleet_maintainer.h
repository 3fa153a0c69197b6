// The fleet's shared housekeeping, done by whichever proxy holds the maintenance lease
// (<root>/fleet/maintenance.lease, cache/lease_file.h). Every proxy runs a maintainer and
// calls round() on a timer; a round of the holder:
//   1. consolidates every proxy's journal (cache/journal.h, cache/fleet_journal.h) into the
//      index of directories (sizes, accesses, expiry) and the frequency sketch;
//   2. sweeps a few directories (cache/sweeper.h): cleans orphans, audits sizes;
//   3. in active expiry mode, drops a sample of expired objects;
//   4. above the high watermark of max_size, evicts (sampled TinyLFU or LRU,
//      cache/eviction_index.h) down to the low watermark;
//   5. publishes the fill level (<root>/fleet/usage), which every proxy reads to hold back new
//      fills while the cache is full;
//   6. now and then saves its state (<root>/fleet/snapshot) and only then deletes the journal
//      segments that state has consumed, so a successor resumes without losing news.
// Before each change only the holder may make (evictions, usage, snapshot) it checks that the
// lease file still names it; a holder that lost the lease (paused past its expiry) stops at
// once and drops its state. Anything a holder killed mid-round leaves half done is safe: an
// eviction removes the record first (cache/dir_removal.h), the journal is consumed
// idempotently from the last snapshot (sizes are absolute, not deltas), and the sweeper's
// audit corrects what was lost. See docs/ARCHITECTURE.md, "Fleet engine".
//
// Thread-safety: one thread calls round() and release(); stats() from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_set>

#include "cache/cache_layout.h"
#include "cache/eviction_index.h"
#include "cache/fleet_journal.h"
#include "cache/frequency_sketch.h"
#include "cache/lease_file.h"
#include "cache/sweeper.h"
#include "s3hc/v1/fleet.pb.h"

namespace s3hc::cache {

// Every proxy closes its journal segment every this many rounds (FleetEngine), so that
// segments get closed and deleted, and one untouched for several such periods is a dead
// proxy's.
inline constexpr int kJournalRotationRounds = 30;

struct FleetOptions {
  // Bytes the shared directory may take (as du counts them); 0 = no limit (accounting runs).
  std::uint64_t max_size_bytes = 0;
  // Eviction starts above high_watermark x max_size and stops at low_watermark x max_size.
  // Defaults: 0.90 and 0.80.
  double high_watermark = 0.90;
  double low_watermark = 0.80;
  // Share of max_size that objects written through the proxies may take; beyond it writes are
  // forwarded without being cached. Default: 0.5.
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
  std::uint64_t evictions = 0;      // by this proxy, since start
  std::uint64_t evicted_bytes = 0;
  std::uint64_t expired = 0;        // dropped by active expiry, since start
  std::uint64_t journal_entries = 0;  // consolidated by this proxy, since start
};

class FleetMaintainer {
 public:
  FleetMaintainer(CacheLayout layout, std::string proxy_id, FleetOptions options);

  // One round (see above) at wall-clock `now_ms`.
  void round(std::int64_t now_ms);
  // Saves the state and gives the lease up, when held (on shutdown).
  void release(std::int64_t now_ms);

  FleetStats stats() const;
  // The fill level as last published by any holder; nullopt before the first one.
  std::optional<v1::FleetUsage> usage() const;

  static std::string journal_dir(const CacheLayout& layout);

 private:
  void take_over(std::int64_t now_ms);
  std::string instance_id();
  void consolidate(std::int64_t now_ms);
  void apply(const v1::JournalEntry& entry);
  void sweep(std::int64_t now_ms);
  void audit(const AuditedDir& dir, std::int64_t now_ms);
  void expire(std::int64_t now_ms);
  void evict(std::int64_t now_ms);
  void drop(const std::string& id);
  void publish(std::int64_t now_ms);
  void save_snapshot(std::int64_t now_ms);
  void read_usage();
  void remember_usage(const v1::FleetUsage& usage, bool holder);
  void lose_lease();

  CacheLayout layout_;
  FleetOptions options_;
  LeaseFile lease_;
  Sweeper sweeper_;
  std::string journal_dir_;
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
