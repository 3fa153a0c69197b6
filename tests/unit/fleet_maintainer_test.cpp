// FleetJournal and FleetMaintainer together: FleetJournal instances stand in for proxies and
// journal what their object stores would report; FleetMaintainer::round consolidates it at
// simulated wall-clock times near the real one (the journal stamps its news with the real
// clock).
#include "cache/fleet/fleet_maintainer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_layout.h"
#include "cache/disk_usage.h"
#include "cache/evicted_news.h"
#include "cache/fleet/fleet_journal.h"
#include "cache/fleet/journal.h"
#include "cache/fleet/lease_file.h"
#include "cache/synced_file.h"
#include "file_times.h"
#include "temp_dir.h"
#include "util/wall_clock.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;

// A record of ("bucket", `key`); a tombstone when `tombstone`.
v1::CacheRecord make_record(const std::string& key, std::int64_t fetched_at_ms,
                            std::int64_t validated_at_ms, bool from_write = false,
                            bool tombstone = false) {
  v1::CacheRecord record;
  record.set_format_version(1);
  record.set_bucket("bucket");
  record.set_key(key);
  if (!tombstone) record.set_etag("\"etag\"");
  record.set_fetched_at_unix_ms(fetched_at_ms);
  record.set_validated_at_unix_ms(validated_at_ms);
  record.set_from_write(from_write);
  return record;
}

// An object of the cache, on disk or only in journals.
struct Object {
  std::string id;
  v1::CacheRecord record;
  std::uint64_t bytes = 0;  // as du counts its directory
};

class FleetMaintainerTest : public ::testing::Test {
 protected:
  FleetOptions options() const {
    FleetOptions options;
    options.max_size_bytes = 0;
    options.interval = 1000ms;
    options.lease_duration = 10000ms;  // takeover grace: 2 s
    options.snapshot_interval = 5000ms;
    options.protect_recent = 10000ms;
    options.ttls = ttls_;
    return options;
  }

  std::string journal_dir() const { return FleetMaintainer::journal_dir(layout_); }
  std::string fleet_file(const std::string& name) const { return dir_.string() + "/fleet/" + name; }

  std::unique_ptr<FleetJournal> proxy(const std::string& id) const {
    return std::make_unique<FleetJournal>(journal_dir(), id, ttls_);
  }

  // An object on disk: a record naming one range file of `payload` bytes (none for a
  // tombstone). Fresh for an hour from `validated_at_ms` (the default: now).
  Object make_object(const std::string& key, std::size_t payload, std::int64_t fetched_at_ms,
                     std::optional<std::int64_t> validated_at_ms = std::nullopt,
                     bool tombstone = false) {
    Object object{.id = CacheLayout::object_id("bucket", key),
                  .record = make_record(key, fetched_at_ms, validated_at_ms.value_or(now_),
                                        false, tombstone)};
    const auto dir = layout_.path_of(object.id);
    fs::create_directories(dir);
    if (!tombstone) {
      auto* range = object.record.add_ranges();
      range->set_first(0);
      range->set_last(payload - 1);
      range->set_file("0.rng");
      object.record.set_size(payload);
      std::ofstream(dir + "/0.rng", std::ios::binary) << std::string(payload, 'x');
    }
    std::ofstream(dir + "/record", std::ios::binary) << object.record.SerializeAsString();
    object.bytes = directory_disk_usage(dir);
    EXPECT_GT(object.bytes, payload);
    return object;
  }

  // An object known only from journals (no directory).
  Object journal_only(const std::string& key, std::uint64_t bytes, bool from_write = false) const {
    return Object{.id = CacheLayout::object_id("bucket", key),
                  .record = make_record(key, now_, now_, from_write),
                  .bytes = bytes};
  }

  bool on_disk(const Object& object) const { return fs::exists(layout_.path_of(object.id)); }

  // A journal entry dated `at_ms`, as a proxy's FleetJournal would have written it then.
  void journal_at(const std::string& id, std::int64_t at_ms, std::uint64_t bytes,
                  bool tombstone = false, std::uint32_t accesses = 0, bool stored = true) {
    v1::JournalEntry entry;
    entry.set_dir_id(id);
    entry.set_at_unix_ms(at_ms);
    entry.set_stored(stored);
    entry.set_bytes(bytes);
    entry.set_tombstone(tombstone);
    entry.set_accesses(accesses);
    if (!crafted_) crafted_ = std::make_unique<JournalWriter>(journal_dir(), "crafted");
    ASSERT_TRUE(crafted_->append({entry.SerializeAsString()}));
  }

  std::vector<std::string> segment_names() const {
    std::vector<std::string> names;
    for (const auto& segment : list_journal_segments(journal_dir())) {
      names.push_back(fs::path(segment.path).filename().string());
    }
    return names;
  }

