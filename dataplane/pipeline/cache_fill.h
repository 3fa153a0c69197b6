// Tees an origin response body into the cache as it is relayed: appended on the cache I/O pool
// piece by piece and committed before the last piece reaches the client, so a read that
// follows the response always finds the bytes. A fill that fails (disk full, unwritable
// directory) is dropped and counted; the client's response goes on regardless. A body that
// ends early is never committed.
//
// Thread-safety: one fill per response, driven by the client connection's coroutine.
#pragma once

#include <memory>

#include "cache/fill_lease.h"
#include "pipeline/cache_context.h"
#include "pipeline/origin_exchange.h"
#include "pipeline/origin_response.h"

namespace s3hc::pipeline {

class CacheFill final : public BodyTap {
 public:
  // `fetched_at_ms`: when the request that produced the body was sent. `lease` (may be null):
  // the fill lease other requests for these bytes wait on; refreshed as bytes arrive and
  // released as soon as the fill is committed or dropped.
  CacheFill(CacheContext& cache, s3::ObjectAddress object, CacheableBody body,
            std::int64_t fetched_at_ms, std::unique_ptr<cache::FillLease> lease = nullptr);

  // Also streams the body to this process's requests waiting for the fill, under `name` in
  // cache.broadcasts, each sending `header` first (see fill_broadcast.h).
  void broadcast(std::string name, std::string header);
  ~CacheFill() override;

  boost::asio::awaitable<void> on_body(std::span<const char> bytes, bool last) override;

 private:
  void append(std::span<const char> bytes, bool last);  // on the I/O pool

  CacheContext& cache_;
  s3::ObjectAddress object_;
  CacheableBody body_;
  std::int64_t fetched_at_ms_;
  std::unique_ptr<cache::RangeFill> fill_;
  std::unique_ptr<cache::FillLease> lease_;
  std::string broadcast_name_;
  std::shared_ptr<FillBroadcast> broadcast_;
  bool failed_ = false;
};

}  // namespace s3hc::pipeline
