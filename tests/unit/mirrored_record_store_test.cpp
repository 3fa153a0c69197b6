#include "cache/mirrored_record_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "temp_dir.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr std::int64_t kNow = 1'700'000'000'000;

// "This proxy" is a MirroredRecordStore; "another proxy" is a plain RecordStore on the same
// shared directory, changing records behind this one's mirror.
class MirroredRecordStoreTest : public ::testing::Test {
 protected:
  static v1::CacheRecord record(const std::string& etag) {
    v1::CacheRecord r;
    r.set_bucket("bucket");
    r.set_key("key");
    r.set_etag(etag);
    r.set_size(42);
    return r;
  }

  MirroredRecordStore proxy(milliseconds interval = milliseconds(1000)) const {
    return MirroredRecordStore(RecordStore(CacheLayout(shared_dir_.string())),
                               MetadataMirror::open(mirror_dir_), {.recheck_interval = interval});
  }

  void other_proxy_stores(const std::string& etag) const {
    auto r = record(etag);
    other_.store(r);
  }

  std::string mirrored_etag(const MirroredRecordStore& store) const {
    const auto entry = store.mirror()->get("bucket", "key");
    return entry ? entry->record.etag() : "<none>";
  }

  s3hc::testing::TempDir shared_dir_{"mirrored-record-store-shared"};
  s3hc::testing::TempDir local_dir_{"mirrored-record-store-local"};
  const std::string mirror_dir_ = (local_dir_.path() / "mirror").string();
  const RecordStore other_{CacheLayout(shared_dir_.string())};
};

TEST_F(MirroredRecordStoreTest, StoreWritesTheSharedRecordAndTheMirror) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  store.store(r, kNow);
  EXPECT_EQ(r.generation(), 1u);
  const auto shared = other_.load("bucket", "key");
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->etag(), "\"v1\"");
  const auto entry = store.mirror()->get("bucket", "key");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->record.generation(), 1u);
  EXPECT_EQ(entry->checked_at_unix_ms, kNow);
}

TEST_F(MirroredRecordStoreTest, ServesTheMirrorWithinTheIntervalAndTheSharedRecordAfter) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  store.store(r, kNow);
  other_proxy_stores("\"v2\"");

  auto loaded = store.load("bucket", "key", kNow + 999);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->etag(), "\"v1\"");  // no read of the shared directory

  loaded = store.load("bucket", "key", kNow + 1000);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->etag(), "\"v2\"");
  EXPECT_EQ(loaded->generation(), 2u);
  const auto entry = store.mirror()->get("bucket", "key");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->record.etag(), "\"v2\"");
  EXPECT_EQ(entry->checked_at_unix_ms, kNow + 1000);

  // The refreshed entry is trusted for a new interval.
  other_proxy_stores("\"v3\"");
  EXPECT_EQ(store.load("bucket", "key", kNow + 1999)->etag(), "\"v2\"");
  EXPECT_EQ(store.load("bucket", "key", kNow + 2000)->etag(), "\"v3\"");
}

TEST_F(MirroredRecordStoreTest, TheIntervalIsConfigurable) {
  const auto store = proxy(milliseconds(50));
  auto r = record("\"v1\"");
  store.store(r, kNow);
  other_proxy_stores("\"v2\"");
  EXPECT_EQ(store.load("bucket", "key", kNow + 49)->etag(), "\"v1\"");
  EXPECT_EQ(store.load("bucket", "key", kNow + 50)->etag(), "\"v2\"");

  // Zero: every load reads the shared record, though the mirror is kept.
  const MirroredRecordStore always_shared(
      RecordStore(CacheLayout(shared_dir_.string())),
      MetadataMirror::open((local_dir_.path() / "mirror-0").string()),
      {.recheck_interval = milliseconds(0)});
  EXPECT_EQ(always_shared.load("bucket", "key", kNow + 50)->etag(), "\"v2\"");
  other_proxy_stores("\"v3\"");
  EXPECT_EQ(always_shared.load("bucket", "key", kNow + 50)->etag(), "\"v3\"");
  EXPECT_EQ(always_shared.mirror()->get("bucket", "key")->record.etag(), "\"v3\"");
}

