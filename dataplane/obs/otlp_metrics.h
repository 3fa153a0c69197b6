// A snapshot of the metrics registry as an OTLP ExportMetricsServiceRequest
// (opentelemetry-proto, collector/metrics/v1) in the OTLP/HTTP JSON encoding: the protobuf
// JSON mapping with lowerCamelCase field names, 64-bit integers as decimal strings and enums as
// integers. Pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "obs/metrics.h"

namespace s3hc::obs {

// Who is reporting: the resource attributes every export carries.
struct OtlpResource {
  std::string service_name;         // service.name
  std::string service_instance_id;  // service.instance.id
  std::string service_version;      // service.version (also the scope's version)
};

// Counters become monotonic cumulative Sums, gauges Gauges, histograms cumulative Histograms
// with their explicit bounds and per-bucket counts (OTLP's are not cumulative, Prometheus's
// are). Names and descriptions are those of /metrics, label names and values the points'
// attributes. Points of counters and histograms count from `start` (when the process began);
// every point is taken at `now`. A family with no child yet is left out: OTLP has no metric
// without points.
std::string encode_otlp_metrics(const std::vector<FamilySnapshot>& families,
                                const OtlpResource& resource,
                                std::chrono::system_clock::time_point start,
                                std::chrono::system_clock::time_point now);

}  // namespace s3hc::obs
