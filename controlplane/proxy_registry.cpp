#include "controlplane/proxy_registry.h"

namespace s3hc::control {

namespace {

constexpr std::string_view kProxyPrefix = "proxy/";

}  // namespace

ProxyRegistry::ProxyRegistry(ControlDatabase& database,
                             std::chrono::milliseconds heartbeat_interval)
    : database_(database), heartbeat_interval_(heartbeat_interval) {
  database_.scan(kProxyPrefix, false, [this](std::string_view, std::string_view value) {
    v1::ProxyEntry entry;
    if (entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      proxies_[entry.status().proxy_id()] = std::move(entry);
    }
    return true;
  });
}

void ProxyRegistry::heard_from(const v1::ProxyStatus& status, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto& entry = proxies_[status.proxy_id()];
  if (entry.registered_unix_ms() == 0) entry.set_registered_unix_ms(now_ms);
  *entry.mutable_status() = status;
  entry.set_last_seen_unix_ms(now_ms);
  database_.put(std::string(kProxyPrefix) + status.proxy_id(), entry.SerializeAsString(), false);
}

std::vector<v1::ProxyEntry> ProxyRegistry::list(std::int64_t now_ms) const {
  const auto lost_after = 3 * heartbeat_interval_.count();
  std::lock_guard lock(mutex_);
  std::vector<v1::ProxyEntry> entries;
  entries.reserve(proxies_.size());
  for (const auto& [id, entry] : proxies_) {
    entries.push_back(entry);
    entries.back().set_lost(now_ms - entry.last_seen_unix_ms() > lost_after);
  }
  return entries;
}

}  // namespace s3hc::control
