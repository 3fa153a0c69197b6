#include "controlplane/proxy_registry.h"

#include <gtest/gtest.h>

#include "controlplane/admin_auth.h"

namespace s3hc::control {
namespace {

v1::ProxyStatus status_of(const std::string& id, std::uint64_t policy_version) {
  v1::ProxyStatus status;
  status.set_proxy_id(id);
  status.set_policy_version(policy_version);
  status.set_healthy(true);
  return status;
}

TEST(ProxyRegistryTest, ASilentProxyIsLostNotForgotten) {
  ProxyRegistry registry(std::chrono::milliseconds(1000));
  registry.heard_from(status_of("a", 1), 10'000);
  registry.heard_from(status_of("b", 1), 10'000);
  registry.heard_from(status_of("a", 2), 12'500);  // a heartbeat with a newer policy
  const auto entries = registry.list(13'500);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].status().proxy_id(), "a");
  EXPECT_EQ(entries[0].status().policy_version(), 2u);
  EXPECT_EQ(entries[0].registered_unix_ms(), 10'000);
  EXPECT_FALSE(entries[0].lost());
  EXPECT_TRUE(entries[1].lost());  // silent for more than three intervals
  registry.heard_from(status_of("b", 2), 14'000);
  EXPECT_FALSE(registry.list(14'000)[1].lost());  // back
}

TEST(AdminAuthTest, LoopbackPeersAreTold) {
  EXPECT_TRUE(is_loopback_peer("ipv4:127.0.0.1:5000"));
  EXPECT_TRUE(is_loopback_peer("ipv6:[::1]:5000"));
  EXPECT_FALSE(is_loopback_peer("ipv4:10.0.0.7:5000"));
  EXPECT_FALSE(is_loopback_peer("ipv6:[::ffff:10.0.0.7]:5000"));
  EXPECT_FALSE(is_loopback_peer("ipv4:128.0.0.1:5000"));
}

}  // namespace
}  // namespace s3hc::control
