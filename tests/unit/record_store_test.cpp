#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "cache/store/record_store.h"
#include "cache/store/replace_claim.h"
#include "file_times.h"
#include "temp_dir.h"
#include "util/wall_clock.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;

class RecordStoreTest : public ::testing::Test {
 protected:
  static v1::CacheRecord record(const std::string& bucket, const std::string& key) {
    v1::CacheRecord r;
    r.set_bucket(bucket);
    r.set_key(key);
    r.set_etag("\"0123abcd\"");
    r.set_size(42);
    auto* range = r.add_ranges();
    range->set_first(0);
    range->set_last(41);
    return r;
  }

  s3hc::testing::TempDir dir_{"record-store-test"};
  const fs::path root_ = dir_.path();
};

TEST_F(RecordStoreTest, StoresLoadsAndCountsGenerations) {
  RecordStore store(CacheLayout(root_.string()));
  EXPECT_FALSE(store.load("bucket", "key"));
  auto r = record("bucket", "key");
  store.store(r);
  EXPECT_EQ(r.generation(), 1u);
  store.store(r);
  EXPECT_EQ(r.generation(), 2u);
  const auto loaded = store.load("bucket", "key");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->generation(), 2u);
  EXPECT_EQ(loaded->etag(), "\"0123abcd\"");
  ASSERT_EQ(loaded->ranges_size(), 1);
  EXPECT_EQ(loaded->ranges(0).last(), 41u);
  EXPECT_TRUE(store.remove("bucket", "key"));
  EXPECT_FALSE(store.load("bucket", "key"));
  EXPECT_FALSE(store.remove("bucket", "key"));
}

TEST_F(RecordStoreTest, PathsComeFromAHashNeverFromTheKey) {
  RecordStore store(CacheLayout(root_.string()));
  const std::vector<std::string> keys = {"../../etc/passwd", std::string(1024, 'k'),
                                        "ключ/日本語 ?#%", std::string("nul\0byte", 8)};
  for (const auto& key : keys) {
    const auto path = store.layout().record_path("bucket", key);
    EXPECT_TRUE(path.starts_with(root_.string() + "/objects/")) << path;
    EXPECT_EQ(path.find(".."), std::string::npos) << path;
    EXPECT_LT(path.size(), root_.string().size() + 60) << path;
    auto r = record("bucket", key);
    store.store(r);
    ASSERT_TRUE(store.load("bucket", key));
  }
  // Nothing but the objects tree was created under the root.
  for (const auto& entry : fs::recursive_directory_iterator(root_)) {
    EXPECT_TRUE(entry.path().string().starts_with(root_.string() + "/objects")) << entry.path();
  }
}

TEST_F(RecordStoreTest, BucketKeyBoundaryIsPartOfTheIdentity) {
  RecordStore store(CacheLayout(root_.string()));
  EXPECT_NE(store.layout().record_path("a", "b/c"), store.layout().record_path("a/b", "c"));
  EXPECT_NE(store.layout().record_path("ab", "c"), store.layout().record_path("a", "bc"));
}

TEST_F(RecordStoreTest, ARecordOfAnotherObjectAtThePathIsAMiss) {
  RecordStore store(CacheLayout(root_.string()));
  auto other = record("bucket", "other");
  store.store(other);
  // Simulate a hash collision: the other object's record sits at this object's path.
  const auto path = store.layout().record_path("bucket", "key");
  fs::create_directories(fs::path(path).parent_path());
  fs::copy_file(store.layout().record_path("bucket", "other"), path);
  EXPECT_FALSE(store.load("bucket", "key"));
}

TEST_F(RecordStoreTest, GarbageIsAMissAndNoTempFilesRemain) {
  RecordStore store(CacheLayout(root_.string()));
  auto r = record("bucket", "key");
  store.store(r);
  const auto path = store.layout().record_path("bucket", "key");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "\xff\xff\xff not a record";
  EXPECT_FALSE(store.load("bucket", "key"));
  for (const auto& entry : fs::recursive_directory_iterator(root_)) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST_F(RecordStoreTest, StampsFollowARootDeletedAndMadeAnew) {
  // The store stats below a descriptor of the root; an operator may delete the cache
  // directory under running proxies, which then make it anew.
  const RecordStore store(CacheLayout(root_.string()));
  auto r = record("bucket", "key");
  store.store(r);
  ASSERT_TRUE(store.stamp("bucket", "key"));
  fs::remove_all(root_);
  EXPECT_FALSE(store.stamp("bucket", "key"));
  fs::create_directories(root_);
  auto again = record("bucket", "key");
  RecordStore(CacheLayout(root_.string())).store(again);
  const auto stamp = store.stamp("bucket", "key");
  ASSERT_TRUE(stamp);
  EXPECT_EQ(stamp, stamp_of_path(CacheLayout(root_.string()).record_path("bucket", "key")));
}

TEST_F(RecordStoreTest, ReplaceRefusesARecordThatChangedSinceItWasLoaded) {
  const RecordStore mine(CacheLayout(root_.string()));
  const RecordStore other(CacheLayout(root_.string()));
  auto r = record("bucket", "key");
  mine.store(r);
  const auto seen = mine.load_current("bucket", "key");
  ASSERT_TRUE(seen.stamp && seen.record);
  auto theirs = record("bucket", "key");
  theirs.set_etag("\"theirs\"");
  other.store(theirs);
  auto update = record("bucket", "key");
  update.set_etag("\"mine\"");
  EXPECT_FALSE(mine.replace(update, seen));
  EXPECT_EQ(mine.load("bucket", "key")->etag(), "\"theirs\"");
  const auto stamp = mine.replace(update, mine.load_current("bucket", "key"));
  ASSERT_TRUE(stamp);
  EXPECT_EQ(stamp_of_path(CacheLayout(root_.string()).record_path("bucket", "key")), stamp);
  EXPECT_EQ(mine.load("bucket", "key")->generation(), 3u);
  // No temp or claim file is left.
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root_)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u);
}

