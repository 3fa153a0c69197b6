#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>

#include "cache/store/object_store.h"
#include "cache/store/upload_store.h"
#include "recording_store_observer.h"
#include "temp_dir.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;

class ObjectStoreTest : public ::testing::Test {
 protected:
  // Times in these tests are small numbers, not wall-clock times: no fill is too old. No RAM
  // tier: what is read comes from the files.
  ObjectStoreTest()
      : store_(CacheLayout(dir_.string()),
               {.block_size = 1000,
                .max_fill_age = std::chrono::milliseconds::max(),
                .ram_bytes = 0},
               nullptr, &observer_) {
    std::mt19937 generator(5);
    object_.resize(10'000);
    for (auto& byte : object_) byte = static_cast<char>(generator());
  }

  ObjectMeta meta(const std::string& etag = "\"v1\"") const {
    ObjectMeta meta;
    meta.etag = etag;
    meta.size = object_.size();
    meta.last_modified = "Tue, 24 Nov 2026 10:00:00 GMT";
    meta.headers = {{"Content-Type", "application/octet-stream"}};
    return meta;
  }

  std::optional<v1::CacheRecord> try_fill(std::uint64_t first, std::uint64_t last,
                                          const std::string& etag, std::int64_t fetched_at_ms) {
    auto range_fill = store_.begin_fill(address_, meta(etag), first, true, fetched_at_ms);
    range_fill->append(std::string_view(object_).substr(first, last - first + 1));
    return store_.commit(*range_fill);
  }

  v1::CacheRecord fill(std::uint64_t first, std::uint64_t last, const std::string& etag = "\"v1\"") {
    return *try_fill(first, last, etag, 1000);
  }

  std::size_t range_files() const {
    std::size_t count = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
      count += entry.path().extension() == ".rng";
    }
    return count;
  }

  s3hc::testing::TempDir dir_{"object-store-test"};
  s3hc::testing::RecordingStoreObserver observer_;
  ObjectStore store_;
  s3::ObjectAddress address_{"bucket", "dir/../key ✓"};
  std::string object_;
};

TEST_F(ObjectStoreTest, ReadsAcrossRangesFilledSeparately) {
  EXPECT_FALSE(store_.lookup(address_));
  fill(0, 3999);
  const auto record = fill(4000, 9999);
  EXPECT_EQ(record.generation(), 2u);
  EXPECT_EQ(ObjectStore::held(record).ranges(), (std::vector<s3::ByteRange>{{0, 9999}}));
  const auto loaded = store_.lookup(address_);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->etag(), "\"v1\"");
  ASSERT_EQ(loaded->headers_size(), 1);
  EXPECT_EQ(store_.read(*loaded, {0, 9999}), object_);
  EXPECT_EQ(store_.read(*loaded, {3990, 4010}), object_.substr(3990, 21));
}

TEST_F(ObjectStoreTest, PartialHoldingsAreMissesOutsideThem) {
  const auto record = fill(2000, 2999);
  EXPECT_EQ(store_.read(record, {2500, 2600}), object_.substr(2500, 101));
  EXPECT_FALSE(store_.read(record, {1999, 2500}));
  EXPECT_FALSE(store_.read(record, {2900, 3000}));
  EXPECT_EQ(ObjectStore::held(record).missing({0, 9999}, 0),
            (std::vector<s3::ByteRange>{{0, 1999}, {3000, 9999}}));
}

TEST_F(ObjectStoreTest, ContainedRangesAreReplacedAndTheirFilesDeleted) {
  fill(1000, 1999);
  fill(3000, 3999);
  EXPECT_EQ(range_files(), 2u);
  const auto record = fill(0, 4999);
  EXPECT_EQ(record.ranges_size(), 1);
  EXPECT_EQ(range_files(), 1u);
  EXPECT_EQ(store_.read(record, {0, 4999}), object_.substr(0, 5000));
}

TEST_F(ObjectStoreTest, BytesAlreadyHeldKeepTheirFile) {
  fill(0, 9999);
  const auto record = fill(100, 199);  // a concurrent miss of bytes already held
  ASSERT_EQ(record.ranges_size(), 1);
  EXPECT_EQ(record.ranges(0).last(), 9999u);
  EXPECT_EQ(range_files(), 1u);  // readers streaming from the first file are not cut off
  EXPECT_EQ(store_.read(record, {0, 9999}), object_);
}

TEST_F(ObjectStoreTest, AnOpenRangeOutlivesTheReplacementOfItsFiles) {
  const auto record = fill(1000, 1999);
  const auto files = store_.open_range(record, {1000, 1999});
  ASSERT_TRUE(files);
  fill(0, 9999);  // contains the first range: its file is deleted
  EXPECT_FALSE(store_.read(record, {1000, 1999}));  // by name: gone
  std::string bytes(1000, '\0');
  ASSERT_TRUE(store_.read_into(*files, {1000, 1999}, bytes.data()));  // opened: still there
  EXPECT_EQ(bytes, object_.substr(1000, 1000));
}

