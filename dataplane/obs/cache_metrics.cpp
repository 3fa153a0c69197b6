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
      coalesced(registry.counter(
          "s3hc_cache_coalesced_total",
          "Misses that waited for another request's fill of the same bytes, then looked again.")),
      fanned_out(registry.counter(
          "s3hc_cache_fanned_out_total",
          "Coalesced misses answered from another request's fill on this proxy as it arrived.")),
      served_bytes(registry.counter("s3hc_cache_served_bytes_total",
                                    "Body bytes sent to clients from the cache.")),
      ram_hits(registry.counter("s3hc_cache_ram_hits_total",
                                "Answers whose bytes came from the RAM tier (no file read).")),
      sendfile_bytes(registry.counter(
          "s3hc_cache_sendfile_bytes_total",
          "Of the served bytes, those sent from the page cache with sendfile (no copy).")),
      negative_hits(registry.counter(
          "s3hc_cache_negative_hits_total",
          "Hits that were S3's 404, answered from the cache (negative caching).")),
      fill_bytes(registry.counter("s3hc_cache_fill_bytes_total",
                                  "Body bytes from the origin written into the cache.")),
      fills(registry.counter_family("s3hc_cache_fills_total",
                                    "Ranges written into the cache, by result.", {"result"})),
      fills_committed(fills.with({"committed"})),
      fills_failed(fills.with({"failed"})),
      fills_refused(fills.with({"refused"})),
      fills_no_space(fills.with({"no_space"})),
      fills_abandoned(fills.with({"abandoned"})),
      fills_superseded(fills.with({"superseded"})),
      fills_in_flight(registry.gauge(
          "s3hc_cache_fills_in_flight",
          "Fills reading the origin at its own pace, whatever their clients do.")),
      parallel_fills(registry.counter(
          "s3hc_cache_parallel_fills_total",
          "Misses of large objects fetched as several concurrent ranged origin requests.")),
      read_ahead(registry.counter_family(
          "s3hc_cache_read_ahead_total",
          "Ranges fetched into the cache ahead of clients reading an object sequentially.",
          {"result"})),
      read_ahead_fetched(read_ahead.with({"fetched"})),
      read_ahead_cached(read_ahead.with({"cached"})),
      read_ahead_filling(read_ahead.with({"filling"})),
      read_ahead_refused(read_ahead.with({"refused"})),
      read_ahead_failed(read_ahead.with({"failed"})),
      corrupt_reads(registry.counter(
          "s3hc_cache_corrupt_reads_total",
          "Cached ranges found corrupt or missing when read; served from the origin instead.")),
      invalidations(registry.counter(
          "s3hc_cache_invalidations_total",
          "Cached objects dropped because a write, a delete or a 404 made them stale.")),
      size_bytes(registry.gauge("s3hc_cache_size_bytes",
                                "Bytes the shared cache directory takes, as accounted by the fleet.")),
      written_bytes(registry.gauge("s3hc_cache_written_bytes",
                                   "Of the cache's bytes, those of objects written through proxies.")),
      objects(registry.gauge("s3hc_cache_objects", "Cache directories (objects, uploads) accounted.")),
      max_size_bytes(registry.gauge("s3hc_cache_max_size_bytes", "cache.max_size; 0 = unlimited.")),
      effective_capacity_bytes(registry.gauge(
          "s3hc_cache_effective_capacity_bytes",
          "What the cache may take: min(cache.max_size, what its file system can hold for it); "
          "0 = unlimited.")),
      maintenance_holder(registry.gauge(
          "s3hc_cache_maintenance_holder", "1 while this proxy holds the fleet's maintenance lease.")),
      evictions(registry.counter("s3hc_cache_evictions_total",
                                 "Objects evicted by this proxy as maintenance lease holder.")),
      evicted_bytes(registry.counter("s3hc_cache_evicted_bytes_total",
                                     "Bytes freed by this proxy's evictions.")),
      expirations(registry.counter("s3hc_cache_expirations_total",
                                   "Expired objects dropped by active expiry (cache.expiry: active).")),
      policy_version(registry.gauge("s3hc_policy_version",
                                    "Version of the per-bucket/prefix policy in force; 0 = none.")),
      policy_errors(registry.counter(
          "s3hc_policy_errors_total",
          "Policy files read but not applied (invalid or gone); the policy in force stays.")) {}

}  // namespace s3hc::obs
