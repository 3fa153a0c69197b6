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
#include <string>
#include <string_view>

namespace s3hc::http {

struct RequestRecord {
  using Clock = std::chrono::steady_clock;

  Clock::time_point started = Clock::now();
  std::optional<Clock::time_point> first_byte_sent;
  std::uint64_t sent_bytes = 0;      // of the answer, header included
  std::uint64_t received_bytes = 0;  // of the request, header included
  std::string_view cache_status;     // the X-Cache word (a static string); empty: none
  unsigned status = 0;               // of the answer's header; 0: none sent
  std::string_view error_code;       // of an S3 error the proxy answered (a static string)
  // What the request names, as the cache pipeline classified it; empty: not classified.
  std::string_view operation;        // REST.GET.OBJECT, ... (a static string)
  std::string bucket;
  std::string key;

  // The first bytes of an answer carry its status line ("HTTP/1.1 200 ..."); an interim
  // 100 Continue comes before the final one.
  void sending(std::string_view bytes) {
    if (status != 0 || bytes.size() < 12 || !bytes.starts_with("HTTP/1.")) return;
    unsigned code = 0;
    for (std::size_t i = 9; i < 12; ++i) {
      if (bytes[i] < '0' || bytes[i] > '9') return;
      code = code * 10 + static_cast<unsigned>(bytes[i] - '0');
    }
    if (code >= 200) status = code;
  }
  void sent(std::uint64_t bytes) {
    if (bytes > 0 && !first_byte_sent) first_byte_sent = Clock::now();
    sent_bytes += bytes;
  }
};

}  // namespace s3hc::http
