#include "pipeline/fill_progress.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "pipeline/cache_context.h"

namespace s3hc::pipeline {
namespace {

// Marks the first `length` body bytes as in complete blocks of the cache file.
void file_holds(FillProgress& progress, std::uint64_t length) {
  progress.file_grew([length](cache::UnfinishedRangeFile& file) { file.length = length; });
}

class FillProgressTest : public ::testing::Test {
 protected:
  obs::Gauge buffered_;  // the window's bytes, as s3hc_buffered_bytes counts them
};

TEST_F(FillProgressTest, ReadersFindBytesAtAnyOffsetThenTheEnd) {
  FillProgress progress("HTTP/1.1 200 OK\r\n\r\n", {0, 4}, 1000, "\"e\"", 1, buffered_);
  EXPECT_EQ(progress.header(), "HTTP/1.1 200 OK\r\n\r\n");
  auto nothing_yet = progress.next(0);
  EXPECT_FALSE(nothing_yet.piece);
  EXPECT_FALSE(nothing_yet.ended);
  progress.publish("abc");
  progress.publish("");  // nothing to send: no piece
  progress.publish("de");
  const auto at_b = progress.next(1);
  ASSERT_TRUE(at_b.piece);
  EXPECT_EQ(at_b.piece->substr(at_b.from), "bc");
  const auto at_e = progress.next(4);
  ASSERT_TRUE(at_e.piece);
  EXPECT_EQ(at_e.piece->substr(at_e.from), "e");
  EXPECT_FALSE(progress.next(5).piece);
  EXPECT_FALSE(progress.next(5).ended);
  progress.finish(true);
  EXPECT_TRUE(progress.next(5).ended);
  EXPECT_TRUE(progress.next(5).complete);
  EXPECT_FALSE(progress.next(3).ended);  // a late reader still gets what is there
}

TEST_F(FillProgressTest, BytesLeaveMemoryOnlyOnceTheFileHoldsThem) {
  FillProgress progress("h", {0, 99}, 1000, "\"e\"", /*fetched_at_ms=*/1, buffered_,
                        /*window_bytes=*/4);
  progress.publish("ab");
  progress.publish("cd");
  progress.publish("ef");  // over the window, but the file holds nothing yet
  EXPECT_TRUE(progress.next(0).piece);
  file_holds(progress, 4);
  progress.publish("gh");  // "ab" and "cd" may go now, and do: the window is full
  EXPECT_TRUE(progress.next(0).behind);
  EXPECT_TRUE(progress.next(3).behind);
  EXPECT_EQ(*progress.next(4).piece, "ef");
  ASSERT_TRUE(progress.unfinished_file());
  EXPECT_EQ(progress.unfinished_file()->length, 4u);
}

TEST_F(FillProgressTest, TheWindowsBytesAreCountedWhileItHoldsThem) {
  {
    FillProgress progress("h", {0, 99}, 1000, "\"e\"", 1, buffered_, /*window_bytes=*/4);
    progress.publish("ab");
    progress.publish("cde");
    EXPECT_EQ(buffered_.value(), 5);
    file_holds(progress, 5);
    progress.publish("f");  // "ab" leaves the window ("cde" and "f" fit)
    EXPECT_EQ(buffered_.value(), 4);
  }
  EXPECT_EQ(buffered_.value(), 0);  // the rest goes with the progress
}

TEST_F(FillProgressTest, WithoutAFileOnlyTheWindowIsKept) {
  FillProgress progress("h", {0, 99}, 1000, "\"e\"", 1, buffered_, /*window_bytes=*/4);
  EXPECT_TRUE(progress.keeps_file());
  progress.drop_file();  // the cache refused the fill
  EXPECT_FALSE(progress.unfinished_file());
  EXPECT_FALSE(progress.keeps_file());
  progress.publish("ab");
  progress.publish("cd");
  progress.publish("ef");
  EXPECT_TRUE(progress.next(0).behind);  // gone for good: a reader there cannot go on
  EXPECT_EQ(*progress.next(2).piece, "cd");
  progress.publish("0123456789");  // larger than the window: kept alone
  EXPECT_TRUE(progress.next(4).behind);
  EXPECT_EQ(*progress.next(6).piece, "0123456789");
}

TEST_F(FillProgressTest, ABrokenFillEndsIncompleteAndTheFirstEndCounts) {
  FillProgress progress("h", {0, 9}, 1000, "\"e\"", 1, buffered_);
  progress.publish("x");
  progress.finish(false);
  progress.finish(true);  // no change
  EXPECT_TRUE(progress.next(1).ended);
  EXPECT_FALSE(progress.next(1).complete);
}

TEST_F(FillProgressTest, AWakeComesOnceWithTheNextBytesOrTheEnd) {
  FillProgress progress("h", {0, 9}, 1000, "\"e\"", 1, buffered_);
  int woken = 0;
  EXPECT_TRUE(progress.wake_after(0, [&] { ++woken; }));
  progress.publish("a");
  progress.publish("b");
  EXPECT_EQ(woken, 1);
  EXPECT_FALSE(progress.wake_after(1, [&] { ++woken; }));  // bytes past 1 are there
  EXPECT_TRUE(progress.wake_after(2, [&] { ++woken; }));
  progress.finish(false);
  EXPECT_EQ(woken, 2);
  EXPECT_FALSE(progress.wake_after(2, [&] { ++woken; }));  // ended: nothing to wait for
}

TEST_F(FillProgressTest, ReadersAreCountedWhileTheyRead) {
  auto progress = std::make_shared<FillProgress>("h", s3::ByteRange{0, 9}, 1000, "\"e\"", 1, buffered_);
  EXPECT_EQ(progress->readers(), 0u);
  {
    FillProgress::Reader first(progress);
    FillProgress::Reader moved(std::move(first));
    FillProgress::Reader second(progress);
    EXPECT_EQ(progress->readers(), 2u);
  }
  EXPECT_EQ(progress->readers(), 0u);
}

TEST_F(FillProgressTest, AnAbandonedFillFinishesWhenSmallOrMostlyDone) {
  const AbandonedFills rule{.finish_below_bytes = 100, .finish_percent = 50};
  EXPECT_TRUE(rule.finishes(0, 100));
  EXPECT_FALSE(rule.finishes(0, 101));
  EXPECT_FALSE(rule.finishes(499, 1000));
  EXPECT_TRUE(rule.finishes(500, 1000));
  EXPECT_FALSE((AbandonedFills{.finish_below_bytes = 0, .finish_percent = 100}.finishes(999, 1000)));
}

TEST_F(FillProgressTest, RegistryFindsAFillUntilItsOwnEnd) {
  FillRegistry registry;
  EXPECT_FALSE(registry.find("obj"));
  auto first = std::make_shared<FillProgress>("h1", s3::ByteRange{0, 0}, 1000, "\"e\"", 1, buffered_);
  registry.add("obj", first);
  EXPECT_EQ(registry.find("obj"), first);
  // A newer fill under the same name replaces it; the older one's end leaves the newer.
  auto second = std::make_shared<FillProgress>("h2", s3::ByteRange{0, 0}, 1000, "\"e\"", 1, buffered_);
  registry.add("obj", second);
  registry.remove("obj", *first);
  EXPECT_EQ(registry.find("obj"), second);
  registry.remove("obj", *second);
  EXPECT_FALSE(registry.find("obj"));
}

TEST_F(FillProgressTest, AReaderOnAnotherThreadGetsEveryByte) {
  FillProgress progress("h", {0, 0}, 1000, "\"e\"", 1, buffered_, /*window_bytes=*/64);
  std::string received;
  std::thread reader([&] {
    for (;;) {
      const auto next = progress.next(received.size());
      if (next.piece) {
        received += next.piece->substr(next.from);
      } else if (next.ended || next.behind) {
        break;
      } else {
        std::this_thread::yield();
      }
    }
  });
  std::string sent;
  for (int i = 0; i < 1000; ++i) {
    const auto bytes = std::to_string(i) + ",";
    sent += bytes;
    file_holds(progress, 0);  // nothing may leave memory: the reader must see it all
    progress.publish(bytes);
  }
  progress.finish(true);
  reader.join();
  EXPECT_EQ(received, sent);
}

}  // namespace
}  // namespace s3hc::pipeline
