#include "pipeline/origin_exchange.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <spdlog/spdlog.h>

#include "http/error_writer.h"
#include "http/header_writer.h"
#include "http/protocol_error.h"
#include "net/resolve_error.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using http::RelayResult;

namespace {

using ResponseSerializer = bhttp::response_serializer<bhttp::buffer_body>;
using Clock = std::chrono::steady_clock;

// Room reserved for a serialised header: most S3 headers fit, so it is built without regrowing.
constexpr std::size_t kTypicalHeaderBytes = 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// How an upstream failure before the response header maps to what the client sees.
const s3::ErrorKind& upstream_error_kind(const error_code& ec, bool timed_out,
                                         obs::UpstreamError& metric_kind) {
  if (timed_out) {
    metric_kind = obs::UpstreamError::kTimeout;
    return s3::errors::kGatewayTimeout;
  }
  metric_kind = http::is_protocol_error(ec) ? obs::UpstreamError::kProtocol
                                            : obs::UpstreamError::kReset;
  return s3::errors::kBadGateway;
}

}  // namespace

OriginExchange::OriginExchange(http::ClientConnection& client, http::RequestParser& request,
                               OriginContext& origin, Failures failures)
    : client_(client),
      writer_(origin.client_writer(client)),
      request_(request),
      origin_(origin),
      failures_(failures),
      method_(request.get().method_string()),
      target_(request.get().target()),
      expects_continue_(beast::iequals(request.get()[bhttp::field::expect], "100-continue")),
      upload_done_(client.socket().get_executor()) {}

void OriginExchange::arm_client() { client_.expires_after(origin_.options.client_io_timeout); }
void OriginExchange::arm_upstream() {
  upstream_->expires_after(origin_.options.upstream_io_timeout);
}

bool OriginExchange::replayable() const {
  return body_fully_read() && request_.get().method() != bhttp::verb::post;
}

bool OriginExchange::client_failed_upload() const {
  return upload_result_ && upload_result_->failure == RelayResult::Failure::kInput &&
         !upload_stopped_;
}

void OriginExchange::stop_upload() {
  upload_stopped_ = true;
  error_code ignored;
  client_.socket().cancel(ignored);
  client_.socket().shutdown(asio::ip::tcp::socket::shutdown_receive, ignored);
  abandon_upstream();
}

void OriginExchange::abandon_upstream() {
  error_code ignored;
  upstream_->tcp().cancel();
  upstream_->tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

asio::awaitable<bool> OriginExchange::open() {
  started_ = Clock::now();
  const bool retryable = replayable();
  auto sent = co_await send_header(false);
  if (sent == SendOutcome::kWriteFailed && upstream_->reused()) sent = co_await send_header(true);
  if (sent != SendOutcome::kSent) {
    co_await fail_before_response(sent);
    co_return false;
  }

  if (!body_fully_read()) {
    upload_started_ = true;
    asio::co_spawn(client_.socket().get_executor(), upload(),
                   [this](std::exception_ptr) { upload_done_.set(); });
  }

  auto ec = co_await read_response_header();
  if (ec && retryable && upstream_->reused() && is_stale_connection_error(ec)) {
    sent = co_await send_header(true);
    if (sent != SendOutcome::kSent) {
      co_await fail_before_response(sent);
      co_return false;
    }
    ec = co_await read_response_header();
  }
  if (ec) {
    co_await finish_upload(false);
    co_await fail_without_response(ec);
    co_return false;
  }
  origin_.metrics.upstream_latency.observe(
      std::chrono::duration<double>(Clock::now() - started_).count());
  co_return true;
}

asio::awaitable<bool> OriginExchange::relay(BodyTap* tap) {
  const bool response_complete = co_await relay_response(tap);
  co_await finish_upload(response_complete);
  const bool upload_ok = !upload_started_ || (upload_result_ && upload_result_->ok());
  if (response_complete && upload_ok && response_->keep_alive()) {
    pool_->release(std::move(upstream_));
  }
  spdlog::debug("{} {} -> {} in {} us", method_, target_, status(),
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_)
                    .count());
  co_return response_complete && upload_ok && client_keep_alive_;
}

asio::awaitable<std::optional<std::size_t>> OriginExchange::read_body(std::span<char> into) {
  return read_origin_body(*upstream_, *response_, origin_, method_, target_, into);
}

bool OriginExchange::whole_body_buffered() const {
  const auto length = response_->content_length();
  return response_->is_done() ||
         (!response_->chunked() && length && upstream_->buffer().size() >= *length);
}

std::string OriginExchange::client_header() {
  auto& response = response_->get();
  // Connection management is per hop: the proxy decides its own with the client.
  response.erase(bhttp::field::connection);
  response.erase(bhttp::field::keep_alive);
  // A response that arrives before the whole request body was read ends the connection:
  // the unread rest of the body cannot be told apart from a next request.
  // A body delimited by the origin closing its connection can only be relayed the same way.
  client_keep_alive_ =
      request_.get().keep_alive() && body_fully_read() && !response_->need_eof();
  response.keep_alive(client_keep_alive_);

  origin_.metrics.count_response(method_, response.result_int());
  std::string header;
  header.reserve(kTypicalHeaderBytes);
  http::append_header(response.base(), header);
  return header;
}

