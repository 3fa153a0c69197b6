// The dashboard's numbers (GET /api/dashboard on a proxy's admin port and on the control
// plane, docs/OBSERVABILITY.md "Dashboard"): one JSON document made from a metrics snapshot,
// so that every number in it is one /metrics of the same process shows. The one builder for
// both: a proxy gives its registry's collect(), the control plane the fleet's sum of its
// proxies' reports (controlplane/fleet_view.h). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "obs/metrics.h"

namespace s3hc::obs {

// One proxy as the dashboard lists it.
struct DashboardProxy {
  std::string id;
  std::string version;  // its software version
  std::string listen;   // the S3 address(es) it serves, comma separated
  bool lost = false;    // the control plane heard nothing from it for three heartbeats
  std::string health;   // "ok", "draining" (its own /health) or "unhealthy" (its heartbeat)
  std::uint64_t policy_version = 0;
  std::int64_t last_seen_ms_ago = 0;
};

struct DashboardContext {
  std::string scope;  // "fleet" (the control plane) or "proxy" (one proxy's admin port)
  std::int64_t now_unix_ms = 0;
  std::uint64_t policy_version = 0;  // in force: the control plane's, or the proxy's own
  std::vector<DashboardProxy> proxies;
};

// The document of GET /api/dashboard (its schema: docs/OBSERVABILITY.md "Dashboard").
nlohmann::json dashboard_json(const std::vector<FamilySnapshot>& metrics,
                              const DashboardContext& context);

// The q-quantile of a cumulative histogram (one count per bound, then +Inf), interpolated
// linearly within the bucket it falls in, as Prometheus' histogram_quantile: from 0 in the
// first bucket, the highest bound when it falls in +Inf; 0 for an empty histogram.
double histogram_quantile(double q, const std::vector<double>& upper_bounds,
                          const std::vector<std::uint64_t>& cumulative_counts);

}  // namespace s3hc::obs
