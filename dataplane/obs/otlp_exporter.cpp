#include "obs/otlp_exporter.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace s3hc::obs {

namespace asio = boost::asio;
using std::chrono::steady_clock;

std::optional<http::HttpUrl> parse_otlp_endpoint(std::string_view text) {
  if (text.empty()) return std::nullopt;
  auto url = http::parse_http_url(text);
  if (url.tls) {
    throw std::invalid_argument("https:// is not supported for the OTLP collector (use http://, "
                                "e.g. a collector on the same host): '" +
                                std::string(text) + "'");
  }
  if (url.path.empty()) url.path = "/v1/metrics";
  return url;
}

std::optional<std::chrono::milliseconds> retry_delay(int attempt,
                                                     const OtlpExporterOptions& options,
                                                     steady_clock::time_point now,
                                                     steady_clock::time_point window_end) {
  // Past a few doublings the wait is longer than any interval: no need to grow further.
  const auto delay = options.first_retry_delay * (1ll << std::min(attempt, 20));
  if (now + delay + options.timeout > window_end) return std::nullopt;
  return delay;
}

OtlpExporter::OtlpExporter(asio::any_io_executor executor, MetricsRegistry& registry,
                           OtlpResource resource, OtlpExporterOptions options,
                           OtlpTransport& transport, std::chrono::system_clock::time_point start)
    : executor_(executor),
      registry_(registry),
      resource_(std::move(resource)),
      options_(std::move(options)),
      transport_(transport),
      start_(start),
      exports_(registry.counter_family(
          "s3hc_otlp_exports_total",
          "OTLP export requests sent to the collector, by result (ok: accepted; error: failed, "
          "timed out or refused). Retries count too.",
          {"result"})),
      delivered_(exports_.with({"ok"})),
      failed_(exports_.with({"error"})),
      wake_(executor) {}

asio::awaitable<void> OtlpExporter::run() {
  auto next = steady_clock::now() + options_.interval;
  while (!stopping_) {
    wake_.expires_at(next);
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopping_) break;
    // Exports never pile up: the ticks an export overran by (only a hung system resolver can
    // outlast the timeout) are skipped.
    const auto now = steady_clock::now();
    next += options_.interval;
    if (next <= now) next = now + options_.interval;
    co_await export_until(next);
  }
  co_await export_until(steady_clock::now());
}

asio::awaitable<bool> OtlpExporter::export_until(steady_clock::time_point window_end) {
  for (int attempt = 0;; ++attempt) {
    const auto result = co_await transport_.post(encode_otlp_metrics(
        registry_.collect(), resource_, start_, std::chrono::system_clock::now()));
    if (result.delivered) {
      delivered_.inc();
      if (failing_) spdlog::info("OTLP export delivered again");
      failing_ = false;
      co_return true;
    }
    failed_.inc();
    // Logged when failures start, not at every retry of a collector that stays down.
    if (!failing_) spdlog::warn("OTLP export failed: {}", result.what);
    failing_ = true;
    const auto delay = retry_delay(attempt, options_, steady_clock::now(), window_end);
    if (!result.retryable || !delay || stopping_) co_return false;
    wake_.expires_after(*delay);
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopping_) co_return false;
  }
}

void OtlpExporter::stop() {
  asio::post(executor_, [this] {
    stopping_ = true;
    wake_.cancel();
    transport_.cancel();
  });
}

}  // namespace s3hc::obs
