// s3hc-ctl's connection to s3hc-control: one channel (TLS when --ca-file is given), every call
// carrying the operator's bearer token and a deadline.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <chrono>
#include <memory>
#include <string>

#include "s3hc/v1/control.grpc.pb.h"

namespace s3hc::cli {

struct ControlOptions {
  std::string address = "127.0.0.1:7070";  // --control HOST:PORT
  std::string token;                       // --token-file, $S3HC_TOKEN
  std::string ca_file;                     // TLS: the CA the control plane's certificate is checked against
  std::chrono::milliseconds timeout{10'000};
};

class ControlClient {
 public:
  explicit ControlClient(const ControlOptions& options);

  v1::FleetAdmin::Stub& admin() { return *admin_; }
  // A context for one call: the token and the deadline set.
  std::unique_ptr<grpc::ClientContext> context() const;

 private:
  const ControlOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::FleetAdmin::Stub> admin_;
};

// The process exit status for a failed call (docs/OPERATIONS.md, "s3hc-ctl"): 3 conflict,
// 4 control plane unreachable, 5 not allowed, 6 not found, 1 anything else. (7: status found
// the fleet not all well.)
int exit_status_of(const grpc::Status& status);

}  // namespace s3hc::cli
