// What every request sent to the origin needs, owned by one worker thread: where it goes and
// the pool of connections there (origin_router.h), relay buffers, time limits and the metrics
// registry.
#pragma once

#include <chrono>
#include <cstddef>

#include "http/client_writer.h"
#include "http/relay_buffers.h"
#include "http/origin_router.h"
#include "obs/proxy_metrics.h"

namespace s3hc::pipeline {

struct ForwardOptions {
  std::size_t relay_buffer_bytes;
  std::chrono::milliseconds client_io_timeout;    // each read/write of the client's bytes
  std::chrono::milliseconds upstream_io_timeout;  // response header wait, each body read/write
};

struct OriginContext {
  OriginContext(http::OriginRouter& router, ForwardOptions options, obs::ProxyMetrics& metrics)
      : router(router),
        options(options),
        metrics(metrics),
        buffers(options.relay_buffer_bytes, kMaxFreeRelayBuffers, metrics.buffered_bytes) {}

  // How every answer to `client` is written: under the client I/O timeout, counted.
  http::ClientWriter client_writer(http::ClientConnection& client) {
    return {client, options.client_io_timeout, metrics.client_sent_bytes};
  }

  // Enough for the concurrent transfers of a busy thread; more are allocated on demand.
  static constexpr std::size_t kMaxFreeRelayBuffers = 64;

  http::OriginRouter& router;
  ForwardOptions options;
  obs::ProxyMetrics& metrics;
  http::RelayBuffers buffers;
};

}  // namespace s3hc::pipeline
