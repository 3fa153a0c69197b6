// Overload protection: whether the proxy takes on one more client request. Past a limit on
// requests being answered at once, or while more bytes than allowed are held in memory for
// requests (s3hc_buffered_bytes: relay buffers and cache pieces on loan, fill windows), a new
// request is refused; the session answers it 503 SlowDown, as S3 does when asked too much, and
// SDKs back off and retry. Requests already admitted are never cut short: the limits only
// decide what starts. The admin listener (health, metrics) never comes here.
//
// The counts are the metrics' own gauges (s3hc_requests_in_flight, s3hc_buffered_bytes), so
// what /metrics shows is what admission judges by; refusals are counted by reason and logged
// at most once per kRefusalLogInterval.
//
// Thread-safety: one gate per process, shared by every worker thread; admit() from any
// thread, a ticket released on any thread. Relaxed atomics only: no lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "obs/proxy_metrics.h"

namespace s3hc::http {

struct AdmissionOptions {
  // Client requests answered at once, all worker threads together; one more is refused with
  // 503 SlowDown. 0 = no limit. Default: 4096.
  std::size_t max_concurrent_requests = 4096;
  // While the bytes held for requests exceed this, new requests are refused with 503
  // SlowDown. 0 = no limit. Default: 1073741824 (1 GiB).
  std::uint64_t max_buffered_bytes = std::uint64_t{1} << 30;
};

// The Retry-After (seconds) of a refusal: an overload passes as the requests in flight finish,
// which takes moments, not minutes. (SDKs back off on their own schedule whatever it says.)
inline constexpr std::string_view kRetryAfterSeconds = "1";

class AdmissionGate {
 public:
  // One admitted request's place, held until its answer is done; empty when refused.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket();

    explicit operator bool() const { return gate_ != nullptr; }

   private:
    friend class AdmissionGate;
    explicit Ticket(AdmissionGate* gate) : gate_(gate) {}

    AdmissionGate* gate_;
  };

  // `metrics` holds the counts and must outlive the gate and every ticket.
  AdmissionGate(const AdmissionOptions& options, obs::ProxyMetrics& metrics);

  // A ticket for one request, or an empty one (the refusal counted and, now and then, logged).
  Ticket admit();

  static constexpr std::chrono::seconds kRefusalLogInterval{10};

 private:
  enum class Limit { kConcurrency, kMemory };
  Ticket refuse(Limit limit);

  const AdmissionOptions options_;
  obs::ProxyMetrics& metrics_;
  // When the last refusal was logged (steady clock, ns since its epoch).
  std::atomic<std::int64_t> last_logged_ns_;
};

}  // namespace s3hc::http
