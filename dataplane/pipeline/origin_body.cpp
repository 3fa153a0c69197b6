#include "pipeline/origin_body.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

asio::awaitable<std::optional<std::size_t>> read_origin_body(
    http::UpstreamConnection& upstream, ResponseParser& response, OriginContext& origin,
    std::string_view method, std::string_view target, std::span<char> into) {
  auto& body = response.get().body();
  std::size_t total = 0;
  // Beast reads at most the upstream buffer's free room per call (at least 512 bytes, at most
  // 64 KiB), and a new connection's buffer only grew as far as its response header needed:
  // without room reserved here bodies came in ~550-byte pieces, each written to the client
  // and handed to the cache I/O pool on its own (partial hits at 8 MB/s). relay_body, which
  // relays other answers, reserves the same room.
  auto& buffer = upstream.buffer();
  buffer.reserve(std::min(into.size(), buffer.max_size()));
  // Beast hands out nothing while only framing (chunk headers) is parsed: read on until bytes
  // or the end of the body come.
  while (total == 0 && !response.is_done()) {
    body.data = into.data();
    body.size = into.size();
    upstream.expires_after(origin.options.upstream_io_timeout);
    auto [ec, consumed] = co_await upstream.visit([&](auto& stream) {
      return bhttp::async_read_some(stream, upstream.buffer(), response,
                                    asio::as_tuple(asio::use_awaitable));
    });
    total = into.size() - body.size;
    if (ec && ec != bhttp::error::need_buffer) {
      spdlog::warn("{} {}: upstream failed mid-response: {}", method, target, ec.message());
      origin.metrics.count_upstream_error(upstream.timed_out() ? obs::UpstreamError::kTimeout
                                                               : obs::UpstreamError::kReset);
      co_return std::nullopt;
    }
  }
  co_return total;
}

bool is_stale_connection_error(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == bhttp::error::end_of_stream;
}

void OriginBody::finish() {
  if (upstream_ && response_->is_done() && response_->keep_alive()) {
    pool_->release(std::move(upstream_));
  }
}

}  // namespace s3hc::pipeline
