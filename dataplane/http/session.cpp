#include "http/session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <tuple>

#include "http/access_log_entry.h"
#include "http/error_writer.h"
#include "http/protocol_error.h"

namespace s3hc::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

namespace {

// Read buffer of a connection between requests: most request headers fit in one read.
constexpr std::size_t kIdleBufferBytes = 4096;

// Waits for the first byte of the next request. False: the client closed, reset, or stayed
// idle past the timeout; all of these end the connection quietly.
asio::awaitable<bool> await_next_request(ClientConnection& client, const SessionOptions& options) {
  if (client.buffer().size() > 0) co_return true;  // pipelined bytes already here
  // An idle connection keeps a small buffer, not the relay-sized one a body upload grew.
  if (client.buffer().capacity() > kIdleBufferBytes) client.buffer().shrink_to_fit();
  if (options.draining->load(std::memory_order_relaxed)) co_return false;
  client.idle_expires_after(options.idle_timeout);
  auto [ec, received] = co_await client.socket().async_read_some(
      client.buffer().prepare(kIdleBufferBytes), asio::as_tuple(asio::use_awaitable));
  client.buffer().commit(received);
  co_return !ec;
}

// RFC 9112 §6.3: a request whose Transfer-Encoding does not end in "chunked" has no
// knowable length; forwarding it would let its body be read as another request (smuggling).
bool has_valid_framing(const RequestParser::value_type& request) {
  return request.count(beast::http::field::transfer_encoding) == 0 || request.chunked();
}

// Why a request header could not be read, as the error the client gets (nullptr: just close).
const s3::ErrorKind* header_error_kind(const error_code& ec, const ClientConnection& client) {
  if (client.timed_out()) return &s3::errors::kRequestTimeout;
  if (ec == beast::http::error::header_limit) {
    return &s3::errors::kHeaderTooLarge;
  }
  if (is_protocol_error(ec)) {
    return ec == beast::http::error::partial_message ? nullptr : &s3::errors::kBadRequest;
  }
  return nullptr;  // socket errors: the client is gone
}

// Reads and parses one request header section. Unlike beast::http::async_read_header, the
// size limit counts the whole section: Beast 1.81 applies header_limit to each parse step, and
// fields it has already consumed do not count, so a header section arriving in several reads
// could grow past any limit. Returns the bytes of the section.
asio::awaitable<std::tuple<error_code, std::size_t>> read_request_header(
    ClientConnection& client, RequestParser& request, std::size_t max_header_bytes) {
  // Beast's own per-step limit must not be the tighter one (its default is 8 KiB).
  request.header_limit(static_cast<std::uint32_t>(max_header_bytes));
  std::size_t header_bytes = 0;
  for (;;) {
    error_code ec;
    std::size_t used = 0;
    try {
      used = request.put(client.buffer().data(), ec);
    } catch (const std::length_error&) {  // Beast refuses a field value over 64 KiB this way
      co_return std::tuple{error_code(beast::http::error::header_limit), header_bytes};
    }
    client.buffer().consume(used);
    header_bytes += used;
    if (!ec && request.is_header_done()) {
      // A section parsed in one step was never measured against the limit in the loop.
      if (header_bytes > max_header_bytes) ec = beast::http::error::header_limit;
      co_return std::tuple{ec, header_bytes};
    }
    if (ec != beast::http::error::need_more) co_return std::tuple{ec, header_bytes};
    const auto pending = client.buffer().size();
    if (header_bytes + pending >= max_header_bytes) {
      co_return std::tuple{error_code(beast::http::error::header_limit), header_bytes};
    }
    const auto room = std::min(kIdleBufferBytes, max_header_bytes - header_bytes - pending);
    auto [read_ec, received] = co_await client.socket().async_read_some(
        client.buffer().prepare(room), asio::as_tuple(asio::use_awaitable));
    client.buffer().commit(received);
    if (read_ec) co_return std::tuple{read_ec, header_bytes};
  }
}

// Refuses a request the admission gate did not let in, as S3 does when asked too much.
// Returns whether the connection may carry the next request: only if this one has no body,
// which is never read (it may be large, and reading it is work the proxy has no room for).
asio::awaitable<bool> refuse_overloaded(ClientConnection& client, const RequestParser& request,
                                        const SessionOptions& options,
                                        obs::ProxyMetrics& metrics) {
  const bool keep_alive = request.is_done() && request.get().keep_alive();
  const HeaderField retry_after[] = {{"Retry-After", kRetryAfterSeconds}};
  ClientWriter writer(client, options.io_timeout, metrics.client_sent_bytes);
  co_await send_error(writer, s3::errors::kSlowDown,
                      {.method = request.get().method_string(),
                       .resource = request.get().target(),
                       .keep_alive = keep_alive,
                       .extra_fields = retry_after},
                      metrics);
  co_return keep_alive && !client.timed_out();
}

asio::awaitable<void> serve_requests(ClientConnection& client, RequestHandler& handler,
                                     const SessionOptions& options, obs::ProxyMetrics& metrics) {
  error_code no_peer;
  const auto remote_ip = client.socket().remote_endpoint(no_peer).address().to_string();
  for (;;) {
    if (!co_await await_next_request(client, options)) co_return;

    client.record() = RequestRecord{};  // from its first byte
    RequestParser request;
    request.body_limit(boost::none);  // bodies are streamed, never held
    // A deadline for the whole header section, not per read: a client trickling bytes
    // cannot hold a connection forever (slowloris), as with nginx's client_header_timeout.
    client.expires_after(options.io_timeout);
    auto [ec, consumed] = co_await read_request_header(client, request, options.max_header_bytes);
    client.expires_never();
    // Bytes are counted as parsed (here the header, the body where it is relayed), so bytes
    // read ahead for the next pipelined request are not counted twice.
    metrics.client_received_bytes.inc(consumed);
    client.record().received_bytes = consumed;
    if (!ec && !has_valid_framing(request.get())) ec = beast::http::error::bad_transfer_encoding;
    if (ec) {
      if (const auto* kind = header_error_kind(ec, client)) {
        spdlog::debug("rejecting request: {} ({})", kind->code, ec.message());
        ClientWriter writer(client, options.io_timeout, metrics.client_sent_bytes);
        co_await send_error(writer, *kind, {.method = "-", .resource = "", .keep_alive = false},
                            metrics);
      }
      co_return;
    }
    // Held until the answer is done: a request counts against the limits while it runs.
    const auto ticket = options.admission->admit();
    // (if/else, not ?:: GCC 12 miscompiles co_await inside a conditional expression)
    bool keep_alive = false;
    if (ticket) {
      keep_alive = co_await handler.handle(client, request);
    } else {
      keep_alive = co_await refuse_overloaded(client, request, options, metrics);
    }
    if (options.access_log) {
      options.access_log->append(obs::format_access_log_line(
          access_log_entry(client.record(), request.get().base(), remote_ip)));
    }
    if (!keep_alive) co_return;
  }
}

}  // namespace

asio::awaitable<void> run_session(asio::ip::tcp::socket socket, RequestHandler& handler,
                                  const SessionOptions& options, DeadlineSweeper& sweeper,
                                  obs::ProxyMetrics& metrics) {
  socket.set_option(asio::ip::tcp::no_delay(true));
  ClientConnection client(std::move(socket), options.max_header_bytes + options.read_buffer_bytes,
                          sweeper);
  metrics.open_connections.add(1);
  try {
    co_await serve_requests(client, handler, options, metrics);
  } catch (const std::exception& error) {
    spdlog::error("client session failed: {}", error.what());
  }
  client.shutdown_and_close();
  metrics.open_connections.add(-1);
}

}  // namespace s3hc::http
