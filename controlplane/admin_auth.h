// Who may call the operators' API (FleetAdmin): a caller presenting the bearer token
// ("authorization: Bearer <token>" metadata), and, when the control plane listens without
// TLS, only from a loopback address (a token sent in clear over a network is a token given
// away). Any thread.
#pragma once

#include <grpcpp/server_context.h>

#include <string>

namespace s3hc::control {

class AdminAuth {
 public:
  AdminAuth(std::string token, bool tls) : token_(std::move(token)), tls_(tls) {}

  // OK, or UNAUTHENTICATED / PERMISSION_DENIED saying why.
  grpc::Status check(const grpc::ServerContext& context) const;

 private:
  const std::string token_;
  const bool tls_;
};

// Whether a gRPC peer string ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000", "unix:...") is this
// host's loopback.
bool is_loopback_peer(const std::string& peer);

}  // namespace s3hc::control
