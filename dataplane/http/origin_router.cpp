#include "http/origin_router.h"

#include <algorithm>

#include "util/glob.h"

namespace s3hc::http {

std::optional<std::string> allowed_endpoint_name(const UpstreamOptions& options,
                                                 std::string_view host) {
  auto name = endpoint_name_of(host);
  const bool allowed =
      name && std::any_of(options.allowed_hosts.begin(), options.allowed_hosts.end(),
                          [&](const std::string& pattern) {
                            return util::glob_matches(pattern, *name);
                          });
  if (!allowed) return std::nullopt;
  return name;
}

OriginRouter::OriginRouter(const UpstreamOptions& options, ConnectorFactory make_connector,
                           obs::ProxyMetrics& metrics)
    : options_(options), make_connector_(std::move(make_connector)), metrics_(metrics) {
  if (options.url) {
    fixed_ = std::make_shared<Endpoint>(
        options, make_connector_(*options.url, NamedBy::kOperator), metrics);
  }
}

std::shared_ptr<UpstreamPool> OriginRouter::pool_for(std::string_view host_header) {
  if (fixed_) return pool_of(fixed_);
  const auto name = allowed_endpoint_name(options_, host_header);
  if (!name) return nullptr;
  if (const auto found = endpoints_.find(*name); found != endpoints_.end()) {
    recency_.splice(recency_.begin(), recency_, found->second->recency);
    return pool_of(found->second);
  }
  if (endpoints_.size() >= kMaxEndpoints) {
    endpoints_.erase(recency_.back());
    recency_.pop_back();
  }
  auto endpoint = std::make_shared<Endpoint>(
      options_,
      make_connector_(UpstreamUrl{.tls = true, .host = *name, .port = 443}, NamedBy::kClient),
      metrics_);
  recency_.push_front(*name);
  endpoint->recency = recency_.begin();
  endpoints_.emplace(*name, endpoint);
  return pool_of(endpoint);
}

}  // namespace s3hc::http
