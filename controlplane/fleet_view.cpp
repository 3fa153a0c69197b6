#include "controlplane/fleet_view.h"

#include <string>

namespace s3hc::control {

namespace {

obs::MetricType type_of(v1::MetricFamily::Type type) {
  switch (type) {
    case v1::MetricFamily::COUNTER:
      return obs::MetricType::kCounter;
    case v1::MetricFamily::HISTOGRAM:
      return obs::MetricType::kHistogram;
    default:
      return obs::MetricType::kGauge;
  }
}

// False for a histogram point whose counts do not match its bounds (one per bound, then
// +Inf): a report no proxy of this version sends, left out rather than rendered wrong.
bool set_value(obs::MetricSnapshot& child, obs::MetricType type, const v1::MetricPoint& point) {
  switch (type) {
    case obs::MetricType::kCounter:
      child.value = point.counter();
      return true;
    case obs::MetricType::kGauge:
      child.value = point.gauge();
      return true;
    case obs::MetricType::kHistogram:
      break;
  }
  if (point.cumulative_counts_size() != point.upper_bounds_size() + 1) return false;
  child.value = obs::HistogramSnapshot{
      .upper_bounds = {point.upper_bounds().begin(), point.upper_bounds().end()},
      .cumulative_counts = {point.cumulative_counts().begin(), point.cumulative_counts().end()},
      .sum = point.sum()};
  return true;
}

obs::FamilySnapshot family_of(const v1::MetricFamily& family) {
  const auto type = type_of(family.type());
  obs::FamilySnapshot snapshot{.name = family.name(),
                               .help = family.help(),
                               .type = type,
                               .label_names = {family.label_names().begin(),
                                               family.label_names().end()},
                               .children = {}};
  for (const auto& point : family.points()) {
    obs::MetricSnapshot child{.label_values = {point.label_values().begin(),
                                               point.label_values().end()},
                              .value = std::uint64_t{0}};
    if (set_value(child, type, point)) snapshot.children.push_back(std::move(child));
  }
  return snapshot;
}

}  // namespace

std::vector<obs::FamilySnapshot> fleet_snapshot(const v1::FleetStatsResponse& sum,
                                                const std::vector<v1::ProxyEntry>& proxies,
                                                std::uint64_t policy_version) {
  std::vector<obs::FamilySnapshot> families;
  families.reserve(sum.families_size() + 2);
  for (const auto& family : sum.families()) families.push_back(family_of(family));

  std::int64_t lost = 0, draining = 0;
  for (const auto& proxy : proxies) {
    if (proxy.lost()) {
      ++lost;
    } else if (proxy.status().draining()) {
      ++draining;
    }
  }
  const auto up = static_cast<std::int64_t>(proxies.size()) - lost - draining;
  families.push_back({.name = "s3hc_control_proxies",
                      .help = "Proxies registered with the control plane, by state (draining: "
                              "shutting down; lost: no heartbeat for three intervals).",
                      .type = obs::MetricType::kGauge,
                      .label_names = {"state"},
                      .children = {{.label_values = {"draining"}, .value = draining},
                                   {.label_values = {"lost"}, .value = lost},
                                   {.label_values = {"up"}, .value = up}}});
  families.push_back({.name = "s3hc_control_policy_version",
                      .help = "Version of the policy the control plane serves; 0 = none set.",
                      .type = obs::MetricType::kGauge,
                      .label_names = {},
                      .children = {{.label_values = {},
                                    .value = static_cast<std::int64_t>(policy_version)}}});
  return families;
}

std::vector<obs::DashboardProxy> dashboard_proxies(const std::vector<v1::ProxyEntry>& proxies,
                                                   std::int64_t now_ms) {
  std::vector<obs::DashboardProxy> listed;
  listed.reserve(proxies.size());
  for (const auto& entry : proxies) {
    const auto& status = entry.status();
    std::string listen;
    for (const auto& address : status.listen_addresses()) {
      listen += (listen.empty() ? "" : ",") + address;
    }
    listed.push_back({.id = status.proxy_id(),
                      .version = status.software_version(),
                      .listen = std::move(listen),
                      .lost = entry.lost(),
                      .health = status.draining()  ? "draining"
                                : status.healthy() ? "ok"
                                                   : "unhealthy",
                      .policy_version = status.policy_version(),
                      .last_seen_ms_ago = now_ms - entry.last_seen_unix_ms()});
  }
  return listed;
}

}  // namespace s3hc::control
