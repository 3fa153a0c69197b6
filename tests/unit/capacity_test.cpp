// The cache's effective capacity (cache/capacity.h): min(max_size, what the file system can hold
// for the cache), the eviction target it gives, and how the fleet engine reacts to a file
// system that is smaller than max_size or says ENOSPC: FleetMaintainer and FleetEngine with a
// fake CapacityProbe, on real directories (objects on disk, journals), at simulated wall-clock
// times near the real one.
#include "cache/capacity.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "cache/cache_layout.h"
#include "cache/disk_usage.h"
#include "cache/fleet/fleet_engine.h"
#include "cache/fleet/fleet_journal.h"
#include "cache/fleet/fleet_maintainer.h"
#include "cache/fleet/journal.h"
#include "cache/synced_file.h"
#include "temp_dir.h"
#include "util/wall_clock.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kHour = 3600 * kSecond;
constexpr std::uint64_t kTiB = 1ull << 40;

// ---- the arithmetic ------------------------------------------------------------------------

TEST(EffectiveCapacity, IsTheSmallerOfMaxSizeAndTheAccountedSizePlusFreeSpace) {
  const FileSystemSpace space{.size_bytes = 100'000, .available_bytes = 30'000};
  EXPECT_EQ(effective_capacity(1'000'000, 50'000, space, false), 80'000u);
  EXPECT_EQ(effective_capacity(60'000, 50'000, space, false), 60'000u);
  // No max_size: the file system alone bounds the cache.
  EXPECT_EQ(effective_capacity(0, 50'000, space, false), 80'000u);
  // Other data on the file system (100'000 - 50'000 - 30'000 of it) is never counted on.
  EXPECT_EQ(effective_capacity(0, 10'000, space, false), 40'000u);
  // Never more than the whole file system (accounting ahead of the disk).
  EXPECT_EQ(effective_capacity(0, 90'000, space, false), 100'000u);
}

TEST(EffectiveCapacity, WithoutFileSystemFiguresMaxSizeAloneApplies) {
  EXPECT_EQ(effective_capacity(60'000, 50'000, std::nullopt, false), 60'000u);
  EXPECT_EQ(effective_capacity(0, 50'000, std::nullopt, false), 0u) << "0 = unlimited";
}

TEST(EffectiveCapacity, AFileSystemThatSaidNoSpaceHoldsNoMoreThanIsAccounted) {
  const FileSystemSpace space{.size_bytes = 100'000, .available_bytes = 30'000};
  EXPECT_EQ(effective_capacity(1'000'000, 50'000, space, true), 50'000u);
  EXPECT_EQ(effective_capacity(40'000, 50'000, space, true), 40'000u);
  EXPECT_EQ(effective_capacity(0, 50'000, std::nullopt, true), 50'000u);
  // A computed capacity is never 0, which would read as unlimited.
  EXPECT_EQ(effective_capacity(0, 0, space, true), 1u);
}

TEST(EffectiveCapacity, TighterLimitIgnoresZero) {
  EXPECT_EQ(tighter_limit(0, 0), 0u);
  EXPECT_EQ(tighter_limit(5, 0), 5u);
  EXPECT_EQ(tighter_limit(0, 7), 7u);
  EXPECT_EQ(tighter_limit(5, 7), 5u);
}

TEST(EvictionTarget, WithoutNewsFromAboveTheHighWatermarkToTheLowOne) {
  const auto target = eviction_target(100'000, 0.9, 0.8, {});
  EXPECT_EQ(target.above, 90'000u);
  EXPECT_EQ(target.down_to, 80'000u);
}

TEST(EvictionTarget, FillsThatFoundNoRoomHaveRoomMadeForTheLargest) {
  // A 25'000-byte fill refused: down to where it fits below the high watermark.
  auto target = eviction_target(100'000, 0.9, 0.8, {.refused = 3, .largest_bytes = 25'000});
  EXPECT_EQ(target.above, 65'000u);
  EXPECT_EQ(target.down_to, 65'000u);
  // Small fills (or ENOSPC of unknown size): down to the low watermark, from wherever.
  target = eviction_target(100'000, 0.9, 0.8, {.no_space = 1});
  EXPECT_EQ(target.above, 80'000u);
  EXPECT_EQ(target.down_to, 80'000u);
  // A fill over half the high watermark is not made room for: it would empty the cache.
  target = eviction_target(100'000, 0.9, 0.8, {.refused = 1, .largest_bytes = 45'001});
  EXPECT_EQ(target.down_to, 80'000u);
  target = eviction_target(100'000, 0.9, 0.8, {.refused = 1, .largest_bytes = 45'000});
  EXPECT_EQ(target.down_to, 45'000u);
}

TEST(SpaceNews, MergesCountsAndKeepsTheLargestFill) {
  SpaceNews news{.refused = 1, .largest_bytes = 10};
  EXPECT_TRUE(news.any());
  news.merge({.no_space = 2, .largest_bytes = 30});
  news.merge({.refused = 1, .largest_bytes = 20});
  EXPECT_EQ(news.refused, 2u);
  EXPECT_EQ(news.no_space, 2u);
  EXPECT_EQ(news.largest_bytes, 30u);
  EXPECT_FALSE(SpaceNews{}.any());
}

TEST(IsNoSpace, EnospcAndEdquotOnly) {
  EXPECT_TRUE(is_no_space(std::error_code(ENOSPC, std::generic_category())));
  EXPECT_TRUE(is_no_space(std::error_code(EDQUOT, std::generic_category())));
  EXPECT_TRUE(is_no_space(std::error_code(ENOSPC, std::system_category())));
  EXPECT_FALSE(is_no_space(std::error_code(EIO, std::generic_category())));
  EXPECT_FALSE(is_no_space(std::error_code()));
  // What std::filesystem throws carries the errno too.
  const fs::filesystem_error error("create directories", "/x",
                                   std::error_code(ENOSPC, std::generic_category()));
  EXPECT_TRUE(is_no_space(error.code()));
}

TEST(StatvfsProbe, ReadsTheFileSystemOfTheDirectory) {
  s3hc::testing::TempDir dir("statvfs-probe-test");
  const auto space = StatvfsProbe(dir.string()).space();
  ASSERT_TRUE(space.has_value());
  EXPECT_GT(space->size_bytes, 0u);
  EXPECT_LE(space->available_bytes, space->size_bytes);
  EXPECT_FALSE(StatvfsProbe(dir.string() + "/missing").space().has_value());
}

// ---- the fleet engine with a fake file system ----------------------------------------------

// A file system whose figures the test sets.
class FakeProbe final : public CapacityProbe {
 public:
  std::optional<FileSystemSpace> space() const override {
    std::lock_guard lock(mutex_);
    return space_;
  }
  void set(std::optional<FileSystemSpace> space) {
    std::lock_guard lock(mutex_);
    space_ = space;
  }
  // As if `bytes` had been freed (or taken, negative) on it.
  void free_up(std::int64_t bytes) {
    std::lock_guard lock(mutex_);
    space_->available_bytes = static_cast<std::uint64_t>(
        static_cast<std::int64_t>(space_->available_bytes) + bytes);
  }

 private:
  mutable std::mutex mutex_;
  std::optional<FileSystemSpace> space_;
};

struct Object {
  std::string id;
  v1::CacheRecord record;
  std::uint64_t bytes = 0;  // as du counts its directory
};

class CapacityFleetTest : public ::testing::Test {
 protected:
  FleetOptions options() const {
    FleetOptions options;
    options.max_size_bytes = kTiB;  // far above any file system here
    options.high_watermark = 0.9;
    options.low_watermark = 0.8;
    options.interval = 1000ms;
    options.lease_duration = 10000ms;
    options.snapshot_interval = 5000ms;
    options.protect_recent = 10000ms;
    options.ttls = {.get_ttl = std::chrono::milliseconds(kHour),
                    .put_ttl = std::chrono::milliseconds(kHour)};
    return options;
  }

  std::string journal_dir() const { return FleetMaintainer::journal_dir(layout_); }
  std::string fleet_file(const std::string& name) const {
    return dir_.string() + "/fleet/" + name;
  }

  // An object on disk, fetched an hour ago (so not protected): a record naming one range
  // file of `payload` bytes.
  Object make_object(const std::string& key, std::size_t payload) {
    Object object;
    object.id = CacheLayout::object_id("bucket", key);
    auto& record = object.record;
    record.set_format_version(1);
    record.set_bucket("bucket");
    record.set_key(key);
    record.set_etag("\"etag\"");
    record.set_fetched_at_unix_ms(now_ - kHour);
    record.set_validated_at_unix_ms(now_);
    record.set_size(payload);
    auto* range = record.add_ranges();
    range->set_first(0);
    range->set_last(payload - 1);
    range->set_file("0.rng");
    const auto dir = layout_.path_of(object.id);
    fs::create_directories(dir);
    std::ofstream(dir + "/0.rng", std::ios::binary) << std::string(payload, 'x');
    std::ofstream(dir + "/record", std::ios::binary) << record.SerializeAsString();
    object.bytes = directory_disk_usage(dir);
    return object;
  }

  // `count` objects of `payload` bytes, journaled as stored an hour ago; their total size.
  std::uint64_t make_objects(int count, std::size_t payload) {
    std::uint64_t total = 0;
    for (int i = 0; i < count; ++i) {
      objects_.push_back(make_object("key" + std::to_string(objects_.size()), payload));
      journal_at(objects_.back().id, now_ - kHour, objects_.back().bytes);
      total += objects_.back().bytes;
    }
    return total;
  }

  // A journal entry dated `at_ms`, as a proxy's FleetJournal would have written it then.
  void journal_at(const std::string& id, std::int64_t at_ms, std::uint64_t bytes,
                  std::uint32_t no_space = 0) {
    v1::JournalEntry entry;
    entry.set_dir_id(id);
    entry.set_at_unix_ms(at_ms);
    entry.set_stored(!id.empty());
    entry.set_bytes(bytes);
    entry.set_fills_no_space(no_space);
    if (!crafted_) crafted_ = std::make_unique<JournalWriter>(journal_dir(), "crafted");
    ASSERT_TRUE(crafted_->append({entry.SerializeAsString()}));
  }

  std::size_t on_disk() const {
    std::size_t count = 0;
    for (const auto& object : objects_) count += fs::exists(layout_.path_of(object.id));
    return count;
  }

  std::optional<v1::FleetUsage> published() const {
    const auto bytes = read_whole_file(fleet_file("usage"));
    v1::FleetUsage usage;
    if (!bytes || !usage.ParseFromString(*bytes)) return std::nullopt;
    return usage;
  }

  // A file system of 1 TiB with `available` bytes free.
  void set_available(std::uint64_t available) {
    probe_->set(FileSystemSpace{.size_bytes = kTiB, .available_bytes = available});
  }

  s3hc::testing::TempDir dir_{"capacity-test"};
  CacheLayout layout_{dir_.string()};
  const std::int64_t now_ = util::unix_now_ms();
  std::shared_ptr<FakeProbe> probe_ = std::make_shared<FakeProbe>();
  std::vector<Object> objects_;
  std::unique_ptr<JournalWriter> crafted_;
};

TEST_F(CapacityFleetTest, TheHolderEvictsToTheWatermarksOfWhatTheFileSystemHolds) {
  const auto total = make_objects(10, 64000);
  // 95% of what the file system holds for the cache (max_size: 1 TiB).
  const auto available = total * 5 / 95;
  set_available(available);
  const auto capacity = total + available;
  FleetMaintainer maintainer(layout_, "maintainer-1", options(), probe_);
  maintainer.round(now_ + kSecond);

  const auto stats = maintainer.stats();
  EXPECT_EQ(stats.capacity_bytes, capacity);
  EXPECT_LE(stats.total_bytes, capacity * 8 / 10);
  EXPECT_GT(stats.total_bytes + objects_[0].bytes, capacity * 8 / 10) << "evicted too much";
  EXPECT_EQ(stats.objects, on_disk());
  ASSERT_TRUE(published().has_value());
  EXPECT_EQ(published()->effective_capacity_bytes(), capacity);
  EXPECT_EQ(published()->max_size_bytes(), kTiB);

  // The evicted bytes are free again: same capacity, nothing more to evict.
  probe_->free_up(static_cast<std::int64_t>(stats.evicted_bytes));
  maintainer.round(now_ + 2 * kSecond);
  EXPECT_EQ(maintainer.stats().evictions, stats.evictions);
  EXPECT_EQ(maintainer.stats().capacity_bytes, capacity);
}

TEST_F(CapacityFleetTest, MaxSizeStillBoundsALargerFileSystem) {
  const auto total = make_objects(4, 64000);
  set_available(kTiB / 2);
  auto options = this->options();
  options.max_size_bytes = total * 2;
  FleetMaintainer maintainer(layout_, "maintainer-1", options, probe_);
  maintainer.round(now_ + kSecond);
  EXPECT_EQ(maintainer.stats().capacity_bytes, total * 2);
  EXPECT_EQ(maintainer.stats().evictions, 0u);
}

TEST_F(CapacityFleetTest, NoSpaceMakesTheNextRoundEvictToTheLowWatermarkOfWhatIsAccounted) {
  const auto total = make_objects(10, 64000);
  set_available(10 * total);  // the file system claims room (a quota it does not show)
  FleetMaintainer maintainer(layout_, "maintainer-1", options(), probe_);
  maintainer.round(now_ + kSecond);
  EXPECT_EQ(maintainer.stats().evictions, 0u);
  EXPECT_EQ(maintainer.stats().capacity_bytes, 11 * total);

  // A fill of this proxy failed with ENOSPC.
  maintainer.round(now_ + 2 * kSecond, {.no_space = 1});
  const auto stats = maintainer.stats();
  EXPECT_EQ(stats.capacity_bytes, total);
  EXPECT_EQ(published()->effective_capacity_bytes(), total);
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_LE(stats.total_bytes, total * 8 / 10);
  EXPECT_GT(stats.total_bytes + objects_[0].bytes, total * 8 / 10);
  EXPECT_EQ(stats.objects, on_disk());

  // No more news: the file system's figures again, no more evictions.
  maintainer.round(now_ + 3 * kSecond);
  EXPECT_EQ(maintainer.stats().evictions, stats.evictions);
  EXPECT_EQ(maintainer.stats().capacity_bytes, stats.total_bytes + 10 * total);
}

TEST_F(CapacityFleetTest, AnotherProxysNoSpaceNewsReachesTheHolderThroughItsJournal) {
  const auto total = make_objects(10, 64000);
  set_available(10 * total);
  FleetMaintainer holder(layout_, "maintainer-1", options(), probe_);
  holder.round(now_ + kSecond);
  ASSERT_TRUE(holder.stats().holder);

  FleetJournal other(journal_dir(), "proxy-b", {});
  other.lacked_room({.no_space = 2, .largest_bytes = 100});
  other.lacked_room({.refused = 1, .largest_bytes = 50});
  ASSERT_TRUE(other.flush());
  holder.round(now_ + 2 * kSecond);
  EXPECT_EQ(holder.stats().capacity_bytes, total);
  EXPECT_LE(holder.stats().total_bytes, total * 8 / 10);
  EXPECT_GT(holder.stats().evictions, 0u);
}

TEST_F(CapacityFleetTest, OldNoSpaceNewsAsksForNoRoom) {
  const auto total = make_objects(10, 64000);
  set_available(10 * total);
  // Read again by a successor from an old snapshot's cursor: long past.
  journal_at("", now_ - kHour, 0, /*no_space=*/1);
  FleetMaintainer maintainer(layout_, "maintainer-1", options(), probe_);
  maintainer.round(now_ + kSecond);
  EXPECT_EQ(maintainer.stats().evictions, 0u);
  EXPECT_EQ(maintainer.stats().capacity_bytes, 11 * total);
}

TEST_F(CapacityFleetTest, ARefusedFillLargerThanTheRoomBetweenTheWatermarksGetsRoom) {
  const auto total = make_objects(10, 64000);
  // 85% full: between the watermarks, where eviction alone would wait for ever.
  const auto available = total * 15 / 85;
  set_available(available);
  const auto capacity = total + available;
  FleetMaintainer maintainer(layout_, "maintainer-1", options(), probe_);
  maintainer.round(now_ + kSecond);
  ASSERT_EQ(maintainer.stats().evictions, 0u);

  // A fill of 30% of the capacity was refused.
  const auto wanted = capacity * 3 / 10;
  maintainer.round(now_ + 2 * kSecond, {.refused = 1, .largest_bytes = wanted});
  const auto stats = maintainer.stats();
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_LE(stats.total_bytes + wanted, capacity * 9 / 10) << "the refused fill fits now";
  EXPECT_EQ(stats.objects, on_disk());
}

TEST_F(CapacityFleetTest, TheHolderKeepsAReserveFileForTheLease) {
  make_objects(2, 64000);
  set_available(kTiB / 2);
  FleetMaintainer maintainer(layout_, "maintainer-1", options(), probe_);
  maintainer.round(now_ + kSecond);
  ASSERT_TRUE(fs::exists(fleet_file("reserve")));
  EXPECT_EQ(fs::file_size(fleet_file("reserve")), FleetMaintainer::kReserveBytes);
  // Checked in a process's first hold (and after a snapshot), not every round.
  maintainer.release(now_ + 2 * kSecond);
  fs::remove(fleet_file("reserve"));  // as a proxy short of space for the lease does
  FleetMaintainer successor(layout_, "maintainer-2", options(), probe_);
  successor.round(now_ + 3 * kSecond);
  ASSERT_TRUE(successor.stats().holder);
  EXPECT_TRUE(fs::exists(fleet_file("reserve")));
}

TEST_F(CapacityFleetTest, OtherProxiesReadThePublishedCapacityBoundedByTheirOwnMaxSize) {
  const auto total = make_objects(4, 64000);
  set_available(total);
  FleetMaintainer holder(layout_, "maintainer-1", options(), probe_);
  holder.round(now_ + kSecond);
  FleetMaintainer other(layout_, "maintainer-2", options(), probe_);
  other.round(now_ + kSecond + 500);
  ASSERT_FALSE(other.stats().holder);
  EXPECT_EQ(other.stats().capacity_bytes, 2 * total);
  auto small = options();
  small.max_size_bytes = total;
  FleetMaintainer third(layout_, "maintainer-3", small, probe_);
  third.round(now_ + kSecond + 600);
  EXPECT_EQ(third.stats().capacity_bytes, total);
}

TEST_F(CapacityFleetTest, NoMaxSizeAndNoFileSystemFiguresIsUnlimited) {
  const auto total = make_objects(4, 64000);
  probe_->set(std::nullopt);
  auto options = this->options();
  options.max_size_bytes = 0;
  FleetMaintainer maintainer(layout_, "maintainer-1", options, probe_);
  maintainer.round(now_ + kSecond, {.no_space = 0, .largest_bytes = 0});
  EXPECT_EQ(maintainer.stats().capacity_bytes, 0u);
  EXPECT_EQ(maintainer.stats().total_bytes, total);
  // Without max_size the file system alone bounds the cache.
  set_available(total / 19);
  maintainer.round(now_ + 2 * kSecond);
  EXPECT_EQ(maintainer.stats().capacity_bytes, total + total / 19);
  EXPECT_GT(maintainer.stats().evictions, 0u);
}

// The whole path through FleetEngine: admission by the published effective capacity, a refusal
// or an ENOSPC reported by a fill, eviction at the next round, admission again.
class CapacityEngineTest : public CapacityFleetTest {
 protected:
  std::unique_ptr<FleetEngine> engine() {
    auto options = this->options();
    options.protect_recent = 0ms;
    return std::make_unique<FleetEngine>(layout_, "engine-1", options,
                                         FleetEngine::RoundObserver{}, probe_);
  }
};

TEST_F(CapacityEngineTest, AdmissionFollowsTheEffectiveCapacityAndARefusalMakesRoom) {
  const auto total = make_objects(10, 64000);
  const auto available = total / 5;  // 83% full, below the high watermark
  set_available(available);
  const auto capacity = total + available;
  auto engine = this->engine();
  engine->run_round(util::unix_now_ms() + kSecond);
  ASSERT_EQ(engine->stats().capacity_bytes, capacity);
  ASSERT_EQ(engine->stats().evictions, 0u);

  EXPECT_TRUE(engine->admits(available / 4, false));
  // 1 TiB of max_size, but the file system holds far less.
  const auto big = capacity * 3 / 10;
  EXPECT_FALSE(engine->admits(big, false));
  engine->run_round(util::unix_now_ms() + 2 * kSecond);
  const auto stats = engine->stats();
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_EQ(stats.objects, on_disk());
  EXPECT_TRUE(engine->admits(big, false)) << "room was made";
  // Nothing refused since: no more evictions.
  probe_->free_up(static_cast<std::int64_t>(stats.evicted_bytes));
  engine->run_round(util::unix_now_ms() + 3 * kSecond);
  EXPECT_EQ(engine->stats().evictions, stats.evictions);
}

TEST_F(CapacityEngineTest, AFillThatMetENOSPCMakesTheNextRoundEvict) {
  const auto total = make_objects(10, 64000);
  set_available(10 * total);
  auto engine = this->engine();
  engine->run_round(util::unix_now_ms() + kSecond);
  ASSERT_EQ(engine->stats().evictions, 0u);
  EXPECT_TRUE(engine->admits(8000, false));

  engine->lacked_space(8000);
  engine->lacked_space(8000);  // several fills, one round, one warning
  engine->run_round(util::unix_now_ms() + 2 * kSecond);
  const auto stats = engine->stats();
  EXPECT_EQ(stats.capacity_bytes, total);
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_LE(stats.total_bytes, total * 8 / 10);
  EXPECT_EQ(stats.objects, on_disk());

  // The news was taken: the next round evicts no more, and fills are admitted again.
  probe_->set(FileSystemSpace{.size_bytes = kTiB, .available_bytes = total - stats.total_bytes});
  engine->run_round(util::unix_now_ms() + 3 * kSecond);
  EXPECT_EQ(engine->stats().evictions, stats.evictions);
  EXPECT_EQ(engine->stats().capacity_bytes, total);
  EXPECT_TRUE(engine->admits(8000, false));
}

TEST_F(CapacityEngineTest, WrittenObjectsTakeTheirShareOfTheEffectiveCapacity) {
  const auto total = make_objects(4, 64000);
  set_available(3 * total);  // capacity 4 x total, half of it for written objects
  auto engine = this->engine();
  engine->run_round(util::unix_now_ms() + kSecond);
  ASSERT_EQ(engine->stats().capacity_bytes, 4 * total);
  EXPECT_TRUE(engine->admits(total, true));
  EXPECT_FALSE(engine->admits(total * 5 / 2, true));
  EXPECT_TRUE(engine->admits(total * 5 / 2, false));
}

}  // namespace
}  // namespace s3hc::cache
