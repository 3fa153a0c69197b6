#include "pipeline/forward_handler.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <array>
#include <memory>
#include <optional>
#include <spdlog/spdlog.h>
#include <string>

#include "http/async_event.h"
#include "http/body_relay.h"
#include "http/error_writer.h"
#include "http/header_writer.h"
#include "http/protocol_error.h"
#include "http/relay_buffers.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using http::RelayResult;

namespace {

using ResponseParser = bhttp::response_parser<bhttp::buffer_body>;
using RequestSerializer = bhttp::request_serializer<bhttp::buffer_body>;
using ResponseSerializer = bhttp::response_serializer<bhttp::buffer_body>;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kMaxUpstreamHeaderBytes = 64 * 1024;
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

bool is_stale_connection_error(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == bhttp::error::end_of_stream;
}

// One request forwarded to the origin: header out, then the request body (upload) and the
// response (download) run concurrently, so an origin that answers before reading the whole
// body (an early 403, or `Expect: 100-continue`) is relayed at once.
class ForwardExchange {
 public:
  ForwardExchange(http::ClientConnection& client, http::RequestParser& request,
                  http::UpstreamPool& pool, http::RelayBuffers& buffers,
                  const ForwardOptions& options, obs::ProxyMetrics& metrics)
      : client_(client),
        request_(request),
        pool_(pool),
        options_(options),
        metrics_(metrics),
        method_(request.get().method_string()),
        target_(request.get().target()),
        expects_continue_(beast::iequals(request.get()[bhttp::field::expect], "100-continue")),
        upload_done_(client.socket().get_executor()),
        buffers_(buffers) {}

  // Returns whether the client connection may carry another request.
  asio::awaitable<bool> run();

 private:
  enum class SendOutcome { kSent, kUnreachable, kWriteFailed };

  asio::awaitable<SendOutcome> send_header(bool fresh_connection);
  asio::awaitable<bool> fail_before_response(SendOutcome outcome);
  asio::awaitable<void> upload();
  // Reads the final response header, relaying `100 Continue` to a client that asked for it.
  asio::awaitable<error_code> read_response_header();
  // Sends the response to the client; true when all of it went through.
  asio::awaitable<bool> relay_response();
  asio::awaitable<void> finish_upload(bool response_complete);
  asio::awaitable<void> fail(const s3::ErrorKind& kind, bool keep_alive);

  void arm_client() { client_.expires_after(options_.client_io_timeout); }
  void arm_upstream() { upstream_->expires_after(options_.upstream_io_timeout); }
  bool body_fully_read() const { return request_.is_done(); }
  // Whether the request may be sent again after a stale pooled connection failed: only without
  // a body, and not a POST, which the origin may have acted on before the connection broke
  // (CreateMultipartUpload must not run twice).
  bool replayable() const {
    return body_fully_read() && request_.get().method() != bhttp::verb::post;
  }
  // The client side of the upload failed on its own (not because the exchange stopped it).
  bool client_failed_upload() const {
    return upload_result_ && upload_result_->failure == RelayResult::Failure::kInput &&
           !upload_stopped_;
  }
  // Ends the upload's I/O for good: cancel() only aborts operations already waiting, while
  // shutdown() also fails the ones the upload would start next.
  void stop_upload() {
    upload_stopped_ = true;
    error_code ignored;
    client_.socket().cancel(ignored);
    client_.socket().shutdown(asio::ip::tcp::socket::shutdown_receive, ignored);
    abandon_upstream();
  }
  void abandon_upstream() {
    error_code ignored;
    upstream_->tcp().cancel();
    upstream_->tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  }

  http::ClientConnection& client_;
  http::RequestParser& request_;
  http::UpstreamPool& pool_;
  const ForwardOptions& options_;
  obs::ProxyMetrics& metrics_;
  // Views into the request, which the session keeps alive for the whole exchange.
  const std::string_view method_;
  const std::string_view target_;
  const bool expects_continue_;

