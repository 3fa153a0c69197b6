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

struct AdminEndpoints {
  const MetricsRegistry& registry;
  std::function<std::string()> health_json;  // body of GET /health
};

// Serves until the acceptor is closed.
boost::asio::awaitable<void> serve_admin(boost::asio::ip::tcp::acceptor& acceptor,
                                         const AdminEndpoints& endpoints);

}  // namespace s3hc::obs