  std::optional<v1::FleetUsage> published() const {
    const auto bytes = read_whole_file(fleet_file("usage"));
    v1::FleetUsage usage;
    if (!bytes || !usage.ParseFromString(*bytes)) return std::nullopt;
    return usage;
  }

  std::optional<LeaseState> lease() const { return LeaseFile::read(fleet_file("maintenance.lease")); }

  s3hc::testing::TempDir dir_{"fleet-maintainer-test"};
  CacheLayout layout_{dir_.string()};
  FreshnessTtls ttls_{.get_ttl = std::chrono::milliseconds(kHour),
                      .put_ttl = std::chrono::milliseconds(kHour)};
  const std::int64_t now_ = util::unix_now_ms();
  std::unique_ptr<JournalWriter> crafted_;
};

TEST_F(FleetMaintainerTest, OneMaintainerTakesTheLeaseAndPublishesTheJournaledSizes) {
  const auto a = proxy("proxy-a");
  const auto b = proxy("proxy-b");
  const auto one = journal_only("one", 1000);
  const auto two = journal_only("two", 2000);
  const auto upload = CacheLayout::upload_id("bucket", "big", "upload-1");
  a->stored(one.id, one.bytes, &one.record);
  a->accessed(one.id);
  a->stored(two.id, two.bytes, &two.record);
  b->stored(upload, 4000, nullptr);
  ASSERT_TRUE(a->flush());
  ASSERT_TRUE(b->flush());

  auto options = this->options();
  options.max_size_bytes = 1'000'000;
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + kSecond);

  const auto stats = maintainer.stats();
  EXPECT_TRUE(stats.holder);
  EXPECT_EQ(stats.total_bytes, 7000u);
  EXPECT_EQ(stats.objects, 3u);
  EXPECT_EQ(stats.journal_entries, 3u);  // one per directory and flush
  EXPECT_EQ(stats.evictions, 0u);
  ASSERT_TRUE(lease().has_value());
  EXPECT_EQ(lease()->owner, "maintainer-1");
  const auto usage = maintainer.usage();
  ASSERT_TRUE(usage.has_value());
  EXPECT_EQ(usage->total_bytes(), 7000u);
  EXPECT_EQ(usage->objects(), 3u);
  EXPECT_EQ(usage->max_size_bytes(), 1'000'000u);
  EXPECT_EQ(usage->at_unix_ms(), now_ + kSecond);
  EXPECT_EQ(usage->lease_token(), lease()->token);
  ASSERT_TRUE(published().has_value());
  EXPECT_EQ(published()->SerializeAsString(), usage->SerializeAsString());

  // Sizes are absolute: the newest news replaces what was known; 0 means gone.
  a->stored(one.id, 1500, &one.record);
  b->stored(upload, 0, nullptr);
  ASSERT_TRUE(a->flush());
  ASSERT_TRUE(b->flush());
  maintainer.round(now_ + 2 * kSecond);
  EXPECT_EQ(maintainer.stats().total_bytes, 3500u);
  EXPECT_EQ(maintainer.stats().objects, 2u);
  EXPECT_EQ(maintainer.stats().journal_entries, 5u);
  EXPECT_EQ(published()->total_bytes(), 3500u);
}

TEST_F(FleetMaintainerTest, OlderNewsThanKnownIsIgnored) {
  const auto object = journal_only("one", 0);
  journal_at(object.id, now_ - kMinute, 5000);
  journal_at(object.id, now_ - 2 * kMinute, 9000);  // appended later, but older
  FleetMaintainer maintainer(layout_, "maintainer-1", options());
  maintainer.round(now_);
  EXPECT_EQ(maintainer.stats().total_bytes, 5000u);
  EXPECT_EQ(maintainer.stats().objects, 1u);
}

TEST_F(FleetMaintainerTest, JournalCountsGrowthUntilAUsagePublishedAfterItsFlush) {
  const auto a = proxy("proxy-a");
  const auto one = journal_only("one", 0);
  const auto two = journal_only("two", 0);
  EXPECT_EQ(a->unaccounted_growth(0), 0u);
  a->stored(one.id, 1000, &one.record);
  EXPECT_EQ(a->unaccounted_growth(0), 1000u);
  a->stored(one.id, 1500, &one.record);
  EXPECT_EQ(a->unaccounted_growth(0), 1500u);
  a->stored(one.id, 200, &one.record);  // shrinking is not growth
  EXPECT_EQ(a->unaccounted_growth(0), 1500u);
  a->accessed(one.id);
  EXPECT_TRUE(a->flush());
  const auto after_first_flush = util::unix_now_ms() + 1;
  // A usage published by a round that started before the flush does not include it...
  EXPECT_EQ(a->unaccounted_growth(after_first_flush - 1000), 1500u);
  // ... one that started after it does.
  EXPECT_EQ(a->unaccounted_growth(after_first_flush), 0u);
  a->stored(two.id, 300, &two.record);
  EXPECT_EQ(a->unaccounted_growth(after_first_flush), 300u);  // not flushed yet
  EXPECT_TRUE(a->flush());
  EXPECT_EQ(a->unaccounted_growth(after_first_flush - 1000), 1800u);
  EXPECT_EQ(a->unaccounted_growth(util::unix_now_ms() + 1), 0u);
}

