// Which origin a request goes to, and the keep-alive pool of connections to it.
//
// Fixed mode (upstream.url set): every request goes to that origin, through one pool.
// Host mode: to the endpoint the request's Host names, over HTTPS on 443 with SNI and the
// certificate checked for that name (the static endpoint map may say otherwise: tests,
// air-gapped sites), when the name matches one of upstream.allowed_hosts; any other Host,
// and any IP address, is refused, so no client can aim the proxy elsewhere. The client's
// Host goes upstream unchanged, as its signature requires. One pool per endpoint, made on
// first use; past kMaxEndpoints the least recently used is dropped (an exchange still using
// it keeps it alive until it is done).
//
// Thread-safety: none; one per worker thread, used from its io_context.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/endpoint.h"
#include "http/upstream_connector.h"
#include "http/upstream_options.h"
#include "http/upstream_pool.h"
#include "net/endpoint_resolver.h"
#include "obs/proxy_metrics.h"

namespace s3hc::http {

// The endpoint name `host` (a Host header or a TLS server name) gives, when it is one the
// proxy may reach in Host mode (upstream.allowed_hosts); nullopt otherwise.
std::optional<std::string> allowed_endpoint_name(const UpstreamOptions& options,
                                                 std::string_view host);

class OriginRouter {
 public:
  // Makes the connector of a new endpoint (network_connector.h; a fake in tests): the fixed
  // origin, named by the operator, or one a client's Host named.
  using NamedBy = net::EndpointResolver::NamedBy;
  using ConnectorFactory =
      std::function<std::unique_ptr<UpstreamConnector>(const UpstreamUrl&, NamedBy)>;

  OriginRouter(const UpstreamOptions& options, ConnectorFactory make_connector,
               obs::ProxyMetrics& metrics);

  // The pool of the origin a request with this Host header goes to; null when its Host names
  // no endpoint the proxy may reach.
  std::shared_ptr<UpstreamPool> pool_for(std::string_view host_header);

  // Endpoints with a pool of their own (bounded by kMaxEndpoints).
  std::size_t endpoint_count() const { return endpoints_.size(); }

  static constexpr std::size_t kMaxEndpoints = 1024;

 private:
  struct Endpoint {
    Endpoint(const UpstreamOptions& options, std::unique_ptr<UpstreamConnector> connector,
             obs::ProxyMetrics& metrics)
        : connector(std::move(connector)), pool(options, *this->connector, metrics) {}

    std::unique_ptr<UpstreamConnector> connector;
    UpstreamPool pool;
    std::list<std::string>::iterator recency;  // in recency_, most recent first
  };

  std::shared_ptr<UpstreamPool> pool_of(const std::shared_ptr<Endpoint>& endpoint) const {
    return {endpoint, &endpoint->pool};  // (shares the endpoint's life)
  }

  const UpstreamOptions& options_;
  ConnectorFactory make_connector_;
  obs::ProxyMetrics& metrics_;
  std::shared_ptr<Endpoint> fixed_;  // fixed mode
  std::unordered_map<std::string, std::shared_ptr<Endpoint>> endpoints_;  // Host mode, by name
  std::list<std::string> recency_;
};

}  // namespace s3hc::http
