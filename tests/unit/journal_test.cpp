#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cache/fleet/journal.h"
#include "temp_dir.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class JournalTest : public ::testing::Test {
 protected:
  // The segments of one writer, by seq.
  std::vector<JournalSegment> segments_of(const std::string& writer_id) const {
    std::vector<JournalSegment> mine;
    for (auto& segment : list_journal_segments(dir_)) {
      if (segment.writer_id == writer_id) mine.push_back(segment);
    }
    return mine;
  }

  static std::vector<std::string> read_all(const std::string& path) {
    const auto read = read_journal_segment(path, 0);
    EXPECT_FALSE(read.corrupt);
    return read.records;
  }

  static std::uint64_t framed_size(const std::vector<std::string>& records) {
    std::uint64_t size = 0;
    for (const auto& record : records) size += kJournalFrameHeaderBytes + record.size();
    return size;
  }

  static void flip_byte(const std::string& path, std::uint64_t at) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(at));
    char byte = 0;
    file.get(byte);
    file.seekp(static_cast<std::streamoff>(at));
    file.put(static_cast<char>(byte ^ 0x20));
  }

  static void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }

  s3hc::testing::TempDir temp_{"journal-test"};
  const std::string dir_ = temp_.string() + "/journal";
};

TEST_F(JournalTest, BatchesRoundTripInOrder) {
  JournalWriter writer(dir_, "proxy-a");
  const std::vector<std::string> first = {"one", "", std::string("nul\0byte", 8)};
  const std::vector<std::string> second = {std::string(100 * 1024, 'x'), "last"};
  ASSERT_TRUE(writer.append(first));
  ASSERT_TRUE(writer.append({}));
  ASSERT_TRUE(writer.append(second));

  const auto segments = segments_of("proxy-a");
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].seq, 1u);
  EXPECT_EQ(segments[0].path, dir_ + "/proxy-a.0000000001.jnl");
  const auto read = read_journal_segment(segments[0].path, 0);
  std::vector<std::string> expected = first;
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(read.records, expected);
  EXPECT_FALSE(read.corrupt);
  EXPECT_EQ(read.next_offset, framed_size(expected));
  EXPECT_EQ(fs::file_size(segments[0].path), framed_size(expected));
}

TEST_F(JournalTest, EmptyBatchCreatesNoSegment) {
  JournalWriter writer(dir_, "idle");
  EXPECT_TRUE(writer.append({}));
  EXPECT_TRUE(list_journal_segments(dir_).empty());
}

TEST_F(JournalTest, OversizedRecordIsRefusedAndNothingWritten) {
  JournalWriter writer(dir_, "w");
  EXPECT_FALSE(writer.append({"fine", std::string(kMaxJournalRecordBytes + 1, 'x')}));
  EXPECT_TRUE(list_journal_segments(dir_).empty());
  EXPECT_TRUE(writer.append({std::string(kMaxJournalRecordBytes, 'y')}));
  EXPECT_EQ(read_all(segments_of("w").at(0).path).at(0).size(), kMaxJournalRecordBytes);
}

TEST_F(JournalTest, CursorResumesWithLaterRecordsOnly) {
  JournalWriter writer(dir_, "w");
  ASSERT_TRUE(writer.append({"a", "b"}));
  const auto path = segments_of("w").at(0).path;
  const auto first = read_journal_segment(path, 0);
  EXPECT_EQ(first.records, (std::vector<std::string>{"a", "b"}));

  const auto nothing_new = read_journal_segment(path, first.next_offset);
  EXPECT_TRUE(nothing_new.records.empty());
  EXPECT_EQ(nothing_new.next_offset, first.next_offset);
  EXPECT_FALSE(nothing_new.corrupt);

  ASSERT_TRUE(writer.append({"c"}));
  ASSERT_TRUE(writer.append({"d", "e"}));
  const auto later = read_journal_segment(path, first.next_offset);
  EXPECT_EQ(later.records, (std::vector<std::string>{"c", "d", "e"}));
  EXPECT_EQ(later.next_offset, fs::file_size(path));
}

