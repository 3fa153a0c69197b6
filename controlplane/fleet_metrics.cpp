#include "controlplane/fleet_metrics.h"

#include <algorithm>
#include <array>
#include <set>
#include <string_view>
#include <vector>

namespace s3hc::control {

namespace {

using SeriesKey = std::vector<std::string>;  // the label values

// The fleet's view of its shared directory (fleet/usage, cache.max_size), the same on every
// proxy that shares it.
bool describes_shared_directory(std::string_view family) {
  constexpr std::array<std::string_view, 5> kShared = {
      "s3hc_cache_size_bytes", "s3hc_cache_objects", "s3hc_cache_written_bytes",
      "s3hc_cache_max_size_bytes", "s3hc_cache_effective_capacity_bytes"};
  return std::find(kShared.begin(), kShared.end(), family) != kShared.end();
}

// Adds `point` into `total` (a point of the same series; a gauge of the shared directory
// takes the larger): false when their histogram bounds differ.
bool add_into(v1::MetricPoint& total, const v1::MetricPoint& point, bool shared) {
  total.set_counter(total.counter() + point.counter());
  total.set_gauge(shared ? std::max(total.gauge(), point.gauge())
                         : total.gauge() + point.gauge());
  if (point.cumulative_counts_size() == 0) return true;
  const bool same_bounds =
      std::equal(total.upper_bounds().begin(), total.upper_bounds().end(),
                 point.upper_bounds().begin(), point.upper_bounds().end()) &&
      total.cumulative_counts_size() == point.cumulative_counts_size();
  if (!same_bounds) return false;
  for (int i = 0; i < point.cumulative_counts_size(); ++i) {
    total.set_cumulative_counts(i, total.cumulative_counts(i) + point.cumulative_counts(i));
  }
  total.set_sum(total.sum() + point.sum());
  return true;
}

}  // namespace

void FleetMetrics::report(v1::MetricsReport report) {
  std::lock_guard lock(mutex_);
  last_[report.proxy_id()] = std::move(report);
}

v1::FleetStatsResponse FleetMetrics::sum(const std::vector<v1::ProxyEntry>& proxies) const {
  std::set<std::string> lost;
  for (const auto& entry : proxies) {
    if (entry.lost()) lost.insert(entry.status().proxy_id());
  }
  std::map<std::string, v1::MetricFamily> families;                 // by name
  std::map<std::string, std::map<SeriesKey, v1::MetricPoint>> points;  // by name, series
  std::lock_guard lock(mutex_);
  for (const auto& [proxy, report] : last_) {
    const bool is_lost = lost.contains(proxy);
    for (const auto& family : report.families()) {
      auto [known, added] = families.try_emplace(family.name());
      if (added) {
        known->second = family;
        known->second.clear_points();
      }
      if (is_lost && family.type() == v1::MetricFamily::GAUGE) continue;
      auto& series = points[family.name()];
      const bool shared = describes_shared_directory(family.name());
      for (const auto& point : family.points()) {
        const SeriesKey key(point.label_values().begin(), point.label_values().end());
        auto [total, first] = series.try_emplace(key, point);
        if (!first) add_into(total->second, point, shared);
      }
    }
  }
  v1::FleetStatsResponse response;
  response.set_proxies_reporting(static_cast<std::uint32_t>(last_.size()));
  for (auto& [name, family] : families) {
    for (auto& [key, point] : points[name]) *family.add_points() = std::move(point);
    *response.add_families() = std::move(family);
  }
  return response;
}

}  // namespace s3hc::control