TEST_F(FleetMaintainerTest, ASecondMaintainerDoesNotHoldAndReadsThePublishedUsage) {
  const auto a = proxy("proxy-a");
  const auto one = journal_only("one", 1000);
  a->stored(one.id, one.bytes, &one.record);
  ASSERT_TRUE(a->flush());

  FleetMaintainer first(layout_, "maintainer-1", options());
  FleetMaintainer second(layout_, "maintainer-2", options());
  EXPECT_FALSE(second.usage().has_value());  // nothing read yet
  first.round(now_ + kSecond);
  second.round(now_ + kSecond + 500);
  EXPECT_TRUE(first.stats().holder);
  EXPECT_FALSE(second.stats().holder);
  EXPECT_EQ(lease()->owner, "maintainer-1");
  ASSERT_TRUE(second.usage().has_value());
  EXPECT_EQ(second.usage()->total_bytes(), 1000u);
  EXPECT_EQ(second.stats().total_bytes, 1000u);
  EXPECT_EQ(second.stats().journal_entries, 0u);  // only the holder consolidates

  const auto two = journal_only("two", 2000);
  a->stored(two.id, two.bytes, &two.record);
  ASSERT_TRUE(a->flush());
  first.round(now_ + 2 * kSecond);
  second.round(now_ + 2 * kSecond + 500);
  EXPECT_FALSE(second.stats().holder);
  EXPECT_EQ(second.usage()->total_bytes(), 3000u);
  EXPECT_EQ(second.stats().objects, 2u);
  EXPECT_EQ(second.usage()->lease_token(), first.usage()->lease_token());
}

TEST_F(FleetMaintainerTest, AKilledHoldersLeaseIsTakenOverAfterItsExpiryAndGrace) {
  const auto a = proxy("proxy-a");
  std::uint64_t total = 0;
  for (int i = 0; i < 5; ++i) {
    const auto object = journal_only("key" + std::to_string(i), 1000 * (i + 1));
    a->stored(object.id, object.bytes, &object.record);
    total += object.bytes;
  }
  ASSERT_TRUE(a->flush());

  FleetMaintainer first(layout_, "maintainer-1", options());
  FleetMaintainer second(layout_, "maintainer-2", options());
  const auto start = now_ + kSecond;
  first.round(start);
  ASSERT_TRUE(first.stats().holder);
  const auto first_token = lease()->token;
  // `first` dies (no release): its lease runs 10 s, then 2 s of grace.
  second.round(start + 10 * kSecond);
  EXPECT_FALSE(second.stats().holder);
  second.round(start + 12 * kSecond + 1);
  EXPECT_TRUE(second.stats().holder);
  EXPECT_EQ(lease()->owner, "maintainer-2");
  EXPECT_GT(lease()->token, first_token);
  // No snapshot was saved: the successor rebuilt the same state from the journals.
  EXPECT_EQ(second.stats().total_bytes, total);
  EXPECT_EQ(second.stats().objects, 5u);
  EXPECT_EQ(second.usage()->lease_token(), lease()->token);

  // Back from a pause, the old holder finds it lost the lease.
  first.round(start + 12 * kSecond + 500);
  EXPECT_FALSE(first.stats().holder);
  EXPECT_EQ(first.usage()->lease_token(), lease()->token);
  EXPECT_EQ(lease()->owner, "maintainer-2");
}

