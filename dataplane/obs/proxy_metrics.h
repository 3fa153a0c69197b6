// The metrics s3hc-proxy exports, registered once in the process-wide registry and shared by
// every worker thread (all updates are atomic).
#pragma once

#include <string_view>

#include "obs/metrics.h"

namespace s3hc::obs {

struct ProxyMetrics {
  explicit ProxyMetrics(MetricsRegistry& registry);

  // Responses to clients, by request method and response status.
  void count_response(std::string_view method, unsigned status);

  Family<Counter>& requests;
  Counter& client_received_bytes;
  Counter& client_sent_bytes;
  Histogram& upstream_latency;  // seconds from request sent to response header received
  Gauge& open_connections;
  Family<Counter>& upstream_errors;   // kind: connect, reset, timeout, protocol
  Family<Counter>& upstream_connects; // result: new, reused
};

}  // namespace s3hc::obs
