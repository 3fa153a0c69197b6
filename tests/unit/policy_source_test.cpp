// The policy in force (policy_source.h) and what it makes of one object's rules
// (object_policy.h): applied whole at start-up and on change, an invalid change refused.
#include "policy/policy_source.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pipeline/object_policy.h"
#include "temp_dir.h"

namespace s3hc::policy {
namespace {

using std::chrono::hours;

class PolicySourceTest : public ::testing::Test {
 protected:
  // Written beside and renamed into place, as the docs ask.
  void write(const std::string& text) {
    const auto temp = path_ + ".new";
    std::ofstream(temp) << text;
    std::filesystem::rename(temp, path_);
  }
  // Looked at every hour: changes are seen through inotify (or a reload by hand).
  std::unique_ptr<PolicySource> open() {
    return std::make_unique<PolicySource>(path_, hours(1), [this](std::uint64_t v, bool failed) {
      std::lock_guard lock(mutex_);
      loads_.push_back({v, failed});
    });
  }
  // Until the observer heard of `count` loads (or 10 s passed); what it heard.
  std::vector<std::pair<std::uint64_t, bool>> loads(std::size_t count) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (loads_.size() >= count || std::chrono::steady_clock::now() > give_up) return loads_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  s3hc::testing::TempDir dir_{"policy-source"};
  const std::string path_ = (dir_.path() / "policy.yaml").string();
  std::mutex mutex_;
  std::vector<std::pair<std::uint64_t, bool>> loads_;
};

TEST_F(PolicySourceTest, AppliesAChangedFileWholeAndRefusesAnInvalidOne) {
  write("version: 4\nrules: [{bucket: b, settings: {get_ttl_ms: 1}}]\n");
  const auto source = open();
  EXPECT_EQ(source->version(), 4u);
  const auto first = source->current();
  EXPECT_FALSE(source->reload_if_changed());  // unchanged: not read again

  write("version: 5\nrules: [{bucket: b, settings: {get_ttl_ms: 2}}]\n");
  source->reload_if_changed();  // (or inotify did, just before)
  EXPECT_EQ(loads(2).size(), 2u);
  EXPECT_EQ(source->version(), 5u);
  EXPECT_EQ(source->current()->settings_for("b", "k").get_ttl_ms(), 2);
  // A request that took the old snapshot keeps it, whole.
  EXPECT_EQ(first->settings_for("b", "k").get_ttl_ms(), 1);

  write("version: 6\nrules: [{bucket: b, settings: {get_ttl_ms: -1}}]\n");
  source->reload_if_changed();
  EXPECT_EQ(loads(3).size(), 3u);
  EXPECT_EQ(source->version(), 5u);
  EXPECT_EQ(source->current()->settings_for("b", "k").get_ttl_ms(), 2);
  EXPECT_FALSE(source->reload_if_changed());  // reported once, not on every look

  std::filesystem::remove(path_);
  source->reload_if_changed();
  const std::vector<std::pair<std::uint64_t, bool>> expected = {
      {4, false}, {5, false}, {5, true}, {5, true}};
  EXPECT_EQ(loads(4), expected);
  EXPECT_EQ(source->version(), 5u);
}

TEST_F(PolicySourceTest, AFileRenamedIntoPlaceIsAppliedAtOnceThroughInotify) {
  write("version: 1\n");
  const auto source = open();  // looked at every hour: only inotify can be this quick
  write("version: 2\n");
  EXPECT_EQ(loads(2).back(), std::make_pair(std::uint64_t{2}, false));
  EXPECT_EQ(source->version(), 2u);
}

TEST_F(PolicySourceTest, WithoutAVersionInTheFileFilesAreCounted) {
  write("rules: []\n");
  const auto source = open();
  EXPECT_EQ(source->version(), 1u);
  write("defaults: {get_ttl_ms: 3}\n");
  source->reload_if_changed();
  EXPECT_EQ(loads(2).size(), 2u);
  EXPECT_EQ(source->version(), 2u);
}

// The control plane's pushed file: numbered by the control plane only, 0 before any push.
TEST_F(PolicySourceTest, NumberedBySnapshotsOnlyAFileWithoutAVersionIsVersionZero) {
  write("rules: []\n");
  PolicySource source(path_, hours(1), {}, PolicySource::Numbering::kSnapshotOnly);
  EXPECT_EQ(source.version(), 0u);
  write("{\"version\": \"4\", \"rules\": []}\n");
  source.reload_if_changed();  // (or inotify did, just before)
  EXPECT_EQ(source.version(), 4u);
}

TEST_F(PolicySourceTest, AnInvalidFileAtStartUpIsAnError) {
  write("rules: [{bucket: b, prefix: p, glob: g}]\n");
  EXPECT_THROW(open(), std::runtime_error);
}

TEST_F(PolicySourceTest, TheObjectsRulesOverlayTheConfiguration) {
  write(R"(
rules:
  - {bucket: b, settings: {get_ttl_ms: 0, read_caching: false, max_object_bytes: 0}}
  - {bucket: b, prefix: w/, settings: {write_through: false, max_object_bytes: 10,
                                       client_cache_control: false}}
  - {bucket: b, prefix: data/, settings: {read_ahead: false,
                                          parallel_fill_threshold_bytes: 1048576}}
)");
  const auto source = open();
  pipeline::CachePolicy base;
  base.get_ttl_ms = 5000;
  base.max_write_object_bytes = 1000;
  const auto without = pipeline::object_policy(base, nullptr, {"b", "k"});
  EXPECT_EQ(without.get_ttl_ms, 5000);
  const auto bucket = pipeline::object_policy(base, source.get(), {"b", "k"});
  EXPECT_EQ(bucket.get_ttl_ms, 0);
  EXPECT_FALSE(bucket.read_caching);
  EXPECT_TRUE(bucket.write_through);
  EXPECT_EQ(bucket.max_write_object_bytes, std::numeric_limits<std::uint64_t>::max());
  const auto written = pipeline::object_policy(base, source.get(), {"b", "w/x"});
  EXPECT_FALSE(written.write_through);
  EXPECT_FALSE(written.client_cache_control);
  EXPECT_TRUE(bucket.client_cache_control);
  EXPECT_EQ(written.max_write_object_bytes, 10u);
  const auto data = pipeline::object_policy(base, source.get(), {"b", "data/x"});
  EXPECT_FALSE(data.read_ahead.on());
  EXPECT_EQ(data.parallel_fills.threshold_bytes, 1048576u);
  EXPECT_TRUE(bucket.read_ahead.on());
  EXPECT_EQ(bucket.parallel_fills.threshold_bytes, base.parallel_fills.threshold_bytes);
  const auto other = pipeline::object_policy(base, source.get(), {"c", "k"});
  EXPECT_EQ(other.get_ttl_ms, 5000);
  EXPECT_TRUE(other.read_caching);
  EXPECT_EQ(other.max_write_object_bytes, 1000u);
}

}  // namespace
}  // namespace s3hc::policy
