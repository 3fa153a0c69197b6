#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "cache/store/range_file.h"
#include "temp_dir.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;

class RangeFileTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

  static std::string object_bytes(std::size_t size) {
    std::mt19937 generator(7);
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
      // Half text-like (compressible), half random: both block kinds appear.
      bytes[i] = (i / 4096) % 2 ? static_cast<char>(generator()) : static_cast<char>('a' + i % 7);
    }
    return bytes;
  }

  // Writes object[first, first + length) as a range file in pieces of `piece` bytes.
  void write(const std::string& file, const std::string& object, std::uint64_t first,
             std::uint64_t length, std::uint32_t block_size, std::size_t piece = 1000) {
    RangeFileWriter writer(path(file), first, block_size, true);
    for (std::uint64_t at = first; at < first + length; at += piece) {
      writer.append(std::string_view(object).substr(at, std::min<std::uint64_t>(piece, first + length - at)));
    }
    writer.commit();
  }

  std::size_t files_in_dir() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_.path()), {}));
  }

  s3hc::testing::TempDir dir_{"range-file-test"};
};

TEST_F(RangeFileTest, AnySubRangeReadsBackExactly) {
  const auto object = object_bytes(300'000);
  // A small file (read whole when opened) and a large one (read block by block).
  for (const std::uint64_t length : {50'000, 250'000}) {
    write("r", object, 10'000, length, 4096);
    const auto reader = RangeFileReader::open(path("r"));
    ASSERT_TRUE(reader);
    const auto last_byte = 10'000 + length - 1;
    EXPECT_EQ(reader->range(), (s3::ByteRange{10'000, last_byte}));
    for (const auto& [first, last] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
             {10'000, last_byte}, {10'000, 10'000}, {last_byte, last_byte}, {14'095, 14'096},
             {14'096, 18'191}, {12'345, 54'321}, {50'000, 59'999}}) {
      const auto bytes = reader->read({first, last});
      ASSERT_TRUE(bytes) << length << ": " << first << "-" << last;
      EXPECT_EQ(*bytes, object.substr(first, last - first + 1)) << first << "-" << last;
    }
  }
}

TEST_F(RangeFileTest, ReadersReadTheCompleteBlocksOfAFileStillBeingWritten) {
  const auto object = object_bytes(40'000);
  RangeFileWriter writer(path("growing"), 5'000, 4096, true);
  UnfinishedRangeFile written;
  writer.describe_written(written);
  EXPECT_FALSE(RangeFileReader::open_unfinished(written));  // no complete block yet
  writer.append(std::string_view(object).substr(5'000, 10'000));  // two blocks and a bit
  writer.describe_written(written);
  auto reader = RangeFileReader::open_unfinished(written);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->range(), (s3::ByteRange{5'000, 5'000 + 2 * 4096 - 1}));
  EXPECT_EQ(*reader->read({5'000, 13'191}), object.substr(5'000, 8'192));
  writer.append(std::string_view(object).substr(15'000, 20'000));
  writer.describe_written(written);  // only the new blocks' offsets are added
  EXPECT_EQ(written.block_offsets.size(), 30'000u / 4096);
  writer.commit();
  writer.describe_written(written);  // the short last block too, now in the final file
  EXPECT_EQ(written.length, 30'000u);
  const auto whole = RangeFileReader::open_unfinished(written);
  ASSERT_TRUE(whole);
  EXPECT_EQ(*whole->read({5'000, 34'999}), object.substr(5'000, 30'000));
  // The description holds the file open: it reads on after the file is gone.
  fs::remove(path("growing"));
  EXPECT_EQ(*RangeFileReader::open_unfinished(written)->read({30'000, 34'999}),
            object.substr(30'000, 5'000));
}

TEST_F(RangeFileTest, OnlyTheFinalFileRemains) {
  const auto object = object_bytes(10'000);
  write("final", object, 0, object.size(), 1024);
  EXPECT_EQ(files_in_dir(), 1u);
  {
    RangeFileWriter abandoned(path("abandoned"), 0, 1024, true);
    abandoned.append(object);
  }  // destroyed without commit
  EXPECT_EQ(files_in_dir(), 1u);
  EXPECT_FALSE(RangeFileReader::open(path("abandoned")));
}

TEST_F(RangeFileTest, MissingTruncatedOrForeignFilesAreNotCached) {
  EXPECT_FALSE(RangeFileReader::open(path("missing")));
  const auto object = object_bytes(20'000);
  write("r", object, 0, object.size(), 4096);
  const auto size = fs::file_size(path("r"));
  fs::resize_file(path("r"), size - 1);
  EXPECT_FALSE(RangeFileReader::open(path("r")));
  std::ofstream(path("foreign")) << std::string(200, 'x');
  EXPECT_FALSE(RangeFileReader::open(path("foreign")));
}

TEST_F(RangeFileTest, CorruptBlockIsAMissNotBytes) {
  for (const std::size_t size : {20'000, 200'000}) {  // read whole when opened, or by block
    const auto object = object_bytes(size);
    write("r", object, 0, object.size(), 4096);
    {
      std::fstream file(path("r"), std::ios::in | std::ios::out | std::ios::binary);
      file.seekp(32 + 24 + 5);  // inside the first block's payload
      file.put('\x7f');
    }
    const auto reader = RangeFileReader::open(path("r"));
    ASSERT_TRUE(reader);  // header and footer are intact
    EXPECT_FALSE(reader->read({0, 10})) << size;
    EXPECT_FALSE(reader->read({0, 4095})) << size;  // a whole block, read straight into place
    EXPECT_EQ(reader->read({8192, 8200}), object.substr(8192, 9));  // other blocks still serve
  }
}

TEST_F(RangeFileTest, CorruptFooterIsAMiss) {
  const auto object = object_bytes(20'000);
  write("r", object, 0, object.size(), 4096);
  const auto size = fs::file_size(path("r"));
  {
    std::fstream file(path("r"), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size - 24 - 8));  // inside the last block offset
    file.put('\x01');
  }
  EXPECT_FALSE(RangeFileReader::open(path("r")));
}

TEST_F(RangeFileTest, EmptyRangeIsNeverWritten) {
  RangeFileWriter writer(path("empty"), 0, 1024, true);
  EXPECT_THROW(writer.commit(), std::logic_error);
}

}  // namespace
}  // namespace s3hc::cache
