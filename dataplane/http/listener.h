// Accepting client connections. Every worker thread accepts from the same listening socket
// (through its own descriptor), so whichever thread is free takes the next connection: load
// follows idle capacity, where SO_REUSEPORT's hashing can leave one thread with the busy share.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>

#include "http/endpoint.h"
#include "http/request_handler.h"
#include "http/session.h"
#include "obs/proxy_metrics.h"

namespace s3hc::http {

// Binds and listens; throws std::runtime_error naming the address when that fails. Port 0
// lets the kernel choose a free port: read it from the acceptor's local_endpoint().
boost::asio::ip::tcp::acceptor open_acceptor(const boost::asio::any_io_executor& executor,
                                             const HostPort& address);

// Another acceptor on the same listening socket, for another thread's io_context.
boost::asio::ip::tcp::acceptor share_acceptor(const boost::asio::any_io_executor& executor,
                                              boost::asio::ip::tcp::acceptor& listening);

// Accepts until the acceptor is closed, handing each connection to `serve` on the acceptor's
// executor (where it typically spawns the connection's coroutine).
boost::asio::awaitable<void> accept_connections(
    boost::asio::ip::tcp::acceptor& acceptor,
    std::function<void(boost::asio::ip::tcp::socket)> serve);

// accept_connections running one HTTP session coroutine per connection. Everything passed in
// must outlive every session.
boost::asio::awaitable<void> accept_clients(boost::asio::ip::tcp::acceptor& acceptor,
                                            RequestHandler& handler,
                                            const SessionOptions& options,
                                            DeadlineSweeper& sweeper,
                                            obs::ProxyMetrics& metrics);

}  // namespace s3hc::http
