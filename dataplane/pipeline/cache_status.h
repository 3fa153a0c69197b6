// How the cache took part in the answer to a read, told to the client on every answer to a
// cacheable-looking GET or HEAD: X-Cache (one word, what tools grep for) and the standard
// Cache-Status field (RFC 9211), whose parameters say why it went to the origin, what the
// origin answered, whether the answer was stored and how long a hit stays fresh.
// docs/CACHING.md "Cache status" lists the values. Pure functions; any thread.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3hc::pipeline {

enum class CacheStatus {
  kHit,          // from the cache, fresh
  kRevalidated,  // from the cache, after the origin answered 304 to its ETag
  kPartial,      // cached stretches with the missing ones fetched, in one answer
  kCoalesced,    // from another request's fill of the same bytes, or the cache it left
  kMiss,         // the origin's answer, cached on the way when it can be
  kBypass,       // the origin's answer; the cache neither looked at nor filled
};

// Why a read went to the origin: Cache-Status's fwd parameter (RFC 9211 section 2.2).
enum class ForwardReason {
  kUriMiss,  // nothing cached for the object
  kMiss,     // cached, but not what this request asks for
  kStale,    // cached, expired, and the origin had another version
  kRequest,  // the client asked for it (Cache-Control: no-cache)
  kBypass,   // not cacheable: the policy, the client (no-store) or the request's form
};

struct CacheOutcome {
  CacheStatus status = CacheStatus::kHit;
  ForwardReason reason = ForwardReason::kUriMiss;  // for every status but kHit
  std::optional<unsigned> origin_status;           // the origin's status, when it was asked
  bool stored = false;                             // the answer went into the cache
  std::optional<std::int64_t> ttl_seconds;         // freshness left, of an answer from the cache
  std::string_view detail;                         // why, for kBypass ("no-store", "policy", ...)
};

// An answer from the cache: kHit, kCoalesced, or after the origin was asked (its status)
// kRevalidated or kPartial. The ttl is set by whoever knows the record.
CacheOutcome from_cache(CacheStatus status, std::optional<unsigned> origin_status = std::nullopt);
// The origin's answer relayed: kMiss, kBypass, or kCoalesced for a fill joined.
CacheOutcome from_origin(CacheStatus status, ForwardReason reason, unsigned origin_status,
                         bool stored, std::string_view detail = {});

// The X-Cache value: HIT, REVALIDATED, PARTIAL, COALESCED, MISS or BYPASS.
std::string_view x_cache_value(CacheStatus status);

// The Cache-Status value, e.g. `s3hc; hit; ttl=42` or `s3hc; fwd=uri-miss; fwd-status=200;
// stored`.
std::string cache_status_value(const CacheOutcome& outcome);

// Sets both fields on an origin response about to be relayed.
void set_cache_status_fields(boost::beast::http::response_header<>& response,
                             const CacheOutcome& outcome);

// What requests joining a fill of this process send (fill_progress.h): the origin's answer to
// the fill's request (`reason`: why that request went to the origin), marked COALESCED, as
// header text. What a fresh hit would give.
std::string coalesced_header(boost::beast::http::response_header<> response,
                             ForwardReason reason);

}  // namespace s3hc::pipeline
