// The proxies that registered with the control plane and what they last said of themselves.
// A proxy silent for three heartbeat intervals is shown as lost, never forgotten: an operator
// must see that a proxy went away. Held in memory: after a restart of the control plane the
// proxies register again on reconnecting (they do after any broken stream).
//
// Thread-safety: every method from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "s3hc/v1/control.pb.h"

namespace s3hc::control {

class ProxyRegistry {
 public:
  explicit ProxyRegistry(std::chrono::milliseconds heartbeat_interval)
      : heartbeat_interval_(heartbeat_interval) {}

  std::chrono::milliseconds heartbeat_interval() const { return heartbeat_interval_; }

  // A registration or a heartbeat at `now_ms`.
  void heard_from(const v1::ProxyStatus& status, std::int64_t now_ms);

  // Every proxy ever heard from, by id, each marked lost when silent too long at `now_ms`.
  std::vector<v1::ProxyEntry> list(std::int64_t now_ms) const;

 private:
  const std::chrono::milliseconds heartbeat_interval_;
  mutable std::mutex mutex_;
  std::map<std::string, v1::ProxyEntry> proxies_;  // by proxy id
};

}  // namespace s3hc::control