TEST_F(FleetMaintainerTest, EvictsFromAboveTheHighWatermarkToTheLowOneAndRemovesTheDirectories) {
  const auto a = proxy("proxy-a");
  std::vector<Object> objects;
  std::uint64_t total = 0;
  for (int i = 0; i < 10; ++i) {
    objects.push_back(make_object("key" + std::to_string(i), 8000, now_ - kHour));
    a->stored(objects.back().id, objects.back().bytes, &objects.back().record);
    total += objects.back().bytes;
  }
  ASSERT_TRUE(a->flush());

  auto options = this->options();
  options.max_size_bytes = total * 100 / 95;  // 95% full
  options.high_watermark = 0.9;
  options.low_watermark = 0.5;
  const auto target = static_cast<std::uint64_t>(options.max_size_bytes * 0.5);
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + kMinute);  // nothing is protected any more

  const auto stats = maintainer.stats();
  EXPECT_LE(stats.total_bytes, target);
  EXPECT_GT(stats.total_bytes + objects[0].bytes, target) << "evicted more than needed";
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_EQ(stats.evictions + stats.objects, objects.size());
  EXPECT_EQ(stats.evicted_bytes + stats.total_bytes, total);
  EXPECT_EQ(published()->total_bytes(), stats.total_bytes);
  // The index and the disk agree: the evicted directories are gone, the others whole.
  std::uint64_t left_on_disk = 0;
  std::size_t dirs_left = 0;
  for (const auto& object : objects) {
    if (!on_disk(object)) continue;
    ++dirs_left;
    left_on_disk += directory_disk_usage(layout_.path_of(object.id));
    EXPECT_TRUE(fs::exists(layout_.path_of(object.id) + "/record"));
    EXPECT_TRUE(fs::exists(layout_.path_of(object.id) + "/0.rng"));
  }
  EXPECT_EQ(dirs_left, stats.objects);
  EXPECT_EQ(left_on_disk, stats.total_bytes);

  // Below the high watermark now: the next round evicts nothing.
  maintainer.round(now_ + kMinute + kSecond);
  EXPECT_EQ(maintainer.stats().evictions, stats.evictions);
}

TEST_F(FleetMaintainerTest, EvictionKeepsTheTimesOfRecordsAFillCouldBeOlderThan) {
  // Fills may take up to an hour (SweepOptions::max_fill_age): one stored 30 minutes ago may
  // have replaced a version a fill still running carries; one stored 2 hours ago not.
  const auto recent = make_object("recent", 8000, now_ - 30 * kMinute, now_ - 30 * kMinute);
  const auto old = make_object("old", 8000, now_ - 2 * kHour, now_ - 2 * kHour);
  const auto recent_hash = CacheLayout::object_hash("bucket", "recent");
  const auto old_hash = CacheLayout::object_hash("bucket", "old");
  ASSERT_NE(recent_hash % EvictedNews::kSlots, old_hash % EvictedNews::kSlots);
  journal_at(recent.id, now_ - 30 * kMinute, recent.bytes);
  journal_at(old.id, now_ - 2 * kHour, old.bytes);

  auto options = this->options();
  options.max_size_bytes = recent.bytes + old.bytes;  // full
  options.low_watermark = 0.01;                      // both go
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + kSecond);

  EXPECT_FALSE(on_disk(recent));
  EXPECT_FALSE(on_disk(old));
  const EvictedNews forgotten(layout_);
  EXPECT_EQ(forgotten.newest(recent_hash), now_ - 30 * kMinute);
  EXPECT_EQ(forgotten.newest(old_hash), 0);
}

TEST_F(FleetMaintainerTest, ATableOfEvictedNewsThatCannotBeKeptDoesNotStopEviction) {
  std::ofstream(dir_.path() / "evicted-news") << "not a table";
  const auto object = make_object("key", 8000, now_ - 30 * kMinute, now_ - 30 * kMinute);
  journal_at(object.id, now_ - 30 * kMinute, object.bytes);
  auto options = this->options();
  options.max_size_bytes = object.bytes;  // full
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + kSecond);
  EXPECT_FALSE(on_disk(object)) << "a full cache that cannot evict fills its file system";
  EXPECT_EQ(maintainer.stats().evictions, 1u);
}

TEST_F(FleetMaintainerTest, DoesNotEvictBelowTheHighWatermark) {
  const auto a = proxy("proxy-a");
  std::vector<Object> objects;
  std::uint64_t total = 0;
  for (int i = 0; i < 4; ++i) {
    objects.push_back(make_object("key" + std::to_string(i), 8000, now_ - kHour));
    a->stored(objects.back().id, objects.back().bytes, &objects.back().record);
    total += objects.back().bytes;
  }
  ASSERT_TRUE(a->flush());
  auto options = this->options();
  options.max_size_bytes = total * 100 / 85;  // 85% full: above low, below high
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + kMinute);
  EXPECT_EQ(maintainer.stats().evictions, 0u);
  EXPECT_EQ(maintainer.stats().total_bytes, total);
  for (const auto& object : objects) EXPECT_TRUE(on_disk(object));
}

