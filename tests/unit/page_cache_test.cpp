#include "cache/store/page_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "temp_dir.h"
#include "util/unique_fd.h"

namespace s3hc::cache {
namespace {

constexpr std::uint64_t kPage = 4096;

class PageCacheTest : public ::testing::Test {
 protected:
  PageCacheTest() : file_(::open((dir_.string() + "/file").c_str(), O_RDWR | O_CREAT, 0600)) {
    const std::string bytes(16 * kPage, 'x');
    EXPECT_EQ(::pwrite(file_.get(), bytes.data(), bytes.size(), 0),
              static_cast<ssize_t>(bytes.size()));
  }

  // Written back, then dropped; false where the file system keeps its pages anyway (tmpfs).
  bool drop_from_page_cache() {
    EXPECT_EQ(::fdatasync(file_.get()), 0);
    EXPECT_EQ(::posix_fadvise(file_.get(), 0, 0, POSIX_FADV_DONTNEED), 0);
    return !in_page_cache(file_.get(), 0, kPage);
  }

  testing::TempDir dir_{"page-cache"};
  util::UniqueFd file_;
};

TEST_F(PageCacheTest, BytesJustWrittenAreHeld) {
  ASSERT_GE(file_.get(), 0);
  EXPECT_TRUE(in_page_cache(file_.get(), 0, 16 * kPage));
  EXPECT_TRUE(in_page_cache(file_.get(), 100, 3 * kPage + 7));  // unaligned stretches too
  EXPECT_TRUE(in_page_cache(file_.get(), 5, 0));
}

TEST_F(PageCacheTest, OnlyTheStretchReadBackIsHeldAfterADrop) {
  ASSERT_GE(file_.get(), 0);
  if (!drop_from_page_cache()) GTEST_SKIP() << "this file system keeps its pages";
  EXPECT_FALSE(in_page_cache(file_.get(), 0, 16 * kPage));
  // Read two pages in the middle back, without read-ahead around them.
  ASSERT_EQ(::posix_fadvise(file_.get(), 0, 0, POSIX_FADV_RANDOM), 0);
  std::string two_pages(2 * kPage, '\0');
  ASSERT_EQ(::pread(file_.get(), two_pages.data(), two_pages.size(), 4 * kPage),
            static_cast<ssize_t>(two_pages.size()));
  EXPECT_TRUE(in_page_cache(file_.get(), 4 * kPage + 10, kPage));
  EXPECT_FALSE(in_page_cache(file_.get(), 4 * kPage, 3 * kPage));  // one page more
  EXPECT_FALSE(in_page_cache(file_.get(), 0, 16 * kPage));
}

TEST_F(PageCacheTest, WhatCannotBeToldIsNotHeld) {
  EXPECT_FALSE(in_page_cache(-1, 0, kPage));
}

}  // namespace
}  // namespace s3hc::cache
