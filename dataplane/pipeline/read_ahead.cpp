#include "pipeline/read_ahead.h"

#include <boost/beast/http/field.hpp>

#include <memory>
#include <optional>

#include "cache/fill_lease.h"
#include "pipeline/blocking_io.h"
#include "pipeline/cache_fill.h"
#include "pipeline/cache_read.h"
#include "pipeline/cache_status.h"
#include "pipeline/fill_producer.h"
#include "pipeline/fill_progress.h"
#include "pipeline/origin_fetch.h"
#include "pipeline/origin_response.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

// Whether the cache holds `range`'s bytes of its version already.
asio::awaitable<bool> is_cached(CacheContext& cache, const ReadAheadRange& range) {
  bool held = false;
  co_await read_cache(cache, range.object.bucket, range.object.key, [&] {
    const auto record = cache.store.lookup(range.object);
    held = record && record->etag() == range.etag &&
           cache::ObjectStore::held(*record).covers(range.bytes);
    return true;
  });
  co_return held;
}

}  // namespace

asio::awaitable<void> read_ahead(CacheContext& cache, OriginContext& origin,
                                 ReadAheadRange range) {
  if (co_await is_cached(cache, range)) {
    cache.metrics.read_ahead_cached.inc();
    co_return;
  }
  // The name a client's request for exactly these bytes fills under: it waits for this fill,
  // and this fill is not started while such a request (of any proxy) fills them.
  const auto value = s3::range_value(range.bytes);
  const auto name = fill_name(range.object, std::nullopt, value);
  std::unique_ptr<cache::FillLease> lease;
  co_await offload(cache.io, [&] {
    lease = cache::FillLease::try_acquire(
        cache.store.layout().path_of(cache::kFillLeaseDir), name);
  });
  if (!lease) {
    cache.metrics.read_ahead_filling.inc();
    co_return;
  }
  range.request.set(bhttp::field::range, value);
  range.request.set(bhttp::field::if_match, range.etag);
  const auto fetched_at_ms = unix_now_ms();
  auto answer = co_await fetch_from_origin(origin, range.request);
  // Exactly the bytes asked for, of the version the client reads: anything else (S3's 412
  // when the object changed, an error, a failed connection) is dropped.
  auto body = answer && answer->response().result_int() == 206
                  ? cacheable_body(answer->response(), std::nullopt)
                  : std::nullopt;
  if (!body || body->bytes != range.bytes || body->meta.size != range.size ||
      body->meta.etag != range.etag) {
    cache.metrics.read_ahead_failed.inc();
    co_return;
  }
  if (body->meta.size > range.policy.max_read_object_bytes ||
      !admits_fill(cache, range.bytes.length(), false)) {
    cache.metrics.read_ahead_refused.inc();
    co_return;
  }
  auto fill = std::make_unique<CacheFill>(cache, range.object, std::move(*body), fetched_at_ms,
                                          range.policy.compression, std::move(lease));
  // Joined by the requests of this proxy for these bytes as a client's fill would be.
  auto progress = std::make_shared<FillProgress>(
      coalesced_header(answer->response(), ForwardReason::kMiss), range.bytes, range.size,
      range.etag, fetched_at_ms, origin.metrics.buffered_bytes);
  fill->report_to(progress);
  cache.fills.add(name, progress);
  {
    // Its one reader, which reads nothing: the fill is finished whatever AbandonedFills says,
    // being what read-ahead is for.
    const FillProgress::Reader reader(progress);
    co_await produce_fill(cache, origin, std::move(answer), std::move(fill), progress, name);
  }
  if (progress->next(range.bytes.length()).complete) {
    cache.metrics.read_ahead_fetched.inc();
  } else {
    cache.metrics.read_ahead_failed.inc();
  }
}

}  // namespace s3hc::pipeline
