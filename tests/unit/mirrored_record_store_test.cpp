#include "cache/store/mirrored_record_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

  // Strict (max_staleness 0) unless told otherwise.
  MirroredRecordStore proxy(milliseconds max_staleness = milliseconds(0)) const {
    return MirroredRecordStore(RecordStore(CacheLayout(shared_dir_.string())),
                               MetadataMirror::open(mirror_dir_),
                               {.max_staleness = max_staleness});
  }

  void other_proxy_stores(const std::string& etag) const {
    auto r = record(etag);
    other_.store(r);
  }

  std::string mirrored_etag(const MirroredRecordStore& store) const {
    const auto entry = store.mirror()->get("bucket", "key");
    return entry ? entry->record->etag() : "<none>";
  }

  static std::string etag_of(const std::optional<KnownRecord>& known) {
    return known ? known->record->etag() : "<none>";
  }

  // A store through this proxy: the current record replaced, whatever it is.
  static KnownRecord stores(const MirroredRecordStore& store, v1::CacheRecord& r,
                            std::int64_t now_unix_ms) {
    for (;;) {
      const auto current = store.shared().load_current(r.bucket(), r.key());
      if (auto known = store.replace(r, current, now_unix_ms)) return *known;
    }
  }

  std::string record_path() const {
    return CacheLayout(shared_dir_.string()).record_path("bucket", "key");
  }

  s3hc::testing::TempDir shared_dir_{"mirrored-record-store-shared"};
  s3hc::testing::TempDir local_dir_{"mirrored-record-store-local"};
  const std::string mirror_dir_ = (local_dir_.path() / "mirror").string();
  const RecordStore other_{CacheLayout(shared_dir_.string())};
};

TEST_F(MirroredRecordStoreTest, StoreWritesTheSharedRecordAndTheMirror) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  const auto stored = stores(store, r, kNow);
  EXPECT_EQ(r.generation(), 1u);
  EXPECT_EQ(stored.record->generation(), 1u);
  const auto shared = other_.load("bucket", "key");
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->etag(), "\"v1\"");
  const auto entry = store.mirror()->get("bucket", "key");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->record->generation(), 1u);
  EXPECT_EQ(entry->checked_at_unix_ms, kNow);
  // The stamp is the shared file's.
  EXPECT_EQ(entry->stamp, stored.stamp);
  EXPECT_EQ(stamp_of_path(record_path()), stored.stamp);
}

TEST_F(MirroredRecordStoreTest, StrictModeSeesAnotherProxysWriteAtOnce) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  stores(store, r, kNow);
  other_proxy_stores("\"v2\"");
  const auto loaded = store.load("bucket", "key", kNow);  // no time passed
  EXPECT_EQ(etag_of(loaded), "\"v2\"");
  EXPECT_EQ(loaded->record->generation(), 2u);
  EXPECT_EQ(mirrored_etag(store), "\"v2\"");
}

TEST_F(MirroredRecordStoreTest, StrictModeReadsNoSharedRecordWhileItsStampHolds) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  stores(store, r, kNow);
  // Garble the shared file in place, keeping its inode, size and modification time (records
  // are never changed in place; this only shows whether a load reads the file).
  const auto before = stamp_of_path(record_path());
  ASSERT_TRUE(before);
  struct stat status {};
  ASSERT_EQ(::stat(record_path().c_str(), &status), 0);
  const int fd = ::open(record_path().c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const std::string garbage(before->size, '\xff');
  ASSERT_EQ(::pwrite(fd, garbage.data(), garbage.size(), 0),
            static_cast<ssize_t>(garbage.size()));
  const timespec times[2] = {status.st_atim, status.st_mtim};
  ASSERT_EQ(::futimens(fd, times), 0);
  ::close(fd);
  ASSERT_EQ(stamp_of_path(record_path()), before);
  ASSERT_FALSE(other_.load("bucket", "key"));  // unreadable if read

  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow + 60'000)), "\"v1\"");
  // load_shared does read it.
  EXPECT_FALSE(store.load_shared("bucket", "key", kNow + 60'001));
}

TEST_F(MirroredRecordStoreTest, StrictModeTellsApartReplacementsOfTheSameSize) {
  // A file system reuses the inode numbers of deleted files; the precise modification time
  // keeps a replacement of the same size from passing for the record held.
  const auto store = proxy();
  for (int round = 0; round < 200; ++round) {
    std::string etag = "\"";  // every record one size
    etag += std::to_string(1000 + round);
    etag += '"';
    if (round % 2 == 0) {
      other_proxy_stores(etag);
    } else {
      auto r = record(etag);
      stores(store, r, kNow);
    }
    ASSERT_EQ(etag_of(store.load("bucket", "key", kNow)), etag) << "round " << round;
  }
}

TEST_F(MirroredRecordStoreTest, ReplaceIsACompareAndSwap) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  stores(store, r, kNow);
  const auto seen = store.shared().load_current("bucket", "key");
  other_proxy_stores("\"v2\"");  // between this proxy's load and its replace
  auto mine = record("\"mine\"");
  EXPECT_FALSE(store.replace(mine, seen, kNow + 1));
  EXPECT_EQ(other_.load("bucket", "key")->etag(), "\"v2\"");  // not lost
  EXPECT_EQ(mirrored_etag(store), "\"v1\"");                  // the mirror untouched
  const auto now_seen = store.shared().load_current("bucket", "key");
  const auto known = store.replace(mine, now_seen, kNow + 2);
  ASSERT_TRUE(known);
  EXPECT_EQ(known->record->generation(), 3u);
  EXPECT_EQ(mirrored_etag(store), "\"mine\"");
}

TEST_F(MirroredRecordStoreTest, ConfirmTellsWhetherAHeldRecordIsStillTheSharedOne) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  auto known = stores(store, r, kNow);
  // Strict mode without a table: nothing to keep (the time is never read back).
  EXPECT_EQ(store.confirm(known, kNow + 5), MirroredRecordStore::Confirmation::kHeld);
  EXPECT_EQ(known.checked_at_unix_ms, kNow);
  const MirroredRecordStore bounded(RecordStore(CacheLayout(shared_dir_.string())), nullptr,
                                    {.max_staleness = milliseconds(1)});
  EXPECT_EQ(bounded.confirm(known, kNow + 5), MirroredRecordStore::Confirmation::kRenewed);
  EXPECT_EQ(known.checked_at_unix_ms, kNow + 5);
  other_proxy_stores("\"v2\"");
  EXPECT_EQ(store.confirm(known, kNow + 6), MirroredRecordStore::Confirmation::kChanged);
  ASSERT_TRUE(other_.remove("bucket", "key"));
  EXPECT_EQ(store.confirm(known, kNow + 7), MirroredRecordStore::Confirmation::kChanged);
}

