#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "cache/record_store.h"
#include "temp_dir.h"

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

}  // namespace
}  // namespace s3hc::cache
