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

namespace s3hc::http {

class UpstreamConnection {
 public:
  using PlainStream = boost::beast::tcp_stream;
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  explicit UpstreamConnection(PlainStream stream) : stream_(std::move(stream)) {}
  explicit UpstreamConnection(TlsStream stream) : stream_(std::move(stream)) {}

  // Calls fn with the concrete stream (PlainStream& or TlsStream&) and returns its result, so
  // protocol code is written once as a template over the stream type.
  template <typename Fn>
  decltype(auto) visit(Fn&& fn) {
    return std::visit(std::forward<Fn>(fn), stream_);
  }

  // The TCP layer, for timeouts, cancellation and socket options.
  boost::beast::tcp_stream& tcp();

  boost::beast::flat_buffer& buffer() { return buffer_; }

  // True when this connection served an earlier request (it may have been closed by the
  // origin since, so a failure before any response byte is worth one retry on a new one).
  bool reused() const { return reused_; }
  void mark_reused() { reused_ = true; }

  std::chrono::steady_clock::time_point idle_since() const { return idle_since_; }
  void mark_idle() { idle_since_ = std::chrono::steady_clock::now(); }

  // False when the peer closed or sent unsolicited bytes while the connection was idle.
  bool looks_reusable();

 private:
  std::variant<PlainStream, TlsStream> stream_;
  boost::beast::flat_buffer buffer_;
  bool reused_ = false;
  std::chrono::steady_clock::time_point idle_since_{};
};

}  // namespace s3hc::http
