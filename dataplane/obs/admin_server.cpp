#include "obs/admin_server.h"

#include "obs/dashboard_files.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>

namespace s3hc::obs {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kAdminTimeout = std::chrono::seconds(30);

http::response<http::string_body> answer(const http::request<http::empty_body>& request,
                                         const AdminEndpoints& endpoints) {
  http::response<http::string_body> response{http::status::ok, request.version()};
  response.set(http::field::server, "s3hc");
  const auto path = request.target().substr(0, request.target().find('?'));
  const bool readable = request.method() == http::verb::get || request.method() == http::verb::head;
  if (readable && path == "/health") {
    auto health = endpoints.health();
    if (!health.serving) response.result(http::status::service_unavailable);
    response.set(http::field::content_type, "application/json");
    response.body() = std::move(health.json);
  } else if (readable && path == "/metrics") {
    response.set(http::field::content_type, "text/plain; version=0.0.4");
    response.body() = endpoints.metrics();
  } else if (readable && path == "/api/dashboard") {
    response.set(http::field::content_type, "application/json");
    response.set(http::field::cache_control, "no-store");
    response.body() = endpoints.dashboard();
  } else if (const auto page = readable ? dashboard_page(path) : std::nullopt) {
    response.set(http::field::content_type, page->content_type);
    response.set(http::field::cache_control, "no-cache");
    response.body() = std::string(page->bytes);
  } else {
    response.result(http::status::not_found);
    response.set(http::field::content_type, "text/plain");
    response.body() = "not found\n";
  }
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

asio::awaitable<void> admin_session(beast::tcp_stream stream, const AdminEndpoints& endpoints) {
  beast::flat_buffer buffer(64 * 1024);
  for (;;) {
    http::request_parser<http::empty_body> parser;
    parser.body_limit(0);
    stream.expires_after(kAdminTimeout);
    auto [read_ec, read] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (read_ec) break;
    auto response = answer(parser.get(), endpoints);
    if (parser.get().method() == http::verb::head) response.body().clear();
    auto [write_ec, written] =
        co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    if (write_ec || !response.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace

asio::awaitable<void> serve_admin(asio::ip::tcp::acceptor& acceptor,
                                  const AdminEndpoints& endpoints) {
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return;
      continue;
    }
    asio::co_spawn(acceptor.get_executor(),
                   admin_session(beast::tcp_stream(std::move(socket)), endpoints), asio::detached);
  }
}

}  // namespace s3hc::obs
