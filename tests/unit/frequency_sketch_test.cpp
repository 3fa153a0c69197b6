#include "cache/frequency_sketch.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdint>
#include <string>

namespace s3hc::cache {
namespace {

// Real keys are XXH3 hashes of object ids; so are the test's.
std::uint64_t key(std::uint64_t n) { return XXH3_64bits(&n, sizeof n); }

TEST(FrequencySketchTest, EstimatesGrowWithRecordsAndSaturateAt15) {
  FrequencySketch sketch(1000);
  EXPECT_EQ(sketch.estimate(key(1)), 0u);
  for (std::uint32_t n = 1; n <= 15; ++n) {
    sketch.record(key(1));
    EXPECT_EQ(sketch.estimate(key(1)), n);
  }
  for (int n = 0; n < 10; ++n) sketch.record(key(1));
  EXPECT_EQ(sketch.estimate(key(1)), kMaxFrequency);
  EXPECT_EQ(sketch.estimate(key(2)), 0u);
}

TEST(FrequencySketchTest, DistinctKeysAreMostlyIndependent) {
  FrequencySketch sketch(1000);
  for (std::uint64_t n = 0; n < 1000; ++n) sketch.record(key(n));
  int at_most_one = 0;
  for (std::uint64_t n = 1'000'000; n < 1'001'000; ++n) {
    if (sketch.estimate(key(n)) <= 1) ++at_most_one;
  }
  EXPECT_GE(at_most_one, 950);
}

TEST(FrequencySketchTest, ZeroCapacityIsClampedToOne) {
  FrequencySketch empty(0);
  EXPECT_EQ(empty.expected_items(), 1u);
  EXPECT_EQ(empty.sample_size(), 10u);
  empty.record(key(1));
  EXPECT_GE(empty.estimate(key(1)), 1u);
  EXPECT_EQ(FrequencySketch(1000).sample_size(), 10'000u);
}

TEST(FrequencySketchTest, AgingHalvesEveryCounterAfterSampleSizeRecords) {
  FrequencySketch sketch(100);
  ASSERT_EQ(sketch.sample_size(), 1000u);
  for (int n = 0; n < 15; ++n) sketch.record(key(1));

  // 15 recordings so far; each of the others raises at least one counter, save the rare one
  // that collides everywhere with saturated counters, so aging comes at 1000, barely later.
  std::uint64_t other = 1000;
  for (; other < 1000 + 1000 - 15 - 1; ++other) sketch.record(key(other));
  EXPECT_EQ(sketch.estimate(key(1)), kMaxFrequency);
  while (sketch.estimate(key(1)) == kMaxFrequency && other < 3000) sketch.record(key(other++));
  EXPECT_LT(other, 1000u + 1000u - 15u + 10u);
  // Saturated counters stay saturated whatever collides with them: exactly halved.
  EXPECT_EQ(sketch.estimate(key(1)), 7u);
}

TEST(FrequencySketchTest, AgingForgetsWhatIsNoLongerAskedFor) {
  FrequencySketch sketch(100);
  for (int n = 0; n < 15; ++n) sketch.record(key(5));
  // Ten halvings later the once popular key is down among the noise of one-hit keys, while
  // one still asked for stays near the top.
  for (std::uint64_t n = 0; n < 10 * sketch.sample_size(); ++n) {
    sketch.record(key(1));
    sketch.record(key(100 + n));
  }
  EXPECT_GE(sketch.estimate(key(1)), 7u);
  EXPECT_LE(sketch.estimate(key(5)), 3u);
}

TEST(FrequencySketchTest, SerializeParseRoundTrip) {
  FrequencySketch sketch(500);
  for (std::uint64_t n = 0; n < 3000; ++n) sketch.record(key(n % 700));
  const auto bytes = sketch.serialize();
  auto parsed = FrequencySketch::parse(bytes);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->expected_items(), 500u);
  EXPECT_EQ(parsed->serialize(), bytes);
  for (std::uint64_t n = 0; n < 1000; ++n) {
    ASSERT_EQ(parsed->estimate(key(n)), sketch.estimate(key(n))) << n;
  }
  // The recordings since the last halving travel too: both age at the same moment.
  for (std::uint64_t n = 0; n < 3000; ++n) {
    sketch.record(key(n));
    parsed->record(key(n));
  }
  EXPECT_EQ(parsed->serialize(), sketch.serialize());
}

TEST(FrequencySketchTest, ParseRejectsGarbage) {
  FrequencySketch sketch(100);
  sketch.record(key(1));
  const auto bytes = sketch.serialize();
  EXPECT_FALSE(FrequencySketch::parse("").has_value());
  EXPECT_FALSE(FrequencySketch::parse("not a sketch at all, not a sketch at all").has_value());
  EXPECT_FALSE(FrequencySketch::parse(std::string(bytes.size(), '\0')).has_value());
  EXPECT_FALSE(FrequencySketch::parse(bytes.substr(0, bytes.size() - 1)).has_value());
  EXPECT_FALSE(FrequencySketch::parse(bytes + "x").has_value());
  // Another sketch's bytes, cut to this one's size.
  EXPECT_FALSE(FrequencySketch::parse(FrequencySketch(200).serialize().substr(0, bytes.size()))
                   .has_value());
  for (std::size_t at = 0; at < bytes.size(); at += 37) {
    auto flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    EXPECT_FALSE(FrequencySketch::parse(flipped).has_value()) << at;
  }
}

}  // namespace
}  // namespace s3hc::cache
