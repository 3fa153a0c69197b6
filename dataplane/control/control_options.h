// How a proxy joins the optional control plane (s3hc-control; docs/OPERATIONS.md). YAML:
// control.*, flag --control.
#pragma once

#include <string>

namespace s3hc::control {

struct ControlOptions {
  // s3hc-control's HOST:PORT; empty: standalone (policy from cache.policy_file, if any).
  // Default: "".
  std::string endpoint;
  // PEM CA the control plane's TLS certificate is checked against; empty: plain gRPC.
  // Default: "".
  std::string ca_file;
  // Where the policy pushed by the control plane is kept, so that a proxy started while the
  // control plane is down serves with the last one it had. Default:
  // /var/lib/s3hc/pushed-policy.json.
  std::string policy_file = "/var/lib/s3hc/pushed-policy.json";
};

}  // namespace s3hc::control