TEST_F(FleetMaintainerTest, NeverEvictsRecentlyStoredObjectsOrTombstonesWithinTheirRetention) {
  const auto a = proxy("proxy-a");
  std::vector<Object> old_objects;
  std::vector<Object> kept;
  std::uint64_t total = 0;
  for (int i = 0; i < 4; ++i) {
    old_objects.push_back(make_object("old" + std::to_string(i), 8000, now_ - kHour));
    journal_at(old_objects.back().id, now_ - kHour, old_objects.back().bytes);
    total += old_objects.back().bytes;
  }
  for (int i = 0; i < 2; ++i) {  // stored just now, by a proxy
    kept.push_back(make_object("new" + std::to_string(i), 8000, now_));
    a->stored(kept.back().id, kept.back().bytes, &kept.back().record);
    total += kept.back().bytes;
  }
  ASSERT_TRUE(a->flush());
  // An invalidation 10 minutes ago: its tombstone is kept for an hour.
  kept.push_back(make_object("invalidated", 0, now_ - 10 * kMinute, std::nullopt, true));
  journal_at(kept.back().id, now_ - 10 * kMinute, kept.back().bytes, /*tombstone=*/true);
  total += kept.back().bytes;
  std::uint64_t kept_bytes = 0;
  for (const auto& object : kept) kept_bytes += object.bytes;

  auto options = this->options();
  options.max_size_bytes = total;  // full
  options.low_watermark = 0.01;    // would evict everything it may
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + kSecond);

  for (const auto& object : old_objects) EXPECT_FALSE(on_disk(object)) << object.record.key();
  for (const auto& object : kept) EXPECT_TRUE(on_disk(object)) << object.record.key();
  EXPECT_EQ(maintainer.stats().evictions, old_objects.size());
  EXPECT_EQ(maintainer.stats().total_bytes, kept_bytes);
  EXPECT_EQ(maintainer.stats().objects, kept.size());
}

TEST_F(FleetMaintainerTest, NeverEvictsRecentlyReadObjects) {

  const auto a = proxy("proxy-a");
  const auto read = make_object("read", 8000, now_ - kHour);
  const auto unread = make_object("unread", 8000, now_ - kHour);
  journal_at(read.id, now_ - kHour, read.bytes);
  journal_at(unread.id, now_ - kHour, unread.bytes);
  a->accessed(read.id);  // read just now
  ASSERT_TRUE(a->flush());

  auto options = this->options();
  options.policy = EvictionPolicy::kLru;
  options.max_size_bytes = read.bytes + unread.bytes;
  options.low_watermark = 0.01;  // would evict both
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + kSecond);

  EXPECT_FALSE(on_disk(unread));
  EXPECT_TRUE(on_disk(read)) << "read 1 s ago, protect_recent is 10 s";
  EXPECT_EQ(maintainer.stats().evictions, 1u);
}

TEST_F(FleetMaintainerTest, AnObjectAuditedBeforeItsJournalNewsArrivesIsStillProtected) {

  // A proxy filled this object just now; the sweeper reaches its directory before that
  // proxy's next journal flush.
  const auto fresh = make_object("fresh", 8000, now_);
  auto options = this->options();
  options.max_size_bytes = fresh.bytes;  // full
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + kSecond);
  EXPECT_TRUE(on_disk(fresh)) << "stored 1 s ago, protect_recent is 10 s";

  // The proxy's news arrives a round later.
  const auto a = proxy("proxy-a");
  a->stored(fresh.id, fresh.bytes, &fresh.record);
  ASSERT_TRUE(a->flush());
  maintainer.round(now_ + 2 * kSecond);
  EXPECT_TRUE(on_disk(fresh));
  EXPECT_EQ(maintainer.stats().evictions, 0u);
}

TEST_F(FleetMaintainerTest, TinyLfuEvictsTheLeastAskedFor) {
  const auto a = proxy("proxy-a");
  const auto popular = make_object("popular", 8000, now_ - kHour);
  const auto unpopular = make_object("unpopular", 8000, now_ - kHour);
  a->stored(popular.id, popular.bytes, &popular.record);
  a->stored(unpopular.id, unpopular.bytes, &unpopular.record);
  for (int i = 0; i < 10; ++i) a->accessed(popular.id);
  ASSERT_TRUE(a->flush());
  a->accessed(unpopular.id);  // the most recent access, but only one
  ASSERT_TRUE(a->flush());

  auto options = this->options();
  options.policy = EvictionPolicy::kTinyLfu;
  options.max_size_bytes = popular.bytes + unpopular.bytes;
  options.low_watermark = 0.6;  // one of the two goes
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + kMinute);

  EXPECT_TRUE(on_disk(popular));
  EXPECT_FALSE(on_disk(unpopular));
  EXPECT_EQ(maintainer.stats().evictions, 1u);
  EXPECT_EQ(maintainer.stats().evicted_bytes, unpopular.bytes);
}

