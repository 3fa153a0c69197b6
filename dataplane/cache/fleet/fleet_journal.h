// This proxy's side of the fleet engine's bookkeeping: it hears from the object store which
// cache directories changed size and which objects were asked for (StoreObserver), gathers
// that news per directory, and appends it to this proxy's journal on the shared directory
// (cache/fleet/journal.h) on every flush. The maintenance lease holder consolidates every proxy's
// journal into the size accounting and the eviction index (cache/fleet/fleet_maintainer.h).
//
// Losing news (a proxy killed between flushes, a failed append) costs only accuracy of the
// statistics: the sweeper's audit of every directory corrects sizes, and access counts are
// estimates anyway.
//
// Thread-safety: stored(), accessed() and lacked_room() from any thread; flush() and rotate()
// from one.
#pragma once

#include <chrono>
#include <deque>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cache/capacity.h"
#include "cache/fleet/journal.h"
#include "cache/store_observer.h"
#include "s3hc/v1/fleet.pb.h"

namespace s3hc::cache {

// When a stored object stops being fresh, for the index's preference of expired victims.
struct FreshnessTtls {
  std::chrono::milliseconds get_ttl{60000};
  std::chrono::milliseconds put_ttl{60000};  // objects that came from writes through a proxy

  std::int64_t expires_at_ms(const v1::CacheRecord& record) const {
    const auto ttl = record.from_write() ? put_ttl : get_ttl;
    return record.validated_at_unix_ms() + ttl.count();
  }
};

class FleetJournal final : public StoreObserver {
 public:
  FleetJournal(std::string journal_dir, std::string proxy_id, FreshnessTtls ttls);

  void stored(std::string_view dir_id, std::uint64_t bytes,
              const v1::CacheRecord* record) override;
  void accessed(std::string_view dir_id) override;
  // Fills of this proxy that found no room (refused, or the file system full), journaled for
  // the lease holder as an entry of no directory (empty dir_id).
  void lacked_room(const SpaceNews& news);

  // Appends what was gathered since the last flush as one batch; false when the append
  // failed (the batch is lost).
  bool flush();
  // Closes the current segment (see JournalWriter::rotate).
  void rotate() { writer_.rotate(); }

  // Bytes this proxy added to the cache (growth only, each directory counted whole) that a
  // usage the lease holder published at `published_at_ms` (the start of its round) does not
  // include: not yet flushed, or flushed after that round started. With that usage, a bound on
  // how full the cache is now.
  std::uint64_t unaccounted_growth(std::int64_t published_at_ms) const;

 private:
  v1::JournalEntry& entry_for(std::string_view dir_id);  // mutex_ held

  FreshnessTtls ttls_;
  JournalWriter writer_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, v1::JournalEntry> pending_;
  std::uint64_t growth_ = 0;  // since the last flush
  struct Flushed {
    std::int64_t done_at_ms;  // when the batch was in the journal
    std::uint64_t growth;
  };
  std::deque<Flushed> flushed_;  // recent flushes, oldest first
};

}  // namespace s3hc::cache
