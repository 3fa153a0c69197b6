// What the cache does for each bucket, to line up with the S3 bill: requests by cache status,
// bytes sent, bytes that came from the origin, bytes the cache saved, bytes written; and the
// latency of answers (first byte, whole) by cache status. docs/OBSERVABILITY.md lists them.
//
// Cardinality is bounded: a bucket (or a prefix of one) gets a label of its own when
// configured, or while fewer than max_buckets others have one (the first seen keep theirs:
// labels are series in Prometheus, which must not come and go); every other bucket is counted
// under "__other__". So 10,000 buckets make at most configured + max_buckets + 1 label values
// per metric.
//
// Thread-safety: every method may be called from any thread (a short lock per request, to
// find the bucket's counters).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "obs/metrics.h"

namespace s3hc::obs {

struct BucketMetricsOptions {
  // Buckets, and prefixes within them ("bucket/prefix/"), that always get a label of their
  // own: an object under a listed prefix is counted there (the longest), not under its bucket.
  // Default: none.
  std::vector<std::string> buckets;
  // Other buckets given a label of their own, first come first served. Default: 100.
  std::size_t max_buckets = 100;
};

// One answered request, as its record (http/request_record.h) tells it.
struct BucketRequest {
  std::string_view bucket;
  std::string_view key;
  std::string_view cache_status;  // HIT, MISS, ... ; empty: no cache status (a write, ...)
  bool write = false;             // an object written or deleted: its body bytes were written
  std::uint64_t sent_bytes = 0;
  std::uint64_t received_bytes = 0;
  double first_byte_seconds = 0;  // < 0: nothing was sent
  double total_seconds = 0;
};

class BucketMetrics {
 public:
  static constexpr std::string_view kOther = "__other__";
  // The values of the cache_status label: X-Cache's words, then "none" (no cache status).
  static constexpr std::array<std::string_view, 7> kStatuses = {
      "HIT", "REVALIDATED", "PARTIAL", "COALESCED", "MISS", "BYPASS", "none"};

  BucketMetrics(MetricsRegistry& registry, BucketMetricsOptions options);

  void record(const BucketRequest& request);

 private:
  struct Counters {
    std::string label;  // the bucket, or kOther
    Counter& sent;
    Counter& from_origin;
    Counter& saved;
    Counter& written;
    std::array<Counter*, kStatuses.size()> requests;  // by status
  };

  // The counters of the label the object is counted under (created on first use).
  Counters& counters_of(std::string_view bucket, std::string_view key);
  // The configured "bucket/prefix" entry the object falls under, the longest; null if none.
  const std::string* prefix_entry(std::string_view bucket, std::string_view key) const;

  const BucketMetricsOptions options_;
  Family<Counter>& requests_;
  Family<Counter>& sent_;
  Family<Counter>& from_origin_;
  Family<Counter>& saved_;
  Family<Counter>& written_;
  std::array<Histogram*, kStatuses.size()> first_byte_;  // by status
  std::array<Histogram*, kStatuses.size()> total_;
  std::mutex mutex_;
  std::unordered_map<std::string, Counters> labelled_;  // by bucket, __other__ included
  std::size_t unconfigured_ = 0;                        // buckets labelled first come
};

}  // namespace s3hc::obs
