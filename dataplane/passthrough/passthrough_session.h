// One HTTPS passthrough connection. The client's first bytes are read, not answered, until
// they hold its ClientHello (client_hello.h); the server name it asks for must be one the
// proxy may reach (destination.h), at port 443 of the addresses the worker's resolver gives
// for it (the static endpoint map first, else DNS), over plain TCP whatever the map says of
// TLS; the bytes read so far go to the endpoint first, then bytes are relayed both ways
// (byte_relay.h) until both sides are done. TLS is never terminated and nothing is cached:
// the client's TLS session is with the endpoint, certificate and all.
//
// A connection that is no TLS, has no server name, names a refused one, or whose endpoint
// cannot be resolved or reached is closed; each outcome is logged and counted
// (obs/passthrough_metrics.h).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "http/deadline.h"
#include "http/relay_buffers.h"
#include "http/upstream_options.h"
#include "net/endpoint_resolver.h"
#include "obs/passthrough_metrics.h"
#include "passthrough/passthrough_options.h"

namespace s3hc::passthrough {

// What a worker's passthrough connections share. Everything must outlive them; the resolver,
// sweeper and buffers belong to the worker's thread.
struct PassthroughContext {
  const PassthroughOptions& options;
  const http::UpstreamOptions& upstream;  // allowed_hosts, connect_timeout_ms
  net::EndpointResolver& resolver;
  http::DeadlineSweeper& sweeper;
  http::RelayBuffers& buffers;  // of kRelayBufferBytes (byte_relay.h)
  obs::PassthroughMetrics& metrics;
};

// Bytes a client may send before its ClientHello is whole: real ones take one record, a few
// hundred bytes to 2 KiB (post-quantum key shares included).
inline constexpr std::size_t kMaxClientHelloBytes = 16 * 1024;

// Serves one accepted connection until it is closed. Run on the socket's io_context.
boost::asio::awaitable<void> run_passthrough(boost::asio::ip::tcp::socket client,
                                             const PassthroughContext& context);

}  // namespace s3hc::passthrough
