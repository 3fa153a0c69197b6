// How origin names become addresses: the DNS servers asked (never the hosts file), the
// static endpoint map consulted first, and the limits of caching and of waiting. YAML keys
// under `upstream` (docs/CONFIGURATION.md). Loaded once at start-up; nothing here changes at
// run time.
#pragma once

#include <chrono>
#include <vector>

#include "http/endpoint.h"
#include "net/inward_addresses.h"
#include "net/static_endpoints.h"

namespace s3hc::net {

struct ResolverOptions {
  // DNS servers (IP addresses, port 53 unless given); empty = the nameservers of
  // /etc/resolv.conf. Default: empty.
  std::vector<http::HostPort> dns_servers;
  // Names answered without DNS; see static_endpoints.h. Default: none.
  std::vector<StaticEndpoint> static_endpoints;
  // Longest wait for the DNS servers' answer, retries included. Default: 3000 ms.
  std::chrono::milliseconds timeout{3000};
  // An answer is cached for its TTL, but at least min_ttl (no DNS query per connection for
  // TTL 0) and at most max_ttl (a moved origin is followed within it). Defaults: 1 s, 5 min.
  std::chrono::milliseconds min_ttl{1000};
  std::chrono::milliseconds max_ttl{300'000};
  // An address that failed to connect is tried after the others for this long, or until a
  // connection to it succeeds. Default: 30 s.
  std::chrono::milliseconds avoid_failed_for{30'000};
  // Networks a name chosen by a client (routing by Host) may resolve into although they are
  // private, loopback or link-local (inward_addresses.h): an S3-compatible store on the
  // site's network, reached by name. Default: none.
  std::vector<Network> allowed_inward_networks;
};

// Parses a DNS server: an IP address, with ":PORT" (IPv6 bracketed: "[::1]:53") or not
// (port 53). Throws std::invalid_argument naming the text.
http::HostPort parse_dns_server(std::string_view text);

}  // namespace s3hc::net
