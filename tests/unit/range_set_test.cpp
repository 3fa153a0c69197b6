#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "cache/store/range_set.h"

namespace s3hc::cache {
namespace {

using s3::ByteRange;
using Ranges = std::vector<ByteRange>;

RangeSet set_of(const Ranges& ranges) {
  RangeSet set;
  for (const auto& range : ranges) set.add(range);
  return set;
}

TEST(RangeSetTest, AddKeepsRangesSortedDisjointAndMerged) {
  EXPECT_EQ(set_of({{10, 19}, {0, 4}}).ranges(), (Ranges{{0, 4}, {10, 19}}));
  EXPECT_EQ(set_of({{0, 4}, {5, 9}}).ranges(), (Ranges{{0, 9}}));          // adjacent
  EXPECT_EQ(set_of({{0, 9}, {5, 14}}).ranges(), (Ranges{{0, 14}}));        // overlapping
  EXPECT_EQ(set_of({{0, 2}, {6, 8}, {12, 14}, {1, 13}}).ranges(), (Ranges{{0, 14}}));
  EXPECT_EQ(set_of({{0, 99}, {10, 20}}).ranges(), (Ranges{{0, 99}}));      // inside
  EXPECT_EQ(set_of({{50, 60}, {0, 10}, {30, 40}}).ranges(), (Ranges{{0, 10}, {30, 40}, {50, 60}}));
  EXPECT_EQ(set_of({{0, 10}, {30, 40}}).bytes_held(), 22u);
}

TEST(RangeSetTest, Covers) {
  const auto set = set_of({{0, 9}, {20, 29}});
  EXPECT_TRUE(set.covers({0, 9}));
  EXPECT_TRUE(set.covers({22, 25}));
  EXPECT_FALSE(set.covers({5, 20}));
  EXPECT_FALSE(set.covers({10, 10}));
  EXPECT_FALSE(set.covers({25, 30}));
  EXPECT_FALSE(RangeSet().covers({0, 0}));
}

TEST(RangeSetTest, MissingPartsOfAPartialHit) {
  const auto set = set_of({{10, 19}, {30, 39}});
  EXPECT_EQ(set.missing({0, 49}, 0), (Ranges{{0, 9}, {20, 29}, {40, 49}}));
  EXPECT_EQ(set.missing({12, 35}, 0), (Ranges{{20, 29}}));
  EXPECT_EQ(set.missing({10, 19}, 0), Ranges{});
  EXPECT_EQ(set.missing({40, 45}, 0), (Ranges{{40, 45}}));
  EXPECT_EQ(RangeSet().missing({5, 6}, 0), (Ranges{{5, 6}}));
}

TEST(RangeSetTest, SmallHeldGapsAreFetchedAgainWithTheirNeighbours) {
  const auto set = set_of({{10, 19}, {30, 39}});
  // Held stretches of 10 bytes: merged when the merge gap is larger than 10.
  EXPECT_EQ(set.missing({0, 49}, 10), (Ranges{{0, 9}, {20, 29}, {40, 49}}));
  EXPECT_EQ(set.missing({0, 49}, 11), (Ranges{{0, 49}}));
  EXPECT_EQ(set.missing({0, 35}, 11), (Ranges{{0, 29}}));
}

TEST(RangeSetTest, MissingAndHeldPartitionTheRequestRandomly) {
  std::mt19937 generator(3);
  for (int round = 0; round < 200; ++round) {
    std::vector<bool> held(300, false);
    RangeSet set;
    for (int i = 0; i < 6; ++i) {
      const std::uint64_t first = generator() % 300;
      const std::uint64_t last = std::min<std::uint64_t>(299, first + generator() % 40);
      set.add({first, last});
      for (auto b = first; b <= last; ++b) held[b] = true;
    }
    const std::uint64_t first = generator() % 300;
    const std::uint64_t last = first + generator() % (300 - first);
    std::vector<bool> fetched(300, false);
    for (const auto& gap : set.missing({first, last}, 0)) {
      for (auto b = gap.first; b <= gap.last; ++b) fetched[b] = true;
    }
    for (auto b = first; b <= last; ++b) {
      ASSERT_NE(held[b], fetched[b]) << "byte " << b << " round " << round;
    }
    EXPECT_EQ(set.covers({first, last}), set.missing({first, last}, 0).empty());
  }
}

}  // namespace
}  // namespace s3hc::cache