TEST_F(JournalTest, SegmentRotatesOnceItReachesMaxSize) {
  const std::string record(60, 'r');  // 76 framed bytes
  JournalWriter writer(dir_, "w", 100);
  ASSERT_TRUE(writer.append({record}));  // 76 < 100: the next one still goes here
  ASSERT_TRUE(writer.append({record}));  // 152
  ASSERT_TRUE(writer.append({record}));
  const auto segments = segments_of("w");
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0].seq, 1u);
  EXPECT_EQ(segments[1].seq, 2u);
  EXPECT_EQ(read_all(segments[0].path).size(), 2u);
  EXPECT_EQ(read_all(segments[1].path).size(), 1u);
}

TEST_F(JournalTest, RotateStartsTheNextSeqOnTheNextAppend) {
  JournalWriter writer(dir_, "w");
  writer.rotate();  // nothing written yet: no empty segment, no gap
  ASSERT_TRUE(writer.append({"first"}));
  writer.rotate();
  writer.rotate();
  EXPECT_EQ(segments_of("w").size(), 1u);
  ASSERT_TRUE(writer.append({"second"}));
  const auto segments = segments_of("w");
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0].seq, 1u);
  EXPECT_EQ(segments[1].seq, 2u);
  EXPECT_EQ(read_all(segments[0].path), std::vector<std::string>{"first"});
  EXPECT_EQ(read_all(segments[1].path), std::vector<std::string>{"second"});
}

TEST_F(JournalTest, ListingSortsByWriterThenNumericSeqAndIgnoresOtherFiles) {
  fs::create_directories(dir_);
  for (const auto* name :
       {"b.0000000002.jnl", "a.0000000010.jnl", "a.0000000009.jnl", "b.0000000001.jnl",
        "a_b-C.0000000001.jnl", "a.10000000000.jnl",  // seqs beyond 10 digits just grow
        "a.00000000011.jnl", "a.000000003.jnl", "a.0000000003.jnl.tmp.12345", "a.jnl", "a.12.jnl", "bad id.0000000001.jnl",
        ".0000000001.jnl", "a.00000000x1.jnl", "README"}) {
    write_file(dir_ + "/" + name, "");
  }
  std::vector<std::pair<std::string, std::uint64_t>> listed;
  for (const auto& segment : list_journal_segments(dir_)) {
    EXPECT_EQ(fs::path(segment.path).parent_path(), fs::path(dir_));
    listed.emplace_back(segment.writer_id, segment.seq);
  }
  const std::vector<std::pair<std::string, std::uint64_t>> expected = {
      {"a", 9}, {"a", 10}, {"a", 10000000000}, {"a_b-C", 1}, {"b", 1}, {"b", 2}};
  EXPECT_EQ(listed, expected);
  EXPECT_TRUE(list_journal_segments(dir_ + "/missing").empty());
}

TEST_F(JournalTest, TornTailMidPayloadIsNotARecord) {
  JournalWriter writer(dir_, "w");
  const std::vector<std::string> whole = {"alpha", "beta"};
  ASSERT_TRUE(writer.append(whole));
  ASSERT_TRUE(writer.append({std::string(100, 't')}));
  const auto path = segments_of("w").at(0).path;
  fs::resize_file(path, fs::file_size(path) - 10);

  const auto read = read_journal_segment(path, 0);
  EXPECT_EQ(read.records, whole);
  EXPECT_EQ(read.next_offset, framed_size(whole));
  EXPECT_FALSE(read.corrupt);
  const auto again = read_journal_segment(path, read.next_offset);
  EXPECT_TRUE(again.records.empty());
  EXPECT_EQ(again.next_offset, read.next_offset);
  EXPECT_FALSE(again.corrupt);
}

