#include "controlplane/admin_auth.h"

#include <openssl/crypto.h>

namespace s3hc::control {

namespace {

// Compares in time independent of where the strings differ (a token must not leak by timing).
bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

bool is_loopback_peer(const std::string& peer) {
  return peer.starts_with("ipv4:127.") || peer.starts_with("ipv6:[::1]:") ||
         peer.starts_with("ipv6:%5B::1%5D:") || peer.starts_with("unix:");
}

grpc::Status AdminAuth::check(const grpc::ServerContext& context) const {
  if (!tls_ && !is_loopback_peer(context.peer())) {
    return {grpc::StatusCode::PERMISSION_DENIED,
            "operator calls come from this host only when the control plane has no TLS "
            "(--tls-cert, --tls-key)"};
  }
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find("authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (found == metadata.end()) {
    return {grpc::StatusCode::UNAUTHENTICATED, "no bearer token (s3hc-ctl --token-file)"};
  }
  const std::string_view presented(found->second.data(), found->second.size());
  if (!presented.starts_with(kScheme) ||
      !same_secret(presented.substr(kScheme.size()), token_)) {
    return {grpc::StatusCode::UNAUTHENTICATED, "wrong bearer token"};
  }
  return grpc::Status::OK;
}

}  // namespace s3hc::control
