#include "cli/fleet_summary.h"

#include <algorithm>
#include <cstdint>

#include "obs/dashboard.h"

namespace s3hc::cli {

namespace {

const v1::MetricFamily* family_named(const v1::FleetStatsResponse& stats, std::string_view name) {
  for (const auto& family : stats.families()) {
    if (family.name() == name) return &family;
  }
  return nullptr;
}

double value_of(const v1::MetricPoint& point) {
  return static_cast<double>(point.counter()) + static_cast<double>(point.gauge());
}

double total(const v1::FleetStatsResponse& stats, std::string_view name) {
  double sum = 0;
  if (const auto* family = family_named(stats, name)) {
    for (const auto& point : family->points()) sum += value_of(point);
  }
  return sum;
}

// Per first label value (the bucket) of a per-bucket family.
std::map<std::string, double> by_bucket(const v1::FleetStatsResponse& stats,
                                        std::string_view name) {
  std::map<std::string, double> values;
  if (const auto* family = family_named(stats, name)) {
    for (const auto& point : family->points()) {
      if (point.label_values_size() > 0) values[point.label_values(0)] += value_of(point);
    }
  }
  return values;
}

bool from_cache(const std::string& status) {
  return status == "HIT" || status == "REVALIDATED" || status == "COALESCED";
}

}  // namespace

FleetSummary summarize(const v1::FleetStatsResponse& stats) {
  FleetSummary summary;
  summary.proxies_reporting = stats.proxies_reporting();
  summary.requests = total(stats, "s3hc_requests_total");
  summary.sent_bytes = total(stats, "s3hc_bucket_sent_bytes_total");
  summary.saved_bytes = total(stats, "s3hc_bucket_saved_bytes_total");
  summary.origin_bytes = total(stats, "s3hc_bucket_origin_bytes_total");

  std::map<std::string, BucketSummary> buckets;
  double answered = 0, hits = 0;
  if (const auto* family = family_named(stats, "s3hc_bucket_requests_total")) {
    for (const auto& point : family->points()) {
      if (point.label_values_size() < 2) continue;
      const auto& bucket = point.label_values(0);
      const auto& status = point.label_values(1);
      const auto count = value_of(point);
      auto& entry = buckets[bucket];
      entry.requests += count;
      if (from_cache(status)) entry.hits += count;
      if (status == "none") continue;
      summary.by_cache_status[status] += count;
      answered += count;
      if (from_cache(status)) hits += count;
    }
  }
  summary.hit_ratio = answered == 0 ? 0 : hits / answered;

  for (const auto& [bucket, bytes] : by_bucket(stats, "s3hc_bucket_sent_bytes_total")) {
    buckets[bucket].sent_bytes = bytes;
  }
  for (const auto& [bucket, bytes] : by_bucket(stats, "s3hc_bucket_saved_bytes_total")) {
    buckets[bucket].saved_bytes = bytes;
  }
  for (const auto& [bucket, bytes] : by_bucket(stats, "s3hc_bucket_origin_bytes_total")) {
    buckets[bucket].origin_bytes = bytes;
  }
  for (auto& [name, entry] : buckets) {
    entry.bucket = name;
    summary.buckets.push_back(entry);
  }
  std::sort(summary.buckets.begin(), summary.buckets.end(),
            [](const auto& a, const auto& b) { return a.sent_bytes > b.sent_bytes; });

  // Every cache status's histogram merged (their bounds are the same).
  std::vector<double> bounds;
  std::vector<std::uint64_t> counts;
  if (const auto* family = family_named(stats, "s3hc_request_seconds")) {
    for (const auto& point : family->points()) {
      if (bounds.empty()) {
        bounds.assign(point.upper_bounds().begin(), point.upper_bounds().end());
        counts.assign(point.cumulative_counts_size(), 0);
      }
      if (point.cumulative_counts_size() != static_cast<int>(counts.size())) continue;
      for (int i = 0; i < point.cumulative_counts_size(); ++i) {
        counts[i] += point.cumulative_counts(i);
      }
    }
  }
  summary.p50_seconds = obs::histogram_quantile(0.50, bounds, counts);
  summary.p95_seconds = obs::histogram_quantile(0.95, bounds, counts);
  summary.p99_seconds = obs::histogram_quantile(0.99, bounds, counts);
  return summary;
}

nlohmann::json to_json(const FleetSummary& summary) {
  nlohmann::json buckets = nlohmann::json::array();
  for (const auto& bucket : summary.buckets) {
    buckets.push_back({{"bucket", bucket.bucket},
                       {"requests", bucket.requests},
                       {"hits", bucket.hits},
                       {"sent_bytes", bucket.sent_bytes},
                       {"saved_bytes", bucket.saved_bytes},
                       {"origin_bytes", bucket.origin_bytes}});
  }
  return {{"proxies_reporting", summary.proxies_reporting},
          {"requests", summary.requests},
          {"cache_status", summary.by_cache_status},
          {"hit_ratio", summary.hit_ratio},
          {"sent_bytes", summary.sent_bytes},
          {"saved_bytes", summary.saved_bytes},
          {"origin_bytes", summary.origin_bytes},
          {"latency_seconds",
           {{"p50", summary.p50_seconds}, {"p95", summary.p95_seconds}, {"p99", summary.p99_seconds}}},
          {"buckets", buckets}};
}

}  // namespace s3hc::cli
