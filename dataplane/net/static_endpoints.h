// The static endpoint map: names answered from the configuration instead of DNS (tests,
// air-gapped sites), each with where and how to connect. Written "NAME=[http://]HOST:PORT"
// (config key upstream.resolve, flag --resolve): HTTPS unless http:// is given; NAME is a
// host name or "*.suffix", which matches any name ending in ".suffix". Pure functions; any
// thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/endpoint.h"

namespace s3hc::net {

struct StaticEndpoint {
  std::string name;        // lower case; "*.suffix" for a wildcard
  http::UpstreamUrl target;  // HOST may be an IP address or a name, which DNS resolves

  bool operator==(const StaticEndpoint&) const = default;
};

// Parses "NAME=[http://|https://]HOST[:PORT]" (port 443, or 80 with http://); throws
// std::invalid_argument naming the text.
StaticEndpoint parse_static_endpoint(std::string_view text);

// The entry for `name` (case-insensitive): an exact entry first, else the wildcard with the
// longest suffix; nullptr when none matches.
const StaticEndpoint* find_static_endpoint(const std::vector<StaticEndpoint>& entries,
                                           std::string_view name);

}  // namespace s3hc::net
