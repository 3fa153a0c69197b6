// One line of the access log in Amazon S3's server access log format (docs/OBSERVABILITY.md):
// space-separated fields, "-" for a field without a value, the time in brackets, the
// request line, referrer and user agent quoted; the proxy's cache status appended as one
// more field (S3 reserves the end of the line for new fields, which parsers skip).
// Pure functions; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3hc::obs {

struct AccessLogRecord {
  std::chrono::system_clock::time_point time;  // when the request arrived
  std::string_view bucket;
  std::string_view remote_ip;
  std::string_view requester;  // the signing access key id
  std::string_view request_id;
  std::string_view operation;  // REST.GET.OBJECT, ...
  std::string_view key;        // percent-encoded as in the request
  std::string_view method;
  std::string_view target;
  unsigned http_version = 11;
  unsigned status = 0;
  std::string_view error_code;
  std::uint64_t bytes_sent = 0;
  std::optional<std::uint64_t> object_size;
  std::chrono::milliseconds total_time{0};
  std::optional<std::chrono::milliseconds> turn_around_time;
  std::string_view referer;
  std::string_view user_agent;
  std::string_view signature_version;    // SigV4, or empty
  std::string_view authentication_type;  // AuthHeader, QueryString, or empty
  std::string_view host_header;
  std::string_view cache_status;  // X-Cache's word, or empty
};

// The line, without its end of line.
std::string format_access_log_line(const AccessLogRecord& record);

}  // namespace s3hc::obs
