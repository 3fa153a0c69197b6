// The control plane's read-only HTTP endpoint (--http-listen, docs/OPERATIONS.md "Control
// plane and s3hc-ctl"): GET /metrics (the fleet's sum of what the proxies report, as
// Prometheus text), GET /api/dashboard (obs/dashboard.h, scope "fleet"), the dashboard page
// (GET /, GET /dashboard/<file>) and GET /health, through the proxies' admin listener
// (obs/admin_server.h). Unauthenticated, so loopback only unless the operator says otherwise:
// it shows the fleet's proxy names, addresses and numbers (no secrets) and changes nothing.
//
// Lifetime: serves on a thread of its own from construction to destruction; the metrics,
// registry and policies must outlive it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <thread>

#include "controlplane/fleet_metrics.h"
#include "controlplane/policy_store.h"
#include "controlplane/proxy_registry.h"
#include "obs/admin_server.h"

namespace s3hc::control {

struct FleetHttpOptions {
  std::string listen = "127.0.0.1:7071";  // HOST:PORT; port 0: any free one (port())
  bool allow_public = false;              // a non-loopback address is refused without it
};

class FleetHttpServer {
 public:
  // Binds at once: throws std::runtime_error when the address cannot be used or is not
  // loopback without allow_public.
  FleetHttpServer(const FleetHttpOptions& options, const FleetMetrics& metrics,
                  const ProxyRegistry& proxies, const PolicyStore& policies);
  ~FleetHttpServer();
  FleetHttpServer(const FleetHttpServer&) = delete;
  FleetHttpServer& operator=(const FleetHttpServer&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  std::string metrics_text() const;
  std::string dashboard() const;
  std::uint64_t policy_version() const;

  const FleetMetrics& metrics_;
  const ProxyRegistry& proxies_;
  const PolicyStore& policies_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  obs::AdminEndpoints endpoints_;
  std::thread thread_;
};

}  // namespace s3hc::control
