#include "obs/dashboard.h"

#include <algorithm>
#include <array>
#include <map>
#include <string_view>
#include <variant>

#include "obs/prometheus_text.h"

namespace s3hc::obs {

namespace {

const FamilySnapshot* family_named(const std::vector<FamilySnapshot>& metrics,
                                   std::string_view name) {
  for (const auto& family : metrics) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

// A counter's or a gauge's value (a histogram has none here).
std::int64_t value_of(const MetricSnapshot& child) {
  if (const auto* counter = std::get_if<std::uint64_t>(&child.value)) {
    return static_cast<std::int64_t>(*counter);
  }
  if (const auto* gauge = std::get_if<std::int64_t>(&child.value)) return *gauge;
  return 0;
}

// The family's series summed (0 when the process has no such family: e.g. no cache).
std::int64_t total(const std::vector<FamilySnapshot>& metrics, std::string_view name) {
  std::int64_t sum = 0;
  if (const auto* family = family_named(metrics, name)) {
    for (const auto& child : family->children) sum += value_of(child);
  }
  return sum;
}

// The value of `label` in the series (empty when the family has no such label).
std::string_view label_value(const FamilySnapshot& family, const MetricSnapshot& child,
                             std::string_view label) {
  for (std::size_t i = 0; i < family.label_names.size() && i < child.label_values.size(); ++i) {
    if (family.label_names[i] == label) return child.label_values[i];
  }
  return {};
}

// Answered from the cache: the statuses whose bytes count as saved (s3hc_bucket_saved_bytes).
bool from_cache(std::string_view cache_status) {
  return cache_status == "HIT" || cache_status == "REVALIDATED" || cache_status == "COALESCED";
}

struct BucketNumbers {
  std::int64_t requests = 0, hits = 0, sent = 0, saved = 0, origin = 0;
};

// Adds the per-bucket family's series into `numbers` (by the bucket label) through `field`.
void by_bucket(const std::vector<FamilySnapshot>& metrics, std::string_view name,
               std::map<std::string, BucketNumbers>& buckets,
               std::int64_t BucketNumbers::*field) {
  if (const auto* family = family_named(metrics, name)) {
    for (const auto& child : family->children) {
      buckets[std::string(label_value(*family, child, "bucket"))].*field += value_of(child);
    }
  }
}

// p50, p95 and p99 of every series of the histogram merged bucket by bucket (a series with
// other bounds than the first is left out, never mixed in).
nlohmann::json percentiles(const std::vector<FamilySnapshot>& metrics, std::string_view name) {
  std::vector<double> bounds;
  std::vector<std::uint64_t> counts;
  if (const auto* family = family_named(metrics, name)) {
    for (const auto& child : family->children) {
      const auto* histogram = std::get_if<HistogramSnapshot>(&child.value);
      if (!histogram) continue;
      if (counts.empty()) {
        bounds = histogram->upper_bounds;
        counts.assign(histogram->cumulative_counts.size(), 0);
      }
      if (histogram->upper_bounds != bounds) continue;
      for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += histogram->cumulative_counts[i];
    }
  }
  return {{"p50", histogram_quantile(0.50, bounds, counts)},
          {"p95", histogram_quantile(0.95, bounds, counts)},
          {"p99", histogram_quantile(0.99, bounds, counts)}};
}

// Every nonzero series of the families that count failures; of s3hc_requests_total, the 5xx
// answers only.
nlohmann::json errors(const std::vector<FamilySnapshot>& metrics) {
  constexpr std::array<std::string_view, 5> kFamilies = {
      "s3hc_upstream_errors_total", "s3hc_requests_rejected_total", "s3hc_requests_total",
      "s3hc_cache_corrupt_reads_total", "s3hc_policy_errors_total"};
  auto list = nlohmann::json::array();
  for (const auto name : kFamilies) {
    const auto* family = family_named(metrics, name);
    if (!family) continue;
    for (const auto& child : family->children) {
      const auto count = value_of(child);
      if (count == 0) continue;
      if (name == "s3hc_requests_total") {
        const auto status = label_value(*family, child, "status");
        if (status.size() != 3 || status[0] != '5') continue;
      }
      list.push_back({{"metric", family->name},
                      {"labels", prometheus_labels(family->label_names, child.label_values)},
                      {"count", count}});
    }
  }
  return list;
}

nlohmann::json proxies(const std::vector<DashboardProxy>& proxies) {
  auto list = nlohmann::json::array();
  for (const auto& proxy : proxies) {
    list.push_back({{"id", proxy.id},
                    {"version", proxy.version},
                    {"listen", proxy.listen},
                    {"state", proxy.lost ? "lost" : "up"},
                    {"health", proxy.health},
                    {"policy_version", proxy.policy_version},
                    {"last_seen_ms_ago", proxy.last_seen_ms_ago}});
  }
  return list;
}

}  // namespace

double histogram_quantile(double q, const std::vector<double>& upper_bounds,
                          const std::vector<std::uint64_t>& cumulative_counts) {
  if (cumulative_counts.empty() || cumulative_counts.back() == 0) return 0;
  const double rank = q * static_cast<double>(cumulative_counts.back());
  const auto found = std::lower_bound(cumulative_counts.begin(), cumulative_counts.end(), rank,
                                      [](std::uint64_t count, double r) { return count < r; });
  const auto i = static_cast<std::size_t>(found - cumulative_counts.begin());
  if (i >= upper_bounds.size()) return upper_bounds.empty() ? 0 : upper_bounds.back();
  const double lower = i == 0 ? 0 : upper_bounds[i - 1];
  const double below = i == 0 ? 0 : static_cast<double>(cumulative_counts[i - 1]);
  const double in_bucket = static_cast<double>(cumulative_counts[i]) - below;
  if (in_bucket == 0) return lower;  // q = 0 with an empty first bucket
  return lower + (upper_bounds[i] - lower) * (rank - below) / in_bucket;
}

nlohmann::json dashboard_json(const std::vector<FamilySnapshot>& metrics,
                              const DashboardContext& context) {
  std::map<std::string, BucketNumbers> buckets;
  // Hits and cache reads from s3hc_bucket_requests_total, as `s3hc-ctl stats`: hits are the
  // answers from the cache (HIT, REVALIDATED, COALESCED), cache reads every answer with a
  // cache status (all but "none": PARTIAL, MISS and BYPASS too).
  std::int64_t hits = 0, cache_reads = 0;
  if (const auto* family = family_named(metrics, "s3hc_bucket_requests_total")) {
    for (const auto& child : family->children) {
      const auto count = value_of(child);
      const auto status = label_value(*family, child, "cache_status");
      auto& bucket = buckets[std::string(label_value(*family, child, "bucket"))];
      bucket.requests += count;
      if (from_cache(status)) bucket.hits += count;
      if (status == "none") continue;
      cache_reads += count;
      if (from_cache(status)) hits += count;
    }
  }
  by_bucket(metrics, "s3hc_bucket_sent_bytes_total", buckets, &BucketNumbers::sent);
  by_bucket(metrics, "s3hc_bucket_saved_bytes_total", buckets, &BucketNumbers::saved);
  by_bucket(metrics, "s3hc_bucket_origin_bytes_total", buckets, &BucketNumbers::origin);

  std::vector<std::pair<std::string, BucketNumbers>> ranked(buckets.begin(), buckets.end());
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second.sent > b.second.sent;  // most bytes sent first, then by name
  });
  auto bucket_list = nlohmann::json::array();
  for (const auto& [name, numbers] : ranked) {
    bucket_list.push_back({{"bucket", name},
                           {"requests", numbers.requests},
                           {"hits", numbers.hits},
                           {"sent_bytes", numbers.sent},
                           {"saved_bytes", numbers.saved},
                           {"origin_bytes", numbers.origin}});
  }

