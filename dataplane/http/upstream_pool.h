// Keep-alive connections to the origin for one worker thread, and the connect logic (resolve
// through the worker's net::EndpointResolver, TCP connect to the first address that accepts,
// TLS handshake with certificate verification).
//
// Thread-safety: none; each worker thread owns one pool and uses it from its io_context only.
// The ssl::context passed in is shared by all pools (OpenSSL contexts are safe for that).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <vector>

#include "http/upstream_connection.h"
#include "http/upstream_options.h"
#include "net/endpoint_resolver.h"
#include "obs/proxy_metrics.h"

namespace s3hc::http {

class UpstreamPool {
 public:
  UpstreamPool(boost::asio::any_io_executor executor, const UpstreamOptions& options,
               boost::asio::ssl::context& tls_context, net::EndpointResolver& resolver,
               DeadlineSweeper& sweeper, obs::ProxyMetrics& metrics);

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
  boost::asio::any_io_executor executor_;
  const UpstreamOptions& options_;
  boost::asio::ssl::context& tls_context_;
  net::EndpointResolver& resolver_;
  DeadlineSweeper& sweeper_;
  obs::ProxyMetrics& metrics_;
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;  // most recently used last
};

}  // namespace s3hc::http
