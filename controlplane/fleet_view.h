// The fleet as the control plane's HTTP endpoint shows it (fleet_http_server.h): the proxies'
// summed metrics (FleetMetrics::sum()) as a metrics snapshot, the one form the Prometheus text
// and the dashboard's JSON are made from (obs/prometheus_text.h, obs/dashboard.h), with the
// control plane's own gauges; and the registry's proxies as the dashboard lists them. Pure.
#pragma once

#include <cstdint>
#include <vector>

#include "obs/dashboard.h"
#include "obs/metrics.h"
#include "s3hc/v1/control.pb.h"

namespace s3hc::control {

// Every family of `sum`, then s3hc_control_proxies{state="up"|"lost"} (the proxies of
// `proxies`) and s3hc_control_policy_version (`policy_version`, 0: none set).
std::vector<obs::FamilySnapshot> fleet_snapshot(const v1::FleetStatsResponse& sum,
                                                const std::vector<v1::ProxyEntry>& proxies,
                                                std::uint64_t policy_version);

// The registry's entries (ProxyRegistry::list at `now_ms`) for the dashboard.
std::vector<obs::DashboardProxy> dashboard_proxies(const std::vector<v1::ProxyEntry>& proxies,
                                                   std::int64_t now_ms);

}  // namespace s3hc::control