TEST_F(MirroredRecordStoreTest, WithATableConfirmKeepsTheMarkItStatedUnder) {
  const auto changes = RecordChanges::open(shared_dir_.string());
  ASSERT_TRUE(changes);
  const MirroredRecordStore store(RecordStore(CacheLayout(shared_dir_.string()), changes),
                                  MetadataMirror::open(mirror_dir_), {});
  const RecordStore other(CacheLayout(shared_dir_.string()), changes);
  auto r = record("\"v1\"");
  auto known = stores(store, r, kNow);  // marked before its own change: stats once
  EXPECT_EQ(store.confirm(known, kNow + 1), MirroredRecordStore::Confirmation::kRenewed);
  EXPECT_EQ(known.change_mark, store.shared().change_mark("bucket", "key"));
  EXPECT_EQ(store.confirm(known, kNow + 2), MirroredRecordStore::Confirmation::kHeld);
  auto v2 = record("\"v2\"");
  other.store(v2);
  EXPECT_EQ(store.confirm(known, kNow + 3), MirroredRecordStore::Confirmation::kChanged);
}

TEST_F(MirroredRecordStoreTest, BoundedModeServesTheMirrorWithinTheBoundAndTheSharedRecordAfter) {
  const auto store = proxy(milliseconds(1000));
  auto r = record("\"v1\"");
  stores(store, r, kNow);
  other_proxy_stores("\"v2\"");

  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow + 999)), "\"v1\"");  // no check at all

  const auto loaded = store.load("bucket", "key", kNow + 1000);
  EXPECT_EQ(etag_of(loaded), "\"v2\"");
  EXPECT_EQ(loaded->record->generation(), 2u);
  const auto entry = store.mirror()->get("bucket", "key");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->record->etag(), "\"v2\"");
  EXPECT_EQ(entry->checked_at_unix_ms, kNow + 1000);

  // The refreshed entry is trusted for a new bound.
  other_proxy_stores("\"v3\"");
  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow + 1999)), "\"v2\"");
  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow + 2000)), "\"v3\"");
}

TEST_F(MirroredRecordStoreTest, BoundedModeRenewsAnUnchangedEntryWithOneStat) {
  const auto store = proxy(milliseconds(50));
  auto r = record("\"v1\"");
  stores(store, r, kNow);
  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow + 50)), "\"v1\"");
  EXPECT_EQ(store.mirror()->get("bucket", "key")->checked_at_unix_ms, kNow + 50);
  other_proxy_stores("\"v2\"");
  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow + 99)), "\"v1\"");  // renewed bound
  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow + 100)), "\"v2\"");
}

