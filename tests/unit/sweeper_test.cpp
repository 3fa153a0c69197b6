#include "cache/fleet/sweeper.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cache/cache_layout.h"
#include "cache/disk_usage.h"
#include "file_times.h"
#include "temp_dir.h"
#include "util/wall_clock.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr std::int64_t kMinute = 60 * 1000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

// A record of ("bucket", `key`) naming `files`; a tombstone when `etag` is empty.
v1::CacheRecord make_record(const std::string& key, std::int64_t fetched_at_ms,
                            const std::vector<std::string>& files, const std::string& etag = "\"e\"") {
  v1::CacheRecord record;
  record.set_format_version(1);
  record.set_bucket("bucket");
  record.set_key(key);
  record.set_etag(etag);
  record.set_fetched_at_unix_ms(fetched_at_ms);
  record.set_validated_at_unix_ms(fetched_at_ms);
  std::uint64_t first = 0;
  for (const auto& file : files) {
    auto* range = record.add_ranges();
    range->set_first(first);
    range->set_last(first + 99);
    range->set_file(file);
    first += 100;
  }
  record.set_size(first);
  return record;
}

class SweeperTest : public ::testing::Test {
 protected:
  std::string object(const std::string& key) const { return CacheLayout::object_id("bucket", key); }
  std::string upload(const std::string& key, const std::string& upload_id) const {
    return CacheLayout::upload_id("bucket", key, upload_id);
  }
  std::string path(const std::string& id, const std::string& name = "") const {
    return name.empty() ? layout_.path_of(id) : layout_.path_of(id) + "/" + name;
  }

  // Writes `bytes` bytes to the file `name` of the directory `id`, last modified at `mtime_ms`.
  void put_file(const std::string& id, const std::string& name, std::size_t bytes,
                std::int64_t mtime_ms) {
    fs::create_directories(path(id));
    {
      std::ofstream out(path(id, name), std::ios::binary);
      out << std::string(bytes, 'x');
    }
    testing::set_mtime(path(id, name), mtime_ms);
  }
  void put_bytes(const std::string& file, const std::string& bytes, std::int64_t mtime_ms) {
    fs::create_directories(fs::path(file).parent_path());
    {
      std::ofstream out(file, std::ios::binary);
      out << bytes;
    }
    testing::set_mtime(file, mtime_ms);
  }
  void put_record(const std::string& id, const v1::CacheRecord& record, std::int64_t mtime_ms) {
    put_bytes(path(id, std::string(kRecordFileName)), record.SerializeAsString(), mtime_ms);
  }
  bool exists(const std::string& id, const std::string& name = "") const {
    return fs::exists(path(id, name));
  }

  // One whole pass by a fresh sweeper, by directory id.
  std::map<std::string, AuditedDir> sweep(std::int64_t now_ms) {
    Sweeper sweeper(layout_, options_);
    std::map<std::string, AuditedDir> audited;
    for (auto& dir : sweeper.step(1'000'000, now_ms)) {
      EXPECT_FALSE(audited.contains(dir.id)) << dir.id << " audited twice";
      audited.emplace(dir.id, std::move(dir));
    }
    EXPECT_EQ(sweeper.passes(), 1u);
    return audited;
  }

  s3hc::testing::TempDir dir_{"sweeper-test"};
  CacheLayout layout_{dir_.string()};
  SweepOptions options_;  // orphan age 1 h, tombstones 1 h, uploads 7 days
  std::int64_t now_ = util::unix_now_ms();
  std::int64_t old_ = now_ - 2 * kHour;
  std::int64_t young_ = now_ - kMinute;
};

