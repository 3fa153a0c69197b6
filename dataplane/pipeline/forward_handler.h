// The pass-through pipeline: every request is forwarded to the origin byte-transparently
// (method, target, headers, body) and the answer streamed back, so SigV4 signatures stay valid.
// One handler per worker thread; it borrows that thread's UpstreamPool.
#pragma once

#include <chrono>

#include "config/proxy_config.h"
#include "http/request_handler.h"
#include "http/upstream_pool.h"
#include "obs/proxy_metrics.h"

namespace s3hc::pipeline {

struct ForwardOptions {
  std::size_t relay_buffer_bytes;
  std::chrono::milliseconds client_io_timeout;    // each read/write of the client's bytes
  std::chrono::milliseconds upstream_io_timeout;  // response header wait, each body read/write
};

class ForwardHandler final : public http::RequestHandler {
 public:
  ForwardHandler(http::UpstreamPool& pool, ForwardOptions options, obs::ProxyMetrics& metrics)
      : pool_(pool), options_(options), metrics_(metrics) {}

  boost::asio::awaitable<bool> handle(http::ClientConnection& client,
                                      http::RequestParser& request) override;

 private:
  http::UpstreamPool& pool_;
  ForwardOptions options_;
  obs::ProxyMetrics& metrics_;
};

}  // namespace s3hc::pipeline
