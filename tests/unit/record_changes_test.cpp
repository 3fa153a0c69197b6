#include "cache/record_changes.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "cache/cache_layout.h"
#include "cache/store/record_store.h"
#include "temp_dir.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;

class RecordChangesTest : public ::testing::Test {
 protected:
  std::shared_ptr<RecordChanges> open() const {
    auto changes = RecordChanges::open(root_.string());
    EXPECT_TRUE(changes);
    return changes;
  }
  fs::path table_path() const { return root_.path() / "record-changes"; }

  static v1::CacheRecord record(const std::string& etag) {
    v1::CacheRecord r;
    r.set_bucket("bucket");
    r.set_key("key");
    r.set_etag(etag);
    return r;
  }

  s3hc::testing::TempDir root_{"record-changes"};
  const std::uint64_t hash_ = CacheLayout::object_hash("bucket", "key");
};

TEST_F(RecordChangesTest, TwoMappingsOfOneDirectoryShareTheirCounts) {
  const auto a = open();
  const auto b = open();  // another process would map the same file
  const auto mark = b->mark(hash_);
  EXPECT_NE(mark.table, 0u);
  EXPECT_TRUE(b->unchanged_since(mark, hash_));
  a->count_change(hash_);
  EXPECT_FALSE(b->unchanged_since(mark, hash_));
  EXPECT_EQ(b->mark(hash_).count, mark.count + 1);
}

TEST_F(RecordChangesTest, AChangeToOneObjectLeavesTheMarksOfOthersInOtherSlots) {
  const auto changes = open();
  std::uint64_t other = 0;
  for (const auto* key : {"a", "b", "c", "d"}) {
    other = CacheLayout::object_hash("bucket", key);
    if (other % RecordChanges::kSlots != hash_ % RecordChanges::kSlots) break;
  }
  const auto mark = changes->mark(other);
  changes->count_change(hash_);
  EXPECT_TRUE(changes->unchanged_since(mark, other));
}

TEST_F(RecordChangesTest, NoMarkProvesAnythingWithoutATable) {
  const auto changes = open();
  EXPECT_FALSE(changes->unchanged_since(ChangeMark{}, hash_));
}

TEST_F(RecordChangesTest, TheRecordStoreCountsEveryReplacementAndRemoval) {
  const auto changes = open();
  const RecordStore store(CacheLayout(root_.string()), changes);
  auto mark = store.change_mark("bucket", "key");
  auto r = record("\"v1\"");
  store.store(r);  // created
  EXPECT_FALSE(store.unchanged_since(mark, "bucket", "key"));
  mark = store.change_mark("bucket", "key");
  EXPECT_TRUE(store.unchanged_since(mark, "bucket", "key"));
  r = record("\"v2\"");
  store.store(r);  // replaced
  EXPECT_FALSE(store.unchanged_since(mark, "bucket", "key"));
  mark = store.change_mark("bucket", "key");
  EXPECT_TRUE(store.remove("bucket", "key"));
  EXPECT_FALSE(store.unchanged_since(mark, "bucket", "key"));
}

TEST_F(RecordChangesTest, AnObjectsHashIsReadBackFromItsDirectory) {
  const CacheLayout layout(root_.string());
  EXPECT_EQ(CacheLayout::object_hash_of_dir(layout.object_dir("bucket", "key")), hash_);
  EXPECT_FALSE(CacheLayout::object_hash_of_dir(root_.string()));
  EXPECT_FALSE(CacheLayout::object_hash_of_dir("objects/ab/cd/not-a-hash-at-all-not-a-hash-xx"));
}

TEST_F(RecordChangesTest, ATableMadeAnewMatchesNoOldMark) {
  const auto changes = open();
  const auto mark = changes->mark(hash_);
  changes->follow_path();  // the same file: nothing changes
  EXPECT_TRUE(changes->unchanged_since(mark, hash_));
  // The directory deleted and made anew under the proxy.
  fs::remove(table_path());
  changes->follow_path();
  EXPECT_TRUE(fs::exists(table_path()));
  EXPECT_FALSE(changes->unchanged_since(mark, hash_));
  const auto new_mark = changes->mark(hash_);
  EXPECT_NE(new_mark.table, mark.table);
  // Another proxy opening the directory now shares the new table.
  open()->count_change(hash_);
  EXPECT_FALSE(changes->unchanged_since(new_mark, hash_));
}

TEST_F(RecordChangesTest, AFileThatIsNotATableIsNotUsed) {
  std::ofstream(table_path()) << "something else";
  EXPECT_FALSE(RecordChanges::open(root_.string()));
}

TEST_F(RecordChangesTest, TheTableHasRealBlocks) {
  // (A sparse file would make the first write to a slot fault on a full file system.)
  open();
  struct stat status {};
  ASSERT_EQ(::stat(table_path().c_str(), &status), 0);
  EXPECT_GE(static_cast<std::uint64_t>(status.st_blocks) * 512,
            static_cast<std::uint64_t>(status.st_size));
}

}  // namespace
}  // namespace s3hc::cache