TEST_F(JournalTest, TornTailMidHeaderIsNotARecord) {
  JournalWriter writer(dir_, "w");
  const std::vector<std::string> whole = {"alpha"};
  ASSERT_TRUE(writer.append(whole));
  ASSERT_TRUE(writer.append({"beta"}));
  const auto path = segments_of("w").at(0).path;
  std::ifstream file(path, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(file), {}};
  ASSERT_EQ(bytes.size(), framed_size({"alpha", "beta"}));
  for (const std::size_t header_bytes : {1, 3, 4, 7, 8, 15}) {
    // Rewritten each time: growing a file back would pad it with zeros, not the header.
    write_file(path, bytes.substr(0, framed_size(whole) + header_bytes));
    const auto read = read_journal_segment(path, 0);
    EXPECT_EQ(read.records, whole) << header_bytes;
    EXPECT_EQ(read.next_offset, framed_size(whole)) << header_bytes;
    EXPECT_FALSE(read.corrupt) << header_bytes;
  }
}

TEST_F(JournalTest, FlippedPayloadByteIsCorruptAndStopsThere) {
  JournalWriter writer(dir_, "w");
  ASSERT_TRUE(writer.append({"first", "second", "third"}));
  const auto path = segments_of("w").at(0).path;
  const auto second_at = framed_size({"first"});
  flip_byte(path, second_at + kJournalFrameHeaderBytes + 2);

  const auto read = read_journal_segment(path, 0);
  EXPECT_EQ(read.records, std::vector<std::string>{"first"});
  EXPECT_EQ(read.next_offset, second_at);
  EXPECT_TRUE(read.corrupt);
}

TEST_F(JournalTest, DamagedHeaderIsCorrupt) {
  JournalWriter writer(dir_, "w");
  ASSERT_TRUE(writer.append({"first", "second", std::string(100, 'z')}));
  const auto path = segments_of("w").at(0).path;
  const auto second_at = framed_size({"first"});
  // Magic, length (6 becomes 38: still within the file and the cap), checksum.
  for (const std::uint64_t at : {second_at + 1, second_at + 4, second_at + 9}) {
    flip_byte(path, at);
    const auto read = read_journal_segment(path, 0);
    EXPECT_EQ(read.records, std::vector<std::string>{"first"}) << at;
    EXPECT_EQ(read.next_offset, second_at) << at;
    EXPECT_TRUE(read.corrupt) << at;
    flip_byte(path, at);
  }
  EXPECT_EQ(read_all(path).size(), 3u);
}

TEST_F(JournalTest, ZerosWhereARecordShouldBeAreCorrupt) {
  // What another host may see over NFS while a write's later pages are flushed first.
  JournalWriter writer(dir_, "w");
  ASSERT_TRUE(writer.append({"first"}));
  const auto path = segments_of("w").at(0).path;
  fs::resize_file(path, fs::file_size(path) + 64);
  const auto read = read_journal_segment(path, 0);
  EXPECT_EQ(read.records, std::vector<std::string>{"first"});
  EXPECT_TRUE(read.corrupt);
}

TEST_F(JournalTest, LengthBeyondTheCapIsCorrupt) {
  fs::create_directories(dir_);
  const auto path = dir_ + "/w.0000000001.jnl";
  // A header claiming 16 MiB: the reader must not wait for it as for a torn tail.
  write_file(path, std::string("s3j1\x00\x00\x00\x01", 8) + std::string(8, '\0'));
  const auto read = read_journal_segment(path, 0);
  EXPECT_TRUE(read.records.empty());
  EXPECT_EQ(read.next_offset, 0u);
  EXPECT_TRUE(read.corrupt);
}

TEST_F(JournalTest, MissingSegmentReadsAsNothing) {
  const auto read = read_journal_segment(dir_ + "/w.0000000001.jnl", 42);
  EXPECT_TRUE(read.records.empty());
  EXPECT_EQ(read.next_offset, 42u);
  EXPECT_FALSE(read.corrupt);
}

TEST_F(JournalTest, DeletedDirectoryIsRecreatedUnderAHigherSeq) {
  JournalWriter writer(dir_, "w");
  ASSERT_TRUE(writer.append({"before"}));
  fs::remove_all(dir_);
  ASSERT_TRUE(writer.append({"after"}));
  const auto segments = segments_of("w");
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].seq, 2u);
  EXPECT_EQ(read_all(segments[0].path), std::vector<std::string>{"after"});
}

