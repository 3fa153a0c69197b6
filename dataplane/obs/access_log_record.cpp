#include "obs/access_log_record.h"

#include <ctime>

namespace s3hc::obs {

namespace {

// A field as it goes on the line: "-" when empty; characters that would split it or end the
// line replaced, so a client's header can never forge a field or a line.
void append_field(std::string& line, std::string_view value, bool quoted = false) {
  if (!line.empty()) line += ' ';
  if (quoted) line += '"';
  if (value.empty()) {
    line += '-';
  } else {
    for (const char c : value) {
      const bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      line += control || (quoted && c == '"') || (!quoted && c == ' ') ? '_' : c;
    }
  }
  if (quoted) line += '"';
}

void append_number(std::string& line, std::optional<std::uint64_t> value) {
  append_field(line, value ? std::to_string(*value) : std::string());
}

// [06/Feb/2019:00:00:38 +0000]
std::string bracketed_time(std::chrono::system_clock::time_point time) {
  const auto seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "[%d/%b/%Y:%H:%M:%S +0000]", &utc);
  return text;
}

}  // namespace

std::string format_access_log_line(const AccessLogRecord& record) {
  std::string line;
  line.reserve(384);
  append_field(line, "");  // bucket owner: known to S3 only
  append_field(line, record.bucket);
  line += ' ';
  line += bracketed_time(record.time);
  append_field(line, record.remote_ip);
  append_field(line, record.requester);
  append_field(line, record.request_id);
  append_field(line, record.operation);
  append_field(line, record.key);
  const auto version = record.http_version == 10 ? "HTTP/1.0" : "HTTP/1.1";
  append_field(line, std::string(record.method) + " " + std::string(record.target) + " " + version,
               true);
  append_number(line, record.status);
  append_field(line, record.error_code);
  append_number(line, record.bytes_sent ? std::optional(record.bytes_sent) : std::nullopt);
  append_number(line, record.object_size);
  append_number(line, static_cast<std::uint64_t>(record.total_time.count()));
  append_number(line, record.turn_around_time
                          ? std::optional(static_cast<std::uint64_t>(record.turn_around_time->count()))
                          : std::nullopt);
  append_field(line, record.referer, true);
  append_field(line, record.user_agent, true);
  append_field(line, "");  // version id
  append_field(line, "");  // host id
  append_field(line, record.signature_version);
  append_field(line, "");  // cipher suite: clients speak plain HTTP to the proxy
  append_field(line, record.authentication_type);
  append_field(line, record.host_header);
  append_field(line, "");  // TLS version
  append_field(line, "");  // access point ARN
  append_field(line, "");  // ACL required
  append_field(line, record.cache_status);
  return line;
}

}  // namespace s3hc::obs
