// The caching pipeline, by the request's S3 operation (s3/operation.h): cacheable reads go
// through the read cache (read_path.h), writes to objects settle what the cache holds of them
// once the origin has answered (write_path.h), and everything else is forwarded unchanged.
// One handler per worker thread.
#pragma once

#include "http/request_handler.h"
#include "pipeline/cache_context.h"
#include "pipeline/origin_context.h"
#include "pipeline/read_path.h"
#include "s3/operation.h"

namespace s3hc::pipeline {

class CacheHandler final : public http::RequestHandler {
 public:
  CacheHandler(OriginContext& origin, CacheContext& cache)
      : origin_(origin),
        cache_(cache),
        pieces_(kCachePieceBytes, kMaxFreePieces, origin.metrics.buffered_bytes) {}

  // Answers the request, then tells its bucket's metrics (obs/bucket_metrics.h) how it went.
  boost::asio::awaitable<bool> handle(http::ClientConnection& client,
                                      http::RequestParser& request) override;

 private:
  boost::asio::awaitable<bool> answer(http::ClientConnection& client,
                                      http::RequestParser& request, s3::Operation operation);

  // Two pieces per busy transfer are reused; more are allocated on demand.
  static constexpr std::size_t kMaxFreePieces = 8;

  OriginContext& origin_;
  CacheContext& cache_;
  http::RelayBuffers pieces_;  // of kCachePieceBytes, for answers from the cache
};

}  // namespace s3hc::pipeline