TEST_F(JournalTest, SegmentDeletedByTheConsolidatorIsNotRecreated) {
  JournalWriter writer(dir_, "w");
  ASSERT_TRUE(writer.append({"one"}));
  ASSERT_TRUE(fs::remove(segments_of("w").at(0).path));
  ASSERT_TRUE(writer.append({"two"}));
  ASSERT_TRUE(writer.append({"three"}));
  const auto segments = segments_of("w");
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].seq, 2u);
  EXPECT_EQ(read_all(segments[0].path), (std::vector<std::string>{"two", "three"}));
}

TEST_F(JournalTest, WriterStartsAfterTheHighestExistingSeqOfItsId) {
  fs::create_directories(dir_);
  write_file(dir_ + "/w.0000000007.jnl", "left by an earlier process");
  write_file(dir_ + "/x.0000000042.jnl", "");
  JournalWriter writer(dir_, "w");
  ASSERT_TRUE(writer.append({"new"}));
  const auto segments = segments_of("w");
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[1].seq, 8u);
  EXPECT_EQ(read_all(segments[1].path), std::vector<std::string>{"new"});
  EXPECT_EQ(fs::file_size(segments[0].path), 26u);
}

TEST_F(JournalTest, ExistingFileAtTheNextSeqIsSkipped) {
  JournalWriter writer(dir_, "w");
  ASSERT_TRUE(writer.append({"one"}));
  // Appears after the writer started (e.g. a stale listing): never appended to.
  write_file(dir_ + "/w.0000000002.jnl", "foreign");
  writer.rotate();
  ASSERT_TRUE(writer.append({"two"}));
  const auto segments = segments_of("w");
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(fs::file_size(segments[1].path), 7u);
  EXPECT_EQ(segments[2].seq, 3u);
  EXPECT_EQ(read_all(segments[2].path), std::vector<std::string>{"two"});
}

TEST_F(JournalTest, TwoWritersInOneDirectoryDoNotMix) {
  JournalWriter a(dir_, "a");
  JournalWriter b(dir_, "b");
  ASSERT_TRUE(a.append({"a1"}));
  ASSERT_TRUE(b.append({"b1"}));
  ASSERT_TRUE(a.append({"a2"}));
  ASSERT_TRUE(b.append({"b2", "b3"}));
  const auto segments = list_journal_segments(dir_);
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0].writer_id, "a");
  EXPECT_EQ(segments[1].writer_id, "b");
  EXPECT_EQ(read_all(segments[0].path), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(read_all(segments[1].path), (std::vector<std::string>{"b1", "b2", "b3"}));
}

TEST_F(JournalTest, InvalidWriterIdIsRejected) {
  EXPECT_THROW(JournalWriter(dir_, ""), std::invalid_argument);
  EXPECT_THROW(JournalWriter(dir_, "a.b"), std::invalid_argument);
  EXPECT_THROW(JournalWriter(dir_, "../x"), std::invalid_argument);
  EXPECT_NO_THROW(JournalWriter(dir_, "host-1_A"));
}

TEST_F(JournalTest, UnwritableDirectoryFailsTheAppend) {
  write_file(temp_.string() + "/file", "");
  JournalWriter writer(temp_.string() + "/file/journal", "w");
  EXPECT_FALSE(writer.append({"lost"}));
  EXPECT_FALSE(writer.append({"lost too"}));
}

