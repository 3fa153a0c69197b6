// What the proxy learns of one request while answering it, for what is told of requests
// afterwards (per-bucket metrics, obs/bucket_metrics.h; the access log to come). The session
// starts a fresh one for each request; whoever knows a part fills it in: the client writer
// the bytes sent, the session and the upload the bytes received, the read path its cache
// status.
//
// Thread-safety: on the connection's io_context thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace s3hc::http {

struct RequestRecord {
  using Clock = std::chrono::steady_clock;

  Clock::time_point started = Clock::now();
  std::optional<Clock::time_point> first_byte_sent;
  std::uint64_t sent_bytes = 0;      // of the answer, header included
  std::uint64_t received_bytes = 0;  // of the request, header included
  std::string_view cache_status;     // the X-Cache word (a static string); empty: none

  void sent(std::uint64_t bytes) {
    if (bytes > 0 && !first_byte_sent) first_byte_sent = Clock::now();
    sent_bytes += bytes;
  }
};

}  // namespace s3hc::http
