#include "http/access_log_entry.h"

#include <boost/beast/http/field.hpp>

namespace s3hc::http {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kSigV4 = "AWS4-HMAC-SHA256";

// The access key id of "Credential=AKID/date/region/s3/aws4_request" in `text`.
std::string_view credential_key(std::string_view text, std::string_view marker) {
  const auto at = text.find(marker);
  if (at == std::string_view::npos) return {};
  const auto start = at + marker.size();
  const auto end = text.find_first_of("/%,&", start);  // ("%2F" in a presigned URL's query)
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

}  // namespace

obs::AccessLogRecord access_log_entry(const RequestRecord& record,
                                      const bhttp::request_header<>& request,
                                      std::string_view remote_ip) {
  using Clock = RequestRecord::Clock;
  const auto since_start = [&](Clock::time_point until) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(until - record.started);
  };
  const auto authorization = request[bhttp::field::authorization];
  const auto target = request.target();
  const bool header_signed = authorization.starts_with(kSigV4);
  const bool query_signed = !header_signed && target.find("X-Amz-Signature=") != target.npos;
  obs::AccessLogRecord entry;
  entry.time = std::chrono::system_clock::now() -
               std::chrono::duration_cast<std::chrono::system_clock::duration>(
                   Clock::now() - record.started);
  entry.bucket = record.bucket;
  entry.remote_ip = remote_ip;
  entry.requester = header_signed  ? credential_key(authorization, "Credential=")
                    : query_signed ? credential_key(target, "X-Amz-Credential=")
                                   : std::string_view();
  entry.operation = record.operation;
  entry.key = record.key;
  entry.method = request.method_string();
  entry.target = target;
  entry.http_version = request.version();
  entry.status = record.status;
  entry.error_code = record.error_code;
  entry.bytes_sent = record.sent_bytes;
  entry.total_time = since_start(Clock::now());
  if (record.first_byte_sent) entry.turn_around_time = since_start(*record.first_byte_sent);
  entry.referer = request[bhttp::field::referer];
  entry.user_agent = request[bhttp::field::user_agent];
  entry.signature_version = header_signed || query_signed ? "SigV4" : "";
  entry.authentication_type = header_signed ? "AuthHeader" : query_signed ? "QueryString" : "";
  entry.host_header = request[bhttp::field::host];
  entry.cache_status = record.cache_status;
  return entry;
}

}  // namespace s3hc::http
