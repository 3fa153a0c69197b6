// The read cache in the request path: a cacheable GetObject or HeadObject (s3/read_request.h)
// is answered from the cache directory when it holds the bytes and the origin confirmed them
// within the TTL; otherwise the origin is asked (the client's own request, with conditional
// headers or a narrower Range added only where its signature does not cover them) and what it
// sends is relayed and cached on the way. docs/CACHING.md states the rules for users.
//
// ReadPath makes the decisions only. The bytes move through CachedBody (an answer from the
// cache: RAM tier, sendfile or streamed pieces), FillReader (an answer from a fill of this
// process), OriginExchange (the origin's answer relayed and teed into the cache) and every
// write goes through one http::ClientWriter.
//
// States (a function each) and transitions, drawn as Varnish's cache_req_fsm.c draws its own:
//
//   run ──Cache-Control or Pragma: no-cache─────────────────────────────────────────▶ FETCH
//    ▼
//   LOOKUP (answer_from_cache: find_record, then plan: the answer the record can give)
//    ├─ no record, S3's 404 remembered and fresh (negative caching) ─▶ NEGATIVE (404: HIT)
//    ├─ covered, fresh ─────────────────────────────────────────▶ DELIVER (serve: HIT)
//    ├─ covered, fresh, client preconditions ─▶ PRECONDITIONS (serve_conditionally)
//    │     304 or the bytes ─▶ DELIVER;  412 ─▶ S3's error;  If-Range lost, not covered ─▶ FETCH
//    ├─ covered, expired, If-None-Match unsigned ─▶ REVALIDATE (revalidate)
//    │     304 ─▶ DELIVER (REVALIDATED);  anything else ─▶ RELAY
//    ├─ partly covered, unconditional, Range and If-Match unsigned, no fill of these bytes
//    │  in flight (else COALESCE) ─▶ PARTIAL (serve_partial)
//    │     origin denies ─▶ RELAY;  object changed ─▶ FETCH;  else cached stretches and
//    │     fetched gaps in one answer (MISS)
//    └─ nothing to give (no record, unknown part, unsatisfiable range, origin must judge)
//         │ a HEAD, or coalescing off ─▶ FETCH
//         ▼
//   COALESCE (waited_for_other_fill)
//    ├─ joined a fill of this proxy ─▶ FILL READER (HIT); it ended before a byte ─▶ LOOKUP
//    ├─ another request's fill ended ─▶ LOOKUP (once), then FETCH
//    └─ holds the fill lease, or waited coalesce_timeout ─▶ FETCH
//   FETCH (forward_and_fill) ─▶ RELAY (relay_and_fill; a 404 invalidates, and with negative
//                                      caching is remembered: relay_absence)
//    ├─ cacheable, admitted, body not all in ─▶ FILL (fill_on_its_own: a producer, which
//    │                                          this request reads as a FILL READER;
//    │                                          a large whole object by concurrent ranges
//    │                                          when the signature allows: fill_source)
//    └─ else relayed as it comes (teed into the cache when admitted)
//   DELIVER finds the bytes unreadable before sending any ─▶ drop_if_corrupt ─▶ FETCH
//
// A ranged GET that DELIVER, PARTIAL, FILL READER or a 206 of RELAY answers, following the
// previous range of the same object, starts READ-AHEAD (read_ahead_of: the next ranges fetched
// into the cache apart from this request, read_ahead.h) when its signature leaves Range to the
// proxy.
//
// Thread-safety: one ReadPath per request, on the client connection's worker thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/fill_lease.h"
#include "http/client_writer.h"
#include "http/relay_buffers.h"
#include "http/request_handler.h"
#include "pipeline/cache_context.h"
#include "pipeline/cache_fill.h"
#include "pipeline/cached_body.h"
#include "pipeline/cache_status.h"
#include "pipeline/cached_response.h"
#include "pipeline/fill_progress.h"
#include "pipeline/origin_context.h"
#include "pipeline/origin_exchange.h"
#include "pipeline/origin_response.h"
#include "s3/error_response.h"
#include "s3/signed_headers.h"

