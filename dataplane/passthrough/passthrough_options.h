// The HTTPS passthrough listener (passthrough_session.h): where it listens and what bounds its
// connections. YAML section `passthrough`, one key per field (docs/CONFIGURATION.md). Loaded
// once at start-up; nothing here changes at run time.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "http/endpoint.h"

namespace s3hc::passthrough {

struct PassthroughOptions {
  // Where HTTPS clients of S3's names connect (0.0.0.0:443 in production); port 0 = any free
  // port (reported in the ports file). None = no passthrough. Default: none.
  std::optional<http::HostPort> listen;
  // Longest wait for a whole ClientHello from a new connection. Default: 5000 ms.
  std::chrono::milliseconds client_hello_timeout{5000};
  // A relayed connection over which no byte has moved in either direction for this long is
  // closed. Default: 300000 ms.
  std::chrono::milliseconds idle_timeout{300'000};
  // Open passthrough connections (the process's) past which a new one is closed at once.
  // Default: 10000.
  std::size_t max_connections = 10'000;
};

}  // namespace s3hc::passthrough
