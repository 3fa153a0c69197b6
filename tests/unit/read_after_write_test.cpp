// Two ObjectStores on one shared directory stand for two proxies of a fleet, each with its
// RAM tier and local mirror: what one writes or drops, the other's next lookup sees at once
// in strict mode, and within the bound in bounded mode. Every case runs with a table of
// record changes (each proxy mapping the directory's own, as on a local file system) and
// without one (as on NFS, where every check stats).
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "cache/evicted_news.h"
#include "cache/fleet/dir_removal.h"
#include "cache/record_changes.h"
#include "cache/store/object_store.h"
#include "temp_dir.h"
#include "util/wall_clock.h"

namespace s3hc::cache {
namespace {

using std::chrono::milliseconds;

// The parameter: whether the proxies keep a table of record changes.
class ReadAfterWriteTest : public ::testing::TestWithParam<bool> {
 protected:
  std::shared_ptr<RecordChanges> changes() const {
    if (!GetParam()) return nullptr;
    auto changes = RecordChanges::open(shared_.string());
    EXPECT_TRUE(changes) << "no table on " << shared_.string();
    return changes;
  }

  std::unique_ptr<ObjectStore> proxy(const std::string& name, milliseconds max_staleness,
                                     bool cheap_stats) {
    return std::make_unique<ObjectStore>(
        CacheLayout(shared_.string()),
        ObjectStoreOptions{.block_size = 1000,
                           .max_staleness = max_staleness,
                           .cheap_stats = cheap_stats,
                           .max_fill_age = milliseconds::max(),
                           .ram_bytes = 1 << 20,
                           .ram_max_entry_bytes = 1 << 20},
        MetadataMirror::open((local_.path() / name).string()), nullptr, changes());
  }

  // A write through `store`: version `etag`, bytes `body`.
  void write(ObjectStore& store, const std::string& etag, const std::string& body) {
    ObjectMeta meta;
    meta.etag = etag;
    meta.size = body.size();
    meta.from_write = true;
    auto fill = store.begin_fill(object_, meta, 0, false, util::unix_now_ms());
    fill->append(body);
    ASSERT_TRUE(store.commit(*fill));
  }

  // What a read through `store` finds, as the read path asks: the RAM tier first.
  static std::string seen(const ObjectStore& store, const s3::ObjectAddress& object) {
    if (const auto record = store.lookup_in_ram(object)) return record->etag();
    const auto record = store.lookup(object);
    return record ? record->etag() : "<none>";
  }

  // Reads the object through `store` until both its RAM tier and mirror hold it.
  static void make_hot(const ObjectStore& store, const s3::ObjectAddress& object) {
    const auto record = store.lookup(object);
    ASSERT_TRUE(record);
    ASSERT_TRUE(store.read_into_ram(*record, {0, record->size() - 1}));
  }

  // The fleet's maintenance lease holder (a third process) evicts the object.
  void evict() const {
    const CacheLayout layout(shared_.string());
    ASSERT_EQ(evict_cache_dir(layout.object_dir(object_.bucket, object_.key),
                              RecordStore(layout, changes()), EvictedNews(layout), 0),
              EvictionOutcome::kRemoved);
  }

  // A fill of version `etag` whose origin request was sent `age` ago, bytes appended.
  std::unique_ptr<RangeFill> fill_sent_ago(ObjectStore& store, const std::string& etag,
                                           milliseconds age) const {
    ObjectMeta meta;
    meta.etag = etag;
    meta.size = 9;
    auto fill = store.begin_fill(object_, meta, 0, false, util::unix_now_ms() - age.count());
    fill->append("old bytes");
    return fill;
  }