TEST_F(SweeperTest, RemovesOldTempAndUnnamedFilesButSparesYoungAndNamedOnes) {
  const auto id = object("key");
  put_record(id, make_record("key", old_, {"a.rng"}), old_);
  put_file(id, "a.rng", 4000, old_);             // named: kept however old
  put_file(id, "b.rng", 4000, old_);             // unnamed and old: a dead writer's
  put_file(id, "c.rng", 4000, young_);           // unnamed but young: its record may follow
  put_file(id, "a.rng.tmp.111", 4000, old_);     // a fill that died
  put_file(id, "d.rng.tmp.222", 4000, young_);   // a fill in flight

  const auto audited = sweep(now_);

  EXPECT_TRUE(exists(id, "record"));
  EXPECT_TRUE(exists(id, "a.rng"));
  EXPECT_FALSE(exists(id, "b.rng"));
  EXPECT_TRUE(exists(id, "c.rng"));
  EXPECT_FALSE(exists(id, "a.rng.tmp.111"));
  EXPECT_TRUE(exists(id, "d.rng.tmp.222"));
  ASSERT_TRUE(audited.contains(id));
  const auto& dir = audited.at(id);
  EXPECT_FALSE(dir.upload);
  ASSERT_TRUE(dir.record.has_value());
  EXPECT_EQ(dir.record->key(), "key");
  EXPECT_EQ(dir.record->ranges(0).file(), "a.rng");
  EXPECT_EQ(dir.bytes, directory_disk_usage(path(id)));
  EXPECT_GE(dir.bytes, 2u * 4000);  // a.rng and c.rng
}

TEST_F(SweeperTest, ADirectoryWithNothingButOldOrphansGoesWhole) {
  const auto dead = object("dead");
  put_file(dead, "b.rng", 1000, old_);
  put_file(dead, "b.rng.tmp.1", 1000, old_);
  const auto fresh = object("fresh");
  put_file(fresh, "b.rng", 1000, young_);  // its writer may be about to store the record

  const auto audited = sweep(now_);

  EXPECT_FALSE(exists(dead));
  ASSERT_TRUE(audited.contains(dead));
  EXPECT_EQ(audited.at(dead).bytes, 0u);
  EXPECT_FALSE(audited.at(dead).record.has_value());
  EXPECT_TRUE(exists(fresh, "b.rng"));
  ASSERT_TRUE(audited.contains(fresh));
  EXPECT_FALSE(audited.at(fresh).record.has_value());
  EXPECT_EQ(audited.at(fresh).bytes, directory_disk_usage(path(fresh)));
  EXPECT_GT(audited.at(fresh).bytes, 0u);
}

TEST_F(SweeperTest, TombstonesOlderThanTheirRetentionGoWithTheirDirectory) {
  const auto expired = object("expired");
  put_record(expired, make_record("expired", now_ - 2 * kHour, {}, ""), young_);
  put_file(expired, "leftover.rng", 1000, young_);
  const auto kept = object("kept");
  put_record(kept, make_record("kept", now_ - 10 * kMinute, {}, ""), young_);

  const auto audited = sweep(now_);

  EXPECT_FALSE(exists(expired));
  ASSERT_TRUE(audited.contains(expired));
  EXPECT_EQ(audited.at(expired).bytes, 0u);
  EXPECT_FALSE(audited.at(expired).record.has_value());

  EXPECT_TRUE(exists(kept, "record"));
  ASSERT_TRUE(audited.contains(kept));
  ASSERT_TRUE(audited.at(kept).record.has_value());
  EXPECT_TRUE(audited.at(kept).record->etag().empty());
  EXPECT_EQ(audited.at(kept).bytes, directory_disk_usage(path(kept)));
  EXPECT_GT(audited.at(kept).bytes, 0u);
}

