// The pass-through pipeline: every request is forwarded to the origin byte-transparently
// (method, target, headers, body) and the answer streamed back, so SigV4 signatures stay valid.
// One handler per worker thread; it borrows that thread's UpstreamPool.
#pragma once

#include <chrono>

#include "config/proxy_config.h"
#include "http/relay_buffers.h"
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
      : pool_(pool),
        options_(options),
        metrics_(metrics),
        buffers_(options.relay_buffer_bytes, kMaxFreeRelayBuffers) {}

  boost::asio::awaitable<bool> handle(http::ClientConnection& client,
                                      http::RequestParser& request) override;

 private:
  // Enough for the concurrent transfers of a busy thread; more are allocated on demand.
  static constexpr std::size_t kMaxFreeRelayBuffers = 64;

  http::UpstreamPool& pool_;
  ForwardOptions options_;
  obs::ProxyMetrics& metrics_;
  http::RelayBuffers buffers_;
};

}  // namespace s3hc::pipeline