TEST_F(ObjectStoreTest, ANewVersionDropsTheOldBytes) {
  fill(0, 9999, "\"v1\"");
  const auto record = fill(0, 99, "\"v2\"");
  EXPECT_EQ(record.etag(), "\"v2\"");
  EXPECT_EQ(ObjectStore::held(record).ranges(), (std::vector<s3::ByteRange>{{0, 99}}));
  EXPECT_EQ(range_files(), 1u);
}

TEST_F(ObjectStoreTest, AMissingRangeFileIsAMiss) {
  const auto record = fill(0, 9999);
  for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
    if (entry.path().extension() == ".rng") fs::remove(entry.path());
  }
  EXPECT_FALSE(store_.read(record, {0, 10}));
}

TEST_F(ObjectStoreTest, InvalidateForgetsEverything) {
  fill(0, 9999);
  store_.invalidate(address_, 2000);
  EXPECT_FALSE(store_.lookup(address_));
  EXPECT_EQ(range_files(), 0u);
}

TEST_F(ObjectStoreTest, AFillOlderThanAnInvalidationIsRefused) {
  fill(0, 9999);
  store_.invalidate(address_, 2000);               // a write or delete answered at 2000
  EXPECT_FALSE(try_fill(0, 99, "\"v1\"", 1500));  // old bytes fetched before it
  EXPECT_FALSE(store_.lookup(address_));
  EXPECT_EQ(range_files(), 0u);
  EXPECT_TRUE(try_fill(0, 99, "\"v2\"", 2500));   // fetched after it
  EXPECT_EQ(store_.lookup(address_)->etag(), "\"v2\"");
}

// Times are milliseconds: a read sent in the one a write was answered in may carry the version
// the write replaced, so the write's news wins the tie (test_chaos found it: a stale HIT).
TEST_F(ObjectStoreTest, AWritesNewsWinsATieWithAFillOfAnotherVersion) {
  store_.invalidate(address_, 2000);               // a delete or overwrite answered at 2000
  EXPECT_FALSE(try_fill(0, 99, "\"old\"", 2000));  // a read sent in that millisecond
  EXPECT_FALSE(store_.lookup(address_));
  auto written = meta("\"new\"");
  written.from_write = true;
  ASSERT_TRUE(store_.remember(address_, written, 3000));  // a write answered at 3000
  EXPECT_FALSE(try_fill(0, 99, "\"old\"", 3000));
  EXPECT_EQ(store_.lookup(address_)->etag(), "\"new\"");
  EXPECT_TRUE(try_fill(0, 99, "\"newer\"", 3001));  // a read sent after: a newer version
  EXPECT_EQ(store_.lookup(address_)->etag(), "\"newer\"");
}

// What a read dropped (damaged bytes, a version found changed) is no write's news: its refill,
// sent in the same millisecond, commits (test_read_cache found it: a corrupt file never refilled).
TEST_F(ObjectStoreTest, ARefillCommitsInTheMillisecondAReadDroppedTheObject) {
  fill(0, 9999);
  store_.drop(address_, 2000);
  EXPECT_FALSE(store_.lookup(address_));
  EXPECT_TRUE(try_fill(0, 99, "\"v2\"", 2000));
  EXPECT_EQ(store_.lookup(address_)->etag(), "\"v2\"");
}

TEST_F(ObjectStoreTest, InvalidationSparesFillsStillBeingWritten) {
  fill(0, 9999);
  auto later = store_.begin_fill(address_, meta("\"v2\""), 0, true, 3000);  // fetched after
  later->append(std::string_view(object_).substr(0, 100));
  store_.invalidate(address_, 2000);  // news older than that fetch
  ASSERT_TRUE(store_.commit(*later));
  EXPECT_EQ(store_.lookup(address_)->etag(), "\"v2\"");
  EXPECT_EQ(range_files(), 1u);
}

TEST_F(ObjectStoreTest, AnOlderVersionNeverReplacesANewerOne) {
  ASSERT_TRUE(try_fill(0, 99, "\"new\"", 3000));
  EXPECT_FALSE(try_fill(0, 9999, "\"old\"", 2000));
  store_.invalidate(address_, 2500);  // news older than the record: ignored
  const auto record = store_.lookup(address_);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->etag(), "\"new\"");
  EXPECT_EQ(store_.read(*record, {0, 99}), object_.substr(0, 100));
  EXPECT_EQ(range_files(), 1u);
}

TEST_F(ObjectStoreTest, AnAbandonedFillLeavesNothing) {
  {
    auto range_fill = store_.begin_fill(address_, meta(), 0, true, 1000);
    range_fill->append(object_.substr(0, 5000));
  }  // the origin failed mid-fill: never committed
  EXPECT_EQ(range_files(), 0u);
  EXPECT_FALSE(store_.lookup(address_));
}

