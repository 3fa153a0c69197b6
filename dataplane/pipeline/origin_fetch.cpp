#include "pipeline/origin_fetch.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <spdlog/spdlog.h>

#include <string>

#include "http/header_writer.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

asio::awaitable<std::unique_ptr<OriginBody>> fetch_from_origin(
    OriginContext& origin, const bhttp::request_header<>& request) {
  auto pool = origin.router.pool_for(request[bhttp::field::host]);
  if (!pool) co_return nullptr;  // (the first request of the fill was allowed: not reached)
  std::string header;
  http::append_header(request, header);
  error_code ec;
  for (bool fresh = false;; fresh = true) {
    std::unique_ptr<http::UpstreamConnection> upstream;
    // (if/else, not ?:: GCC 12 miscompiles co_await inside a conditional expression)
    if (fresh) {
      upstream = co_await pool->connect(ec);
    } else {
      upstream = co_await pool->acquire(ec, true);
    }
    if (!upstream) {
      spdlog::warn("upstream unreachable: {}", ec.message());
      origin.metrics.count_upstream_error(obs::UpstreamError::kConnect);
      co_return nullptr;
    }
    upstream->expires_after(origin.options.upstream_io_timeout);
    auto [write_ec, written] = co_await upstream->visit([&](auto& stream) {
      return asio::async_write(stream, asio::buffer(header), asio::as_tuple(asio::use_awaitable));
    });
    auto response = std::make_unique<ResponseParser>();
    response->body_limit(boost::none);
    response->header_limit(kMaxUpstreamHeaderBytes);
    ec = write_ec;
    if (!ec) {
      upstream->expires_after(origin.options.upstream_io_timeout);
      auto [read_ec, consumed] = co_await upstream->visit([&](auto& stream) {
        return bhttp::async_read_header(stream, upstream->buffer(), *response,
                                        asio::as_tuple(asio::use_awaitable));
      });
      ec = read_ec;
    }
    // (No interim answers: the request asks for no 100 Continue.)
    if (!ec && response->get().result_int() >= 200) {
      co_return std::make_unique<OriginBody>(std::move(upstream), std::move(pool),
                                             std::move(response), origin,
                                             std::string(request.method_string()),
                                             std::string(request.target()));
    }
    if (fresh || !upstream->reused() || !is_stale_connection_error(ec)) {
      spdlog::warn("{} {}: upstream failed before the response: {}", request.method_string(),
                   request.target(), ec ? ec.message() : "an interim answer");
      origin.metrics.count_upstream_error(upstream->timed_out() ? obs::UpstreamError::kTimeout
                                                                : obs::UpstreamError::kReset);
      co_return nullptr;
    }
  }
}

}  // namespace s3hc::pipeline
