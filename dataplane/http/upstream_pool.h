// Keep-alive connections to the origin for one worker thread; new ones come from its
// UpstreamConnector (upstream_connector.h).
//
// Thread-safety: none; each worker thread owns one pool and uses it from its io_context only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <vector>

#include "http/upstream_connection.h"
#include "http/upstream_connector.h"
#include "http/upstream_options.h"
#include "obs/proxy_metrics.h"

namespace s3hc::http {

class UpstreamPool {
 public:
  // `options`: the pool's limits (pool_max_idle, pool_idle_timeout_ms).
  UpstreamPool(const UpstreamOptions& options, UpstreamConnector& connector,
               obs::ProxyMetrics& metrics);

  // A connection ready for a request: an idle pooled one when one is healthy, else a new one.
  // Returns nullptr and sets ec when the origin cannot be reached (a net::ResolveError when
  // its name could not be resolved). A replayable request (one
  // the caller can send again on a new connection if this one proves stale) skips the
  // liveness probe of idle connections, a syscall per request.
  boost::asio::awaitable<std::unique_ptr<UpstreamConnection>> acquire(
      boost::system::error_code& ec, bool replayable);

  // A new connection, bypassing the idle list (used to retry after a stale reused one).
  boost::asio::awaitable<std::unique_ptr<UpstreamConnection>> connect(
      boost::system::error_code& ec);

  // Hands back a connection whose last exchange completed cleanly and may be reused.
  void release(std::unique_ptr<UpstreamConnection> connection);

 private:
  const UpstreamOptions& options_;
  UpstreamConnector& connector_;
  obs::ProxyMetrics& metrics_;
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;  // most recently used last
};

}  // namespace s3hc::http