TEST_F(SweeperTest, RemovesUploadsUntouchedForTheirRetention) {
  const auto abandoned = upload("key", "u1");
  put_file(abandoned, "part-1", 5000, now_ - 8 * kDay);
  put_file(abandoned, "part-2", 5000, now_ - 8 * kDay);
  const auto recent = upload("key", "u2");
  put_file(recent, "part-1", 5000, now_ - 8 * kDay);
  put_file(recent, "part-2", 5000, now_ - kDay);  // touched a day ago: still going
  const auto with_dead_temp = upload("key", "u3");
  put_file(with_dead_temp, "part-1", 5000, young_);
  put_file(with_dead_temp, "part-2.tmp.7", 5000, old_);

  const auto audited = sweep(now_);

  EXPECT_FALSE(exists(abandoned));
  ASSERT_TRUE(audited.contains(abandoned));
  EXPECT_TRUE(audited.at(abandoned).upload);
  EXPECT_EQ(audited.at(abandoned).bytes, 0u);

  EXPECT_TRUE(exists(recent, "part-1"));
  EXPECT_TRUE(exists(recent, "part-2"));
  ASSERT_TRUE(audited.contains(recent));
  EXPECT_TRUE(audited.at(recent).upload);
  EXPECT_FALSE(audited.at(recent).record.has_value());
  EXPECT_EQ(audited.at(recent).bytes, directory_disk_usage(path(recent)));
  EXPECT_GE(audited.at(recent).bytes, 2u * 5000);

  EXPECT_TRUE(exists(with_dead_temp, "part-1"));
  EXPECT_FALSE(exists(with_dead_temp, "part-2.tmp.7"));
  ASSERT_TRUE(audited.contains(with_dead_temp));
  EXPECT_EQ(audited.at(with_dead_temp).bytes, directory_disk_usage(path(with_dead_temp)));
}

TEST_F(SweeperTest, ARecordOfAnotherObjectIsForeign) {
  // The record of ("bucket", "other") in the directory of ("bucket", "key"): not this
  // directory's, so neither it nor the files it names are.
  const auto young_dir = object("key");
  put_record(young_dir, make_record("other", young_, {"a.rng"}), young_);
  put_file(young_dir, "a.rng", 1000, young_);
  const auto old_dir = object("key2");
  put_record(old_dir, make_record("other2", old_, {"a.rng"}), old_);
  put_file(old_dir, "a.rng", 1000, old_);
  const auto garbage_dir = object("key3");
  put_bytes(path(garbage_dir, "record"), "not a record \xff\xff\xff", old_);

  const auto audited = sweep(now_);

  ASSERT_TRUE(audited.contains(young_dir));
  EXPECT_FALSE(audited.at(young_dir).record.has_value());
  EXPECT_TRUE(exists(young_dir, "record"));  // young: spared like any unnamed file
  EXPECT_TRUE(exists(young_dir, "a.rng"));

  ASSERT_TRUE(audited.contains(old_dir));
  EXPECT_FALSE(audited.at(old_dir).record.has_value());
  EXPECT_FALSE(exists(old_dir));
  EXPECT_EQ(audited.at(old_dir).bytes, 0u);

  ASSERT_TRUE(audited.contains(garbage_dir));
  EXPECT_FALSE(audited.at(garbage_dir).record.has_value());
  EXPECT_FALSE(exists(garbage_dir));
}

