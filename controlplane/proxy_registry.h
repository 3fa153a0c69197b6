// The proxies that registered with the control plane and what they last said of themselves.
// A proxy silent for three heartbeat intervals is shown as lost, never forgotten: an operator
// must see that a proxy went away, also after a restart of the control plane, so every entry
// is kept in its database ("proxy/" keys; the heartbeats' writes not synced: a crash loses at
// most a last-seen time) and read back at start.
//
// Thread-safety: every method from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/control_database.h"
#include "s3hc/v1/control.pb.h"

namespace s3hc::control {

class ProxyRegistry {
 public:
  // The proxies kept in `database` (which must outlive the registry).
  ProxyRegistry(ControlDatabase& database, std::chrono::milliseconds heartbeat_interval);

  std::chrono::milliseconds heartbeat_interval() const { return heartbeat_interval_; }

  // A registration or a heartbeat at `now_ms`.
  void heard_from(const v1::ProxyStatus& status, std::int64_t now_ms);

  // Every proxy ever heard from, by id, each marked lost when silent too long at `now_ms`.
  std::vector<v1::ProxyEntry> list(std::int64_t now_ms) const;

 private:
  ControlDatabase& database_;
  const std::chrono::milliseconds heartbeat_interval_;
  mutable std::mutex mutex_;
  std::map<std::string, v1::ProxyEntry> proxies_;  // by proxy id
};

}  // namespace s3hc::control