TEST_F(ObjectStoreTest, RememberKeepsBytesOfTheSameVersionAndDropsOthers) {
  fill(0, 999);
  auto head = meta();
  head.headers = {{"Content-Type", "text/plain"}};
  auto record = *store_.remember(address_, head, 5000);
  EXPECT_EQ(record.ranges_size(), 1);
  EXPECT_EQ(record.validated_at_unix_ms(), 5000);
  EXPECT_EQ(record.headers(0).value(), "text/plain");

  record = *store_.remember(address_, meta("\"v2\""), 6000);
  EXPECT_EQ(record.ranges_size(), 0);
  EXPECT_EQ(record.etag(), "\"v2\"");
  EXPECT_EQ(range_files(), 0u);
}

TEST_F(ObjectStoreTest, ConfirmRefreshesOnlyTheSameVersion) {
  fill(0, 999);
  const auto confirmed = store_.confirm(address_, "\"v1\"", 9000);
  ASSERT_TRUE(confirmed);
  EXPECT_EQ(confirmed->validated_at_unix_ms(), 9000);
  EXPECT_EQ(confirmed->fetched_at_unix_ms(), 1000);
  EXPECT_FALSE(store_.confirm(address_, "\"v2\"", 9500));
  EXPECT_EQ(store_.lookup(address_)->validated_at_unix_ms(), 9000);
}

TEST_F(ObjectStoreTest, PartsAndWholeObjectHeadersAccumulate) {
  auto with_part = meta();
  with_part.parts_count = 3;
  with_part.parts = {{2, {4000, 7999}}};
  with_part.whole_object_headers = {{"x-amz-checksum-crc32", "AAAAAA=="}};
  store_.remember(address_, with_part, 1000);

  auto later = meta();  // a range response: no parts, no whole-object headers
  auto fill_of_range = store_.begin_fill(address_, later, 0, false, 2000);
  fill_of_range->append(object_.substr(0, 10));
  const auto record = *store_.commit(*fill_of_range);
  EXPECT_EQ(record.parts_count(), 3u);
  ASSERT_EQ(record.parts_size(), 1);
  EXPECT_EQ(record.parts(0).number(), 2u);
  EXPECT_EQ(record.parts(0).first(), 4000u);
  ASSERT_EQ(record.whole_object_headers_size(), 1);
  EXPECT_EQ(record.whole_object_headers(0).value(), "AAAAAA==");
}

TEST_F(ObjectStoreTest, VerifiedRawBlocksAreSentFromTheirFiles) {
  std::mt19937 generator(11);
  std::string large(300'000, '\0');  // random: stored raw; large: kept open, not read whole
  for (auto& byte : large) byte = static_cast<char>(generator());
  auto meta_of_large = meta();
  meta_of_large.size = large.size();
  auto range_fill = store_.begin_fill(address_, meta_of_large, 0, true, 1000);
  range_fill->append(large);
  const auto record = *store_.commit(*range_fill);

  const s3::ByteRange wanted{1500, 250'000};
  const auto files = store_.open_range(record, wanted);
  ASSERT_TRUE(files);
  EXPECT_FALSE(store_.file_pieces(*files));  // no read has verified the blocks yet
  EXPECT_EQ(store_.read(record, wanted), large.substr(1500, wanted.length()));
  const auto pieces = store_.file_pieces(*files);  // the same open files: no second open
  ASSERT_TRUE(pieces);
  std::string sent;
  for (const auto& piece : *pieces) {
    std::string bytes(piece.length, '\0');
    ASSERT_EQ(::pread(piece.file, bytes.data(), bytes.size(), static_cast<off_t>(piece.offset)),
              static_cast<ssize_t>(piece.length));
    sent += bytes;
  }
  EXPECT_EQ(sent, large.substr(1500, wanted.length()));

  // Damage through the file system gives the file new times: checked again, and refused.
  for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
    if (entry.path().extension() != ".rng") continue;
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(32 + 2 * (24 + 1000) + 24 + 100);  // object byte 2100, in block 2 (raw)
    file.put('\x01');
  }
  EXPECT_FALSE(store_.file_pieces(*store_.open_range(record, wanted)));
  EXPECT_FALSE(store_.read(record, wanted));
}

TEST_F(ObjectStoreTest, ReportsEveryChangeOfTheObjectsDirectoryAndEveryLookup) {
  const auto id = CacheLayout::object_id(address_.bucket, address_.key);
  fill(0, 4999);
  auto stored = observer_.stored();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].dir_id, id);
  const auto filled_bytes = stored[0].bytes;
  EXPECT_GT(filled_bytes, 5000u);  // random bytes do not compress
  ASSERT_TRUE(stored[0].record);
  EXPECT_EQ(stored[0].record->etag(), "\"v1\"");

  EXPECT_TRUE(store_.lookup(address_));
  EXPECT_EQ(observer_.accessed(), std::vector<std::string>{id});

  observer_.clear();
  store_.invalidate(address_, 2000);
  stored = observer_.stored();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].dir_id, id);
  EXPECT_LT(stored[0].bytes, filled_bytes - 4000);  // the record is left, the range file gone
  ASSERT_TRUE(stored[0].record);
  EXPECT_TRUE(stored[0].record->etag().empty());  // a tombstone
}

