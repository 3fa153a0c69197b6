// A proxy's side of the control plane: its own thread registers the proxy, heartbeats (with
// a report of its metrics) every interval the control plane asks for, and follows the WatchPolicy stream, writing each new
// snapshot to the pushed-policy file (pushed_policy_file.h), which the proxy's PolicySource
// applies. A second stream brings operators' commands (a purge), carried out one at a time on
// a thread of the session and answered with their result. A broken stream or an unreachable control plane is retried with backoff (0.2 s
// doubling to 5 s) while the proxy serves on with the policy it has: the control plane is
// never on a request's path.
//
// Thread-safety: constructed and destroyed on one thread; runs on its own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/control_options.h"

#include "s3hc/v1/control.pb.h"

namespace grpc {
class ClientContext;
}

namespace s3hc::control {

struct ProxyIdentity {
  std::string proxy_id;
  std::string software_version;
  std::vector<std::string> listen_addresses;
};

// What the agent asks of the proxy, from its own threads (each must be thread-safe).
struct ProxySide {
  // The version of the policy in force (the PolicySource's), reported and asked to be exceeded.
  std::function<std::uint64_t()> policy_version;
  // The report sent with every heartbeat.
  std::function<v1::MetricsReport()> metrics;
  // Does what an operator's command asks (command_runner.h).
  std::function<v1::CommandResult(const v1::ProxyCommand&)> carry_out;
  // Whether the proxy is shutting down (reported with every heartbeat).
  std::function<bool()> draining;
};

class ControlAgent {
 public:
  // Starts the thread.
  ControlAgent(ControlOptions options, ProxyIdentity identity, ProxySide proxy);
  ~ControlAgent();
  ControlAgent(const ControlAgent&) = delete;
  ControlAgent& operator=(const ControlAgent&) = delete;

  bool connected() const { return connected_.load(); }
  // Sends the next heartbeat now rather than at its interval (the proxy started draining).
  void heartbeat_now();

 private:
  void run();
  // One session: register, then follow the stream (heartbeating meanwhile) until it breaks or
  // the agent stops. False when the control plane could not be reached.
  bool session();
  void follow_policy(grpc::ClientContext& context);
  void follow_commands(grpc::ClientContext& context);
  void heartbeat_until_over(std::int64_t interval_ms);
  // Waits for the next heartbeat: the interval, or heartbeat_now; false when the session or
  // the agent ends.
  bool await_heartbeat(std::int64_t interval_ms);
  // Waits up to `duration_ms`; false when the agent is stopping.
  bool pause(std::int64_t duration_ms);
  v1::ProxyStatus status() const;

  const ControlOptions options_;
  const ProxyIdentity identity_;
  const ProxySide proxy_;
  struct Connection;
  std::unique_ptr<Connection> connection_;
  std::atomic<bool> connected_{false};
  std::mutex mutex_;  // guards the five below
  std::condition_variable wake_;
  bool stopping_ = false;
  bool session_over_ = true;               // ends a session's heartbeats
  bool heartbeat_asked_ = false;           // heartbeat_now was called
  grpc::ClientContext* watch_ = nullptr;     // the streams being read (the destructor
  grpc::ClientContext* commands_ = nullptr;  // cancels them)
  std::thread thread_;
};

}  // namespace s3hc::control
