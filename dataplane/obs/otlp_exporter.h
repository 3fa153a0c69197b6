// Pushes the metrics registry to an OTLP/HTTP collector every interval (docs/OBSERVABILITY.md).
// Each export encodes the registry as it is then (otlp_metrics.h) and POSTs it through an
// OtlpTransport; a retryable failure is retried with a fresh snapshot after a growing wait,
// as long as the retry can end before the next export is due. Nothing is queued: values are
// cumulative, so the latest snapshot says all the earlier ones did.
//
// Thread-safety: run() and export_until() run on the executor given, which the transport
// shares (the proxy gives the exporter a thread of its own, so neither encoding nor a stalled
// collector ever holds up a worker); stop() may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <string_view>

#include "http/endpoint.h"
#include "obs/metrics.h"
#include "obs/otlp_metrics.h"
#include "obs/otlp_transport.h"

namespace s3hc::obs {

struct OtlpExporterOptions {
  // The collector's OTLP/HTTP URL (parse_otlp_endpoint); none = no export. Default: none.
  std::optional<http::HttpUrl> endpoint;
  // Time between exports, the first one after start-up. Default: 10000 ms.
  std::chrono::milliseconds interval{10000};
  // Longest one POST may take, from resolving the collector's name to its answer.
  // Default: 5000 ms.
  std::chrono::milliseconds timeout{5000};
  // Wait before the first retry of a failed export, doubled for each further one (no key).
  // Default: 1000 ms.
  std::chrono::milliseconds first_retry_delay{1000};
};

// `text` as a collector endpoint: "" is none; else an http:// URL, whose path defaults to
// /v1/metrics (OTLP/HTTP's) when it has none. Throws std::invalid_argument for an https:// URL
// (TLS to the collector is not supported) or a malformed one.
std::optional<http::HttpUrl> parse_otlp_endpoint(std::string_view text);

// How long to wait before retry number `attempt` (0 for the first): first_retry_delay doubled
// per attempt, or nullopt when the retry could not end (that wait plus one timeout) by
// `window_end`, when the next export is due.
std::optional<std::chrono::milliseconds> retry_delay(int attempt,
                                                     const OtlpExporterOptions& options,
                                                     std::chrono::steady_clock::time_point now,
                                                     std::chrono::steady_clock::time_point window_end);

class OtlpExporter {
 public:
  // Registers s3hc_otlp_exports_total in `registry`, which it then exports. `start` is when
  // the process began counting: the start of every cumulative point.
  OtlpExporter(boost::asio::any_io_executor executor, MetricsRegistry& registry,
               OtlpResource resource, OtlpExporterOptions options, OtlpTransport& transport,
               std::chrono::system_clock::time_point start);

  // Exports every interval until stop(); then once more, with no retry, so the last counts
  // reach the collector.
  boost::asio::awaitable<void> run();

  // One export, retried as the header says while `window_end` allows. True when delivered.
  boost::asio::awaitable<bool> export_until(std::chrono::steady_clock::time_point window_end);

  // Ends run()'s wait or the post in flight at once, and with them run() (after its last
  // export).
  void stop();

 private:
  boost::asio::any_io_executor executor_;
  const MetricsRegistry& registry_;
  OtlpResource resource_;
  OtlpExporterOptions options_;
  OtlpTransport& transport_;
  std::chrono::system_clock::time_point start_;
  Family<Counter>& exports_;
  Counter& delivered_;
  Counter& failed_;
  boost::asio::steady_timer wake_;  // the wait for the next export or retry
  bool stopping_ = false;
  bool failing_ = false;  // no delivery since the last failure
};

}  // namespace s3hc::obs
