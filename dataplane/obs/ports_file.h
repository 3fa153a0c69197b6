// The ports file: how a proxy whose listeners were given port 0 ("any free port") tells
// whoever started it which ports the kernel chose. A starter that picks ports itself and
// passes them in races every other process on the host for them; one that lets the proxy
// bind and then reads this file cannot. Written once at start-up, from the main thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace s3hc::obs {

// The ports the listeners are bound to.
struct BoundPorts {
  std::uint16_t listen = 0;  // S3 clients
  std::uint16_t admin = 0;   // /health and /metrics
  std::optional<std::uint16_t> passthrough;  // HTTPS passthrough, when on
};

// The file's contents: {"listen":P,"admin":A}, or {"listen":P,"admin":A,"passthrough":T}
// when the passthrough listener is on, and a newline.
std::string ports_json(const BoundPorts& ports);

// Writes ports_json(ports) to `path` through a temp file beside it renamed over it, so a
// reader polling for the file finds nothing or all of it, never a part. Throws
// std::system_error naming the path when it cannot.
void write_ports_file(const std::string& path, const BoundPorts& ports);

}  // namespace s3hc::obs