TEST_F(JournalTest, MaxBytesBoundsARead) {
  JournalWriter writer(dir_, "w");
  std::vector<std::string> records;
  for (int i = 0; i < 10; ++i) records.push_back(std::string(1000, static_cast<char>('a' + i)));
  ASSERT_TRUE(writer.append(records));
  const auto path = segments_of("w").at(0).path;
  const auto frame = kJournalFrameHeaderBytes + 1000;

  const auto two = read_journal_segment(path, 0, 3 * frame - 1);
  EXPECT_EQ(two.records, std::vector<std::string>(records.begin(), records.begin() + 2));
  EXPECT_EQ(two.next_offset, 2 * frame);
  EXPECT_FALSE(two.corrupt);
  const auto three = read_journal_segment(path, 0, 3 * frame);
  EXPECT_EQ(three.records.size(), 3u);

  // A bound below one record still returns that record, so a reader always gets on.
  for (const std::uint64_t bound : {std::uint64_t{0}, std::uint64_t{10}, frame - 1}) {
    const auto one = read_journal_segment(path, frame, bound);
    EXPECT_EQ(one.records, std::vector<std::string>{records[1]}) << bound;
    EXPECT_EQ(one.next_offset, 2 * frame) << bound;
  }

  std::vector<std::string> all;
  std::uint64_t offset = 0;
  for (int reads = 0; reads < 20 && offset < fs::file_size(path); ++reads) {
    const auto read = read_journal_segment(path, offset, 2500);
    all.insert(all.end(), read.records.begin(), read.records.end());
    offset = read.next_offset;
  }
  EXPECT_EQ(all, records);
}

TEST_F(JournalTest, BoundedReadStillSeesACorruptFirstRecord) {
  JournalWriter writer(dir_, "w");
  ASSERT_TRUE(writer.append({std::string(1000, 'x')}));
  const auto path = segments_of("w").at(0).path;
  flip_byte(path, kJournalFrameHeaderBytes + 500);
  const auto read = read_journal_segment(path, 0, 10);
  EXPECT_TRUE(read.records.empty());
  EXPECT_EQ(read.next_offset, 0u);
  EXPECT_TRUE(read.corrupt);
}

TEST_F(JournalTest, SegmentIsClosedWhenItsWriterHasAHigherSeq) {
  JournalWriter a(dir_, "a");
  JournalWriter b(dir_, "b");
  ASSERT_TRUE(a.append({"1"}));
  a.rotate();
  ASSERT_TRUE(a.append({"2"}));
  ASSERT_TRUE(b.append({"1"}));
  const auto all = list_journal_segments(dir_);
  ASSERT_EQ(all.size(), 3u);
  struct stat st{};
  ASSERT_EQ(::stat(all[0].path.c_str(), &st), 0);
  const std::int64_t fresh = st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1'000'000;
  const auto idle = milliseconds(60'000);
  EXPECT_TRUE(journal_segment_closed(all[0], all, fresh, idle));    // a.1: a.2 exists
  EXPECT_FALSE(journal_segment_closed(all[1], all, fresh, idle));   // a.2: latest, fresh
  EXPECT_FALSE(journal_segment_closed(all[2], all, fresh, idle));   // b.1: a's seqs don't count
}

TEST_F(JournalTest, SegmentIsClosedWhenIdleLongerThanTheIdleAge) {
  JournalWriter writer(dir_, "w");
  ASSERT_TRUE(writer.append({"1"}));
  const auto all = list_journal_segments(dir_);
  ASSERT_EQ(all.size(), 1u);
  struct stat st{};
  ASSERT_EQ(::stat(all[0].path.c_str(), &st), 0);
  const std::int64_t mtime_ms = st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1'000'000;
  const auto idle = milliseconds(10'000);
  EXPECT_FALSE(journal_segment_closed(all[0], all, mtime_ms + 9'000, idle));
  EXPECT_TRUE(journal_segment_closed(all[0], all, mtime_ms + 11'000, idle));
  EXPECT_FALSE(journal_segment_closed(all[0], all, mtime_ms - 5'000, idle));  // clock behind
}

TEST_F(JournalTest, MissingSegmentIsClosed) {
  JournalWriter writer(dir_, "w");
  ASSERT_TRUE(writer.append({"1"}));
  const auto all = list_journal_segments(dir_);
  ASSERT_EQ(all.size(), 1u);
  ASSERT_TRUE(fs::remove(all[0].path));
  EXPECT_TRUE(journal_segment_closed(all[0], all, 0, milliseconds(1'000'000)));
}

}  // namespace
}  // namespace s3hc::cache
