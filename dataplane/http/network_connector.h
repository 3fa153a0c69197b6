// Connections to one origin over the network: its name resolved through the worker's
// net::EndpointResolver, a TCP connection to the first address that accepts, then for HTTPS a
// TLS handshake with SNI and certificate verification for that name.
//
// Thread-safety: none; one per worker thread, used from its io_context. The ssl::context is
// shared by every worker's connector (OpenSSL contexts are safe for that).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "http/upstream_connector.h"
#include "http/upstream_options.h"
#include "net/endpoint_resolver.h"

namespace s3hc::http {

class NetworkConnector final : public UpstreamConnector {
 public:
  using NamedBy = net::EndpointResolver::NamedBy;

  // `named_by`: whether `origin` is the operator's (upstream.url) or a client's (its Host).
  NetworkConnector(boost::asio::any_io_executor executor, UpstreamUrl origin, NamedBy named_by,
                   const UpstreamOptions& options, boost::asio::ssl::context& tls_context,
                   net::EndpointResolver& resolver, DeadlineSweeper& sweeper);

  boost::asio::awaitable<std::unique_ptr<UpstreamConnection>> connect(
      boost::system::error_code& ec) override;

 private:
  boost::asio::any_io_executor executor_;
  const UpstreamUrl origin_;
  const NamedBy named_by_;
  const UpstreamOptions& options_;
  boost::asio::ssl::context& tls_context_;
  net::EndpointResolver& resolver_;
  DeadlineSweeper& sweeper_;
};

}  // namespace s3hc::http
