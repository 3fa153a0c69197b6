#include "obs/otlp_http_transport.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "version.h"

namespace s3hc::obs {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// A collector answers an export with a small status message; anything longer is not read.
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

OtlpPostResult network_failure(const char* step, const boost::system::error_code& ec) {
  return {.delivered = false, .retryable = true, .what = std::string(step) + ": " + ec.message()};
}

}  // namespace

OtlpPostResult result_of_status(unsigned status) {
  const bool delivered = status >= 200 && status < 300;
  const bool retryable = status == 429 || status == 502 || status == 503 || status == 504;
  return {.delivered = delivered, .retryable = retryable, .what = "HTTP " + std::to_string(status)};
}

OtlpHttpTransport::OtlpHttpTransport(asio::any_io_executor executor, http::HttpUrl endpoint,
                                     std::chrono::milliseconds timeout)
    : executor_(executor), endpoint_(std::move(endpoint)), timeout_(timeout), resolver_(executor) {}

asio::awaitable<OtlpPostResult> OtlpHttpTransport::post(std::string body) {
  beast::tcp_stream stream(executor_);
  in_flight_ = &stream;
  auto result = co_await exchange(stream, std::move(body));
  in_flight_ = nullptr;
  co_return result;
}

void OtlpHttpTransport::cancel() {
  resolver_.cancel();
  if (in_flight_) in_flight_->cancel();
}

asio::awaitable<OtlpPostResult> OtlpHttpTransport::exchange(beast::tcp_stream& stream,
                                                             std::string body) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  const auto [resolve_ec, addresses] = co_await resolver_.async_resolve(
      endpoint_.host, std::to_string(endpoint_.port), asio::as_tuple(asio::use_awaitable));
  if (resolve_ec) co_return network_failure("resolve", resolve_ec);

  // What the resolution left of the timeout bounds the rest: past the deadline, the stream
  // closes its socket and the operation pending fails with beast::error::timeout.
  stream.expires_at(deadline);
  const auto [connect_ec, connected] =
      co_await stream.async_connect(addresses, asio::as_tuple(asio::use_awaitable));
  if (connect_ec) co_return network_failure("connect", connect_ec);

  beast::http::request<beast::http::string_body> request{beast::http::verb::post,
                                                         endpoint_.path, 11};
  request.set(beast::http::field::host, http::HostPort{endpoint_.host, endpoint_.port}.to_string());
  request.set(beast::http::field::content_type, "application/json");
  request.set(beast::http::field::user_agent, std::string("s3hc-proxy/") + kVersion);
  request.keep_alive(false);
  request.body() = std::move(body);
  request.prepare_payload();
  const auto [write_ec, written] =
      co_await beast::http::async_write(stream, request, asio::as_tuple(asio::use_awaitable));
  if (write_ec) co_return network_failure("send", write_ec);

  beast::flat_buffer buffer;
  beast::http::response_parser<beast::http::string_body> answer;
  answer.body_limit(kMaxAnswerBytes);
  const auto [read_ec, read] =
      co_await beast::http::async_read(stream, buffer, answer, asio::as_tuple(asio::use_awaitable));
  if (read_ec) co_return network_failure("answer", read_ec);
  co_return result_of_status(answer.get().result_int());
}

}  // namespace s3hc::obs
