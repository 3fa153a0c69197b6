#include "pipeline/cache_status.h"

#include "http/header_writer.h"

namespace s3hc::pipeline {

namespace {

// The cache's name in Cache-Status, which lists one member per cache the answer went through.
constexpr std::string_view kCacheName = "s3hc";

std::string_view forward_reason_token(ForwardReason reason) {
  switch (reason) {
    case ForwardReason::kUriMiss: return "uri-miss";
    case ForwardReason::kMiss: return "miss";
    case ForwardReason::kStale: return "stale";
    case ForwardReason::kRequest: return "request";
    case ForwardReason::kBypass: return "bypass";
  }
  return "miss";
}

}  // namespace

CacheOutcome from_cache(CacheStatus status, std::optional<unsigned> origin_status) {
  CacheOutcome outcome;
  outcome.status = status;
  outcome.origin_status = origin_status;
  return outcome;
}

CacheOutcome from_origin(CacheStatus status, ForwardReason reason, unsigned origin_status,
                         bool stored, std::string_view detail) {
  CacheOutcome outcome;
  outcome.status = status;
  outcome.reason = reason;
  outcome.origin_status = origin_status;
  outcome.stored = stored;
  outcome.detail = detail;
  return outcome;
}

std::string_view x_cache_value(CacheStatus status) {
  switch (status) {
    case CacheStatus::kHit: return "HIT";
    case CacheStatus::kRevalidated: return "REVALIDATED";
    case CacheStatus::kPartial: return "PARTIAL";
    case CacheStatus::kCoalesced: return "COALESCED";
    case CacheStatus::kMiss: return "MISS";
    case CacheStatus::kBypass: return "BYPASS";
  }
  return "MISS";
}

void set_cache_status_fields(boost::beast::http::response_header<>& response, const CacheOutcome& outcome) {
  response.set("X-Cache", x_cache_value(outcome.status));
  response.set("Cache-Status", cache_status_value(outcome));
}

std::string cache_status_value(const CacheOutcome& outcome) {
  std::string value(kCacheName);
  if (outcome.status == CacheStatus::kHit) {
    value += "; hit";
  } else {
    // A revalidated answer was forwarded because what was cached had expired (RFC 9211
    // section 2.2: fwd=stale, whatever the origin then said), a partial one to fill what the
    // cache lacked (fwd=partial); a coalesced one waited for another request's forward
    // (collapsed).
    value += "; fwd=";
    value += outcome.status == CacheStatus::kRevalidated ? forward_reason_token(ForwardReason::kStale)
             : outcome.status == CacheStatus::kPartial   ? std::string_view("partial")
                                                         : forward_reason_token(outcome.reason);
    if (outcome.origin_status) value += "; fwd-status=" + std::to_string(*outcome.origin_status);
    if (outcome.status == CacheStatus::kCoalesced) value += "; collapsed";
  }
  if (outcome.ttl_seconds) value += "; ttl=" + std::to_string(*outcome.ttl_seconds);
  if (outcome.stored) value += "; stored";
  if (!outcome.detail.empty()) {
    value += "; detail=\"";
    value += outcome.detail;  // (constant words: nothing to escape in the sf-string)
    value += '"';
  }
  return value;
}

std::string coalesced_header(boost::beast::http::response_header<> response,
                             ForwardReason reason) {
  set_cache_status_fields(response,
                          from_origin(CacheStatus::kCoalesced, reason, response.result_int(), true));
  std::string text;
  http::append_header(response, text);
  return text;
}

}  // namespace s3hc::pipeline