TEST_F(RecordStoreTest, RemoveIfUnchangedRemovesOnlyTheVersionLoaded) {
  const RecordStore mine(CacheLayout(root_.string()));
  const RecordStore other(CacheLayout(root_.string()));
  auto r = record("bucket", "key");
  mine.store(r);
  const auto seen = mine.load_current("bucket", "key");
  auto theirs = record("bucket", "key");
  theirs.set_etag("\"theirs\"");
  other.store(theirs);
  EXPECT_FALSE(mine.remove_if_unchanged(seen));
  EXPECT_EQ(mine.load("bucket", "key")->etag(), "\"theirs\"");
  EXPECT_TRUE(mine.remove_if_unchanged(mine.load_current("bucket", "key")));
  EXPECT_FALSE(mine.load_current("bucket", "key").stamp);
  // No claim file is left.
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root_)) files += entry.is_regular_file();
  EXPECT_EQ(files, 0u);
}

TEST_F(RecordStoreTest, OnlyOneOfTwoCreatorsOfANewRecordWins) {
  const RecordStore store(CacheLayout(root_.string()));
  const auto none = store.load_current("bucket", "key");
  EXPECT_FALSE(none.stamp);
  auto first = record("bucket", "key");
  auto second = record("bucket", "key");
  second.set_etag("\"second\"");
  EXPECT_TRUE(store.replace(first, none));
  EXPECT_FALSE(store.replace(second, none));
  EXPECT_EQ(store.load("bucket", "key")->etag(), "\"0123abcd\"");
}

TEST_F(RecordStoreTest, ConcurrentReadModifyWritesLoseNoUpdate) {
  // Threads with a RecordStore each stand for proxies: every one adds 1 to a counter kept in
  // the record, by load, change, replace (again on refusal). A lost update shows in the sum.
  constexpr int kThreads = 4;
  constexpr int kIncrements = 150;
  {
    auto r = record("bucket", "key");
    r.set_size(0);
    RecordStore(CacheLayout(root_.string())).store(r);
  }
  std::atomic<int> refusals{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      const RecordStore store(CacheLayout(root_.string()));
      for (int i = 0; i < kIncrements; ++i) {
        for (;;) {
          const auto current = store.load_current("bucket", "key");
          auto next = *current.record;
          next.set_size(next.size() + 1);
          if (store.replace(next, current)) break;
          ++refusals;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(RecordStore(CacheLayout(root_.string())).load("bucket", "key")->size(),
            static_cast<std::uint64_t>(kThreads * kIncrements));
  EXPECT_GT(refusals.load(), 0) << "the threads never contended: the test proves nothing";
}

TEST_F(RecordStoreTest, AClaimOfADeadProcessIsSteppedOverOnlyOnceOld) {
  const RecordStore store(CacheLayout(root_.string()));
  auto r = record("bucket", "key");
  store.store(r);
  const auto path = CacheLayout(root_.string()).record_path("bucket", "key");
  const auto current = store.load_current("bucket", "key");
  const auto claim = ReplaceClaim::claim_path(path, *current.stamp, 0);
  std::ofstream(claim).close();  // another process is replacing this version right now
  auto update = record("bucket", "key");
  EXPECT_FALSE(store.replace(update, current));
  // Its claim left for 10 s: that process died.
  s3hc::testing::set_mtime(claim, util::unix_now_ms() - 10'000);
  EXPECT_TRUE(store.replace(update, current));
  EXPECT_FALSE(fs::exists(claim));
  EXPECT_FALSE(fs::exists(ReplaceClaim::claim_path(path, *current.stamp, 1)));
}

}  // namespace
}  // namespace s3hc::cache