  std::unique_ptr<http::UpstreamConnection> upstream_;
  std::string request_header_;  // as sent upstream, kept for a retry on a new connection
  std::optional<RequestSerializer> request_serializer_;
  std::optional<ResponseParser> response_;
  bool upload_started_ = false;
  bool upload_stopped_ = false;
  bool continue_relayed_ = false;
  bool client_gone_ = false;
  bool client_keep_alive_ = false;
  std::optional<RelayResult> upload_result_;
  http::AsyncEvent upload_done_;
  http::RelayBuffers& buffers_;
  http::RelayBuffers::Lease upload_buffer_;    // taken only when there is a body to relay
  http::RelayBuffers::Lease download_buffer_;
};

asio::awaitable<bool> ForwardExchange::run() {
  const auto started = Clock::now();
  const bool retryable = replayable();
  auto sent = co_await send_header(false);
  if (sent == SendOutcome::kWriteFailed && upstream_->reused()) sent = co_await send_header(true);
  if (sent != SendOutcome::kSent) co_return co_await fail_before_response(sent);

  if (!body_fully_read()) {
    upload_started_ = true;
    asio::co_spawn(client_.socket().get_executor(), upload(),
                   [this](std::exception_ptr) { upload_done_.set(); });
  }

  auto ec = co_await read_response_header();
  if (ec && retryable && upstream_->reused() && is_stale_connection_error(ec)) {
    sent = co_await send_header(true);
    if (sent != SendOutcome::kSent) co_return co_await fail_before_response(sent);
    ec = co_await read_response_header();
  }
  bool response_complete = false;
  if (!ec) {
    metrics_.upstream_latency.observe(
        std::chrono::duration<double>(Clock::now() - started).count());
    response_complete = co_await relay_response();
  }
  co_await finish_upload(response_complete);

  if (ec) {
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
      metrics_.count_upstream_error(kind);
      co_await fail(error, false);
    }
    co_return false;
  }

  const bool upload_ok = !upload_started_ || (upload_result_ && upload_result_->ok());
  if (response_complete && upload_ok && response_->keep_alive()) {
    pool_.release(std::move(upstream_));
  }
  spdlog::debug("{} {} -> {} in {} us", method_, target_, response_->get().result_int(),
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count());
  co_return response_complete && upload_ok && client_keep_alive_;
}

