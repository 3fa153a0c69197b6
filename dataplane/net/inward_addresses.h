// Addresses a name chosen by a client must not lead the proxy to (issue 12, destination
// policy): loopback, private (RFC 1918, IPv6 unique local), shared (100.64.0.0/10),
// link-local (169.254.0.0/16 and fe80::/10: the cloud metadata services), unspecified,
// multicast and broadcast, IPv4-mapped IPv6 spellings of them, and the proxy host's own
// addresses (no loop to itself). A DNS answer may point a public name inward (DNS rebinding);
// such addresses are dropped unless the operator allowed their network. Pure functions but
// local_interface_addresses(); any thread.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string_view>
#include <vector>

namespace s3hc::net {

// An IP network, e.g. 10.0.0.0/8 or fd00::/8.
struct Network {
  boost::asio::ip::address address;  // its first address
  unsigned prefix_length = 0;

  bool contains(const boost::asio::ip::address& candidate) const;
  bool operator==(const Network&) const = default;
};

// Parses "ADDRESS/PREFIX" (a bare address: that address alone); throws std::invalid_argument
// naming the text.
Network parse_network(std::string_view text);

// Loopback, private, shared, link-local, unspecified, multicast or broadcast.
bool is_inward(const boost::asio::ip::address& address);

// The addresses of this host's interfaces, read once at start-up.
std::vector<boost::asio::ip::address> local_interface_addresses();

// The `candidates` a client-named origin may be reached at: those neither inward nor this
// host's own, unless within one of `allowed`.
std::vector<boost::asio::ip::address> outward_addresses(
    const std::vector<boost::asio::ip::address>& candidates, const std::vector<Network>& allowed,
    const std::vector<boost::asio::ip::address>& own);

}  // namespace s3hc::net
