// The read cache's metrics, registered once in the process-wide registry and shared by every
// worker thread (updates are atomic).
#pragma once

#include "obs/metrics.h"

namespace s3hc::obs {

struct CacheMetrics {
  explicit CacheMetrics(MetricsRegistry& registry);

  // Cacheable reads by outcome: hit (served from the cache alone), revalidated (the origin
  // confirmed the cached version), partial (cached bytes plus missing ones from the origin),
  // miss (forwarded), bypass (Cache-Control: no-cache or no-store).
  Family<Counter>& reads;
  Counter& hits;
  Counter& revalidated;
  Counter& partial;
  Counter& misses;
  Counter& bypassed;
  Counter& coalesced;           // misses that waited for another request's fill instead
  Counter& fanned_out;          // of those, answered from that fill's bytes as they arrived
  Counter& served_bytes;        // body bytes sent to clients from the cache
  Counter& ram_hits;            // answers whose bytes came from the RAM tier
  Counter& sendfile_bytes;      // of served_bytes, sent from the page cache with sendfile
  Counter& negative_hits;       // of the hits, S3's 404 answered from the cache
  Counter& fill_bytes;          // body bytes written to the cache from origin responses
  // result: committed, failed, refused (the cache is full), no_space (the file system said
  // ENOSPC/EDQUOT: dropped, and the lease holder makes room), abandoned (every reader hung up
  // and the fill was not worth finishing), superseded (not kept: newer news of the object was
  // recorded meanwhile, a write or a delete answered after the fill's origin request was sent)
  Family<Counter>& fills;
  Counter& fills_committed;
  Counter& fills_failed;
  Counter& fills_refused;
  Counter& fills_no_space;
  Counter& fills_abandoned;
  Counter& fills_superseded;
  Gauge& fills_in_flight;       // fills running as their own producers (fill_producer.h)
  Counter& parallel_fills;      // of those, fetched by concurrent ranges (ranged_body.h)
  // Ranges fetched ahead of sequential readers (read_ahead.h), by result: fetched, cached
  // (already held), filling (another request fills them), refused (the cache would not keep
  // them), failed (the origin failed or answered otherwise; dropped)
  Family<Counter>& read_ahead;
  Counter& read_ahead_fetched;
  Counter& read_ahead_cached;
  Counter& read_ahead_filling;
  Counter& read_ahead_refused;
  Counter& read_ahead_failed;
  Counter& corrupt_reads;       // cached bytes that failed their checksum or were missing
  Counter& invalidations;       // objects dropped after a write, a delete or a 404
  // The fleet engine's view of the shared directory, as of the last round.
  Gauge& size_bytes;            // accounted size (what du counts)
  Gauge& written_bytes;         // of which objects written through the proxies
  Gauge& objects;               // cache directories (objects, uploads) accounted
  Gauge& max_size_bytes;        // cache.max_size (0 = unlimited)
  // min(max_size, what the file system can hold for the cache), as last worked out by the
  // lease holder (0 = unlimited)
  Gauge& effective_capacity_bytes;
  Gauge& maintenance_holder;    // 1 while this proxy holds the maintenance lease
  Counter& evictions;           // objects evicted by this proxy (as lease holder)
  Counter& evicted_bytes;
  Counter& expirations;         // expired objects dropped by active expiry
  // The per-bucket/prefix policy (docs/POLICY.md): the version in force (0: none), and files
  // read but not applied (invalid, or gone).
  Gauge& policy_version;
  Counter& policy_errors;
};

}  // namespace s3hc::obs