OriginBody OriginExchange::take_body() {
  return OriginBody(std::move(upstream_), pool_, std::move(response_), origin_,
                    std::string(method_),
                    std::string(target_));
}

void OriginExchange::finish() {
  if (upstream_ && response_ && response_->is_done() && response_->keep_alive()) {
    pool_->release(std::move(upstream_));
  }
}

asio::awaitable<OriginExchange::SendOutcome> OriginExchange::send_header(bool fresh_connection) {
  if (!pool_) pool_ = origin_.router.pool_for(request_.get()[bhttp::field::host]);
  if (!pool_) co_return SendOutcome::kRefused;
  error_code ec;
  // (if/else, not ?:: GCC 12 miscompiles co_await inside a conditional expression)
  if (fresh_connection) {
    upstream_ = co_await pool_->connect(ec);
  } else {
    upstream_ = co_await pool_->acquire(ec, replayable());
  }
  if (!upstream_) {
    if (ec == net::ResolveError::kInward) co_return SendOutcome::kRefused;
    spdlog::warn("upstream unreachable: {}", ec.message());
    co_return net::is_resolve_error(ec) ? SendOutcome::kUnresolved : SendOutcome::kUnreachable;
  }
  if (request_header_.empty()) {
    request_header_.reserve(kTypicalHeaderBytes);
    http::append_header(request_.get().base(), request_header_);
  }
  request_serializer_.emplace(request_.get());
  http::skip_header(*request_serializer_);  // the body, if any, follows request_header_
  arm_upstream();
  auto [write_ec, written] = co_await upstream_->visit([this](auto& stream) {
    return asio::async_write(stream, asio::buffer(request_header_),
                             asio::as_tuple(asio::use_awaitable));
  });
  co_return write_ec ? SendOutcome::kWriteFailed : SendOutcome::kSent;
}

asio::awaitable<void> OriginExchange::fail_before_response(SendOutcome outcome) {
  if (outcome == SendOutcome::kRefused) {
    spdlog::info("{} {}: refused: Host '{}' names no allowed endpoint (upstream.allowed_hosts) "
                 "or resolves only inward (upstream.allowed_inward_networks)",
                 method_, target_, std::string(request_.get()[bhttp::field::host]));
    origin_.metrics.count_upstream_error(obs::UpstreamError::kRefused);
    client_keep_alive_ = body_fully_read() && request_.get().keep_alive();
    co_await fail(s3::errors::kEndpointRefused, client_keep_alive_);
    co_return;
  }
  if (outcome == SendOutcome::kUnresolved || outcome == SendOutcome::kUnreachable) {
    const bool unresolved = outcome == SendOutcome::kUnresolved;
    origin_.metrics.count_upstream_error(unresolved ? obs::UpstreamError::kResolve
                                                    : obs::UpstreamError::kConnect);
    // The connection can go on only if no unread body would be taken for the next request.
    client_keep_alive_ = body_fully_read() && request_.get().keep_alive();
    co_await fail(unresolved ? s3::errors::kOriginUnresolved : s3::errors::kServiceUnavailable,
                  client_keep_alive_);
    co_return;
  }
  origin_.metrics.count_upstream_error(obs::UpstreamError::kReset);
  co_await fail(s3::errors::kBadGateway, false);
}

asio::awaitable<void> OriginExchange::fail_without_response(const error_code& ec) {
  // No response reached the client: say why, unless the client itself is gone.
  if (client_failed_upload()) {
    if (client_.timed_out()) {
      co_await fail(s3::errors::kRequestTimeout, false);
    } else if (http::is_protocol_error(upload_result_->ec)) {
      co_await fail(s3::errors::kBadRequest, false);  // e.g. a malformed chunk
    }
  } else if (!client_gone_) {
    obs::UpstreamError kind;
    const auto& error = upstream_error_kind(ec, upstream_->timed_out(), kind);
    spdlog::warn("{} {}: upstream failed before the response: {}", method_, target_, ec.message());
    origin_.metrics.count_upstream_error(kind);
    co_await fail(error, false);
  }
}

