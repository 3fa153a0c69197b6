// What s3hc-ctl stats makes of the fleet's summed metrics (FleetStats): requests, answers by
// cache status and the hit ratio, bytes sent, saved and from the origin, latency percentiles
// from the merged histogram, and the same per bucket label. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "s3hc/v1/control.pb.h"

namespace s3hc::cli {

struct BucketSummary {
  std::string bucket;
  double requests = 0, hits = 0, sent_bytes = 0, saved_bytes = 0, origin_bytes = 0;
};

struct FleetSummary {
  std::uint32_t proxies_reporting = 0;
  double requests = 0;
  std::map<std::string, double> by_cache_status;  // X-Cache word -> answers
  double hit_ratio = 0;  // HIT, REVALIDATED, COALESCED over every answer with a cache status
  double sent_bytes = 0, saved_bytes = 0, origin_bytes = 0;
  double p50_seconds = 0, p95_seconds = 0, p99_seconds = 0;  // to an answer's last byte
  std::vector<BucketSummary> buckets;                         // most bytes sent first
};

FleetSummary summarize(const v1::FleetStatsResponse& stats);
nlohmann::json to_json(const FleetSummary& summary);

}  // namespace s3hc::cli
