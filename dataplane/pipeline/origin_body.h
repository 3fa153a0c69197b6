// The body of an origin response, pulled piece by piece, apart from the client request that
// asked for it: a fill's producer (fill_producer.h) goes on reading it after that request's
// answer has moved on, or after its client hung up. OriginExchange pulls its own bodies with
// the same read_origin_body().
//
// Thread-safety: one reader at a time, on the worker thread that owns the connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/upstream_connection.h"
#include "pipeline/origin_context.h"

namespace s3hc::pipeline {

using ResponseParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

// The most an origin's response header may take.
inline constexpr std::uint32_t kMaxUpstreamHeaderBytes = 64 * 1024;

// A response body a fill's producer pulls (fill_producer.h): one origin answer (OriginBody) or
// one assembled from several ranged answers (ranged_body.h).
// Whether a pooled connection's failure says it was closed while idle (the request may be
// sent again on a new one).
bool is_stale_connection_error(const boost::system::error_code& ec);

class BodySource {
 public:
  virtual ~BodySource() = default;
  // Pulls the next piece into `into`: the bytes read, 0 at the end of the body, nullopt when
  // the origin failed.
  virtual boost::asio::awaitable<std::optional<std::size_t>> read(std::span<char> into) = 0;
  virtual bool done() const = 0;
  // The body was read whole: connections may go back to their pool.
  virtual void finish() = 0;
};

// Pulls the next piece of `response`'s body into `into`: the bytes read, 0 at the end of the
// body, nullopt when the origin failed (logged as `method target`, and counted).
boost::asio::awaitable<std::optional<std::size_t>> read_origin_body(
    http::UpstreamConnection& upstream, ResponseParser& response, OriginContext& origin,
    std::string_view method, std::string_view target, std::span<char> into);

class OriginBody final : public BodySource {
 public:
  // `pool`: the one `upstream` goes back to.
  OriginBody(std::unique_ptr<http::UpstreamConnection> upstream,
             std::shared_ptr<http::UpstreamPool> pool, std::unique_ptr<ResponseParser> response,
             OriginContext& origin, std::string method, std::string target)
      : upstream_(std::move(upstream)),
        pool_(std::move(pool)),
        response_(std::move(response)),
        origin_(origin),
        method_(std::move(method)),
        target_(std::move(target)) {}

  boost::asio::awaitable<std::optional<std::size_t>> read(std::span<char> into) override {
    return read_origin_body(*upstream_, *response_, origin_, method_, target_, into);
  }
  bool done() const override { return response_->is_done(); }
  // Gives the connection back to the pool when the whole body was read and the origin keeps
  // it open; it is closed otherwise (with this object).
  void finish() override;
  const boost::beast::http::response_header<>& response() const {
    return response_->get().base();
  }

 private:
  std::unique_ptr<http::UpstreamConnection> upstream_;
  std::shared_ptr<http::UpstreamPool> pool_;
  std::unique_ptr<ResponseParser> response_;
  OriginContext& origin_;
  std::string method_;
  std::string target_;
};

}  // namespace s3hc::pipeline
