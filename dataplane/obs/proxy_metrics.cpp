#include "obs/proxy_metrics.h"

#include <string>

namespace s3hc::obs {

ProxyMetrics::ProxyMetrics(MetricsRegistry& registry)
    : requests(registry.counter_family("s3hc_requests_total",
                                       "Responses sent to clients, by method and status.",
                                       {"method", "status"})),
      client_received_bytes(registry.counter(
          "s3hc_client_received_bytes_total", "Bytes of requests (headers and bodies) read from clients.")),
      client_sent_bytes(registry.counter("s3hc_client_sent_bytes_total",
                                         "Bytes of responses written to clients.")),
      upstream_latency(registry.histogram(
          "s3hc_upstream_request_duration_seconds",
          "Time from sending a request upstream to receiving its response header.",
          exponential_buckets(0.0005, 2, 16))),
      open_connections(registry.gauge("s3hc_open_connections", "Open client connections.")),
      upstream_errors(registry.counter_family("s3hc_upstream_errors_total",
                                              "Failed upstream exchanges, by kind.", {"kind"})),
      upstream_connects(registry.counter_family(
          "s3hc_upstream_connections_total",
          "Upstream connections used for a request: new or reused from the pool.", {"result"})) {}

void ProxyMetrics::count_response(std::string_view method, unsigned status) {
  requests.with({std::string(method), std::to_string(status)}).inc();
}

}  // namespace s3hc::obs
