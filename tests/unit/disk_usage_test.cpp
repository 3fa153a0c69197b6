#include "cache/disk_usage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;

// What `path` itself takes on disk, counted independently of the code under test.
std::uint64_t allocated(const fs::path& path) {
  struct stat status {};
  EXPECT_EQ(::lstat(path.c_str(), &status), 0) << path;
  return static_cast<std::uint64_t>(status.st_blocks) * 512;
}

void write_file(const fs::path& path, std::size_t bytes, char fill = 'x') {
  std::ofstream out(path, std::ios::binary);
  out << std::string(bytes, fill);
  out.flush();
  ASSERT_TRUE(out.good()) << path;
}

TEST(DiskUsageTest, MissingDirectoryIsZero) {
  s3hc::testing::TempDir dir("du");
  EXPECT_EQ(directory_disk_usage((dir.path() / "nope").string()), 0u);
  // A regular file is not a directory either.
  write_file(dir.path() / "file", 100);
  EXPECT_EQ(directory_disk_usage((dir.path() / "file").string()), 0u);
}

TEST(DiskUsageTest, EmptyDirectoryCountsItsOwnBlocks) {
  s3hc::testing::TempDir dir("du");
  EXPECT_EQ(directory_disk_usage(dir.string()), allocated(dir.path()));
}

TEST(DiskUsageTest, CountsAllocatedBlocksOfTheDirectoryAndItsFiles) {
  s3hc::testing::TempDir dir("du");
  write_file(dir.path() / "record", 300);
  write_file(dir.path() / "0.rng", 100 * 1024);
  write_file(dir.path() / "1.rng", 1);
  const auto expected = allocated(dir.path()) + allocated(dir.path() / "record") +
                        allocated(dir.path() / "0.rng") + allocated(dir.path() / "1.rng");
  EXPECT_EQ(directory_disk_usage(dir.string()), expected);
  // As du counts it: whole blocks, so at least the bytes written.
  EXPECT_GE(directory_disk_usage(dir.string()), 100u * 1024 + 300 + 1);
  EXPECT_EQ(directory_disk_usage(dir.string()) % 512, 0u);
}

TEST(DiskUsageTest, LeavesTempFilesOut) {
  s3hc::testing::TempDir dir("du");
  write_file(dir.path() / "0.rng", 8192);
  const auto before = directory_disk_usage(dir.string());
  write_file(dir.path() / "0.rng.tmp.12345", 256 * 1024);
  write_file(dir.path() / "record.tmp.claim-1", 4096);
  EXPECT_EQ(directory_disk_usage(dir.string()), before);
  // A name merely ending in "tmp" is not a temp file.
  write_file(dir.path() / "x.tmp", 64 * 1024);
  EXPECT_GE(directory_disk_usage(dir.string()), before + 64 * 1024);
}

TEST(DiskUsageTest, CountsAllocatedNotApparentSize) {
  s3hc::testing::TempDir dir("du");
  const auto sparse = dir.path() / "sparse.rng";
  write_file(sparse, 0);
  fs::resize_file(sparse, std::uint64_t{1} << 30);  // 1 GiB apparent, nothing allocated
  EXPECT_EQ(fs::file_size(sparse), std::uint64_t{1} << 30);
  EXPECT_LT(directory_disk_usage(dir.string()), std::uint64_t{1} << 20);
  EXPECT_EQ(directory_disk_usage(dir.string()), allocated(dir.path()) + allocated(sparse));
}

TEST(DiskUsageTest, DoesNotFollowSymlinksOrDescend) {
  s3hc::testing::TempDir dir("du");
  s3hc::testing::TempDir elsewhere("du-target");
  write_file(elsewhere.path() / "big", 512 * 1024);
  const auto object = dir.path() / "object";
  fs::create_directories(object / "sub");
  write_file(object / "sub" / "big", 512 * 1024);
  fs::create_symlink(elsewhere.path() / "big", object / "link");
  const auto expected = allocated(object) + allocated(object / "sub") + allocated(object / "link");
  EXPECT_EQ(directory_disk_usage(object.string()), expected);
  EXPECT_LT(directory_disk_usage(object.string()), 512u * 1024);
}

}  // namespace
}  // namespace s3hc::cache
