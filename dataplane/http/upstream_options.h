// How the proxy reaches the origin: which endpoint a request goes to, TLS verification, time
// limits and the keep-alive pools. YAML section `upstream`, one key per field (docs/CONFIGURATION.md). Loaded
// once at start-up; nothing here changes at run time.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/endpoint.h"
#include "net/resolver_options.h"

namespace s3hc::http {

// Amazon S3's endpoint names, path-style and virtual-hosted (a bucket before ".s3"): global,
// regional ("s3.REGION", "s3.dualstack.REGION", the legacy "s3-REGION"), and China's.
inline constexpr std::array<std::string_view, 8> kAmazonS3Hosts = {
    "s3.amazonaws.com",         "*.s3.amazonaws.com",         "s3.*.amazonaws.com",
    "*.s3.*.amazonaws.com",     "s3-*.amazonaws.com",         "*.s3-*.amazonaws.com",
    "s3.*.amazonaws.com.cn",    "*.s3.*.amazonaws.com.cn"};

struct UpstreamOptions {
  // Where every request is forwarded (fixed-origin mode, for S3-compatible stores and tests).
  // Unset: each request goes to the endpoint its Host names (origin_router.h). Default: unset.
  std::optional<UpstreamUrl> url;
  // In Host mode, the endpoint names requests may go to (`*` matches any run of characters,
  // dots included); any other Host is refused. Default: Amazon S3's names (kAmazonS3Hosts).
  std::vector<std::string> allowed_hosts{kAmazonS3Hosts.begin(), kAmazonS3Hosts.end()};
  // Verify the origin's certificate chain and name (HTTPS only). Default: true.
  bool verify_tls = true;
  // PEM bundle of trusted CAs; empty = the system store. Default: "".
  std::string ca_file;
  // Time allowed to connect (to the first address that accepts), and again to finish the TLS
  // handshake. Default: 5000.
  int connect_timeout_ms = 5000;
  // Time allowed between sending a request and the first response header byte, and
  // between two reads or writes of a body. Default: 60000.
  int response_timeout_ms = 60000;
  // Idle keep-alive connections kept per worker thread. Default: 64.
  std::size_t pool_max_idle = 64;
  // An idle pooled connection older than this is closed, not reused. Default: 15000.
  int pool_idle_timeout_ms = 15000;
  // How the origin's name becomes addresses (DNS servers, static endpoint map, caching).
  net::ResolverOptions resolver;
};

}  // namespace s3hc::http
