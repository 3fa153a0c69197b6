// destination_name: which TLS server names the passthrough may relay, by the policy of
// requests routed by Host (upstream.allowed_hosts), in fixed mode too.
#include "passthrough/destination.h"

#include <gtest/gtest.h>

namespace s3hc::passthrough {
namespace {

TEST(PassthroughDestinationTest, AllowedNamesGoToTheirOwnEndpoint) {
  const http::UpstreamOptions options;  // Amazon S3's names
  EXPECT_EQ(destination_name(options, "s3.us-east-1.amazonaws.com"), "s3.us-east-1.amazonaws.com");
  EXPECT_EQ(destination_name(options, "Bucket.S3.EU-West-1.amazonaws.com."),
            "bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(destination_name(options, "s3.amazonaws.com"), "s3.amazonaws.com");
}

TEST(PassthroughDestinationTest, OtherNamesAddressesAndPortsAreRefused) {
  const http::UpstreamOptions options;
  for (const char* refused :
       {"example.com", "s3.amazonaws.com.evil.example", "127.0.0.1", "2130706433", "0x7f.0.0.1",
        "::1", "[::1]", "", "s3.amazonaws.com:443", "s3.amazonaws.com:8443", "s3 .amazonaws.com"}) {
    EXPECT_EQ(destination_name(options, refused), std::nullopt) << refused;
  }
}

TEST(PassthroughDestinationTest, FixedModeStillGoesByTheAllowedName) {
  http::UpstreamOptions options;
  options.url = http::parse_upstream_url("http://127.0.0.1:9000");
  options.allowed_hosts = {"*.store.example"};
  EXPECT_EQ(destination_name(options, "a.store.example"), "a.store.example");
  EXPECT_EQ(destination_name(options, "127.0.0.1"), std::nullopt);
  EXPECT_EQ(destination_name(options, "s3.amazonaws.com"), std::nullopt);
}

}  // namespace
}  // namespace s3hc::passthrough