class MultipartTest : public ObjectStoreTest {
 protected:
  void upload_part(std::uint32_t number, std::string_view bytes, const std::string& etag) {
    auto part = uploads_.begin_part(address_, "upload-1", number, true);
    part->append(bytes);
    uploads_.commit_part(*part, number, etag);
  }

  std::optional<v1::CacheRecord> complete(
      const std::vector<std::pair<std::uint32_t, std::string>>& parts) {
    ObjectMeta answer;
    answer.etag = "\"abc-3\"";
    answer.from_write = true;
    return uploads_.complete(address_, "upload-1", parts, answer, 5000);
  }

  bool upload_files_left() const {
    const auto uploads = fs::path(dir_.path()) / "uploads";
    if (!fs::exists(uploads)) return false;
    for (const auto& entry : fs::recursive_directory_iterator(uploads)) {
      if (entry.is_regular_file()) return true;
    }
    return false;
  }

  UploadStore uploads_{store_, &observer_};
};

TEST_F(MultipartTest, CompletedPartsBecomeTheObjectInOrder) {
  uploads_.begin(address_, "upload-1", {{"Content-Type", "text/csv"}});
  upload_part(1, std::string_view(object_).substr(0, 4000), "\"p1\"");
  upload_part(2, "bytes of an abandoned try", "\"p2-old\"");
  upload_part(2, std::string_view(object_).substr(4000, 5000), "\"p2\"");
  upload_part(3, std::string_view(object_).substr(9000), "\"p3\"");

  const auto record = complete({{1, "\"p1\""}, {2, "\"p2\""}, {3, "\"p3\""}});
  ASSERT_TRUE(record);
  EXPECT_EQ(record->size(), object_.size());
  EXPECT_EQ(record->parts_count(), 3u);
  ASSERT_EQ(record->parts_size(), 3);
  EXPECT_EQ(record->parts(1).first(), 4000u);
  EXPECT_EQ(record->parts(1).last(), 8999u);
  EXPECT_EQ(record->headers(0).value(), "text/csv");
  EXPECT_TRUE(record->from_write());
  EXPECT_EQ(store_.read(*store_.lookup(address_), {0, object_.size() - 1}), object_);
  EXPECT_EQ(store_.read(*record, {3990, 4010}), object_.substr(3990, 21));
  EXPECT_FALSE(upload_files_left());
}

TEST_F(MultipartTest, ReportsTheUploadsDirectoryUntilItIsGone) {
  const auto upload = CacheLayout::upload_id(address_.bucket, address_.key, "upload-1");
  const auto object = CacheLayout::object_id(address_.bucket, address_.key);
  uploads_.begin(address_, "upload-1", {});
  upload_part(1, object_, "\"p1\"");
  auto stored = observer_.stored();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1].dir_id, upload);
  EXPECT_GT(stored[1].bytes, stored[0].bytes);  // the part's bytes came after the start's
  EXPECT_FALSE(stored[1].record);

  observer_.clear();
  ASSERT_TRUE(complete({{1, "\"p1\""}}));
  stored = observer_.stored();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].dir_id, object);
  EXPECT_GT(stored[0].bytes, 0u);
  EXPECT_EQ(stored[1].dir_id, upload);
  EXPECT_EQ(stored[1].bytes, 0u);
}

TEST_F(MultipartTest, AnUnseenPartLeavesTheObjectAlone) {
  fill(0, 9999);
  uploads_.begin(address_, "upload-1", {});
  upload_part(1, std::string_view(object_).substr(0, 4000), "\"p1\"");
  EXPECT_FALSE(complete({{1, "\"p1\""}, {2, "\"copied\""}}));
  EXPECT_EQ(store_.lookup(address_)->etag(), "\"v1\"");  // the caller drops it
  EXPECT_FALSE(upload_files_left());
}

TEST_F(MultipartTest, AnUnseenStartLeavesTheObjectAlone) {
  upload_part(1, std::string_view(object_).substr(0, 4000), "\"p1\"");
  EXPECT_FALSE(complete({{1, "\"p1\""}}));
  uploads_.abort(address_, "upload-1");
  EXPECT_FALSE(upload_files_left());
}

}  // namespace
}  // namespace s3hc::cache
