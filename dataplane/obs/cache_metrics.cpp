#include "obs/cache_metrics.h"

namespace s3hc::obs {

CacheMetrics::CacheMetrics(MetricsRegistry& registry)
    : reads(registry.counter_family("s3hc_cache_reads_total",
                                    "Cacheable reads (GET/HEAD of objects), by outcome.",
                                    {"result"})),
      hits(reads.with({"hit"})),
      revalidated(reads.with({"revalidated"})),
      partial(reads.with({"partial"})),
      misses(reads.with({"miss"})),
      bypassed(reads.with({"bypass"})),
      served_bytes(registry.counter("s3hc_cache_served_bytes_total",
                                    "Body bytes sent to clients from the cache.")),
      fill_bytes(registry.counter("s3hc_cache_fill_bytes_total",
                                  "Body bytes from the origin written into the cache.")),
      fills(registry.counter_family("s3hc_cache_fills_total",
                                    "Ranges written into the cache, by result.", {"result"})),
      fills_committed(fills.with({"committed"})),
      fills_failed(fills.with({"failed"})),
      corrupt_reads(registry.counter(
          "s3hc_cache_corrupt_reads_total",
          "Cached ranges found corrupt or missing when read; served from the origin instead.")),
      invalidations(registry.counter(
          "s3hc_cache_invalidations_total",
          "Cached objects dropped because a write, a delete or a 404 made them stale.")) {}

}  // namespace s3hc::obs
