// Options of s3hc-proxy, as plain structs with their defaults. docs/CONFIGURATION.md documents
// every field here under the same YAML key; keep the two in step. Loaded once at start-up;
// nothing here changes at run time.
#pragma once

#include <cstddef>
#include <string>

#include "http/endpoint.h"

namespace s3hc::config {

struct UpstreamOptions {
  // Where every request is forwarded. YAML: upstream.url. Default: https://s3.amazonaws.com
  http::UpstreamUrl url = http::parse_upstream_url("https://s3.amazonaws.com");
  // Verify the origin's certificate chain and name (HTTPS only). Default: true.
  bool verify_tls = true;
  // PEM bundle of trusted CAs; empty = the system store. Default: "".
  std::string ca_file;
  // Time allowed to resolve and connect (and finish the TLS handshake). Default: 5000.
  int connect_timeout_ms = 5000;
  // Time allowed between sending a request and the first response header byte, and
  // between two reads or writes of a body. Default: 60000.
  int response_timeout_ms = 60000;
  // Idle keep-alive connections kept per worker thread. Default: 64.
  std::size_t pool_max_idle = 64;
  // An idle pooled connection older than this is closed, not reused. Default: 15000.
  int pool_idle_timeout_ms = 15000;
};

struct LimitsOptions {
  // Largest request header section accepted from a client (request line included). Default: 16384.
  std::size_t max_header_bytes = 16 * 1024;
  // Size of each relay buffer (one per direction per connection): bounds memory per
  // connection whatever the object size. Default: 131072.
  std::size_t relay_buffer_bytes = 128 * 1024;
};

struct TimeoutOptions {
  // A keep-alive connection with no request started is closed after this. Default: 60000.
  int client_idle_ms = 60000;
  // A client that stalls this long inside a request (headers or body) gets 400 RequestTimeout.
  // Also bounds each write to a client. Default: 20000.
  int client_read_ms = 20000;
};

struct ProxyConfig {
  // S3 listener for clients. YAML: listen. Default: 0.0.0.0:8080
  http::HostPort listen{"0.0.0.0", 8080};
  // Health and metrics listener. YAML: admin_listen. Default: 127.0.0.1:9090
  http::HostPort admin_listen{"127.0.0.1", 9090};
  // Worker threads, each with its own event loop; 0 = one per core. Default: 0.
  int threads = 0;
  // trace, debug, info, warn, error or off. Default: info.
  std::string log_level = "info";
  // On SIGTERM/SIGINT: stop accepting, let requests in flight finish for up to this long,
  // then exit. Default: 10000.
  int shutdown_grace_ms = 10000;
  UpstreamOptions upstream;
  LimitsOptions limits;
  TimeoutOptions timeouts;
};

// Parses YAML text into a config starting from the defaults. Unknown keys and values of the
// wrong type or range throw std::invalid_argument naming the key.
ProxyConfig parse_config_yaml(const std::string& yaml_text);

// Reads and parses a file; also throws std::invalid_argument when it cannot be read.
ProxyConfig load_config_file(const std::string& path);

// Checks cross-field constraints (called after command-line overrides are applied).
void validate(const ProxyConfig& config);

}  // namespace s3hc::config
