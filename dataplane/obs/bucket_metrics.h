// What the cache does for each bucket, to line up with the S3 bill: requests by cache status,
// bytes sent, bytes that came from the origin, bytes the cache saved, bytes written; and the
// latency of answers (first byte, whole) by cache status. docs/OBSERVABILITY.md lists them.
//
// Cardinality is bounded: a bucket (or a prefix of one) gets a label of its own when
// configured, or when it is among the max_buckets busiest others; every other bucket is counted
// under "__other__". So 10,000 buckets make at most configured + max_buckets + 1 label values
// per metric. Busiest: by what the bucket would cost at S3, its bytes both ways plus 4 KiB per
// request (a GET next to transfer at list prices), decayed by half at each ranking. The first
// buckets seen take the free labels; every rerank_interval the busiest unlabelled ones take
// the labels of the quietest when at least twice as busy (so labels do not flap). A bucket
// that loses its label has its counts folded into __other__, so the sum over buckets never
// goes back, and its series are removed; it starts from zero if it wins one again (rate()
// in Prometheus reads that as a counter reset). The unlabelled are tracked by the
// space-saving method, in at most 4 x max_buckets entries: a bucket busy enough to deserve a
// label cannot hide among them, and one is promoted by what it surely did (its score less
// what it inherited), so quiet ones passing through the table do not churn the labels.
//
// Thread-safety: every method may be called from any thread (a short lock per request, to
// find the bucket's counters).
#pragma once

#include <array>
#include <chrono>
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
  // Other buckets given a label of their own, the busiest. Default: 100.
  std::size_t max_buckets = 100;
  // How often the busiest unlabelled buckets may take the quietest labelled ones' labels.
  // Default: 60000 ms.
  std::chrono::milliseconds rerank_interval{60'000};
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

  // Counts the request; ranks the buckets again when rerank_interval has passed.
  void record(const BucketRequest& request);

  // What record() does every rerank_interval (public for tests).
  void rerank();

 private:
  struct Counters {
    bool ranked = false;      // held for being busy, so may be lost (not configured, not kOther)
    std::uint64_t score = 0;  // how busy (decayed), when ranked
    Counter* sent = nullptr;
    Counter* from_origin = nullptr;
    Counter* saved = nullptr;
    Counter* written = nullptr;
    std::array<Counter*, kStatuses.size()> requests{};  // by status
  };

  // The counters of the label the object is counted under (created on first use), after
  // adding `score` to what the bucket has done. Called with the lock held.
  Counters& counters_of(std::string_view bucket, std::string_view key, std::uint64_t score);
  // The configured "bucket/prefix" entry the object falls under, the longest; null if none.
  const std::string* prefix_entry(std::string_view bucket, std::string_view key) const;
  // A label's counters, its series created at zero.
  Counters make_counters(const std::string& label, bool ranked);
  // The unlabelled bucket's score grows by `score` (space-saving: when the table is full, the
  // least busy entry makes room and the newcomer inherits its score).
  void count_unlabelled(std::string_view bucket, std::uint64_t score);
  // The bucket's label goes: its counts are added to __other__'s, its series removed.
  void demote(const std::string& bucket);
  void rerank_locked();

  const BucketMetricsOptions options_;
  Family<Counter>& requests_;
  Family<Counter>& sent_;
  Family<Counter>& from_origin_;
  Family<Counter>& saved_;
  Family<Counter>& written_;
  std::array<Histogram*, kStatuses.size()> first_byte_;  // by status
  std::array<Histogram*, kStatuses.size()> total_;
  std::mutex mutex_;
  std::unordered_map<std::string, Counters> labelled_;  // by label, __other__ included
  std::size_t unconfigured_ = 0;                        // labelled buckets not configured
  struct Tracked {
    std::uint64_t score = 0;      // how busy (decayed), an upper bound
    std::uint64_t inherited = 0;  // of it, what the entry it replaced had (space-saving)
  };
  std::unordered_map<std::string, Tracked> unlabelled_;  // by bucket
  std::chrono::steady_clock::time_point next_rerank_;
};

}  // namespace s3hc::obs
