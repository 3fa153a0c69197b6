#include "http/upstream_pool.h"

#include <chrono>

namespace s3hc::http {

using boost::system::error_code;

UpstreamPool::UpstreamPool(const UpstreamOptions& options, UpstreamConnector& connector,
                           obs::ProxyMetrics& metrics)
    : options_(options), connector_(connector), metrics_(metrics) {}

boost::asio::awaitable<std::unique_ptr<UpstreamConnection>> UpstreamPool::acquire(error_code& ec,
                                                                           bool replayable) {
  const auto max_idle = std::chrono::milliseconds(options_.pool_idle_timeout_ms);
  while (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    const bool fresh = std::chrono::steady_clock::now() - connection->idle_since() < max_idle;
    // Bytes left over from the last response would be misread as the next one.
    const bool clean = connection->buffer().size() == 0;
    if (fresh && clean && (replayable || connection->peer_still_open())) {
      connection->mark_reused();
      metrics_.upstream_connections_reused.inc();
      co_return connection;
    }
  }
  co_return co_await connect(ec);
}

boost::asio::awaitable<std::unique_ptr<UpstreamConnection>> UpstreamPool::connect(
    error_code& ec) {
  auto connection = co_await connector_.connect(ec);
  if (connection) metrics_.upstream_connections_new.inc();
  co_return connection;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection) {
  if (options_.pool_max_idle == 0) return;
  if (idle_.size() >= options_.pool_max_idle) {
    idle_.erase(idle_.begin());  // the oldest is the likeliest to be closed by the origin
  }
  connection->expires_never();
  connection->mark_idle();
  idle_.push_back(std::move(connection));
}

}  // namespace s3hc::http
