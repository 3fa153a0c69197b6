// The admin listener: GET /health (JSON) and GET /metrics (Prometheus text); 404 otherwise.
// Kept off the S3 port so scrapes and probes never mix with client traffic.
// Runs on one io_context; the registry and health callback must outlive it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>

#include "obs/metrics.h"

namespace s3hc::obs {

// What GET /health answers: 200 while serving, 503 otherwise (e.g. draining for shutdown),
// so load balancers stop sending new clients.
struct Health {
  bool serving;
  std::string json;
};

struct AdminEndpoints {
  const MetricsRegistry& registry;
  std::function<Health()> health;
};

// Serves until the acceptor is closed.
boost::asio::awaitable<void> serve_admin(boost::asio::ip::tcp::acceptor& acceptor,
                                         const AdminEndpoints& endpoints);

}  // namespace s3hc::obs
