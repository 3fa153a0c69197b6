#include "http/admission.h"

#include <spdlog/spdlog.h>

#include <limits>

namespace s3hc::http {

namespace {

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AdmissionGate::Ticket::~Ticket() {
  if (gate_) gate_->metrics_.requests_in_flight.add(-1);
}

AdmissionGate::AdmissionGate(const AdmissionOptions& options, obs::ProxyMetrics& metrics)
    : options_(options),
      metrics_(metrics),
      // Far enough back that the first refusal is logged, near enough not to overflow.
      last_logged_ns_(std::numeric_limits<std::int64_t>::min() / 2) {}

AdmissionGate::Ticket AdmissionGate::admit() {
  // Memory first: it costs a load, and a request refused for it takes no place meanwhile.
  if (options_.max_buffered_bytes > 0 &&
      metrics_.buffered_bytes.value() > static_cast<std::int64_t>(options_.max_buffered_bytes)) {
    return refuse(Limit::kMemory);
  }
  // Taking the place and checking it are one atomic step, so concurrent admissions never
  // let more through than the limit (near it, one may be refused that would have fit).
  const auto in_flight = metrics_.requests_in_flight.add(1);
  if (options_.max_concurrent_requests > 0 &&
      in_flight > static_cast<std::int64_t>(options_.max_concurrent_requests)) {
    metrics_.requests_in_flight.add(-1);
    return refuse(Limit::kConcurrency);
  }
  return Ticket(this);
}

AdmissionGate::Ticket AdmissionGate::refuse(Limit limit) {
  (limit == Limit::kMemory ? metrics_.rejected_for_memory : metrics_.rejected_for_concurrency)
      .inc();
  // A burst refuses thousands of requests a second: one line now and then tells as much.
  const auto now = steady_now_ns();
  auto last = last_logged_ns_.load(std::memory_order_relaxed);
  const auto interval = std::chrono::nanoseconds(kRefusalLogInterval).count();
  if (now - last >= interval &&
      last_logged_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    spdlog::warn(
        "overloaded: refusing requests with 503 SlowDown ({} limit; {} requests in flight, {} "
        "bytes buffered; refused so far: {} for concurrency, {} for memory)",
        limit == Limit::kMemory ? "memory" : "concurrency",
        metrics_.requests_in_flight.value(), metrics_.buffered_bytes.value(),
        metrics_.rejected_for_concurrency.value(), metrics_.rejected_for_memory.value());
  }
  return Ticket(nullptr);
}

}  // namespace s3hc::http