TEST_F(FleetMaintainerTest, LruEvictsTheLeastRecentlyUsed) {
  const auto a = make_object("a", 8000, now_ - 3 * kHour);
  const auto b = make_object("b", 8000, now_ - 2 * kHour);
  const auto c = make_object("c", 8000, now_ - kHour);
  journal_at(a.id, now_ - 3 * kHour, a.bytes);
  journal_at(b.id, now_ - 2 * kHour, b.bytes);
  journal_at(c.id, now_ - kHour, c.bytes);
  journal_at(a.id, now_ - 30 * kMinute, 0, false, /*accesses=*/1, /*stored=*/false);

  auto options = this->options();
  options.policy = EvictionPolicy::kLru;
  options.max_size_bytes = a.bytes + b.bytes + c.bytes;
  options.low_watermark = 0.7;  // one of the three goes
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + kSecond);

  EXPECT_TRUE(on_disk(a));  // stored first, but read since
  EXPECT_FALSE(on_disk(b));
  EXPECT_TRUE(on_disk(c));
  EXPECT_EQ(maintainer.stats().evictions, 1u);
}

TEST_F(FleetMaintainerTest, WrittenBytesCountOnlyObjectsFromWrites) {
  const auto a = proxy("proxy-a");
  const auto written1 = journal_only("written1", 1000, /*from_write=*/true);
  const auto written2 = journal_only("written2", 2000, /*from_write=*/true);
  const auto fetched = journal_only("fetched", 4000);
  a->stored(written1.id, written1.bytes, &written1.record);
  a->stored(written2.id, written2.bytes, &written2.record);
  a->stored(fetched.id, fetched.bytes, &fetched.record);
  ASSERT_TRUE(a->flush());

  FleetMaintainer maintainer(layout_, "maintainer-1", options());
  maintainer.round(now_ + kSecond);
  EXPECT_EQ(maintainer.stats().written_bytes, 3000u);
  EXPECT_EQ(maintainer.stats().total_bytes, 7000u);
  EXPECT_EQ(published()->written_bytes(), 3000u);

  // Overwritten by a fill of the origin's version; one written object gone.
  const auto refetched = journal_only("written2", 2500);
  a->stored(refetched.id, refetched.bytes, &refetched.record);
  a->stored(written1.id, 0, nullptr);
  ASSERT_TRUE(a->flush());
  maintainer.round(now_ + 2 * kSecond);
  EXPECT_EQ(maintainer.stats().written_bytes, 0u);
  EXPECT_EQ(maintainer.stats().total_bytes, 6500u);
  EXPECT_EQ(published()->written_bytes(), 0u);
}

TEST_F(FleetMaintainerTest, ASuccessorResumesFromTheSnapshotAfterARelease) {
  const auto a = proxy("proxy-a");
  const auto one = journal_only("one", 1000);
  const auto two = journal_only("two", 2000);
  a->stored(one.id, one.bytes, &one.record);
  ASSERT_TRUE(a->flush());
  a->rotate();  // closes the first segment
  a->stored(two.id, two.bytes, &two.record);
  ASSERT_TRUE(a->flush());
  ASSERT_EQ(segment_names().size(), 2u);

  FleetMaintainer first(layout_, "maintainer-1", options());
  first.round(now_ + kSecond);
  EXPECT_EQ(first.stats().total_bytes, 3000u);
  EXPECT_EQ(segment_names().size(), 2u);  // consumed, but no snapshot says so yet
  first.release(now_ + kSecond + 100);
  EXPECT_EQ(lease()->expires_at_ms, 0);
  // The snapshot is saved, then the closed segment it consumed deleted.
  const auto snapshot_bytes = read_whole_file(fleet_file("snapshot"));
  ASSERT_TRUE(snapshot_bytes.has_value());
  v1::FleetSnapshot snapshot;
  ASSERT_TRUE(snapshot.ParseFromString(*snapshot_bytes));
  EXPECT_EQ(snapshot.instance(), read_whole_file(fleet_file("instance")).value_or("?"));
  EXPECT_EQ(segment_names(), std::vector<std::string>{"proxy-a.0000000002.jnl"});

  // Released: another takes over at once, and resumes where the first stopped.
  FleetMaintainer second(layout_, "maintainer-2", options());
  second.round(now_ + kSecond + 200);
  EXPECT_TRUE(second.stats().holder);
  EXPECT_EQ(second.stats().total_bytes, 3000u);  // "one" was only in the deleted segment
  EXPECT_EQ(second.stats().objects, 2u);
  EXPECT_EQ(second.stats().journal_entries, 0u);  // nothing read twice

  const auto three = journal_only("three", 4000);
  a->stored(three.id, three.bytes, &three.record);
  ASSERT_TRUE(a->flush());
  second.round(now_ + 2 * kSecond);
  EXPECT_EQ(second.stats().total_bytes, 7000u);
  EXPECT_EQ(second.stats().journal_entries, 1u);
}

