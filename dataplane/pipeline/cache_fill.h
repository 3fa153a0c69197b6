// Tees an origin response body into the cache as it is relayed: appended on the cache I/O pool
// piece by piece and committed before the last piece reaches the client, so a read that
// follows the response always finds the bytes. A fill that fails (disk full, unwritable
// directory) is dropped and counted; the client's response goes on regardless. A body that
// ends early is never committed.
//
// Thread-safety: one fill per response, driven by one coroutine (the client connection's, or
// the fill's own producer, fill_producer.h).
#pragma once

#include <memory>

#include "cache/fill_lease.h"
#include "pipeline/cache_context.h"
#include "pipeline/fill_progress.h"
#include "pipeline/origin_exchange.h"
#include "pipeline/origin_response.h"

namespace s3hc::pipeline {

class CacheFill final : public BodyTap {
 public:
  // `fetched_at_ms`: when the request that produced the body was sent. `may_compress`: the
  // object's policy allows compression (CachePolicy::compression). `lease` (may be null): the
  // fill lease other requests for these bytes wait on; refreshed as bytes arrive and released
  // as soon as the fill is committed or dropped.
  CacheFill(CacheContext& cache, s3::ObjectAddress object, CacheableBody body,
            std::int64_t fetched_at_ms, bool may_compress,
            std::unique_ptr<cache::FillLease> lease = nullptr);

  // Tells `progress` (fill_progress.h) what its readers may read of the cache file as it
  // grows, or that there is none (the fill was refused or failed).
  void report_to(std::shared_ptr<FillProgress> progress);
  ~CacheFill() override;

  const CacheableBody& body() const { return body_; }

  boost::asio::awaitable<void> on_body(std::span<const char> bytes, bool last) override;

 private:
  void append(std::span<const char> bytes, bool last);  // on the I/O pool
  void tell_progress();                                  // on the I/O pool

  CacheContext& cache_;
  s3::ObjectAddress object_;
  CacheableBody body_;
  std::int64_t fetched_at_ms_;
  const bool may_compress_;
  std::unique_ptr<cache::RangeFill> fill_;
  std::unique_ptr<cache::FillLease> lease_;
  std::shared_ptr<FillProgress> progress_;
  bool failed_ = false;
};

}  // namespace s3hc::pipeline
