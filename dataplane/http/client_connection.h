// One accepted client connection: the socket, its read buffer and its I/O deadline.
//
// An expired deadline cancels the socket's operations but leaves it open, so a request that
// timed out can still be answered with 400 RequestTimeout before the close.
// Lifetime: owned by the session coroutine. Not thread-safe: use from its io_context only.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>

#include "http/deadline.h"
#include "http/request_record.h"

namespace s3hc::http {

class ClientConnection {
 public:
  ClientConnection(boost::asio::ip::tcp::socket socket, std::size_t buffer_limit,
                   DeadlineSweeper& sweeper);

  boost::asio::ip::tcp::socket& socket() { return socket_; }
  // Bytes read from the client but not yet consumed (e.g. the next pipelined request).
  boost::beast::flat_buffer& buffer() { return buffer_; }

  // Operations pending when the deadline passes are cancelled.
  void expires_after(std::chrono::milliseconds timeout) { deadline_.expires_after(timeout); }
  // For the wait between requests, which a shutdown cuts short.
  void idle_expires_after(std::chrono::milliseconds timeout) {
    deadline_.idle_expires_after(timeout);
  }
  void expires_never() { deadline_.expires_never(); }
  bool timed_out() const { return deadline_.timed_out(); }

  // Sends FIN after the last response, then closes.
  void shutdown_and_close();

  // The request being answered (request_record.h); the session starts each one afresh.
  RequestRecord& record() { return record_; }

 private:
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  Deadline deadline_;
  RequestRecord record_;
};

}  // namespace s3hc::http
