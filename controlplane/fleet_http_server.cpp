#include "controlplane/fleet_http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <stdexcept>

#include "controlplane/fleet_view.h"
#include "obs/dashboard.h"
#include "obs/prometheus_text.h"
#include "util/wall_clock.h"

namespace s3hc::control {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// The address of HOST:PORT ([V6]:PORT too), resolved; refused when not loopback unless
// `allow_public`.
tcp::endpoint endpoint_of(const FleetHttpOptions& options) {
  const auto& listen = options.listen;
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::runtime_error("--http-listen " + listen + ": expected HOST:PORT");
  }
  auto host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  asio::io_context io;
  boost::system::error_code ec;
  const auto found = tcp::resolver(io).resolve(host, listen.substr(colon + 1),
                                               tcp::resolver::numeric_service, ec);
  if (ec || found.empty()) {
    throw std::runtime_error("--http-listen " + listen + ": " +
                             (ec ? ec.message() : std::string("no address")));
  }
  const auto endpoint = found.begin()->endpoint();
  if (!endpoint.address().is_loopback() && !options.allow_public) {
    throw std::runtime_error(
        "--http-listen " + listen +
        " is not a loopback address: the dashboard and /metrics answer anyone who connects, "
        "without a token (they show the fleet's proxy names, addresses and numbers, no "
        "secrets, and change nothing); add --http-public to serve them there");
  }
  return endpoint;
}

}  // namespace

FleetHttpServer::FleetHttpServer(const FleetHttpOptions& options, const FleetMetrics& metrics,
                                 const ProxyRegistry& proxies, const PolicyStore& policies)
    : metrics_(metrics),
      proxies_(proxies),
      policies_(policies),
      acceptor_(io_),
      endpoints_{.metrics = [this] { return metrics_text(); },
                 .dashboard = [this] { return dashboard(); },
                 .health = [] { return obs::Health{true, R"({"status":"ok"})"}; }} {
  const auto endpoint = endpoint_of(options);
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("--http-listen " + options.listen + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, obs::serve_admin(acceptor_, endpoints_), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

FleetHttpServer::~FleetHttpServer() {
  // Sessions in progress are dropped with the io_context: nothing they do needs finishing.
  io_.stop();
  thread_.join();
}

std::uint64_t FleetHttpServer::policy_version() const {
  const auto current = policies_.current();
  return current ? current->version() : 0;
}

std::string FleetHttpServer::metrics_text() const {
  const auto proxies = proxies_.list(util::unix_now_ms());
  return obs::prometheus_text(fleet_snapshot(metrics_.sum(proxies), proxies, policy_version()));
}

std::string FleetHttpServer::dashboard() const {
  const auto now = util::unix_now_ms();
  const auto proxies = proxies_.list(now);
  const auto version = policy_version();
  return obs::dashboard_json(fleet_snapshot(metrics_.sum(proxies), proxies, version),
                             {.scope = "fleet",
                              .now_unix_ms = now,
                              .policy_version = version,
                              .proxies = dashboard_proxies(proxies, now)})
      .dump();
}

}  // namespace s3hc::control