TEST_F(FleetMaintainerTest, DeletesConsumedSegmentsOnlyAfterASnapshot) {
  const auto a = proxy("proxy-a");
  const auto dead = proxy("proxy-dead");
  const auto one = journal_only("one", 1000);
  const auto two = journal_only("two", 2000);
  const auto three = journal_only("three", 4000);
  a->stored(one.id, one.bytes, &one.record);
  ASSERT_TRUE(a->flush());
  a->rotate();
  a->stored(two.id, two.bytes, &two.record);
  ASSERT_TRUE(a->flush());
  dead->stored(three.id, three.bytes, &three.record);
  ASSERT_TRUE(dead->flush());
  // A proxy that died ten minutes ago: its only segment is untouched since.
  testing::set_mtime(journal_dir() + "/proxy-dead.0000000001.jnl", now_ - 10 * kMinute);
  ASSERT_EQ(segment_names().size(), 3u);

  FleetMaintainer maintainer(layout_, "maintainer-1", options());  // snapshots every 5 s
  maintainer.round(now_ + kSecond);
  EXPECT_EQ(maintainer.stats().total_bytes, 7000u);
  EXPECT_EQ(segment_names().size(), 3u);
  EXPECT_FALSE(fs::exists(fleet_file("snapshot")));

  maintainer.round(now_ + 7 * kSecond);
  EXPECT_TRUE(fs::exists(fleet_file("snapshot")));
  // Superseded and idle segments are gone; the live one stays.
  EXPECT_EQ(segment_names(), std::vector<std::string>{"proxy-a.0000000002.jnl"});
  EXPECT_EQ(maintainer.stats().total_bytes, 7000u);
  EXPECT_EQ(maintainer.stats().journal_entries, 3u);

  // The live proxy goes on appending to its segment.
  const auto four = journal_only("four", 8000);
  a->stored(four.id, four.bytes, &four.record);
  ASSERT_TRUE(a->flush());
  maintainer.round(now_ + 8 * kSecond);
  EXPECT_EQ(maintainer.stats().total_bytes, 15000u);
  EXPECT_EQ(maintainer.stats().journal_entries, 4u);
}

TEST_F(FleetMaintainerTest, ADeletedCacheDirectoryIsStartedAfresh) {
  const auto a = proxy("proxy-a");
  const auto one = journal_only("one", 1000);
  const auto two = journal_only("two", 2000);
  a->stored(one.id, one.bytes, &one.record);
  a->stored(two.id, two.bytes, &two.record);
  ASSERT_TRUE(a->flush());
  FleetMaintainer maintainer(layout_, "maintainer-1", options());
  maintainer.round(now_ + kSecond);
  ASSERT_EQ(maintainer.stats().total_bytes, 3000u);
  const auto old_instance = read_whole_file(fleet_file("instance"));
  ASSERT_TRUE(old_instance.has_value());

  fs::remove_all(dir_.path());  // the whole cache directory, under the running fleet
  const auto three = journal_only("three", 500);
  a->stored(three.id, three.bytes, &three.record);
  ASSERT_TRUE(a->flush());
  maintainer.round(now_ + 2 * kSecond);

  EXPECT_TRUE(maintainer.stats().holder);
  EXPECT_EQ(maintainer.stats().total_bytes, 500u);
  EXPECT_EQ(maintainer.stats().objects, 1u);
  EXPECT_EQ(published()->total_bytes(), 500u);
  const auto new_instance = read_whole_file(fleet_file("instance"));
  ASSERT_TRUE(new_instance.has_value());
  EXPECT_NE(*new_instance, *old_instance);
}

TEST_F(FleetMaintainerTest, ASnapshotOfAnotherInstanceIsNotUsed) {
  const auto a = proxy("proxy-a");
  const auto one = journal_only("one", 1000);
  a->stored(one.id, one.bytes, &one.record);
  ASSERT_TRUE(a->flush());
  FleetMaintainer first(layout_, "maintainer-1", options());
  first.round(now_ + kSecond);
  first.release(now_ + kSecond + 100);
  ASSERT_TRUE(fs::exists(fleet_file("snapshot")));

  // The directory's identity and journals are new; the old snapshot is still there.
  fs::remove(fleet_file("instance"));
  fs::remove_all(journal_dir());
  const auto two = journal_only("two", 500);
  a->stored(two.id, two.bytes, &two.record);
  ASSERT_TRUE(a->flush());

  FleetMaintainer second(layout_, "maintainer-2", options());
  second.round(now_ + kSecond + 200);
  EXPECT_TRUE(second.stats().holder);
  EXPECT_EQ(second.stats().total_bytes, 500u);
  EXPECT_EQ(second.stats().objects, 1u);
}

