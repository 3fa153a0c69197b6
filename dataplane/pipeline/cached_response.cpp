#include "pipeline/cached_response.h"

#include <chrono>

#include "s3/error_response.h"
#include "s3/http_date.h"

namespace s3hc::pipeline {
namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out += ": ";
  out.append(value);
  out += "\r\n";
}

std::string_view reason(unsigned status) {
  switch (status) {
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    default: return "OK";
  }
}

// The Date header's value, formatted once a second per thread.
std::string_view current_http_date() {
  thread_local std::int64_t formatted_second = -1;
  thread_local std::string formatted;
  const auto second = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  if (second != formatted_second) {
    formatted = s3::format_http_date(second);
    formatted_second = second;
  }
  return formatted;
}

}  // namespace

std::string cached_response_header(const v1::CacheRecord& record, const CachedAnswer& answer) {
  std::string out;
  out.reserve(512);
  out += "HTTP/1.1 ";
  out += std::to_string(answer.status);
  out += ' ';
  out.append(reason(answer.status));
  out += "\r\n";
  append_field(out, "x-amz-request-id", s3::new_request_id());
  append_field(out, "Date", current_http_date());
  if (!record.last_modified().empty()) append_field(out, "Last-Modified", record.last_modified());
  append_field(out, "ETag", record.etag());
  if (answer.status != 304) {
    if (answer.with_checksums) {
      for (const auto& header : record.whole_object_headers()) {
        append_field(out, header.name(), header.value());
      }
    }
    for (const auto& header : record.headers()) append_field(out, header.name(), header.value());
    if (answer.with_parts_count && record.parts_count() > 0) {
      append_field(out, "x-amz-mp-parts-count", std::to_string(record.parts_count()));
    }
    append_field(out, "Accept-Ranges", "bytes");
    if (answer.content_range) {
      append_field(out, "Content-Range", s3::format_content_range(*answer.content_range));
    }
    append_field(out, "Content-Length", std::to_string(answer.content_length));
  }
  append_field(out, "X-Cache", x_cache_value(answer.cache.status));
  append_field(out, "Cache-Status", cache_status_value(answer.cache));
  if (!answer.keep_alive) append_field(out, "Connection", "close");
  out += "\r\n";
  return out;
}

}  // namespace s3hc::pipeline
