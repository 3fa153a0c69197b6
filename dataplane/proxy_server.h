// Wires s3hc-proxy together: one event loop per worker thread, each with its own acceptor,
// upstream pool and pipeline; the admin listener; SIGINT/SIGTERM handling.
// Construct and run() from the main thread; run() returns after a stop signal.
#pragma once

#include <memory>

#include "config/proxy_config.h"

namespace s3hc {

class ProxyServer {
 public:
  // Binds every listener; throws std::runtime_error when one cannot be opened.
  explicit ProxyServer(config::ProxyConfig config);
  ~ProxyServer();

  // Writes config.ports_file (when set) with the ports bound, then serves until a stop
  // signal. Throws std::system_error when the ports file cannot be written.
  void run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace s3hc