asio::awaitable<ForwardExchange::SendOutcome> ForwardExchange::send_header(bool fresh_connection) {
  error_code ec;
  // (if/else, not ?:: GCC 12 miscompiles co_await inside a conditional expression)
  if (fresh_connection) {
    upstream_ = co_await pool_.connect(ec);
  } else {
    upstream_ = co_await pool_.acquire(ec, replayable());
  }
  if (!upstream_) {
    spdlog::warn("upstream unreachable: {}", ec.message());
    co_return SendOutcome::kUnreachable;
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

asio::awaitable<bool> ForwardExchange::fail_before_response(SendOutcome outcome) {
  if (outcome == SendOutcome::kUnreachable) {
    metrics_.count_upstream_error(obs::UpstreamError::kConnect);
    // The connection can go on only if no unread body would be taken for the next request.
    const bool keep_alive = body_fully_read() && request_.get().keep_alive();
    co_await fail(s3::errors::kServiceUnavailable, keep_alive);
    co_return keep_alive;
  }
  metrics_.count_upstream_error(obs::UpstreamError::kReset);
  co_await fail(s3::errors::kBadGateway, false);
  co_return false;
}

asio::awaitable<void> ForwardExchange::upload() {
  upload_buffer_ = buffers_.take();
  auto result = co_await upstream_->visit([this](auto& stream) {
    return http::relay_body(client_.socket(), client_.buffer(), request_, stream,
                            *request_serializer_, upload_buffer_.span(),
                            [this] { arm_client(); }, [this] { arm_upstream(); });
  });
  // (The client deadline stays armed: the response may be writing under it concurrently.)
  metrics_.client_received_bytes.inc(result.bytes_read);
  upload_result_ = result;
  if (client_failed_upload()) {
    // The origin will never get the rest of the body: stop waiting for its answer.
    spdlog::debug("{} {}: client body failed: {}", method_, target_, result.ec.message());
    abandon_upstream();
  }
}

asio::awaitable<error_code> ForwardExchange::read_response_header() {
  for (;;) {
    response_.emplace();
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
      arm_client();
      auto [write_ec, written] = co_await asio::async_write(
          client_.socket(), asio::buffer(kContinue), asio::as_tuple(asio::use_awaitable));
      arm_client();  // the upload's read of the body now runs under the client deadline
      metrics_.client_sent_bytes.inc(written);
      if (write_ec) {
        client_gone_ = true;
        co_return write_ec;
      }
    }
    // Other interim responses mean nothing to the client: read on to the final one.
  }
}

asio::awaitable<bool> ForwardExchange::relay_response() {
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

  metrics_.count_response(method_, response.result_int());
  std::string header;
  header.reserve(kTypicalHeaderBytes);
  http::append_header(response.base(), header);

  // A header-only response, or one whose whole body arrived with the header (small objects):
  // one write straight from the upstream buffer, no relay loop.
  const auto length = response_->content_length();
  const bool body_buffered = !response_->chunked() && length &&
                             upstream_->buffer().size() >= *length;
  if (response_->is_done() || body_buffered) {
    const std::size_t body_size = response_->is_done() ? 0 : static_cast<std::size_t>(*length);
    const std::array<asio::const_buffer, 2> pieces{
        asio::buffer(header), asio::buffer(upstream_->buffer().data().data(), body_size)};
    arm_client();
    auto [ec, written] =
        co_await asio::async_write(client_.socket(), pieces, asio::as_tuple(asio::use_awaitable));
    client_.expires_never();
    upstream_->buffer().consume(body_size);
    metrics_.client_sent_bytes.inc(written);
    client_gone_ = static_cast<bool>(ec);
    co_return !ec;
  }

  arm_client();
  auto [header_ec, header_written] = co_await asio::async_write(
      client_.socket(), asio::buffer(header), asio::as_tuple(asio::use_awaitable));
  metrics_.client_sent_bytes.inc(header_written);
  if (header_ec) {
    client_gone_ = true;
    co_return false;
  }
  ResponseSerializer serializer{response};
  http::skip_header(serializer);
  download_buffer_ = buffers_.take();
  auto result = co_await upstream_->visit([this, &serializer](auto& stream) {
    return http::relay_body(stream, upstream_->buffer(), *response_, client_.socket(), serializer,
                            download_buffer_.span(), [this] { arm_upstream(); },
                            [this] { arm_client(); });
  });
  client_.expires_never();
  metrics_.client_sent_bytes.inc(result.bytes_written);
  if (result.failure == RelayResult::Failure::kInput) {
    spdlog::warn("{} {}: upstream failed mid-response: {}", method_, target_, result.ec.message());
    metrics_.count_upstream_error(upstream_->timed_out() ? obs::UpstreamError::kTimeout
                                                         : obs::UpstreamError::kReset);
  }
  client_gone_ = result.failure == RelayResult::Failure::kOutput;
  co_return result.ok();
}

asio::awaitable<void> ForwardExchange::finish_upload(bool response_complete) {
  if (!upload_started_ || upload_done_.is_set()) co_return;
  // The exchange is over without the whole body: stop both sides of the upload.
  if (!response_complete || !body_fully_read()) stop_upload();
  co_await upload_done_.wait();
}

asio::awaitable<void> ForwardExchange::fail(const s3::ErrorKind& kind, bool keep_alive) {
  co_await http::send_error(client_, kind,
                            {.method = method_, .resource = target_, .keep_alive = keep_alive},
                            options_.client_io_timeout, metrics_);
}

}  // namespace

asio::awaitable<bool> ForwardHandler::handle(http::ClientConnection& client,
                                             http::RequestParser& request) {
  ForwardExchange exchange(client, request, pool_, buffers_, options_, metrics_);
  co_return co_await exchange.run();
}

}  // namespace s3hc::pipeline
