#include "obs/bucket_metrics.h"

#include <algorithm>

namespace s3hc::obs {

namespace {

// Answers whose bytes came from the cache (saved from the origin), and those that came from
// the origin, by X-Cache word. A partial hit's bytes came from both: counted as the origin's,
// the cautious side of a saving.
bool from_cache(std::string_view status) {
  return status == "HIT" || status == "REVALIDATED" || status == "COALESCED";
}

std::size_t status_index(std::string_view status) {
  constexpr auto& statuses = BucketMetrics::kStatuses;
  const auto found = std::find(statuses.begin(), statuses.end() - 1, status);
  return static_cast<std::size_t>(found - statuses.begin());  // "none" when not found
}

// One histogram per cache status of the family.
template <std::size_t N>
std::array<Histogram*, N> by_status(Family<Histogram>& family,
                                    const std::array<std::string_view, N>& statuses) {
  std::array<Histogram*, N> histograms{};
  for (std::size_t i = 0; i < N; ++i) histograms[i] = &family.with({std::string(statuses[i])});
  return histograms;
}

}  // namespace

BucketMetrics::BucketMetrics(MetricsRegistry& registry, BucketMetricsOptions options)
    : options_(std::move(options)),
      requests_(registry.counter_family("s3hc_bucket_requests_total",
                                        "Requests by bucket and cache status (X-Cache; none "
                                        "for requests without one).",
                                        {"bucket", "cache_status"})),
      sent_(registry.counter_family("s3hc_bucket_sent_bytes_total",
                                    "Bytes sent to clients (headers included), by bucket.",
                                    {"bucket"})),
      from_origin_(registry.counter_family(
          "s3hc_bucket_origin_bytes_total",
          "Bytes sent to clients that came from the origin (MISS, BYPASS, PARTIAL, no cache "
          "status), by bucket.",
          {"bucket"})),
      saved_(registry.counter_family(
          "s3hc_bucket_saved_bytes_total",
          "Bytes sent to clients from the cache instead of the origin (HIT, REVALIDATED, "
          "COALESCED), by bucket.",
          {"bucket"})),
      written_(registry.counter_family(
          "s3hc_bucket_written_bytes_total",
          "Bytes received from clients writing objects (headers included), by bucket.",
          {"bucket"})),
      first_byte_(by_status(
          registry.histogram_family("s3hc_request_first_byte_seconds",
                                    "Time to the first byte of the answer, by cache status.",
                                    {"cache_status"}, exponential_buckets(0.0005, 2, 16)),
          kStatuses)),
      total_(by_status(
          registry.histogram_family("s3hc_request_seconds",
                                    "Time to the answer's last byte, by cache status.",
                                    {"cache_status"}, exponential_buckets(0.0005, 2, 16)),
          kStatuses)) {}

const std::string* BucketMetrics::prefix_entry(std::string_view bucket,
                                               std::string_view key) const {
  const std::string* longest = nullptr;
  for (const auto& entry : options_.buckets) {
    const auto slash = entry.find('/');
    if (slash == std::string::npos || std::string_view(entry).substr(0, slash) != bucket) continue;
    const bool under = key.starts_with(std::string_view(entry).substr(slash + 1));
    if (under && (!longest || entry.size() > longest->size())) longest = &entry;
  }
  return longest;
}

BucketMetrics::Counters& BucketMetrics::counters_of(std::string_view bucket,
                                                    std::string_view key) {
  const auto* prefix = prefix_entry(bucket, key);
  const std::string_view name = prefix ? std::string_view(*prefix) : bucket;
  if (const auto found = labelled_.find(std::string(name)); found != labelled_.end()) {
    return found->second;
  }
  const bool configured =
      prefix ||
      std::find(options_.buckets.begin(), options_.buckets.end(), bucket) != options_.buckets.end();
  std::string label(name);
  if (!configured) {
    if (unconfigured_ >= options_.max_buckets) {
      label = kOther;
      if (const auto other = labelled_.find(label); other != labelled_.end()) return other->second;
    } else {
      ++unconfigured_;
    }
  }
  const std::vector<std::string> labels{label};
  Counters counters{label,          sent_.with(labels), from_origin_.with(labels),
                    saved_.with(labels), written_.with(labels), {}};
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    counters.requests[i] = &requests_.with({label, std::string(kStatuses[i])});
  }
  return labelled_.emplace(label, counters).first->second;
}

void BucketMetrics::record(const BucketRequest& request) {
  const auto status = status_index(request.cache_status);
  Counters* counters = nullptr;
  {
    std::lock_guard lock(mutex_);
    // (entries are never removed: the pointer stays valid)
    counters = &counters_of(request.bucket, request.key);
  }
  counters->sent.inc(request.sent_bytes);
  (from_cache(request.cache_status) ? counters->saved : counters->from_origin)
      .inc(request.sent_bytes);
  if (request.write) counters->written.inc(request.received_bytes);
  counters->requests[status]->inc();
  if (request.first_byte_seconds >= 0) first_byte_[status]->observe(request.first_byte_seconds);
  total_[status]->observe(request.total_seconds);
}

}  // namespace s3hc::obs
