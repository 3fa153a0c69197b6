// One client request sent to the origin: the request header as it stands (a pipeline may have
// added conditional headers or changed Range first), the body relayed concurrently, and the
// final response header read. Its body is then either relayed to the client (relay(), optionally
// seen by a BodyTap on the way) or pulled by the pipeline (read_body()).
//
// A stale pooled connection is retried once on a fresh one when the request can be replayed.
// When the origin cannot be reached, open() answers the client with an S3 error itself (502,
// 503, 504; 403 when the request's Host names no endpoint the proxy may reach) unless the
// exchange is `quiet` (a pipeline that already started its own response).
//
// Thread-safety: one exchange per request, on the worker thread of the client connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/async_event.h"
#include "http/body_relay.h"
#include "http/client_writer.h"
#include "http/request_handler.h"
#include "pipeline/origin_body.h"
#include "pipeline/origin_context.h"
#include "s3/error_response.h"

namespace s3hc::pipeline {

using RequestSerializer = boost::beast::http::request_serializer<boost::beast::http::buffer_body>;

// Sees the body of a relayed response before the client does.
class BodyTap {
 public:
  virtual ~BodyTap() = default;
  // Each piece in order; `last` is set on the final call (whose piece may be empty).
  virtual boost::asio::awaitable<void> on_body(std::span<const char> bytes, bool last) = 0;
};

class OriginExchange {
 public:
  enum class Failures { kAnswered, kQuiet };

  OriginExchange(http::ClientConnection& client, http::RequestParser& request,
                 OriginContext& origin, Failures failures = Failures::kAnswered);
  OriginExchange(const OriginExchange&) = delete;
  OriginExchange& operator=(const OriginExchange&) = delete;

  // Lets `tap` see the request body as it is relayed (before open()).
  void set_upload_tap(BodyTap* tap) { upload_tap_ = tap; }

  // Sends the request and reads the final response header. false when no response came (the
  // client was answered unless quiet; client_keep_alive() says whether its connection goes on).
  boost::asio::awaitable<bool> open();

  // The response header (mutable: a pipeline may add headers before relay()).
  ResponseParser& response() { return *response_; }
  unsigned status() const { return response_->get().result_int(); }

  // Relays the response to the client. Returns whether the client connection may carry the
  // next request.
  boost::asio::awaitable<bool> relay(BodyTap* tap = nullptr);

  // Pulls the next piece of the response body into `into` (for a request without a body).
  // Returns the bytes read, 0 at the end of the body, nullopt when the origin failed.
  boost::asio::awaitable<std::optional<std::size_t>> read_body(std::span<char> into);
  bool body_done() const { return response_->is_done(); }

  // Whether the whole response body has arrived with its header (a small object).
  bool whole_body_buffered() const;
  // The response header as the client gets it (connection management decided here, the
  // response counted), for a pipeline that sends the body itself: the exchange then only
  // hands its body over (take_body()).
  std::string client_header();
  // The body still to read, with the connection it comes on: the exchange is done with it.
  // Only for a request without a body.
  OriginBody take_body();

  // Ends a pulled exchange: the connection goes back to the pool when the whole response was
  // read and the origin keeps it open; otherwise it is closed.
  void finish();

  bool client_keep_alive() const { return client_keep_alive_; }

 private:
  enum class SendOutcome { kSent, kRefused, kUnresolved, kUnreachable, kWriteFailed };

  boost::asio::awaitable<SendOutcome> send_header(bool fresh_connection);
  boost::asio::awaitable<void> fail_before_response(SendOutcome outcome);
  boost::asio::awaitable<void> fail_without_response(const boost::system::error_code& ec);
  boost::asio::awaitable<void> upload();
  // Reads the final response header, relaying `100 Continue` to a client that asked for it.
  boost::asio::awaitable<boost::system::error_code> read_response_header();
  // Sends the response to the client; true when all of it went through.
  boost::asio::awaitable<bool> relay_response(BodyTap* tap);
  boost::asio::awaitable<void> finish_upload(bool response_complete);
  boost::asio::awaitable<void> fail(const s3::ErrorKind& kind, bool keep_alive);

  // Each read of the client's body (writes to the client arm through writer_).
  void arm_client();
  void arm_upstream();
  bool body_fully_read() const { return request_.is_done(); }
  // Whether the request may be sent again after a stale pooled connection failed: only without
  // a body, and not a POST, which the origin may have acted on before the connection broke
  // (CreateMultipartUpload must not run twice).
  bool replayable() const;
  // The client side of the upload failed on its own (not because the exchange stopped it).
  bool client_failed_upload() const;
  // Ends the upload's I/O for good: cancel() only aborts operations already waiting, while
  // shutdown() also fails the ones the upload would start next.
  void stop_upload();
  void abandon_upstream();

  http::ClientConnection& client_;
  http::ClientWriter writer_;
  http::RequestParser& request_;
  OriginContext& origin_;
  const Failures failures_;
  BodyTap* upload_tap_ = nullptr;
  // Views into the request, which the session keeps alive for the whole exchange.
  const std::string_view method_;
  const std::string_view target_;
  const bool expects_continue_;
  std::chrono::steady_clock::time_point started_;

  std::shared_ptr<http::UpstreamPool> pool_;  // where the request goes (origin_router.h)
  std::unique_ptr<http::UpstreamConnection> upstream_;
  std::string request_header_;  // as sent upstream, kept for a retry on a new connection
  std::optional<RequestSerializer> request_serializer_;
  std::unique_ptr<ResponseParser> response_;
  bool upload_started_ = false;
  bool upload_stopped_ = false;
  bool continue_relayed_ = false;
  bool client_gone_ = false;
  bool client_keep_alive_ = false;
  std::optional<http::RelayResult> upload_result_;
  http::AsyncEvent upload_done_;
  http::RelayBuffers::Lease upload_buffer_;  // taken only when there is a body to relay
  http::RelayBuffers::Lease download_buffer_;
};

}  // namespace s3hc::pipeline
