// The caching pipeline, by the request's S3 operation (s3/operation.h): cacheable reads go
// through the read cache (read_path.h), writes to objects settle what the cache holds of them
// once the origin has answered (write_path.h), and everything else is forwarded unchanged.
// One handler per worker thread.
#pragma once

#include "http/request_handler.h"
#include "pipeline/cache_context.h"
#include "pipeline/origin_context.h"
#include "pipeline/read_path.h"

namespace s3hc::pipeline {

class CacheHandler final : public http::RequestHandler {
 public:
  CacheHandler(OriginContext& origin, CacheContext& cache)
      : origin_(origin),
        cache_(cache),
        pieces_(kCachePieceBytes, kMaxFreePieces, origin.metrics.buffered_bytes) {}

  boost::asio::awaitable<bool> handle(http::ClientConnection& client,
                                      http::RequestParser& request) override;

 private:
  // Two pieces per busy transfer are reused; more are allocated on demand.
  static constexpr std::size_t kMaxFreePieces = 8;

  OriginContext& origin_;
  CacheContext& cache_;
  http::RelayBuffers pieces_;  // of kCachePieceBytes, for answers from the cache
};

}  // namespace s3hc::pipeline
