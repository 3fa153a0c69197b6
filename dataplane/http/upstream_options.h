// How the proxy reaches the origin: its address, TLS verification, time limits and the
// keep-alive pool. YAML section `upstream`, one key per field (docs/CONFIGURATION.md). Loaded
// once at start-up; nothing here changes at run time.
#pragma once

#include <cstddef>
#include <string>

#include "http/endpoint.h"
#include "net/resolver_options.h"

namespace s3hc::http {

struct UpstreamOptions {
  // Where every request is forwarded. Default: https://s3.amazonaws.com
  UpstreamUrl url = parse_upstream_url("https://s3.amazonaws.com");
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