  s3hc::testing::TempDir shared_{"read-after-write-shared"};
  s3hc::testing::TempDir local_{"read-after-write-local"};
  const s3::ObjectAddress object_{.bucket = "bucket", .key = "key"};
};

TEST_P(ReadAfterWriteTest, StrictModeSeesAnotherProxysOverwriteAndDeleteAtOnce) {
  const auto a = proxy("a", milliseconds(0), true);
  const auto b = proxy("b", milliseconds(0), true);
  write(*a, "\"v1\"", "old bytes");
  make_hot(*b, object_);
  ASSERT_EQ(b->lookup_in_ram(object_)->etag(), "\"v1\"");  // from memory, confirmed

  write(*a, "\"v2\"", "new bytes");
  EXPECT_EQ(seen(*b, object_), "\"v2\"");
  const auto record = b->lookup(object_);
  ASSERT_TRUE(record);
  EXPECT_EQ(*b->read(*record, {0, 8}), "new bytes");

  make_hot(*b, object_);
  a->invalidate(object_, util::unix_now_ms());
  EXPECT_EQ(seen(*b, object_), "<none>");
}

TEST_P(ReadAfterWriteTest, WithoutCheapStatsStrictModeConfirmsOnlyOffTheEventLoop) {
  const auto a = proxy("a", milliseconds(0), true);
  const auto b = proxy("b", milliseconds(0), false);
  write(*a, "\"v1\"", "old bytes");
  make_hot(*b, object_);
  EXPECT_FALSE(b->lookup_in_ram(object_));  // a stat there could be a round trip to NFS
  EXPECT_EQ(b->lookup(object_)->etag(), "\"v1\"");
  write(*a, "\"v2\"", "new bytes");
  EXPECT_EQ(seen(*b, object_), "\"v2\"");
}

TEST_P(ReadAfterWriteTest, BoundedModeServesWhatItHoldsWithinTheBound) {
  const auto a = proxy("a", milliseconds(0), true);
  const auto b = proxy("b", milliseconds(60'000), false);
  write(*a, "\"v1\"", "old bytes");
  make_hot(*b, object_);
  EXPECT_EQ(b->lookup_in_ram(object_)->etag(), "\"v1\"");  // no I/O at all
  write(*a, "\"v2\"", "new bytes");
  EXPECT_EQ(seen(*b, object_), "\"v1\"");  // stale, as the operator chose
  a->invalidate(object_, util::unix_now_ms());
  EXPECT_EQ(seen(*b, object_), "\"v1\"");
  // Its own writes are seen at once.
  write(*b, "\"v3\"", "b's bytes");
  EXPECT_EQ(seen(*b, object_), "\"v3\"");
}

TEST_P(ReadAfterWriteTest, AWriterSeesItsOwnWriteFromMemory) {
  const auto a = proxy("a", milliseconds(0), true);
  write(*a, "\"v1\"", "old bytes");
  make_hot(*a, object_);
  write(*a, "\"v2\"", "new bytes");
  const auto record = a->lookup_in_ram(object_);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->etag(), "\"v2\"");
}

TEST_P(ReadAfterWriteTest, AnEvictionByTheFleetIsSeenAtOnce) {
  const auto a = proxy("a", milliseconds(0), true);
  const auto b = proxy("b", milliseconds(0), true);
  write(*a, "\"v1\"", "old bytes");
  make_hot(*b, object_);
  evict();
  EXPECT_EQ(seen(*b, object_), "<none>");
}

// A fill asked of the origin before a write was answered may carry the version the write
// replaced: refused at commit by the write's record, and still once that record is evicted.
TEST_P(ReadAfterWriteTest, AFillOlderThanAnEvictedWriteCannotBringTheOldVersionBack) {
  const auto a = proxy("a", milliseconds(0), true);
  const auto b = proxy("b", milliseconds(0), true);
  auto fill = fill_sent_ago(*a, "\"v1\"", milliseconds(1000));
  write(*b, "\"v2\"", "new bytes");
  evict();
  EXPECT_FALSE(a->commit(*fill));
  EXPECT_EQ(seen(*a, object_), "<none>");
  EXPECT_EQ(seen(*b, object_), "<none>");
  // A fill asked after the write commits as ever.
  auto newer = fill_sent_ago(*a, "\"v2\"", milliseconds(0));
  EXPECT_TRUE(a->commit(*newer));
  EXPECT_EQ(seen(*b, object_), "\"v2\"");
}

// The same for a 404 a read was answered before the object was written: it must not become
// the absence negative caching answers from.
TEST_P(ReadAfterWriteTest, AnAbsenceOlderThanAnEvictedWriteIsNotRecorded) {
  const auto a = proxy("a", milliseconds(0), true);
  const auto b = proxy("b", milliseconds(0), true);
  const auto asked_ms = util::unix_now_ms() - 1000;
  write(*b, "\"v1\"", "new bytes");
  evict();
  a->record_absence(object_, "NoSuchKey", asked_ms);
  EXPECT_FALSE(b->lookup_absence(object_));
  EXPECT_FALSE(a->lookup_absence(object_));
}

TEST_P(ReadAfterWriteTest, OverwritesInARowAreEachSeenAtOnce) {
  const auto a = proxy("a", milliseconds(0), true);
  const auto b = proxy("b", milliseconds(0), true);
  for (int round = 0; round < 50; ++round) {
    const auto etag = "\"v" + std::to_string(round) + "\"";
    write(*(round % 3 == 0 ? b : a), etag, "bytes of " + etag);
    ASSERT_EQ(seen(*b, object_), etag) << "round " << round;
    ASSERT_EQ(seen(*a, object_), etag) << "round " << round;
    make_hot(*b, object_);
  }
}

// With a table, a hit confirms its record by the table alone: a change made on the
// directory behind the table's back (no proxy does that) shows it is not stat'ed.
TEST_P(ReadAfterWriteTest, WithATableAHitMakesNoSystemCall) {
  const auto a = proxy("a", milliseconds(0), true);
  const auto b = proxy("b", milliseconds(0), true);
  write(*a, "\"v1\"", "old bytes");
  make_hot(*b, object_);
  ASSERT_TRUE(b->lookup_in_ram(object_));  // the first confirmation after the load
  const auto record = CacheLayout(shared_.string()).record_path(object_.bucket, object_.key);
  ASSERT_EQ(::unlink(record.c_str()), 0);
  if (GetParam()) {
    EXPECT_EQ(seen(*b, object_), "\"v1\"");
  } else {
    EXPECT_EQ(seen(*b, object_), "<none>");
  }
}

INSTANTIATE_TEST_SUITE_P(Tables, ReadAfterWriteTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "WithATable" : "WithoutATable";
                         });

}  // namespace
}  // namespace s3hc::cache
