#include "cache/store/metadata_mirror.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "s3hc/v1/mirror_entry.pb.h"
#include "temp_dir.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'700'000'000'000;

class MetadataMirrorTest : public ::testing::Test {
 protected:
  static v1::CacheRecord record(const std::string& bucket, const std::string& key,
                                const std::string& etag = "\"v1\"") {
    v1::CacheRecord r;
    r.set_bucket(bucket);
    r.set_key(key);
    r.set_generation(3);
    r.set_etag(etag);
    r.set_size(42);
    auto* range = r.add_ranges();
    range->set_first(0);
    range->set_last(41);
    range->set_file("0-41.rng");
    return r;
  }

  static KnownRecord known(v1::CacheRecord r, std::int64_t checked_at_unix_ms) {
    return KnownRecord{.record = std::make_shared<const v1::CacheRecord>(std::move(r)),
                       .stamp = {.inode = 7, .size = 42, .mtime_ns = checked_at_unix_ms * 1000},
                       .checked_at_unix_ms = checked_at_unix_ms,
                       .change_mark = {}};
  }

  // Writes `value` under the entry key of (bucket, key), past the mirror's API.
  void write_raw(const std::string& bucket, const std::string& key, const std::string& value) {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(
        db->Put(rocksdb::WriteOptions(), MetadataMirror::entry_key(bucket, key), value).ok());
  }

  void overwrite_with_garbage(const fs::path& file) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << "\xff\xfe garbage, no newline";
  }

  s3hc::testing::TempDir temp_{"metadata-mirror-test"};
  const std::string dir_ = (temp_.path() / "mirror").string();
};

TEST_F(MetadataMirrorTest, PutGetEraseRoundTrip) {
  auto mirror = MetadataMirror::open(dir_);
  EXPECT_FALSE(mirror->get("bucket", "key"));
  mirror->put(known(record("bucket", "key"), kNow));
  auto entry = mirror->get("bucket", "key");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->checked_at_unix_ms, kNow);
  EXPECT_EQ(entry->stamp, (FileStamp{.inode = 7, .size = 42, .mtime_ns = kNow * 1000}));
  EXPECT_EQ(entry->record->generation(), 3u);
  EXPECT_EQ(entry->record->etag(), "\"v1\"");
  ASSERT_EQ(entry->record->ranges_size(), 1);
  EXPECT_EQ(entry->record->ranges(0).file(), "0-41.rng");

  mirror->put(known(record("bucket", "key", "\"v2\""), kNow + 5));
  entry = mirror->get("bucket", "key");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->checked_at_unix_ms, kNow + 5);
  EXPECT_EQ(entry->record->etag(), "\"v2\"");

  mirror->erase("bucket", "key");
  EXPECT_FALSE(mirror->get("bucket", "key"));
  mirror->erase("bucket", "key");  // erasing what is not there is no error
  EXPECT_FALSE(mirror->get("bucket", "key"));
}

TEST_F(MetadataMirrorTest, BucketKeyBoundaryIsPartOfTheIdentity) {
  EXPECT_NE(MetadataMirror::entry_key("ab", "c"), MetadataMirror::entry_key("a", "bc"));
  EXPECT_NE(MetadataMirror::entry_key("a", "b/c"), MetadataMirror::entry_key("a/b", "c"));
  EXPECT_NE(MetadataMirror::entry_key(std::string("a\0", 2), "b"),
            MetadataMirror::entry_key("a", std::string("\0b", 2)));

  auto mirror = MetadataMirror::open(dir_);
  mirror->put(known(record("ab", "c", "\"ab/c\""), kNow));
  mirror->put(known(record("a", "bc", "\"a/bc\""), kNow));
  const std::string nul_key("nul\0byte", 8);
  mirror->put(known(record("a", nul_key, "\"nul\""), kNow));
  ASSERT_TRUE(mirror->get("ab", "c"));
  ASSERT_TRUE(mirror->get("a", "bc"));
  ASSERT_TRUE(mirror->get("a", nul_key));
  EXPECT_EQ(mirror->get("ab", "c")->record->etag(), "\"ab/c\"");
  EXPECT_EQ(mirror->get("a", "bc")->record->etag(), "\"a/bc\"");
  EXPECT_EQ(mirror->get("a", nul_key)->record->etag(), "\"nul\"");
  EXPECT_FALSE(mirror->get("a", "nul"));
}

TEST_F(MetadataMirrorTest, AnEntryOfAnotherObjectOrGarbageReadsAsAbsent) {
  v1::MirrorEntry other;
  *other.mutable_record() = record("bucket", "other");
  other.set_checked_at_unix_ms(kNow);
  // The other object's entry stored under this object's key.
  write_raw("bucket", "key", other.SerializeAsString());
  write_raw("bucket", "garbage", "\xff\xff\xff not an entry");
  write_raw("bucket", "other", other.SerializeAsString());

  auto mirror = MetadataMirror::open(dir_);
  EXPECT_FALSE(mirror->get("bucket", "key"));
  EXPECT_FALSE(mirror->get("bucket", "garbage"));
  ASSERT_TRUE(mirror->get("bucket", "other"));
  EXPECT_EQ(mirror->get("bucket", "other")->checked_at_unix_ms, kNow);
}

