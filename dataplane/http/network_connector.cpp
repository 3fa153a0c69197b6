#include "http/network_connector.h"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace s3hc::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// However many addresses an origin has, each gets this long at least (or what is left of the
// connect timeout): a TCP handshake within reach takes well under it.
constexpr std::chrono::milliseconds kMinConnectAttempt{1000};

// Connects `stream` to the first of `endpoints` that accepts before `deadline`, telling the
// resolver how each attempt went. Each address gets an equal share of the time left, so one
// that drops SYNs cannot use up the whole timeout of an origin with several.
asio::awaitable<error_code> connect_first(beast::tcp_stream& stream,
                                          const std::vector<tcp::endpoint>& endpoints,
                                          std::chrono::steady_clock::time_point deadline,
                                          net::EndpointResolver& resolver) {
  error_code ec = beast::error::timeout;
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const auto share = left / static_cast<long>(endpoints.size() - i);
    stream.expires_after(std::max(share, std::min(left, kMinConnectAttempt)));
    auto [connect_ec] =
        co_await stream.async_connect(endpoints[i], asio::as_tuple(asio::use_awaitable));
    resolver.report_connect(endpoints[i], !connect_ec);
    if (!connect_ec) co_return error_code{};
    ec = connect_ec;
    stream.close();  // the next address may be of the other family; a new socket either way
  }
  co_return ec;
}

}  // namespace

NetworkConnector::NetworkConnector(asio::any_io_executor executor, UpstreamUrl origin,
                                   NamedBy named_by, const UpstreamOptions& options,
                                   asio::ssl::context& tls_context,
                                   net::EndpointResolver& resolver, DeadlineSweeper& sweeper)
    : executor_(executor),
      origin_(std::move(origin)),
      named_by_(named_by),
      options_(options),
      tls_context_(tls_context),
      resolver_(resolver),
      sweeper_(sweeper) {}

asio::awaitable<std::unique_ptr<UpstreamConnection>> NetworkConnector::connect(error_code& ec) {
  const auto& url = origin_;
  const auto timeout = std::chrono::milliseconds(options_.connect_timeout_ms);

  const auto route = co_await resolver_.resolve(url, named_by_, ec);
  if (ec) co_return nullptr;

  beast::tcp_stream stream(executor_);
  ec = co_await connect_first(stream, route.endpoints, std::chrono::steady_clock::now() + timeout,
                              resolver_);
  if (ec) co_return nullptr;
  stream.socket().set_option(tcp::no_delay(true));

  if (!route.tls) {
    stream.expires_never();
    co_return std::make_unique<UpstreamConnection>(std::move(stream), sweeper_);
  }

  UpstreamConnection::TlsStream tls(std::move(stream), tls_context_);
  // SNI, and the name the certificate must match.
  if (!SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str())) {
    ec = error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    co_return nullptr;
  }
  if (options_.verify_tls) {
    tls.set_verify_mode(asio::ssl::verify_peer);
    tls.set_verify_callback(asio::ssl::host_name_verification(url.host));
  } else {
    tls.set_verify_mode(asio::ssl::verify_none);
  }
  tls.next_layer().expires_after(timeout);
  auto [handshake_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client,
                                                     asio::as_tuple(asio::use_awaitable));
  if (handshake_ec) {
    ec = handshake_ec;
    co_return nullptr;
  }
  tls.next_layer().expires_never();
  co_return std::make_unique<UpstreamConnection>(std::move(tls), sweeper_);
}

}  // namespace s3hc::http