TEST_F(MirroredRecordStoreTest, AnEntryWithoutAStampIsConfirmedByReading) {
  // (Mirrors written before entries had stamps.)
  const auto store = proxy();
  auto r = record("\"v1\"");
  auto known = stores(store, r, kNow);
  known.stamp = FileStamp{};
  auto mirror = MetadataMirror::open((local_dir_.path() / "mirror-old").string());
  mirror->put(known);
  const MirroredRecordStore old(RecordStore(CacheLayout(shared_dir_.string())),
                                std::move(mirror), {});
  const auto loaded = old.load("bucket", "key", kNow + 1);
  EXPECT_EQ(etag_of(loaded), "\"v1\"");
  EXPECT_EQ(old.mirror()->get("bucket", "key")->stamp, stamp_of_path(record_path()));
}

TEST_F(MirroredRecordStoreTest, ARecordSeenForTheFirstTimeIsMirrored) {
  const auto store = proxy();
  other_proxy_stores("\"v1\"");
  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow)), "\"v1\"");
  const auto entry = store.mirror()->get("bucket", "key");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->checked_at_unix_ms, kNow);
}

TEST_F(MirroredRecordStoreTest, AMissIsNotMirrored) {
  const auto store = proxy(milliseconds(1000));
  EXPECT_FALSE(store.load("bucket", "key", kNow));
  EXPECT_FALSE(store.mirror()->get("bucket", "key"));
  other_proxy_stores("\"v1\"");
  // Seen at once, even within a staleness bound.
  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow + 1)), "\"v1\"");
}

TEST_F(MirroredRecordStoreTest, ARecordDeletedOnTheSharedDirectoryIsGoneAtOnceInStrictMode) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  stores(store, r, kNow);
  ASSERT_TRUE(other_.remove("bucket", "key"));
  EXPECT_FALSE(store.load("bucket", "key", kNow));
  EXPECT_EQ(mirrored_etag(store), "<none>");
}

TEST_F(MirroredRecordStoreTest, ARecordDeletedOnTheSharedDirectoryGoesAfterTheBound) {
  const auto store = proxy(milliseconds(1000));
  auto r = record("\"v1\"");
  stores(store, r, kNow);
  ASSERT_TRUE(other_.remove("bucket", "key"));
  EXPECT_TRUE(store.load("bucket", "key", kNow + 500));  // stale, within the bound
  EXPECT_FALSE(store.load("bucket", "key", kNow + 1000));
  EXPECT_EQ(mirrored_etag(store), "<none>");
}

TEST_F(MirroredRecordStoreTest, AWallClockThatWentBackConfirms) {
  const auto store = proxy(milliseconds(1000));
  auto r = record("\"v1\"");
  stores(store, r, kNow);
  other_proxy_stores("\"v2\"");
  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow - 1)), "\"v2\"");
}

TEST_F(MirroredRecordStoreTest, LoadSharedBypassesTheMirrorAndRefreshesIt) {
  const auto store = proxy(milliseconds(1000));
  auto r = record("\"v1\"");
  stores(store, r, kNow);
  other_proxy_stores("\"v2\"");
  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow + 1)), "\"v1\"");
  EXPECT_EQ(etag_of(store.load_shared("bucket", "key", kNow + 2)), "\"v2\"");
  EXPECT_EQ(mirrored_etag(store), "\"v2\"");
  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow + 3)), "\"v2\"");

  ASSERT_TRUE(other_.remove("bucket", "key"));
  EXPECT_FALSE(store.load_shared("bucket", "key", kNow + 4));
  EXPECT_EQ(mirrored_etag(store), "<none>");
  EXPECT_FALSE(store.load("bucket", "key", kNow + 5));
}

TEST_F(MirroredRecordStoreTest, RemoveDeletesTheSharedRecordAndTheEntry) {
  const auto store = proxy();
  auto r = record("\"v1\"");
  stores(store, r, kNow);
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
    stores(store, r, kNow);
    stores(store, r, kNow + 1);
  }
  fs::remove_all(mirror_dir_);
  const auto store = proxy();
  EXPECT_EQ(mirrored_etag(store), "<none>");
  const auto loaded = store.load("bucket", "key", kNow + 2);
  EXPECT_EQ(etag_of(loaded), "\"v1\"");
  EXPECT_EQ(loaded->record->generation(), 2u);
  EXPECT_EQ(mirrored_etag(store), "\"v1\"");
}

TEST_F(MirroredRecordStoreTest, WithoutAMirrorEveryLoadReadsTheSharedRecord) {
  const MirroredRecordStore store(RecordStore(CacheLayout(shared_dir_.string())), nullptr,
                                  {.max_staleness = milliseconds(1000)});
  EXPECT_EQ(store.mirror(), nullptr);
  auto r = record("\"v1\"");
  stores(store, r, kNow);
  other_proxy_stores("\"v2\"");
  EXPECT_EQ(etag_of(store.load("bucket", "key", kNow + 1)), "\"v2\"");
  EXPECT_TRUE(store.remove("bucket", "key"));
  EXPECT_FALSE(store.load("bucket", "key", kNow + 2));
}

}  // namespace
}  // namespace s3hc::cache