namespace s3hc::pipeline {

// Forwards a read the cache stays out of (`why`: "no-store", "policy", or why its form cannot
// be cached), its answer marked BYPASS and counted.
boost::asio::awaitable<bool> bypass(http::ClientConnection& client, http::RequestParser& request,
                                    OriginContext& origin, CacheContext& cache,
                                    std::string_view why);

class ReadPath {
 public:
  // `pieces`: the worker's recycled buffers of kCachePieceBytes (cached_body.h). `policy`:
  // the rules for the object (object_policy.h).
  ReadPath(http::ClientConnection& client, http::RequestParser& request, OriginContext& origin,
           CacheContext& cache, CachePolicy policy, http::RelayBuffers& pieces,
           s3::ReadRequest read);

  // Answers the request; returns whether the client connection may carry the next one.
  boost::asio::awaitable<bool> run();

 private:
  // How an answer from the cache is shaped: its status and headers, and the object bytes it
  // carries (none for HEAD, 304 and empty objects).
  struct Plan {
    CachedAnswer answer;
    std::optional<s3::ByteRange> bytes;
  };

  bool is_head() const { return read_.kind == s3::ReadRequest::Kind::kHeadObject; }
  // The answer the record can give; nullopt when only the origin can (an unknown part, a range
  // the object cannot satisfy).
  // `honour_range` false: the whole object (If-Range did not match).
  std::optional<Plan> plan(const v1::CacheRecord& record, bool honour_range = true) const;
  bool covers(const v1::CacheRecord& record, const Plan& plan) const;

  // LOOKUP: the answer from the cache, when the record can give one (a hit, a revalidation, a
  // partial hit); nullopt when the origin must answer.
  boost::asio::awaitable<std::optional<bool>> answer_from_cache();
  // COALESCE: waits while another request fills the same bytes (cache/fill_lease.h). True
  // when such a fill ended meanwhile (look in the cache again) or one of this process was
  // joined (joined_); false when this request is to fetch, holding the fill lease when it
  // could take it.
  boost::asio::awaitable<bool> waited_for_other_fill();
  // What a fill for this request holds: only identical requests coalesce.
  std::string fill_name() const;
  // Whether a fill of exactly this request's bytes is in flight (a read-ahead's, say): a
  // partial hit then waits for it rather than fetch the same bytes again.
  boost::asio::awaitable<bool> being_filled();
  // Whether this request may join a fill of this process (fill_progress.h).
  bool may_join_fill() const;
  // FILL: starts the fill of `exchange`'s body as its own producer (fill_producer.h) and
  // answers as one of its readers; `joinable`: other requests of this proxy may join it.
  boost::asio::awaitable<bool> fill_on_its_own(OriginExchange& exchange,
                                               std::unique_ptr<CacheFill> fill, bool joinable);
  // What the fill of `exchange`'s answer reads (the exchange gives its body up): that answer,
  // or, for a large whole object the proxy may ask for by ranges, the object as concurrent
  // ranged answers (ranged_body.h).
  std::unique_ptr<BodySource> fill_source(OriginExchange& exchange, const CacheableBody& body,
                                          const boost::asio::any_io_executor& executor);
  // READ-AHEAD: this request answers `bytes` of the version `etag` of an object of `size`
  // bytes; the ranges that follow, should the client read sequentially, are fetched ahead.
  boost::asio::awaitable<void> read_ahead_of(std::uint64_t size, const std::string& etag,
                                             s3::ByteRange bytes);
  // FETCH and RELAY.
  boost::asio::awaitable<bool> forward_and_fill();
  boost::asio::awaitable<bool> relay_and_fill(OriginExchange& exchange);
  // NEGATIVE (policy negative_ttl_ms): S3's 404, relayed, then remembered when it can be told
  // again exactly; and answered from that memory while it is fresh.
  boost::asio::awaitable<bool> relay_absence(OriginExchange& exchange);
  boost::asio::awaitable<std::optional<bool>> answer_if_absent();
  // An S3 error judged from the cache (a 412, a remembered 404), with its cache status.
  boost::asio::awaitable<bool> send_error_from_cache(const s3::ErrorKind& kind,
                                                     const CacheOutcome& hit);
  // Whether an origin answer's body is to be cached: the object within the policy's size
  // limit, and the cache admitting it.
  bool may_fill(const CacheableBody& body) const;
  // REVALIDATE.
  boost::asio::awaitable<bool> revalidate(const v1::CacheRecord& record, Plan plan);
  // DELIVER.
  boost::asio::awaitable<bool> serve(const v1::CacheRecord& record, const Plan& plan);
  // PRECONDITIONS: a fresh hit for a request with preconditions, answered as S3 would from
  // the cached version's ETag and Last-Modified (304, 412, or the bytes).
  boost::asio::awaitable<bool> serve_conditionally(const v1::CacheRecord& record, Plan plan);
  // PARTIAL.
  boost::asio::awaitable<bool> serve_partial(const v1::CacheRecord& record, Plan plan);
  // A stretch of cached bytes inside a response already started; true when all went out.
  boost::asio::awaitable<bool> send_stretch(CachedBody& body, s3::ByteRange bytes);
  boost::asio::awaitable<bool> stream_origin(OriginExchange& exchange);
  // Whether the origin answered with exactly `bytes` of the cached version.
  bool matches_cached_version(OriginExchange& exchange, const v1::CacheRecord& record,
                              s3::ByteRange bytes);
  // Turns the request into one for `bytes`, pinned to the cached version (If-Match) so bytes
  // of another version can never be mixed into the answer.
  void ask_for_bytes(const v1::CacheRecord& record, s3::ByteRange bytes);

