#include "controlplane/policy_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <thread>

namespace s3hc::control {
namespace {

using namespace std::chrono_literals;

v1::PolicySnapshot snapshot_for(const std::string& bucket) {
  v1::PolicySnapshot snapshot;
  auto* rule = snapshot.add_rules();
  rule->set_bucket(bucket);
  rule->mutable_settings()->set_read_caching(false);
  return snapshot;
}

class PolicyStoreTest : public ::testing::Test {
 protected:
  // A fresh directory per test.
  static std::filesystem::path fresh_dir() {
    auto dir = std::filesystem::temp_directory_path() /
               ("s3hc-policy-store-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    return dir;
  }
  ~PolicyStoreTest() override {
    database_.reset();
    std::filesystem::remove_all(dir_);
  }

  const std::filesystem::path dir_ = fresh_dir();
  std::optional<ControlDatabase> database_{std::in_place, dir_.string()};
};

TEST_F(PolicyStoreTest, VersionsGrowAndAChangeMustNameTheVersionInForce) {
  PolicyStore store(*database_);
  EXPECT_FALSE(store.current());
  const auto first = std::get<v1::PolicyRevision>(store.put(snapshot_for("a"), 0, "first"));
  EXPECT_EQ(first.version(), 1u);
  EXPECT_EQ(first.snapshot().version(), 1u);  // numbered by the store, whatever was sent
  // A change made against no policy, or an old one, is refused: someone changed it meanwhile.
  EXPECT_EQ(std::get<PolicyConflict>(store.put(snapshot_for("b"), 0, "")).in_force, 1u);
  const auto second = std::get<v1::PolicyRevision>(store.put(snapshot_for("b"), 1, "second"));
  EXPECT_EQ(second.version(), 2u);
  EXPECT_EQ(store.current()->snapshot().rules(0).bucket(), "b");
  EXPECT_EQ(store.at(1)->comment(), "first");
}

TEST_F(PolicyStoreTest, AnInvalidSnapshotIsRefusedWithItsFaults) {
  PolicyStore store(*database_);
  v1::PolicySnapshot invalid;
  auto* rule = invalid.add_rules();
  rule->set_prefix("logs/");
  rule->set_glob("*.tmp");  // a prefix and a glob at once
  const auto refused = std::get<PolicyInvalid>(store.put(invalid, 0, ""));
  ASSERT_FALSE(refused.errors.empty());
  EXPECT_NE(refused.errors.front().find("rule"), std::string::npos) << refused.errors.front();
  EXPECT_FALSE(store.current());
}

TEST_F(PolicyStoreTest, ARollbackIsANewVersionWithTheEarlierSnapshot) {
  PolicyStore store(*database_);
  store.put(snapshot_for("a"), 0, "");
  store.put(snapshot_for("b"), 1, "");
  const auto back = std::get<v1::PolicyRevision>(store.rollback(1, 2, "undo"));
  EXPECT_EQ(back.version(), 3u);
  EXPECT_EQ(back.rolled_back_to(), 1u);
  EXPECT_EQ(back.snapshot().rules(0).bucket(), "a");
  EXPECT_EQ(back.snapshot().version(), 3u);
  EXPECT_TRUE(std::holds_alternative<PolicyVersionUnknown>(store.rollback(9, 3, "")));
  const auto history = store.history(0);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].version(), 3u);  // newest first
  EXPECT_EQ(history[2].version(), 1u);
  EXPECT_EQ(store.history(2).size(), 2u);
}

TEST_F(PolicyStoreTest, VersionsSurviveARestart) {
  {
    PolicyStore store(*database_);
    store.put(snapshot_for("a"), 0, "");
    store.put(snapshot_for("b"), 1, "");
  }
  database_.emplace(dir_.string());  // the database closed and opened again
  PolicyStore reopened(*database_);
  EXPECT_EQ(reopened.current()->version(), 2u);
  EXPECT_EQ(std::get<v1::PolicyRevision>(reopened.put(snapshot_for("c"), 2, "")).version(), 3u);
}

TEST_F(PolicyStoreTest, AWatcherIsWokenByANewVersion) {
  PolicyStore store(*database_);
  EXPECT_FALSE(store.wait_for_newer(0, std::chrono::steady_clock::now() + 20ms));
  std::thread setter([&] {
    std::this_thread::sleep_for(50ms);
    store.put(snapshot_for("a"), 0, "");
  });
  const auto started = std::chrono::steady_clock::now();
  const auto newer = store.wait_for_newer(0, started + 10s);
  setter.join();
  ASSERT_TRUE(newer);
  EXPECT_EQ(newer->version(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);  // woken, not timed out
}

}  // namespace
}  // namespace s3hc::control
