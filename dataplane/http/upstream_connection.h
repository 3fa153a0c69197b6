// One keep-alive connection to the origin, plain TCP or TLS, with the bytes read past the
// last response. Owned by one request at a time, or idle in an UpstreamPool. Not thread-safe.
#pragma once

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <utility>
#include <variant>

#include "http/deadline.h"

namespace s3hc::http {

class UpstreamConnection {
 public:
  using PlainStream = boost::beast::tcp_stream;
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  template <typename Stream>
  UpstreamConnection(Stream stream, DeadlineSweeper& sweeper)
      : stream_(std::move(stream)), deadline_(sweeper, [this] { tcp().cancel(); }) {}

  // Calls fn with the concrete stream (PlainStream& or TlsStream&) and returns its result, so
  // protocol code is written once as a template over the stream type.
  template <typename Fn>
  decltype(auto) visit(Fn&& fn) {
    return std::visit(std::forward<Fn>(fn), stream_);
  }

  // The TCP layer, for cancellation and socket options.
  boost::beast::tcp_stream& tcp();

  // Operations pending when the deadline passes are cancelled (see http/deadline.h).
  void expires_after(std::chrono::milliseconds timeout) { deadline_.expires_after(timeout); }
  void expires_never() { deadline_.expires_never(); }
  bool timed_out() const { return deadline_.timed_out(); }

  boost::beast::flat_buffer& buffer() { return buffer_; }

  // True when this connection served an earlier request (it may have been closed by the
  // origin since, so a failure before any response byte is worth one retry on a new one).
  bool reused() const { return reused_; }
  void mark_reused() { reused_ = true; }

  std::chrono::steady_clock::time_point idle_since() const { return idle_since_; }
  void mark_idle() { idle_since_ = std::chrono::steady_clock::now(); }

  // False when the peer closed or sent unsolicited bytes while the connection was idle
  // (costs a poll syscall).
  bool peer_still_open();

 private:
  std::variant<PlainStream, TlsStream> stream_;
  Deadline deadline_;
  boost::beast::flat_buffer buffer_;
  bool reused_ = false;
  std::chrono::steady_clock::time_point idle_since_{};
};

}  // namespace s3hc::http