  // The object's record (`shared`: as the shared directory has it, bypassing the mirror);
  // null when there is none.
  boost::asio::awaitable<std::shared_ptr<const v1::CacheRecord>> find_record(bool shared);
  boost::asio::awaitable<void> invalidate();
  // A cached read of `record`'s bytes failed its checksum or found a file gone: counted, and
  // the object dropped, unless the shared record moved on since `record` was read.
  boost::asio::awaitable<void> drop_if_corrupt(const v1::CacheRecord& record);
  void add_request_header(std::string_view name, std::string value);
  // Undoes add_request_header, so the client's request goes to the origin as it came.
  void restore_request();
  // Tells the request's record (http/request_record.h) how the cache took part.
  void record_status(CacheStatus status);
  // How long `record` stays fresh for this request, in whole seconds (Cache-Status ttl).
  std::int64_t freshness_left_seconds(const v1::CacheRecord& record) const;

  http::ClientConnection& client_;
  http::ClientWriter writer_;
  http::RequestParser& request_;
  OriginContext& origin_;
  CacheContext& cache_;
  http::RelayBuffers& pieces_;
  const CachePolicy policy_;
  const s3::ReadRequest read_;
  const s3::SignedHeaders signed_;
  // A plain ranged GET whose signature leaves Range and If-Match to the proxy (read-ahead).
  const bool may_read_ahead_;
  // When the latest origin request was sent: the time its answer's information is true at.
  std::int64_t fetched_at_ms_;
  const bool client_keep_alive_;
  bool range_replaced_ = false;
  std::optional<std::string> original_range_;  // the client's Range, when it sent one
  std::vector<std::string> added_headers_;
  // Why the origin is asked, should it be (Cache-Status fwd).
  ForwardReason forward_reason_ = ForwardReason::kUriMiss;
  bool coalesced_ = false;  // waited for another request's fill
  std::unique_ptr<cache::FillLease> fill_lease_;  // while this request fills for others too
  std::shared_ptr<FillProgress> joined_;          // a fill of this process it joins
};

}  // namespace s3hc::pipeline
