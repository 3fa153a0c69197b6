// What the proxies last reported of their metrics, and the fleet's sum of it: every series
// (a family's name and label values) added over the proxies, counters and gauges alike, and
// histograms merged bucket by bucket when their bounds agree (a proxy of another version with
// other bounds is left out of that series, not mixed in wrongly). The gauges of the shared
// cache directory (its size, objects, capacity), which every proxy of a fleet reports alike,
// are the largest report instead: a sum would count the one directory once per proxy. A lost
// proxy's last report keeps its counters and histograms in the sum (what it did still
// happened) but not its gauges (what it holds now is unknown). Kept in memory: reports come
// again with every heartbeat.
//
// Thread-safety: every method from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "s3hc/v1/control.pb.h"

namespace s3hc::control {

class FleetMetrics {
 public:
  void report(v1::MetricsReport report);
  // `proxies`: the registry's list (proxy_registry.h), which tells the lost ones.
  v1::FleetStatsResponse sum(const std::vector<v1::ProxyEntry>& proxies) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, v1::MetricsReport> last_;  // by proxy id
};

}  // namespace s3hc::control
