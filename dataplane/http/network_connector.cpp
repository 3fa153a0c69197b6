#include "http/network_connector.h"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "net/connect_first.h"

namespace s3hc::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;
using tcp = asio::ip::tcp;

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
  ec = co_await net::connect_first(stream, route.endpoints,
                                   std::chrono::steady_clock::now() + timeout, resolver_);
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
