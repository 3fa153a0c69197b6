#include <gtest/gtest.h>

#include "s3/request_target.h"
#include "s3/signed_headers.h"

namespace s3hc::s3 {
namespace {

TEST(SignedHeadersTest, ReadsTheAuthorizationHeader) {
  const auto signed_headers = SignedHeaders::from_request(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, "
      "SignedHeaders=host;Range;x-amz-content-sha256;x-amz-date, Signature=abc123",
      "/bucket/key");
  EXPECT_EQ(signed_headers.names(),
            (std::vector<std::string>{"host", "range", "x-amz-content-sha256", "x-amz-date"}));
  EXPECT_TRUE(signed_headers.covers("Range"));
  EXPECT_TRUE(signed_headers.covers("HOST"));
  EXPECT_FALSE(signed_headers.covers("If-None-Match"));
}

TEST(SignedHeadersTest, SignedHeadersLastInTheHeader) {
  const auto signed_headers = SignedHeaders::from_request(
      "AWS4-HMAC-SHA256 Credential=A/1/r/s3/aws4_request,Signature=abc,SignedHeaders=host;if-match",
      "/b/k");
  EXPECT_TRUE(signed_headers.covers("if-match"));
}

TEST(SignedHeadersTest, ReadsAPresignedUrl) {
  const auto signed_headers = SignedHeaders::from_request(
      "", "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host%3Brange"
          "&X-Amz-Signature=abc");
  EXPECT_TRUE(signed_headers.covers("host"));
  EXPECT_TRUE(signed_headers.covers("range"));
  EXPECT_FALSE(signed_headers.covers("if-none-match"));
}

TEST(SignedHeadersTest, AnonymousAndSigV2SignNothingTheProxyTouches) {
  EXPECT_TRUE(SignedHeaders::from_request("", "/bucket/key").names().empty());
  EXPECT_TRUE(SignedHeaders::from_request("AWS AKID:c2lnbmF0dXJl", "/b/k").names().empty());
  EXPECT_FALSE(SignedHeaders::from_request("", "/b/k?X-Amz-SignedHeaders=%zz").covers("host"));
}

TEST(SignedHeadersTest, RangesAreTheProxysOnlyWhenNeitherRangeNorIfMatchIsSigned) {
  const auto header_signed = [](std::string_view names) {
    return SignedHeaders::from_request(
        "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=" +
            std::string(names) + ", Signature=0123",
        "/b/k");
  };
  EXPECT_TRUE(header_signed("host;x-amz-date").leaves_ranges_to_proxy());
  EXPECT_FALSE(header_signed("host;Range;x-amz-date").leaves_ranges_to_proxy());
  EXPECT_FALSE(header_signed("host;if-match").leaves_ranges_to_proxy());
  EXPECT_TRUE(SignedHeaders::from_request("", "/b/k?X-Amz-SignedHeaders=host&X-Amz-Signature=1")
                  .leaves_ranges_to_proxy());
  EXPECT_FALSE(SignedHeaders::from_request("", "/b/k?X-Amz-SignedHeaders=host%3Brange")
                   .leaves_ranges_to_proxy());
  EXPECT_TRUE(SignedHeaders::from_request("", "/b/k").leaves_ranges_to_proxy());  // anonymous
}

TEST(RequestTargetTest, SplitsPathAndQuery) {
  EXPECT_EQ(split_target("/b/k?uploads&x=1").path, "/b/k");
  EXPECT_EQ(split_target("/b/k?uploads&x=1").query, "uploads&x=1");
  EXPECT_EQ(split_target("/b/k").query, "");
}

TEST(RequestTargetTest, PercentDecodes) {
  EXPECT_EQ(percent_decode("a%2Fb%20c+d%E2%9C%93"), "a/b c+d\xE2\x9C\x93");
  EXPECT_FALSE(percent_decode("bad%2"));
  EXPECT_FALSE(percent_decode("bad%zz"));
  EXPECT_FALSE(percent_decode("%"));
}

TEST(RequestTargetTest, ParsesQueryParameters) {
  const auto parameters = parse_query("uploads&partNumber=2&prefix=a%2Fb&&empty=");
  ASSERT_TRUE(parameters);
  ASSERT_EQ(parameters->size(), 4u);
  EXPECT_EQ((*parameters)[0].name, "uploads");
  EXPECT_FALSE((*parameters)[0].has_value);
  EXPECT_EQ((*parameters)[1].value, "2");
  EXPECT_EQ((*parameters)[2].value, "a/b");
  EXPECT_TRUE((*parameters)[3].has_value);
  EXPECT_EQ((*parameters)[3].value, "");
  EXPECT_FALSE(parse_query("x=%G0"));
}

}  // namespace
}  // namespace s3hc::s3