TEST_F(FleetMaintainerTest, ActiveExpiryDropsExpiredObjects) {
  const auto a = proxy("proxy-a");
  std::vector<Object> expired;
  std::vector<Object> fresh;
  for (int i = 0; i < 3; ++i) {
    // Validated two hours ago, fresh for one.
    expired.push_back(make_object("expired" + std::to_string(i), 4000, now_ - 2 * kHour,
                                  now_ - 2 * kHour));
    a->stored(expired.back().id, expired.back().bytes, &expired.back().record);
    fresh.push_back(make_object("fresh" + std::to_string(i), 4000, now_ - 2 * kHour));
    a->stored(fresh.back().id, fresh.back().bytes, &fresh.back().record);
  }
  ASSERT_TRUE(a->flush());

  auto options = this->options();
  options.active_expiry = true;  // and no size limit
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + 20 * kSecond);  // past the protection of news stored at now

  for (const auto& object : expired) EXPECT_FALSE(on_disk(object));
  for (const auto& object : fresh) EXPECT_TRUE(on_disk(object));
  EXPECT_EQ(maintainer.stats().expired, 3u);
  EXPECT_EQ(maintainer.stats().evictions, 0u);
  EXPECT_EQ(maintainer.stats().objects, 3u);
}

TEST_F(FleetMaintainerTest, LazyExpiryKeepsExpiredObjects) {
  const auto a = proxy("proxy-a");
  std::vector<Object> expired;
  for (int i = 0; i < 3; ++i) {
    expired.push_back(make_object("expired" + std::to_string(i), 4000, now_ - 2 * kHour,
                                  now_ - 2 * kHour));
    a->stored(expired.back().id, expired.back().bytes, &expired.back().record);
  }
  ASSERT_TRUE(a->flush());
  FleetMaintainer maintainer(layout_, "maintainer-1", options());
  maintainer.round(now_ + 20 * kSecond);
  for (const auto& object : expired) EXPECT_TRUE(on_disk(object));
  EXPECT_EQ(maintainer.stats().expired, 0u);
  EXPECT_EQ(maintainer.stats().objects, 3u);
}

TEST_F(FleetMaintainerTest, TheSweepersAuditCorrectsLostNews) {
  // News of these directories was lost with a killed proxy: the audit finds them.
  const auto one = make_object("one", 8000, now_ - kHour);
  const auto two = make_object("two", 20000, now_ - kHour);
  // And a size journaled wrong.
  journal_at(two.id, now_ - kHour, 1);
  FleetMaintainer maintainer(layout_, "maintainer-1", options());
  maintainer.round(now_ + kSecond);
  EXPECT_EQ(maintainer.stats().total_bytes, one.bytes + two.bytes);
  EXPECT_EQ(maintainer.stats().objects, 2u);
}

TEST_F(FleetMaintainerTest, TheSweepersPassForgetsADirectoryThatIsGone) {

  // An upload journaled an hour ago, then aborted by a proxy killed before its next flush.
  const auto upload = CacheLayout::upload_id("bucket", "big", "upload-1");
  journal_at(upload, now_ - kHour, 50'000);
  const auto kept = make_object("kept", 8000, now_ - kHour);
  journal_at(kept.id, now_ - kHour, kept.bytes);
  FleetMaintainer maintainer(layout_, "maintainer-1", options());
  maintainer.round(now_ + kSecond);  // one whole pass: the directory is small
  maintainer.round(now_ + 2 * kSecond);
  EXPECT_EQ(maintainer.stats().total_bytes, kept.bytes);
  EXPECT_EQ(maintainer.stats().objects, 1u);
}

TEST_F(FleetMaintainerTest, UploadBytesAreWrittenBytesWhetherJournaledOrAudited) {

  const auto a = proxy("proxy-a");
  // One object and one upload on disk; one directory swept per round, so each round audits
  // the other one (objects/ sorts before uploads/).
  const auto object = make_object("object", 8000, now_ - kHour);
  const auto upload = CacheLayout::upload_id("bucket", "big", "upload-1");
  const auto upload_dir = layout_.path_of(upload);
  fs::create_directories(upload_dir);
  std::ofstream(upload_dir + "/part-1", std::ios::binary) << std::string(20'000, 'p');
  const auto upload_bytes = directory_disk_usage(upload_dir);
  a->stored(object.id, object.bytes, &object.record);
  a->stored(upload, upload_bytes, nullptr);
  ASSERT_TRUE(a->flush());

  auto options = this->options();
  options.sweep_per_round = 1;
  FleetMaintainer maintainer(layout_, "maintainer-1", options);
  maintainer.round(now_ + kSecond);  // journal news, then the object's audit
  const auto journaled = maintainer.stats().written_bytes;
  maintainer.round(now_ + 2 * kSecond);  // the upload's audit
  const auto audited = maintainer.stats().written_bytes;
  EXPECT_EQ(journaled, audited);
  // Parts of a multipart upload are data written through the proxy (max_written_share).
  EXPECT_EQ(audited, upload_bytes);
}

}  // namespace
}  // namespace s3hc::cache
