#include "controlplane/proxy_registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

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

class ProxyRegistryTest : public ::testing::Test {
 protected:
  ~ProxyRegistryTest() override {
    database_.reset();
    std::filesystem::remove_all(dir_);
  }

  const std::filesystem::path dir_ = [] {
    auto dir = std::filesystem::temp_directory_path() /
               ("s3hc-proxy-registry-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    return dir;
  }();
  std::optional<ControlDatabase> database_{std::in_place, dir_.string()};
};

TEST_F(ProxyRegistryTest, ASilentProxyIsLostNotForgotten) {
  ProxyRegistry registry(*database_, std::chrono::milliseconds(1000));
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

TEST_F(ProxyRegistryTest, ProxiesAreRememberedAcrossARestart) {
  {
    ProxyRegistry registry(*database_, std::chrono::milliseconds(1000));
    registry.heard_from(status_of("a", 3), 10'000);
  }
  database_.emplace(dir_.string());  // the control plane restarted
  ProxyRegistry registry(*database_, std::chrono::milliseconds(1000));
  const auto entries = registry.list(60'000);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].status().policy_version(), 3u);
  EXPECT_EQ(entries[0].last_seen_unix_ms(), 10'000);
  EXPECT_TRUE(entries[0].lost());  // until it heartbeats again
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
