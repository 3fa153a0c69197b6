#include "passthrough/passthrough_session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <optional>
#include <vector>

#include "net/connect_first.h"
#include "net/resolve_error.h"
#include "passthrough/byte_relay.h"
#include "passthrough/client_hello.h"
#include "passthrough/destination.h"
#include "util/ascii.h"

namespace s3hc::passthrough {

namespace asio = boost::asio;
namespace beast = boost::beast;
using obs::PassthroughResult;
using tcp = asio::ip::tcp;

namespace {

constexpr std::uint16_t kHttpsPort = 443;

// What a client sent up to the verdict on its ClientHello (its first bytes, kept to be sent
// on), and that verdict.
struct ClientHello {
  ClientHelloScan scan;
  std::vector<std::uint8_t> received;
};

// Reads until the received bytes decide (the client_hello_timeout for all of it); nullopt when
// the client closes, fails or stalls first. More than kMaxClientHelloBytes without a whole
// ClientHello is malformed.
asio::awaitable<std::optional<ClientHello>> read_client_hello(tcp::socket& client,
                                                              const PassthroughContext& context) {
  http::Deadline deadline(context.sweeper, [&client] {
    boost::system::error_code ignored;
    client.cancel(ignored);
  });
  deadline.expires_after(context.options.client_hello_timeout);
  std::array<std::uint8_t, kMaxClientHelloBytes> buffer;
  std::size_t filled = 0;
  for (;;) {
    auto [ec, received] = co_await client.async_read_some(
        asio::buffer(buffer.data() + filled, buffer.size() - filled),
        asio::as_tuple(asio::use_awaitable));
    filled += received;
    auto scan = scan_client_hello(std::span(buffer).first(filled));
    if (scan.verdict == HelloVerdict::kNeedMore) {
      if (ec) co_return std::nullopt;
      if (filled < buffer.size()) continue;
      scan.verdict = HelloVerdict::kMalformed;
    }
    // Copied out: the buffer's 16 KiB would otherwise stay with the connection.
    ClientHello hello{std::move(scan), {buffer.begin(), buffer.begin() + filled}};
    co_return hello;
  }
}

// The client's address for log lines.
std::string peer_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return "(gone)";
  return http::HostPort{peer.address().to_string(), peer.port()}.to_string();
}

// Closes a connection that is not relayed: logged (at info, these are the client's doing) and
// counted.
void turn_away(const PassthroughContext& context, const std::string& peer,
               PassthroughResult result, std::string_view why) {
  spdlog::info("passthrough from {}: closed: {}", peer, why);
  context.metrics.count(result);
}

asio::awaitable<void> serve(tcp::socket& client, const PassthroughContext& context) {
  const auto peer = peer_of(client);
  const auto hello = co_await read_client_hello(client, context);
  if (!hello) {
    // Port scanners and health checks connect and leave without a word: not worth a line.
    spdlog::debug("passthrough from {}: closed before a whole ClientHello", peer);
    context.metrics.count(PassthroughResult::kIncomplete);
    co_return;
  }
  switch (hello->scan.verdict) {
    case HelloVerdict::kNotTls:
      turn_away(context, peer, PassthroughResult::kNotTls, "not TLS");
      co_return;
    case HelloVerdict::kMalformed:
      turn_away(context, peer, PassthroughResult::kMalformed, "malformed or oversized ClientHello");
      co_return;
    case HelloVerdict::kNoServerName:
      turn_away(context, peer, PassthroughResult::kNoSni, "ClientHello without a server name");
      co_return;
    case HelloVerdict::kNeedMore:
    case HelloVerdict::kServerName:
      break;
  }
  const auto name = destination_name(context.upstream, hello->scan.server_name);
  if (!name) {
    turn_away(context, peer, PassthroughResult::kRefused,
              "refused: server name '" + util::loggable(hello->scan.server_name) +
                  "' names no allowed endpoint (upstream.allowed_hosts)");
    co_return;
  }

  boost::system::error_code ec;
  // A named variable, not a temporary in the co_await expression: GCC 12 destroys such
  // temporaries twice.
  const http::UpstreamUrl endpoint{.tls = true, .host = *name, .port = kHttpsPort};
  // The name is the client's choice: its DNS answer must not lead inward.
  const auto route =
      co_await context.resolver.resolve(endpoint, net::EndpointResolver::NamedBy::kClient, ec);
  if (ec == net::ResolveError::kInward) {
    turn_away(context, peer, PassthroughResult::kRefused,
              "refused: server name '" + *name +
                  "' resolves only to inward addresses (upstream.allowed_inward_networks)");
    co_return;
  }
  if (ec) {
    spdlog::warn("passthrough from {} to {}: cannot resolve: {}", peer, *name, ec.message());
    context.metrics.count(PassthroughResult::kUnresolved);
    co_return;
  }
  // Plain TCP whatever the route says of TLS: the client's TLS goes to the endpoint as it is.
  beast::tcp_stream stream(client.get_executor());
  ec = co_await net::connect_first(
      stream, route.endpoints,
      std::chrono::steady_clock::now() +
          std::chrono::milliseconds(context.upstream.connect_timeout_ms),
      context.resolver);
  if (ec) {
    spdlog::warn("passthrough from {} to {}: unreachable: {}", peer, *name, ec.message());
    context.metrics.count(PassthroughResult::kUnreachable);
    co_return;
  }
  auto origin = stream.release_socket();
  context.metrics.count(PassthroughResult::kRelayed);
  origin.set_option(tcp::no_delay(true), ec);
  const RelayContext relay{
      .idle_timeout = context.options.idle_timeout,
      .sweeper = context.sweeper,
      .buffers = context.buffers,
      .counters = {context.metrics.client_to_origin_bytes, context.metrics.origin_to_client_bytes}};
  const auto end = co_await relay_bytes(client, origin, hello->received, relay);
  spdlog::debug("passthrough from {} to {}: {}", peer, *name,
                end == RelayEnd::kClosed ? "closed" : end == RelayEnd::kIdle ? "idle" : "failed");
  origin.close(ec);
}

}  // namespace

asio::awaitable<void> run_passthrough(tcp::socket client, const PassthroughContext& context) {
  auto& open = context.metrics.open_connections;
  // Checked, then counted: threads accepting at the same moment may pass it together, so the
  // limit can be overshot by fewer connections than there are worker threads.
  if (open.value() >= static_cast<std::int64_t>(context.options.max_connections)) {
    spdlog::debug("passthrough from {}: closed: passthrough.max_connections reached",
                  peer_of(client));
    context.metrics.count(PassthroughResult::kLimit);
    co_return;
  }
  open.add(1);
  boost::system::error_code ignored;
  client.set_option(tcp::no_delay(true), ignored);
  try {
    co_await serve(client, context);
  } catch (const std::exception& error) {
    spdlog::error("passthrough connection failed: {}", error.what());
  }
  client.close(ignored);
  open.add(-1);
}

}  // namespace s3hc::passthrough
