#include "pipeline/fill_broadcast.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace s3hc::pipeline {
namespace {

TEST(FillBroadcastTest, WaitersSeePiecesInOrderThenTheEnd) {
  FillBroadcast broadcast("HTTP/1.1 200 OK\r\n\r\n", {0, 4}, "\"e\"", 1);
  EXPECT_EQ(broadcast.header(), "HTTP/1.1 200 OK\r\n\r\n");
  auto nothing_yet = broadcast.piece(0);
  EXPECT_FALSE(nothing_yet.bytes);
  EXPECT_FALSE(nothing_yet.ended);
  broadcast.publish("abc");
  broadcast.publish("");  // nothing to send: no piece
  broadcast.publish("de");
  ASSERT_TRUE(broadcast.piece(0).bytes);
  EXPECT_EQ(*broadcast.piece(0).bytes, "abc");
  EXPECT_EQ(*broadcast.piece(1).bytes, "de");
  EXPECT_FALSE(broadcast.piece(2).bytes);
  EXPECT_FALSE(broadcast.piece(2).ended);
  broadcast.finish(true);
  EXPECT_TRUE(broadcast.piece(2).ended);
  EXPECT_TRUE(broadcast.piece(2).complete);
  EXPECT_EQ(*broadcast.piece(1).bytes, "de");  // still there for late waiters
}

TEST(FillBroadcastTest, OnlyTheLatestWindowIsKept) {
  FillBroadcast broadcast("h", {0, 9}, "\"e\"", /*fetched_at_ms=*/1, /*window_bytes=*/4);
  broadcast.publish("ab");
  broadcast.publish("cd");
  EXPECT_EQ(*broadcast.piece(0).bytes, "ab");
  broadcast.publish("ef");  // 6 bytes: "ab" leaves the window
  EXPECT_FALSE(broadcast.piece(0).bytes);
  EXPECT_TRUE(broadcast.piece(0).dropped);
  EXPECT_EQ(*broadcast.piece(1).bytes, "cd");
  EXPECT_EQ(*broadcast.piece(2).bytes, "ef");
  broadcast.publish("0123456789");  // larger than the window: kept alone
  EXPECT_TRUE(broadcast.piece(2).dropped);
  EXPECT_EQ(*broadcast.piece(3).bytes, "0123456789");
  EXPECT_FALSE(broadcast.piece(4).dropped);
  EXPECT_EQ(broadcast.etag(), "\"e\"");
  EXPECT_EQ(broadcast.bytes().last, 9u);
}

TEST(FillBroadcastTest, ABrokenFillEndsIncompleteAndTheFirstEndCounts) {
  FillBroadcast broadcast("h", {0, 0}, "\"e\"", 1);
  broadcast.publish("x");
  broadcast.finish(false);
  broadcast.finish(true);  // e.g. a destructor after the last piece: no change
  EXPECT_TRUE(broadcast.piece(1).ended);
  EXPECT_FALSE(broadcast.piece(1).complete);
}

TEST(FillBroadcastTest, RegistryFindsAFillUntilItsOwnEnd) {
  FillBroadcasts registry;
  EXPECT_FALSE(registry.find("obj"));
  auto first = registry.start("obj", "h1", {0, 0}, "\"e\"", 1);
  EXPECT_EQ(registry.find("obj"), first);
  // A newer fill under the same name replaces it; the older one's end leaves the newer.
  auto second = registry.start("obj", "h2", {0, 0}, "\"e\"", 1);
  registry.end("obj", *first);
  EXPECT_EQ(registry.find("obj"), second);
  registry.end("obj", *second);
  EXPECT_FALSE(registry.find("obj"));
  EXPECT_EQ(first->header(), "h1");  // waiters keep what they hold
}

TEST(FillBroadcastTest, AWaiterOnAnotherThreadGetsEveryByte) {
  FillBroadcast broadcast("h", {0, 0}, "\"e\"", 1);
  std::string received;
  std::thread waiter([&] {
    for (std::size_t index = 0;;) {
      const auto piece = broadcast.piece(index);
      if (piece.bytes) {
        received += *piece.bytes;
        ++index;
      } else if (piece.ended) {
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
    broadcast.publish(bytes);
  }
  broadcast.finish(true);
  waiter.join();
  EXPECT_EQ(received, sent);
}

}  // namespace
}  // namespace s3hc::pipeline
