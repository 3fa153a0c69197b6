// Where a connection to an origin goes: the static endpoint map first (which may also say
// plain HTTP or HTTPS, and another port), else the origin's name through DNS (an IP address
// is taken as it is); the addresses in the order AddressHealth gives. What the upstream pool
// uses to connect, and tells how each attempt went.
//
// Thread-safety: none. One per worker thread, used on its io_context only; `options` must
// outlive it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <vector>

#include "http/endpoint.h"
#include "net/address_health.h"
#include "net/dns_resolver.h"
#include "net/resolver_options.h"

namespace s3hc::net {

class EndpointResolver {
 public:
  struct Route {
    bool tls = true;
    std::vector<boost::asio::ip::tcp::endpoint> endpoints;  // never empty; try in this order
  };

  EndpointResolver(boost::asio::any_io_executor executor, const ResolverOptions& options);

  // Who named the origin: the operator (upstream.url, a static map entry), whose addresses
  // are taken as they are, or a client (a Host, a TLS server name), whose DNS answers must
  // not lead inward (inward_addresses.h).
  enum class NamedBy { kOperator, kClient };

  // The route to `origin`; `ec` set (a ResolveError) when its name cannot be resolved in time,
  // or (kInward) when a client's name resolves only inward.
  // TLS, when the route says so, still names `origin.host` (SNI and certificate check).
  boost::asio::awaitable<Route> resolve(const http::UpstreamUrl& origin, NamedBy named_by,
                                        boost::system::error_code& ec);

  // What a connection attempt to one of the route's endpoints came to.
  void report_connect(const boost::asio::ip::tcp::endpoint& endpoint, bool connected) {
    health_.report(endpoint, connected);
  }

 private:
  const ResolverOptions& options_;
  const std::vector<boost::asio::ip::address> own_addresses_;
  DnsResolver dns_;
  AddressHealth health_;
};

}  // namespace s3hc::net
