#include "net/inward_addresses.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string>

namespace s3hc::net {

namespace asio = boost::asio;
using IpAddress = asio::ip::address;

namespace {

// The address as 16 bytes (an IPv4 one as IPv4-mapped IPv6), so one comparison serves both
// families.
asio::ip::address_v6::bytes_type as_v6_bytes(const IpAddress& a) {
  if (a.is_v6()) return a.to_v6().to_bytes();
  return asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4()).to_bytes();
}

// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
IpAddress unmapped(const IpAddress& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

const std::vector<Network>& inward_networks() {
  static const std::vector<Network> networks = [] {
    std::vector<Network> parsed;
    for (const auto* text :
         {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
          "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128",
          "fc00::/7", "fe80::/10", "ff00::/8"}) {
      parsed.push_back(parse_network(text));
    }
    return parsed;
  }();
  return networks;
}

}  // namespace

bool Network::contains(const IpAddress& candidate) const {
  const auto network = unmapped(address);
  const auto other = unmapped(candidate);
  if (network.is_v4() != other.is_v4()) return false;
  const auto bits = prefix_length + (network.is_v4() ? 96u : 0u);
  const auto a = as_v6_bytes(network);
  const auto b = as_v6_bytes(other);
  for (unsigned i = 0; i < bits; ++i) {
    const auto mask = static_cast<unsigned char>(0x80u >> (i % 8));
    if ((a[i / 8] & mask) != (b[i / 8] & mask)) return false;
  }
  return true;
}

Network parse_network(std::string_view text) {
  const auto slash = text.find('/');
  boost::system::error_code ec;
  const auto first = asio::ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) throw std::invalid_argument("invalid network address in '" + std::string(text) + "'");
  const unsigned max_length = unmapped(first).is_v4() ? 32 : 128;
  unsigned length = max_length;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, parse_ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || parse_ec != std::errc{} || end != digits.data() + digits.size() ||
        length > max_length) {
      throw std::invalid_argument("invalid prefix length in '" + std::string(text) + "'");
    }
  }
  return {unmapped(first), length};
}

bool is_inward(const IpAddress& candidate) {
  const auto& networks = inward_networks();
  return std::any_of(networks.begin(), networks.end(),
                     [&](const Network& network) { return network.contains(candidate); });
}

std::vector<IpAddress> local_interface_addresses() {
  std::vector<IpAddress> addresses;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return addresses;
  for (const auto* entry = list; entry; entry = entry->ifa_next) {
    if (!entry->ifa_addr) continue;
    if (entry->ifa_addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
      addresses.push_back(asio::ip::address_v4(ntohl(in->sin_addr.s_addr)));
    } else if (entry->ifa_addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr);
      asio::ip::address_v6::bytes_type bytes;
      std::copy_n(in6->sin6_addr.s6_addr, bytes.size(), bytes.begin());
      addresses.push_back(asio::ip::address_v6(bytes));
    }
  }
  ::freeifaddrs(list);
  return addresses;
}

std::vector<IpAddress> outward_addresses(const std::vector<IpAddress>& candidates,
                                       const std::vector<Network>& allowed,
                                       const std::vector<IpAddress>& own) {
  std::vector<IpAddress> outward;
  for (const auto& candidate : candidates) {
    const bool allowed_inward =
        std::any_of(allowed.begin(), allowed.end(),
                    [&](const Network& network) { return network.contains(candidate); });
    const bool refused = is_inward(candidate) ||
                         std::find(own.begin(), own.end(), unmapped(candidate)) != own.end();
    if (!refused || allowed_inward) outward.push_back(candidate);
  }
  return outward;
}

}  // namespace s3hc::net