TEST_F(MetadataMirrorTest, ReopeningKeepsTheEntries) {
  {
    auto mirror = MetadataMirror::open(dir_);
    for (int i = 0; i < 100; ++i) {
      mirror->put(known(record("bucket", "key" + std::to_string(i)), kNow + i));
    }
    mirror->erase("bucket", "key7");
  }
  auto mirror = MetadataMirror::open(dir_);
  for (int i = 0; i < 100; ++i) {
    const auto entry = mirror->get("bucket", "key" + std::to_string(i));
    if (i == 7) {
      EXPECT_FALSE(entry);
      continue;
    }
    ASSERT_TRUE(entry) << i;
    EXPECT_EQ(entry->checked_at_unix_ms, kNow + i);
  }
}

TEST_F(MetadataMirrorTest, ACorruptCurrentFileIsRecreatedEmpty) {
  MetadataMirror::open(dir_)->put(known(record("bucket", "key"), kNow));
  overwrite_with_garbage(fs::path(dir_) / "CURRENT");
  std::unique_ptr<MetadataMirror> mirror;
  ASSERT_NO_THROW(mirror = MetadataMirror::open(dir_));
  EXPECT_FALSE(mirror->get("bucket", "key"));
  mirror->put(known(record("bucket", "key", "\"v2\""), kNow + 1));
  mirror.reset();
  mirror = MetadataMirror::open(dir_);
  ASSERT_TRUE(mirror->get("bucket", "key"));
  EXPECT_EQ(mirror->get("bucket", "key")->record->etag(), "\"v2\"");
}

TEST_F(MetadataMirrorTest, GarbageOverEveryFileIsRecreatedEmptyKeepingOtherFiles) {
  MetadataMirror::open(dir_)->put(known(record("bucket", "key"), kNow));
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  ASSERT_GE(files.size(), 3u);  // CURRENT, MANIFEST, a table file at least
  for (const auto& file : files) overwrite_with_garbage(file);
  // Not RocksDB's: recovery must leave it alone.
  std::ofstream(fs::path(dir_) / "notes.txt") << "someone else's";

  std::unique_ptr<MetadataMirror> mirror;
  ASSERT_NO_THROW(mirror = MetadataMirror::open(dir_));
  EXPECT_FALSE(mirror->get("bucket", "key"));
  mirror->put(known(record("bucket", "key"), kNow));
  EXPECT_TRUE(mirror->get("bucket", "key"));
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "notes.txt"));
}

TEST_F(MetadataMirrorTest, ASecondOpenInThisProcessThrowsAndTheFirstKeepsWorking) {
  auto first = MetadataMirror::open(dir_);
  first->put(known(record("bucket", "key"), kNow));
  try {
    MetadataMirror::open(dir_);
    FAIL() << "the second open succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("mirror directory " + dir_ +
                                          " is in use by another s3hc-proxy; give each proxy "
                                          "its own"),
              std::string::npos)
        << e.what();
  }
  // The failed open deleted nothing.
  ASSERT_TRUE(first->get("bucket", "key"));
  first.reset();
  EXPECT_TRUE(MetadataMirror::open(dir_)->get("bucket", "key"));
}

TEST_F(MetadataMirrorTest, OpeningADirectoryAnotherProcessHoldsThrows) {
  MetadataMirror::open(dir_)->put(known(record("bucket", "key"), kNow));
  const std::string lock_file = dir_ + "/LOCK";  // built before fork: the child only makes syscalls
  int locked[2];
  int release[2];
  ASSERT_EQ(::pipe(locked), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Holds the lock the way RocksDB does (a write lock on the whole LOCK file) until told.
    const int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT, 0644);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const char ok = (fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0) ? 'y' : 'n';
    (void)!::write(locked[1], &ok, 1);
    char done;
    (void)!::read(release[0], &done, 1);
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(locked[0], &ok, 1), 1);
  EXPECT_EQ(ok, 'y');
  std::string message;
  try {
    MetadataMirror::open(dir_);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  const char done = 'x';
  EXPECT_EQ(::write(release[1], &done, 1), 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  for (const int fd : {locked[0], locked[1], release[0], release[1]}) ::close(fd);

  EXPECT_NE(message.find("is in use by another s3hc-proxy; give each proxy its own"),
            std::string::npos)
      << message;
  // Once the other process is gone, the database is there as it was.
  auto mirror = MetadataMirror::open(dir_);
  EXPECT_TRUE(mirror->get("bucket", "key"));
}

TEST_F(MetadataMirrorTest, ThreadsUseOneMirrorConcurrently) {
  auto mirror = MetadataMirror::open(dir_);
  constexpr int kThreads = 8;
  constexpr int kEntries = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEntries; ++i) {
        const auto key = std::to_string(t) + "/" + std::to_string(i);
        mirror->put(known(record("bucket", key), kNow + i));
        (void)mirror->get("bucket", std::to_string((t + 1) % kThreads) + "/" + std::to_string(i));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEntries; ++i) {
      const auto entry = mirror->get("bucket", std::to_string(t) + "/" + std::to_string(i));
      ASSERT_TRUE(entry) << t << "/" << i;
      EXPECT_EQ(entry->checked_at_unix_ms, kNow + i);
    }
  }
}

}  // namespace
}  // namespace s3hc::cache
