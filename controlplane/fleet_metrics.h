// What the proxies last reported of their metrics, and the fleet's sum of it: every series
// (a family's name and label values) added over the proxies, counters and gauges alike, and
// histograms merged bucket by bucket when their bounds agree (a proxy of another version with
// other bounds is left out of that series, not mixed in wrongly). The gauges of the shared
// cache directory (its size, objects, capacity), which every proxy of a fleet reports alike,
// are the largest report instead: a sum would count the one directory once per proxy. Kept
// in memory: reports come again with every heartbeat.
//
// Thread-safety: every method from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "s3hc/v1/control.pb.h"

namespace s3hc::control {

class FleetMetrics {
 public:
  void report(v1::MetricsReport report);
  v1::FleetStatsResponse sum() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, v1::MetricsReport> last_;  // by proxy id
};

}  // namespace s3hc::control
