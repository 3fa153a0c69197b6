#include "obs/proxy_metrics.h"

#include <atomic>
#include <string>
#include <vector>

namespace s3hc::obs {
namespace {

std::uint64_t next_id() {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

}  // namespace

ProxyMetrics::ProxyMetrics(MetricsRegistry& registry)
    : requests(registry.counter_family("s3hc_requests_total",
                                       "Responses sent to clients, by method and status.",
                                       {"method", "status"})),
      client_received_bytes(registry.counter(
          "s3hc_client_received_bytes_total",
          "Bytes of requests (headers and bodies) read from clients.")),
      client_sent_bytes(registry.counter("s3hc_client_sent_bytes_total",
                                         "Bytes of responses written to clients.")),
      upstream_latency(registry.histogram(
          "s3hc_upstream_request_duration_seconds",
          "Time from sending a request upstream to receiving its response header.",
          exponential_buckets(0.0005, 2, 16))),
      open_connections(registry.gauge("s3hc_open_connections", "Open client connections.")),
      upstream_errors(registry.counter_family("s3hc_upstream_errors_total",
                                              "Failed upstream exchanges, by kind.", {"kind"})),
      upstream_connections(registry.counter_family(
          "s3hc_upstream_connections_total",
          "Upstream connections used for a request: new or reused from the pool.", {"result"})),
      upstream_connections_new(upstream_connections.with({"new"})),
      upstream_connections_reused(upstream_connections.with({"reused"})),
      requests_in_flight(registry.gauge(
          "s3hc_requests_in_flight", "Client requests admitted whose answer is not done.")),
      buffered_bytes(registry.gauge(
          "s3hc_buffered_bytes",
          "Bytes held in memory for requests: relay buffers and cache pieces in use, fill "
          "windows.")),
      requests_rejected(registry.counter_family(
          "s3hc_requests_rejected_total",
          "Requests refused with 503 SlowDown (overload), by the limit they met.", {"reason"})),
      rejected_for_concurrency(requests_rejected.with({"concurrency"})),
      rejected_for_memory(requests_rejected.with({"memory"})),
      upstream_error_counters_{&upstream_errors.with({"resolve"}),
                               &upstream_errors.with({"connect"}), &upstream_errors.with({"reset"}),
                               &upstream_errors.with({"timeout"}),
                               &upstream_errors.with({"protocol"}),
                               &upstream_errors.with({"refused"})},
      id_(next_id()) {}

namespace {

// The method label comes from clients: any other token counts as "other", so a client cannot
// grow the number of series without bound.
std::string_view method_label(std::string_view method) {
  for (const std::string_view known : {"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "other";
}

}  // namespace

void ProxyMetrics::count_response(std::string_view raw_method, unsigned status) {
  const auto method = method_label(raw_method);
  // Per-thread memo of the children already used: the family lookup takes a lock and builds
  // a key, too much for every request. Bounded, since methods are client-chosen strings.
  struct Memo {
    std::uint64_t owner;
    std::string method;
    unsigned status;
    Counter* counter;
  };
  thread_local std::vector<Memo> memo;
  for (const auto& entry : memo) {
    if (entry.owner == id_ && entry.status == status && entry.method == method) {
      entry.counter->inc();
      return;
    }
  }
  auto& counter = requests.with({std::string(method), std::to_string(status)});
  if (memo.size() < 64) memo.push_back({id_, std::string(method), status, &counter});
  counter.inc();
}

void ProxyMetrics::count_upstream_error(UpstreamError kind) {
  upstream_error_counters_[static_cast<int>(kind)]->inc();
}

}  // namespace s3hc::obs
