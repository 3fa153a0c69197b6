// The read cache's metrics, registered once in the process-wide registry and shared by every
// worker thread (updates are atomic).
#pragma once

#include "obs/metrics.h"

namespace s3hc::obs {

struct CacheMetrics {
  explicit CacheMetrics(MetricsRegistry& registry);

  // Cacheable reads by outcome: hit (served from the cache alone), revalidated (the origin
  // confirmed the cached version), partial (cached bytes plus missing ones from the origin),
  // miss (forwarded), bypass (Cache-Control: no-cache).
  Family<Counter>& reads;
  Counter& hits;
  Counter& revalidated;
  Counter& partial;
  Counter& misses;
  Counter& bypassed;
  Counter& served_bytes;        // body bytes sent to clients from cache files
  Counter& fill_bytes;          // body bytes written to the cache from origin responses
  Family<Counter>& fills;       // result: committed, failed
  Counter& fills_committed;
  Counter& fills_failed;
  Counter& corrupt_reads;       // cached bytes that failed their checksum or were missing
  Counter& invalidations;       // objects dropped after a write, a delete or a 404
};

}  // namespace s3hc::obs