asio::awaitable<void> OriginExchange::upload() {
  upload_buffer_ = origin_.buffers.take();
  http::RelayResult result;
  if (upload_tap_) {
    result = co_await upstream_->visit([this](auto& stream) {
      return http::relay_body(
          client_.socket(), client_.buffer(), request_, stream, *request_serializer_,
          upload_buffer_.span(), [this] { arm_client(); }, [this] { arm_upstream(); },
          [this](std::span<const char> bytes, bool last) {
            return upload_tap_->on_body(bytes, last);
          });
    });
  } else {
    result = co_await upstream_->visit([this](auto& stream) {
      return http::relay_body(client_.socket(), client_.buffer(), request_, stream,
                              *request_serializer_, upload_buffer_.span(),
                              [this] { arm_client(); }, [this] { arm_upstream(); });
    });
  }
  // (The client deadline stays armed: the response may be writing under it concurrently.)
  origin_.metrics.client_received_bytes.inc(result.bytes_read);
  client_.record().received_bytes += result.bytes_read;
  upload_result_ = result;
  if (client_failed_upload()) {
    // The origin will never get the rest of the body: stop waiting for its answer.
    spdlog::debug("{} {}: client body failed: {}", method_, target_, result.ec.message());
    abandon_upstream();
  }
}

asio::awaitable<error_code> OriginExchange::read_response_header() {
  for (;;) {
    response_ = std::make_unique<ResponseParser>();
    response_->body_limit(boost::none);
    response_->header_limit(kMaxUpstreamHeaderBytes);
    if (request_.get().method() == bhttp::verb::head) response_->skip(true);
    arm_upstream();
    auto [ec, consumed] = co_await upstream_->visit([this](auto& stream) {
      return bhttp::async_read_header(stream, upstream_->buffer(), *response_,
                                      asio::as_tuple(asio::use_awaitable));
    });
    if (ec) co_return ec;
    const unsigned status = response_->get().result_int();
    // A protocol switch (101) is not relayed: S3 never asks for one, and neither connection
    // could carry HTTP afterwards.
    if (status == 101) co_return error_code(bhttp::error::bad_status);
    if (status < 100 || status >= 200) co_return error_code{};
    if (status == 100 && expects_continue_ && !continue_relayed_) {
      continue_relayed_ = true;
      const bool written = co_await writer_.write(kContinue);
      arm_client();  // the upload's read of the body now runs under the client deadline
      if (!written) {
        client_gone_ = true;  // (not an upstream failure: never a reason to retry upstream)
        co_return error_code(asio::error::connection_aborted);
      }
    }
    // Other interim responses mean nothing to the client: read on to the final one.
  }
}

asio::awaitable<bool> OriginExchange::relay_response(BodyTap* tap) {
  const auto header = client_header();
  auto& response = response_->get();

  // A header-only response, or one whose whole body arrived with the header (small objects):
  // one write straight from the upstream buffer, no relay loop.
  if (whole_body_buffered()) {
    const std::size_t body_size =
        response_->is_done() ? 0 : static_cast<std::size_t>(*response_->content_length());
    const char* body = static_cast<const char*>(upstream_->buffer().data().data());
    if (tap) co_await tap->on_body({body, body_size}, true);
    const bool written = co_await writer_.write(header, {body, body_size});
    upstream_->buffer().consume(body_size);
    client_gone_ = !written;
    co_return written;
  }

  if (!co_await writer_.write(header)) {
    client_gone_ = true;
    co_return false;
  }
  ResponseSerializer serializer{response};
  http::skip_header(serializer);
  download_buffer_ = origin_.buffers.take();
  RelayResult result;
  if (tap) {
    result = co_await upstream_->visit([this, &serializer, tap](auto& stream) {
      return http::relay_body(
          stream, upstream_->buffer(), *response_, writer_.socket(), serializer,
          download_buffer_.span(), [this] { arm_upstream(); }, [this] { writer_.arm(); },
          [tap](std::span<const char> bytes, bool last) { return tap->on_body(bytes, last); });
    });
  } else {
    result = co_await upstream_->visit([this, &serializer](auto& stream) {
      return http::relay_body(stream, upstream_->buffer(), *response_, writer_.socket(),
                              serializer, download_buffer_.span(), [this] { arm_upstream(); },
                              [this] { writer_.arm(); });
    });
  }
  writer_.wrote(result.bytes_written);
  if (result.failure == RelayResult::Failure::kInput) {
    spdlog::warn("{} {}: upstream failed mid-response: {}", method_, target_, result.ec.message());
    origin_.metrics.count_upstream_error(upstream_->timed_out() ? obs::UpstreamError::kTimeout
                                                                : obs::UpstreamError::kReset);
  }
  client_gone_ = result.failure == RelayResult::Failure::kOutput;
  co_return result.ok();
}

asio::awaitable<void> OriginExchange::finish_upload(bool response_complete) {
  if (!upload_started_ || upload_done_.is_set()) co_return;
  // The exchange is over without the whole body: stop both sides of the upload.
  if (!response_complete || !body_fully_read()) stop_upload();
  co_await upload_done_.wait();
}

asio::awaitable<void> OriginExchange::fail(const s3::ErrorKind& kind, bool keep_alive) {
  if (failures_ == Failures::kQuiet) co_return;
  co_await http::send_error(writer_, kind,
                            {.method = method_, .resource = target_, .keep_alive = keep_alive},
                            origin_.metrics);
}

}  // namespace s3hc::pipeline