TEST_F(MirroredRecordStoreTest, ARecordSeenForTheFirstTimeIsMirrored) {
  const auto store = proxy();
  other_proxy_stores("\"v1\"");
  const auto loaded = store.load("bucket", "key", kNow);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->etag(), "\"v1\"");
  const auto entry = store.mirror()->get("bucket", "key");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->checked_at_unix_ms, kNow);
}

TEST_F(MirroredRecordStoreTest, AMissIsNotMirrored) {
  const auto store = proxy();
  EXPECT_FALSE(store.load("bucket", "key", kNow));
  EXPECT_FALSE(store.mirror()->get("bucket", "key"));
  other_proxy_stores("\"v1\"");
  // Seen at once, within what would be the interval.
  const auto loaded = store.load("bucket", "key", kNow + 1);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->etag(), "\"v1\"");
}

TEST_F(MirroredRecordStoreTest, ARecordDeletedOnTheSharedDirectoryGoesAfterTheInterval) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  store.store(r, kNow);
  ASSERT_TRUE(other_.remove("bucket", "key"));
  EXPECT_TRUE(store.load("bucket", "key", kNow + 500));  // stale, within the bound
  EXPECT_FALSE(store.load("bucket", "key", kNow + 1000));
  EXPECT_EQ(mirrored_etag(store), "<none>");
}

TEST_F(MirroredRecordStoreTest, AWallClockThatWentBackReadsTheSharedRecord) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  store.store(r, kNow);
  other_proxy_stores("\"v2\"");
  EXPECT_EQ(store.load("bucket", "key", kNow - 1)->etag(), "\"v2\"");
}

TEST_F(MirroredRecordStoreTest, LoadSharedBypassesTheMirrorAndRefreshesIt) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  store.store(r, kNow);
  other_proxy_stores("\"v2\"");
  EXPECT_EQ(store.load("bucket", "key", kNow + 1)->etag(), "\"v1\"");
  const auto shared = store.load_shared("bucket", "key", kNow + 2);
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->etag(), "\"v2\"");
  EXPECT_EQ(mirrored_etag(store), "\"v2\"");
  EXPECT_EQ(store.load("bucket", "key", kNow + 3)->etag(), "\"v2\"");

  ASSERT_TRUE(other_.remove("bucket", "key"));
  EXPECT_FALSE(store.load_shared("bucket", "key", kNow + 4));
  EXPECT_EQ(mirrored_etag(store), "<none>");
  EXPECT_FALSE(store.load("bucket", "key", kNow + 5));
}

TEST_F(MirroredRecordStoreTest, RemoveDeletesTheSharedRecordAndTheEntry) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  store.store(r, kNow);
  EXPECT_TRUE(store.remove("bucket", "key"));
  EXPECT_FALSE(other_.load("bucket", "key"));
  EXPECT_EQ(mirrored_etag(store), "<none>");
  EXPECT_FALSE(store.load("bucket", "key", kNow + 1));
  EXPECT_FALSE(store.remove("bucket", "key"));
}

TEST_F(MirroredRecordStoreTest, DeletingTheMirrorLosesNothing) {
  {
    const auto store = proxy();
    auto r = record("\"v1\"");
    store.store(r, kNow);
    store.store(r, kNow + 1);
  }
  fs::remove_all(mirror_dir_);
  const auto store = proxy();
  EXPECT_EQ(mirrored_etag(store), "<none>");
  const auto loaded = store.load("bucket", "key", kNow + 2);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->etag(), "\"v1\"");
  EXPECT_EQ(loaded->generation(), 2u);
  EXPECT_EQ(mirrored_etag(store), "\"v1\"");
}

TEST_F(MirroredRecordStoreTest, WithoutAMirrorEveryLoadReadsTheSharedRecord) {
  const MirroredRecordStore store(RecordStore(CacheLayout(shared_dir_.string())), nullptr);
  EXPECT_EQ(store.mirror(), nullptr);
  auto r = record("\"v1\"");
  store.store(r, kNow);
  other_proxy_stores("\"v2\"");
  EXPECT_EQ(store.load("bucket", "key", kNow + 1)->etag(), "\"v2\"");
  EXPECT_TRUE(store.remove("bucket", "key"));
  EXPECT_FALSE(store.load("bucket", "key", kNow + 2));
}

}  // namespace
}  // namespace s3hc::cache
