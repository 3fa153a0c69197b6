#include "cache/evicted_news.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "cache/cache_layout.h"
#include "temp_dir.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;

class EvictedNewsTest : public ::testing::Test {
 protected:
  fs::path table_path() const { return root_.path() / "evicted-news"; }

  s3hc::testing::TempDir root_{"evicted-news"};
  const CacheLayout layout_{root_.string()};
  const std::uint64_t hash_ = CacheLayout::object_hash("bucket", "key");
};

TEST_F(EvictedNewsTest, NothingIsForgottenWithoutATable) {
  EXPECT_EQ(EvictedNews(layout_).newest(hash_), 0);
  EXPECT_FALSE(fs::exists(table_path())) << "a look makes no table";
}

TEST_F(EvictedNewsTest, ASlotKeepsTheNewestTimeRaisedSeenByEveryProcess) {
  const EvictedNews holder(layout_);
  holder.raise(hash_, 2000);  // the table is made at the first raise
  holder.raise(hash_, 1000);  // an older time never lowers it
  const EvictedNews other_proxy(layout_);
  EXPECT_EQ(other_proxy.newest(hash_), 2000);
  holder.raise(hash_, 3000);
  EXPECT_EQ(other_proxy.newest(hash_), 3000);
  EXPECT_EQ(other_proxy.newest(hash_ + 1), 0) << "another slot";
  EXPECT_EQ(other_proxy.newest(hash_ + EvictedNews::kSlots), 3000) << "the same slot";
}

TEST_F(EvictedNewsTest, MakingKeepsATableThatIsThere) {
  const EvictedNews news(layout_);
  news.make();
  news.raise(hash_, 5000);
  news.make();  // (another proxy starting)
  EXPECT_EQ(news.newest(hash_), 5000);
}

TEST_F(EvictedNewsTest, ATableDeletedUnderRunningProxiesIsMadeAgainByTheNextRaise) {
  const EvictedNews news(layout_);
  news.raise(hash_, 5000);
  fs::remove(table_path());
  EXPECT_EQ(news.newest(hash_), 0);
  news.raise(hash_, 6000);
  EXPECT_EQ(news.newest(hash_), 6000);
}

TEST_F(EvictedNewsTest, AFileThatIsNotATableTellsNothingAndTakesNoRaise) {
  std::ofstream(table_path()) << "something else, long enough to hold a slot or two";
  const EvictedNews news(layout_);
  EXPECT_EQ(news.newest(hash_), 0);
  EXPECT_THROW(news.raise(hash_, 5000), std::system_error);
}

TEST_F(EvictedNewsTest, TheTableHasRealBlocks) {
  // (A sparse file would make a raise need room on a full file system.)
  EvictedNews(layout_).make();
  struct stat status {};
  ASSERT_EQ(::stat(table_path().c_str(), &status), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(status.st_size), (EvictedNews::kSlots + 1) * 8);
  EXPECT_GE(static_cast<std::uint64_t>(status.st_blocks) * 512,
            static_cast<std::uint64_t>(status.st_size));
}

}  // namespace
}  // namespace s3hc::cache
