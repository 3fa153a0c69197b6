#include "net/resolver_options.h"

#include <boost/asio/ip/address.hpp>
#include <stdexcept>
#include <string>

namespace s3hc::net {
namespace {

bool is_ip_address(std::string_view text) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(text), ec);
  return !ec;
}

}  // namespace

http::HostPort parse_dns_server(std::string_view text) {
  constexpr std::uint16_t kDnsPort = 53;
  std::string_view host = text;
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  // First as a whole: a bare IPv6 address holds colons that parse_host_port takes for a port.
  if (is_ip_address(host)) return {std::string(host), kDnsPort};
  try {
    if (auto server = http::parse_host_port(text); is_ip_address(server.host)) return server;
  } catch (const std::invalid_argument&) {
    // not HOST:PORT either
  }
  throw std::invalid_argument("a DNS server must be an IP address, with :PORT or not: '" +
                              std::string(text) + "'");
}

}  // namespace s3hc::net
