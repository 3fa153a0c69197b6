#include "net/endpoint_resolver.h"

#include "net/resolve_error.h"

namespace s3hc::net {

namespace asio = boost::asio;
using boost::system::error_code;

EndpointResolver::EndpointResolver(asio::any_io_executor executor,
                                   const ResolverOptions& options)
    : options_(options),
      own_addresses_(local_interface_addresses()),
      dns_(executor, options),
      health_(options.avoid_failed_for) {}

asio::awaitable<EndpointResolver::Route> EndpointResolver::resolve(
    const http::UpstreamUrl& origin, NamedBy named_by, error_code& ec) {
  const auto* mapped = find_static_endpoint(options_.static_endpoints, origin.host);
  const http::UpstreamUrl target = mapped ? mapped->target : origin;
  std::vector<asio::ip::address> addresses;
  error_code not_literal;
  const auto literal = asio::ip::make_address(target.host, not_literal);
  if (not_literal) {
    addresses = co_await dns_.resolve(target.host, ec);
    if (ec) co_return Route{};
    // (A static map entry is the operator's word, wherever it points.)
    if (named_by == NamedBy::kClient && !mapped) {
      addresses = outward_addresses(addresses, options_.allowed_inward_networks, own_addresses_);
      if (addresses.empty()) {
        ec = ResolveError::kInward;
        co_return Route{};
      }
    }
  } else {
    addresses.push_back(literal);
  }
  Route route{.tls = target.tls, .endpoints = {}};
  for (const auto& address : addresses) route.endpoints.emplace_back(address, target.port);
  health_.order(route.endpoints);
  co_return route;
}

}  // namespace s3hc::net
