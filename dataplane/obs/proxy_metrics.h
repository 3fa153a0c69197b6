// The metrics s3hc-proxy exports, registered once in the process-wide registry and shared by
// every worker thread (all updates are atomic; the per-request ones take no lock).
#pragma once

#include <cstdint>
#include <string_view>

#include "obs/metrics.h"

namespace s3hc::obs {

// kRefused: the request's Host names no endpoint the proxy may reach (no connection tried).
enum class UpstreamError { kResolve, kConnect, kReset, kTimeout, kProtocol, kRefused };

struct ProxyMetrics {
  explicit ProxyMetrics(MetricsRegistry& registry);

  // Responses to clients, by request method (GET, HEAD, PUT, POST, DELETE, OPTIONS or other)
  // and response status.
  void count_response(std::string_view method, unsigned status);
  void count_upstream_error(UpstreamError kind);

  Family<Counter>& requests;
  Counter& client_received_bytes;
  Counter& client_sent_bytes;
  Histogram& upstream_latency;  // seconds from request sent to response header received
  Gauge& open_connections;
  Family<Counter>& upstream_errors;
  Family<Counter>& upstream_connections;  // result: new, reused
  Counter& upstream_connections_new;
  Counter& upstream_connections_reused;
  // Overload protection (http/admission.h). The two gauges are the counts admission judges
  // by, so /metrics shows exactly what it sees.
  Gauge& requests_in_flight;  // admitted requests whose answer is not done
  Gauge& buffered_bytes;      // relay buffers and cache pieces on loan, fill windows
  Family<Counter>& requests_rejected;  // reason: concurrency, memory
  Counter& rejected_for_concurrency;
  Counter& rejected_for_memory;

 private:
  Counter* upstream_error_counters_[6];  // indexed by UpstreamError
  // Names this instance in the threads' memos of count_response: unlike its address, never
  // that of an instance destroyed before (tests make one after another).
  const std::uint64_t id_;
};

}  // namespace s3hc::obs