TEST_F(SweeperTest, ReportsWhatEachDirectoryTakesOnDisk) {
  const std::size_t sizes[] = {1, 5000, 100'000, 1'000'000};
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    const auto key = "key" + std::to_string(i);
    const auto id = object(key);
    put_record(id, make_record(key, young_, {"0.rng"}), young_);
    put_file(id, "0.rng", sizes[i], young_);
    put_file(id, "1.rng.tmp.5", 50'000, young_);  // in flight: not counted
    ids.push_back(id);
  }
  const auto audited = sweep(now_);
  ASSERT_EQ(audited.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& dir = audited.at(ids[i]);
    EXPECT_EQ(dir.bytes, directory_disk_usage(path(ids[i]))) << i;
    EXPECT_GE(dir.bytes, sizes[i]) << i;
    EXPECT_LT(dir.bytes, sizes[i] + 50'000) << i << ": counted the temp file";
  }
}

TEST_F(SweeperTest, APassCoversEveryDirectoryOverBudgetedStepsAndANewPassFollows) {
  std::set<std::string> all;
  for (int i = 0; i < 4; ++i) {
    const auto key = "key" + std::to_string(i);
    put_record(object(key), make_record(key, young_, {}), young_);
    all.insert(object(key));
  }
  for (const char* upload_id : {"u0", "u1"}) {
    const auto id = upload("key", upload_id);
    put_file(id, "part-1", 10, young_);
    all.insert(id);
  }
  const auto ids_of = [](const std::vector<AuditedDir>& dirs) {
    std::vector<std::string> ids;
    for (const auto& dir : dirs) ids.push_back(dir.id);
    return ids;
  };

  Sweeper sweeper(layout_, options_);
  EXPECT_EQ(sweeper.passes(), 0u);
  auto first = ids_of(sweeper.step(3, now_));
  EXPECT_EQ(first.size(), 3u);
  EXPECT_EQ(sweeper.passes(), 1u);
  const auto second = ids_of(sweeper.step(3, now_));
  EXPECT_EQ(second.size(), 3u);
  EXPECT_EQ(sweeper.passes(), 1u);
  first.insert(first.end(), second.begin(), second.end());
  EXPECT_EQ(std::set<std::string>(first.begin(), first.end()), all);  // each once

  // A directory made since is in the next pass.
  const auto added = object("added");
  put_record(added, make_record("added", young_, {}), young_);
  all.insert(added);
  std::vector<std::string> next;
  for (const std::size_t budget : {3, 3, 1}) {
    const auto step = ids_of(sweeper.step(budget, now_));
    EXPECT_EQ(step.size(), budget);
    EXPECT_EQ(sweeper.passes(), 2u);
    next.insert(next.end(), step.begin(), step.end());
  }
  EXPECT_EQ(std::set<std::string>(next.begin(), next.end()), all);

  // A budget larger than the directory: one whole pass, each directory once.
  const auto whole = ids_of(sweeper.step(1000, now_));
  EXPECT_EQ(sweeper.passes(), 3u);
  EXPECT_EQ(whole.size(), all.size());
  EXPECT_EQ(std::set<std::string>(whole.begin(), whole.end()), all);
}

TEST_F(SweeperTest, AnEmptyCacheGivesEmptySteps) {
  Sweeper sweeper(layout_, options_);
  EXPECT_TRUE(sweeper.step(10, now_).empty());
  EXPECT_EQ(sweeper.passes(), 1u);
  EXPECT_TRUE(sweeper.step(10, now_).empty());
  EXPECT_EQ(sweeper.passes(), 2u);
  EXPECT_TRUE(sweeper.step(0, now_).empty());
}

TEST_F(SweeperTest, RemovesOldTempFilesUnderFleet) {
  const auto fleet = dir_.string() + "/fleet";
  put_bytes(fleet + "/usage.tmp.1", "x", old_);
  put_bytes(fleet + "/journal/p.0000000001.jnl.tmp.2", "x", old_);
  put_bytes(fleet + "/maintenance.lease.tmp.claim-0123456789abcdef-0", "x", old_);
  put_bytes(fleet + "/snapshot.tmp.3", "x", young_);
  put_bytes(fleet + "/journal/p.0000000001.jnl", "x", old_);  // not a temp file
  put_bytes(fleet + "/usage", "x", old_);

  Sweeper sweeper(layout_, options_);
  sweeper.step(10, now_);

  EXPECT_FALSE(fs::exists(fleet + "/usage.tmp.1"));
  EXPECT_FALSE(fs::exists(fleet + "/journal/p.0000000001.jnl.tmp.2"));
  EXPECT_FALSE(fs::exists(fleet + "/maintenance.lease.tmp.claim-0123456789abcdef-0"));
  EXPECT_TRUE(fs::exists(fleet + "/snapshot.tmp.3"));
  EXPECT_TRUE(fs::exists(fleet + "/journal/p.0000000001.jnl"));
  EXPECT_TRUE(fs::exists(fleet + "/usage"));
}

TEST_F(SweeperTest, AgesAreMeasuredAgainstTheGivenClock) {
  // Same files, two clocks: what is young now is old an orphan age later.
  const auto id = object("key");
  put_file(id, "orphan.rng", 100, now_);
  put_file(id, "x.tmp.9", 100, now_);
  sweep(now_);
  EXPECT_TRUE(exists(id, "orphan.rng"));
  EXPECT_TRUE(exists(id, "x.tmp.9"));
  sweep(now_ + options_.orphan_age.count() + kMinute);
  EXPECT_FALSE(exists(id, "orphan.rng"));
  EXPECT_FALSE(exists(id, "x.tmp.9"));
  EXPECT_FALSE(exists(id));
}

}  // namespace
}  // namespace s3hc::cache
