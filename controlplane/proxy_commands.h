// Operators' commands (a purge) handed to connected proxies: each proxy following
// WatchCommands takes the commands queued for it, carries them out on the shared cache
// directory and reports each result, which the operator's call waits for. A command whose
// proxy hangs up before reporting goes to another connected proxy (a purge can be carried
// out twice: it only invalidates).
//
// Thread-safety: any number of threads at once (one lock, one condition variable).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>

#include "s3hc/v1/control.pb.h"

namespace s3hc::control {

struct NoProxyConnected {};
struct CommandTimedOut {};
using CommandOutcome = std::variant<v1::CommandResult, NoProxyConnected, CommandTimedOut>;

class ProxyCommands {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // A proxy's stream opened / closed (a proxy may briefly hold two across a reconnection).
  void attach(const std::string& proxy_id);
  void detach(const std::string& proxy_id);
  // The next command queued for the proxy; nullopt at the deadline.
  std::optional<v1::ProxyCommand> next(const std::string& proxy_id, Deadline deadline);
  // A proxy's result; one for no command waiting (late, or answered twice) is dropped.
  void report(const v1::CommandResult& result);

  // Numbers `command`, hands it to a connected proxy and waits for its result.
  CommandOutcome carry_out(v1::ProxyCommand command, Deadline deadline);

 private:
  struct Pending {
    std::string proxy_id;  // empty: not handed out (yet, or again)
    bool taken = false;    // the proxy took it from its queue
    std::optional<v1::CommandResult> result;
  };
  // A connected proxy not in `tried`, fewest commands in hand first; empty when none.
  std::string pick_proxy(const std::set<std::string>& tried) const;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, int> streams_;            // proxy id -> streams open
  std::map<std::uint64_t, Pending> pending_;      // command id -> its state
  std::map<std::uint64_t, v1::ProxyCommand> commands_;  // command id -> command (while pending)
  std::uint64_t last_id_ = 0;
};

}  // namespace s3hc::control
