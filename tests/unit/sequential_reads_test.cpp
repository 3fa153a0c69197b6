// Which reads are sequential, and which ranges are fetched ahead of them
// (pipeline/sequential_reads.h).
#include "pipeline/sequential_reads.h"

#include <gtest/gtest.h>

#include <vector>

namespace s3hc::pipeline {
namespace {

using Ranges = std::vector<s3::ByteRange>;
constexpr std::uint64_t kMiB = 1024 * 1024;

// The n-th range of one MiB.
s3::ByteRange mib(std::uint64_t n) { return {n * kMiB, (n + 1) * kMiB - 1}; }

TEST(SequentialReadsTest, ARangeFollowingThePreviousOneHasTheNextOnesFetchedAhead) {
  SequentialReads reads;
  const ReadAhead window;  // two ranges, at most 32 MiB
  EXPECT_EQ(reads.ahead_of("b/k", "e", mib(0), 100 * kMiB, window), Ranges{});
  EXPECT_EQ(reads.ahead_of("b/k", "e", mib(1), 100 * kMiB, window), (Ranges{mib(2), mib(3)}));
  // The window slides: only what was not asked for yet.
  EXPECT_EQ(reads.ahead_of("b/k", "e", mib(2), 100 * kMiB, window), Ranges{mib(4)});
  EXPECT_EQ(reads.ahead_of("b/k", "e", mib(3), 100 * kMiB, window), Ranges{mib(5)});
}

TEST(SequentialReadsTest, AJumpAnotherVersionOrAnotherObjectStartsOver) {
  SequentialReads reads;
  const ReadAhead window;
  reads.ahead_of("b/k", "e", mib(0), 100 * kMiB, window);
  EXPECT_EQ(reads.ahead_of("b/k", "e", mib(5), 100 * kMiB, window), Ranges{});
  EXPECT_EQ(reads.ahead_of("b/k", "e", mib(3), 100 * kMiB, window), Ranges{});  // backwards
  EXPECT_EQ(reads.ahead_of("b/other", "e", mib(4), 100 * kMiB, window), Ranges{});
  EXPECT_EQ(reads.ahead_of("b/k", "new", mib(4), 100 * kMiB, window), Ranges{});
  // The pattern holds again from the latest read on.
  EXPECT_EQ(reads.ahead_of("b/k", "new", mib(5), 100 * kMiB, window), (Ranges{mib(6), mib(7)}));
}

TEST(SequentialReadsTest, NeverPastTheObjectsEndNorTheWindowsBytes) {
  SequentialReads reads;
  const ReadAhead window{.enabled = true, .ranges = 4, .max_bytes = 2 * kMiB + 10};
  reads.ahead_of("b/k", "e", mib(0), 100 * kMiB, window);
  EXPECT_EQ(reads.ahead_of("b/k", "e", mib(1), 100 * kMiB, window),
            (Ranges{mib(2), mib(3), {4 * kMiB, 4 * kMiB + 9}}));
  // An object ending inside the window: its last bytes, nothing after them.
  reads.ahead_of("b/short", "e", mib(0), 3 * kMiB - 5, window);
  EXPECT_EQ(reads.ahead_of("b/short", "e", mib(1), 3 * kMiB - 5, window),
            (Ranges{{2 * kMiB, 3 * kMiB - 6}}));
  EXPECT_EQ(reads.ahead_of("b/short", "e", {2 * kMiB, 3 * kMiB - 6}, 3 * kMiB - 5, window),
            Ranges{});
}

TEST(SequentialReadsTest, TheLeastRecentlyReadObjectIsForgottenFirst) {
  SequentialReads reads(2);
  const ReadAhead window;
  reads.ahead_of("b/a", "e", mib(0), 100 * kMiB, window);
  reads.ahead_of("b/b", "e", mib(0), 100 * kMiB, window);
  reads.ahead_of("b/a", "e", mib(5), 100 * kMiB, window);  // b/a read last: b/b goes next
  reads.ahead_of("b/c", "e", mib(0), 100 * kMiB, window);
  EXPECT_EQ(reads.ahead_of("b/a", "e", mib(6), 100 * kMiB, window), (Ranges{mib(7), mib(8)}));
  EXPECT_EQ(reads.ahead_of("b/b", "e", mib(1), 100 * kMiB, window), Ranges{});
}

}  // namespace
}  // namespace s3hc::pipeline
