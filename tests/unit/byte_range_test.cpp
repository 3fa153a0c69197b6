#include <gtest/gtest.h>

#include "s3/byte_range.h"

namespace s3hc::s3 {
namespace {

using Kind = ByteRangeSpec::Kind;

TEST(ByteRangeTest, ParsesTheThreeForms) {
  EXPECT_EQ(parse_single_byte_range("bytes=0-99"),
            (ByteRangeSpec{.kind = Kind::kFromTo, .first = 0, .last = 99}));
  EXPECT_EQ(parse_single_byte_range("bytes=100-"),
            (ByteRangeSpec{.kind = Kind::kFrom, .first = 100}));
  EXPECT_EQ(parse_single_byte_range("bytes=-500"),
            (ByteRangeSpec{.kind = Kind::kSuffix, .suffix_length = 500}));
  EXPECT_EQ(parse_single_byte_range(" bytes = 5 - 9 "),
            (ByteRangeSpec{.kind = Kind::kFromTo, .first = 5, .last = 9}));
}

TEST(ByteRangeTest, RejectsWhatItWillNotInterpret) {
  for (const char* value : {"", "bytes", "bytes=", "bytes=-", "items=0-1", "bytes=0-1,5-6",
                            "bytes=9-5", "bytes=a-b", "bytes=1-2x", "bytes=0x10-20",
                            "bytes=18446744073709551616-", "bytes=--5", "bytes 0-1"}) {
    EXPECT_FALSE(parse_single_byte_range(value)) << value;
  }
}

TEST(ByteRangeTest, ResolvesAgainstTheObjectSize) {
  const auto spec = [](const char* text) { return *parse_single_byte_range(text); };
  EXPECT_EQ(resolve(spec("bytes=0-99"), 1000), (ByteRange{0, 99}));
  EXPECT_EQ(resolve(spec("bytes=900-2000"), 1000), (ByteRange{900, 999}));  // clamped
  EXPECT_EQ(resolve(spec("bytes=990-"), 1000), (ByteRange{990, 999}));
  EXPECT_EQ(resolve(spec("bytes=-10"), 1000), (ByteRange{990, 999}));
  EXPECT_EQ(resolve(spec("bytes=-5000"), 1000), (ByteRange{0, 999}));  // whole object
  EXPECT_EQ(resolve(spec("bytes=999-999"), 1000)->length(), 1u);
}

TEST(ByteRangeTest, UnsatisfiableRangesResolveToNothing) {
  const auto spec = [](const char* text) { return *parse_single_byte_range(text); };
  EXPECT_FALSE(resolve(spec("bytes=1000-"), 1000));
  EXPECT_FALSE(resolve(spec("bytes=1000-1001"), 1000));
  EXPECT_FALSE(resolve(spec("bytes=-0"), 1000));
  EXPECT_FALSE(resolve(spec("bytes=0-0"), 0));
  EXPECT_FALSE(resolve(spec("bytes=-1"), 0));
}

TEST(ByteRangeTest, ContentRangeRoundTrips) {
  const ContentRange parsed{{100, 199}, 1000};
  EXPECT_EQ(format_content_range(parsed), "bytes 100-199/1000");
  EXPECT_EQ(parse_content_range("bytes 100-199/1000"), parsed);
}

TEST(ByteRangeTest, ContentRangeRejectsForms) {
  for (const char* value : {"bytes */1000", "bytes 0-9/*", "bytes 0-1000/1000", "bytes 9-0/10",
                            "bytes=0-9/10", "items 0-9/10", "bytes 0-9", ""}) {
    EXPECT_FALSE(parse_content_range(value)) << value;
  }
}

}  // namespace
}  // namespace s3hc::s3
