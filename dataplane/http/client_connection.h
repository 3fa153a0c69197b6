// One accepted client connection: the socket, its read buffer and a deadline.
//
// The deadline is a watchdog rather than a socket close (as beast::tcp_stream does) so that a
// request that times out can still be answered with 400 RequestTimeout before the close.
// Lifetime: owned by the session coroutine; run_watchdog() must be awaited alongside the
// session (it ends when the session does). Not thread-safe: use from its io_context only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>

namespace s3hc::http {

class ClientConnection {
 public:
  ClientConnection(boost::asio::ip::tcp::socket socket, std::size_t buffer_limit);

  boost::asio::ip::tcp::socket& socket() { return socket_; }
  // Bytes read from the client but not yet consumed (e.g. the next pipelined request).
  boost::beast::flat_buffer& buffer() { return buffer_; }

  // Operations started before the deadline passes are cancelled when it does.
  void expires_after(std::chrono::milliseconds timeout);
  void expires_never();
  // True once a deadline has cancelled the socket's operations.
  bool timed_out() const { return timed_out_; }

  boost::asio::awaitable<void> run_watchdog();

  // Sends FIN after the last response, then closes.
  void shutdown_and_close();

 private:
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  boost::asio::steady_timer deadline_;
  bool timed_out_ = false;
};

}  // namespace s3hc::http