  const nlohmann::json totals{
      {"requests", total(metrics, "s3hc_requests_total")},
      {"hits", hits},
      {"hit_ratio", cache_reads == 0 ? 0.0 : static_cast<double>(hits) / cache_reads},
      // Every byte written to clients, also of answers no bucket is counted for (rejections,
      // requests naming none), so it may exceed saved + origin.
      {"sent_bytes", total(metrics, "s3hc_client_sent_bytes_total")},
      {"saved_bytes", total(metrics, "s3hc_bucket_saved_bytes_total")},
      {"origin_bytes", total(metrics, "s3hc_bucket_origin_bytes_total")},
      {"written_bytes", total(metrics, "s3hc_bucket_written_bytes_total")},
      {"cache_size_bytes", total(metrics, "s3hc_cache_size_bytes")},
      {"cache_capacity_bytes", total(metrics, "s3hc_cache_effective_capacity_bytes")},
      {"open_connections", total(metrics, "s3hc_open_connections")},
      {"requests_in_flight", total(metrics, "s3hc_requests_in_flight")}};

  return {{"scope", context.scope},
          {"generated_unix_ms", context.now_unix_ms},
          {"policy_version", context.policy_version},
          {"proxies", proxies(context.proxies)},
          {"totals", totals},
          {"latency_seconds",
           {{"first_byte", percentiles(metrics, "s3hc_request_first_byte_seconds")},
            {"total", percentiles(metrics, "s3hc_request_seconds")}}},
          {"buckets", bucket_list},
          {"errors", errors(metrics)}};
}

}  // namespace s3hc::obs
