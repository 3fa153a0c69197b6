// The admin listener, read-only: GET /health (JSON), GET /metrics (Prometheus text), GET
// /api/dashboard (obs/dashboard.h's JSON) and the dashboard page (GET /, GET /dashboard/<file>,
// obs/dashboard_files.h); 404 otherwise. A proxy's is kept off the S3 port so scrapes and
// probes never mix with client traffic; the control plane serves the fleet's through it too.
// Runs on one io_context; the endpoints' callbacks must outlive it and be callable from it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>


namespace s3hc::obs {

// What GET /health answers: 200 while serving, 503 otherwise (e.g. draining for shutdown),
// so load balancers stop sending new clients.
struct Health {
  bool serving;
  std::string json;
};

struct AdminEndpoints {
  std::function<std::string()> metrics;    // GET /metrics
  std::function<std::string()> dashboard;  // GET /api/dashboard
  std::function<Health()> health;          // GET /health
};

// Serves until the acceptor is closed.
boost::asio::awaitable<void> serve_admin(boost::asio::ip::tcp::acceptor& acceptor,
                                         const AdminEndpoints& endpoints);

}  // namespace s3hc::obs
