#include "fake_origin.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <chrono>

#include "s3/byte_range.h"
#include "socket_pair.h"

namespace s3hc::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

constexpr std::string_view kLastModified = "Wed, 02 Dec 2026 12:00:00 GMT";

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string status_line(unsigned status) {
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
}

std::string error_body(std::string_view code) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
         "</Code><Message>" + std::string(code) + "</Message></Error>";
}

}  // namespace

FakeOrigin::FakeOrigin(asio::io_context& io, http::DeadlineSweeper& sweeper)
    : io_(io), sweeper_(sweeper), released_(io, std::chrono::steady_clock::time_point::max()) {}

void FakeOrigin::put(const std::string& path, std::string body) {
  objects_[path] = {std::move(body), "\"v" + std::to_string(++versions_) + "\""};
}

void FakeOrigin::remove(const std::string& path) { objects_.erase(path); }

std::string FakeOrigin::etag_of(const std::string& path) const { return objects_.at(path).etag; }

void FakeOrigin::hold_bodies_after(std::size_t bytes) { hold_after_ = bytes; }

void FakeOrigin::release() {
  hold_after_.reset();
  released_.cancel();
}

namespace {

class ConnectorTo final : public http::UpstreamConnector {
 public:
  explicit ConnectorTo(FakeOrigin& origin) : origin_(origin) {}
  asio::awaitable<std::unique_ptr<http::UpstreamConnection>> connect(
      boost::system::error_code& ec) override {
    return origin_.connect(ec);
  }

 private:
  FakeOrigin& origin_;
};

}  // namespace

std::unique_ptr<http::UpstreamConnector> FakeOrigin::connector_for(
    const http::UpstreamUrl& origin) {
  endpoints_.push_back(origin.to_string());
  return std::make_unique<ConnectorTo>(*this);
}

asio::awaitable<std::unique_ptr<http::UpstreamConnection>> FakeOrigin::connect(
    boost::system::error_code& ec) {
  ec = {};
  auto [proxy_side, origin_side] = connected_sockets(io_);
  ++connections_;
  asio::co_spawn(io_, serve(std::move(origin_side)), asio::detached);
  co_return std::make_unique<http::UpstreamConnection>(beast::tcp_stream(std::move(proxy_side)),
                                                       sweeper_);
}

asio::awaitable<void> FakeOrigin::serve(asio::ip::tcp::socket socket) {
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    const auto [read_ec, _] =
        co_await bhttp::async_read(socket, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (read_ec) co_return;
    const auto& message = parser.get();
    Request request{.method = std::string(message.method_string()),
                    .target = std::string(message.target()),
                    .headers = {}};
    for (const auto& field : message) {
      request.headers[lower(field.name_string())] = std::string(field.value());
    }
    requests_.push_back(request);
    const auto cut = fault_ ? fault_(request) : std::nullopt;
    const auto reply = answer(request);
    const auto [write_ec, __] = co_await asio::async_write(
        socket, asio::buffer(reply.header), asio::as_tuple(asio::use_awaitable));
    if (write_ec) co_return;
    if (cut) {
      co_await asio::async_write(socket, asio::buffer(reply.body.substr(0, *cut)),
                                 asio::as_tuple(asio::use_awaitable));
      co_return;  // the connection closes mid-body
    }
    if (request.method != "HEAD") co_await send_body(socket, reply.body);
    if (!message.keep_alive()) co_return;
  }
}

asio::awaitable<void> FakeOrigin::send_body(asio::ip::tcp::socket& socket,
                                            const std::string& body) {
  std::string_view rest = body;
  if (hold_after_ && rest.size() > *hold_after_) {
    const auto [ec, _] = co_await asio::async_write(
        socket, asio::buffer(rest.substr(0, *hold_after_)), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    rest.remove_prefix(*hold_after_);
    if (hold_after_) co_await released_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_await asio::async_write(socket, asio::buffer(rest), asio::as_tuple(asio::use_awaitable));
}

FakeOrigin::Answer FakeOrigin::answer(const Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    const auto body = error_body("NotImplemented");
    return {status_line(501) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n",
            body};
  }
  const auto path = request.target.substr(0, request.target.find('?'));
  const auto bucket = path.substr(1, path.find('/', 1) - 1);
  const auto found = objects_.find(path);
  if (found == objects_.end()) {
    const auto body = error_body(missing_buckets_.contains(bucket) ? "NoSuchBucket" : "NoSuchKey");
    return {status_line(404) + "Content-Type: application/xml\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n",
            body};
  }
  return answer_object(request, found->second);
}

FakeOrigin::Answer FakeOrigin::answer_object(const Request& request, const Object& object) const {
  const auto validators =
      "ETag: " + object.etag + "\r\nLast-Modified: " + std::string(kLastModified) + "\r\n";
  if (request.has("if-match") && request.header("if-match") != object.etag) {
    const auto body = error_body("PreconditionFailed");
    return {status_line(412) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n",
            body};
  }
  if (request.has("if-none-match") && request.header("if-none-match") == object.etag) {
    return {status_line(304) + validators + "\r\n", ""};
  }
  auto status = 200u;
  auto bytes = s3::ByteRange{0, object.body.size() - 1};
  auto content_range = std::string();
  if (const auto spec = s3::parse_single_byte_range(request.header("range"))) {
    const auto resolved = s3::resolve(*spec, object.body.size());
    if (!resolved) {
      const auto body = error_body("InvalidRange");
      return {status_line(416) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n",
              body};
    }
    status = 206;
    bytes = *resolved;
    content_range = "Content-Range: " +
                    s3::format_content_range({.range = bytes, .complete_length = object.body.size()}) +
                    "\r\n";
  }
  const auto body = object.body.empty() ? std::string()
                                        : object.body.substr(bytes.first, bytes.length());
  return {status_line(status) + validators + content_range +
              "Accept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\n"
              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n",
          body};
}

}  // namespace s3hc::testing
