// The static endpoint map: "NAME=[http://]HOST:PORT" entries and which one a name finds.
#include "net/static_endpoints.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "net/resolver_options.h"

namespace s3hc::net {
namespace {

TEST(StaticEndpointsTest, ParsesHttpsUnlessHttpIsGiven) {
  const auto https = parse_static_endpoint("S3.Example.=127.0.0.1:9443");
  EXPECT_EQ(https.name, "s3.example");
  EXPECT_TRUE(https.target.tls);
  EXPECT_EQ(https.target.host, "127.0.0.1");
  EXPECT_EQ(https.target.port, 9443);

  const auto http = parse_static_endpoint("*.s3.example=http://origin.internal:9000");
  EXPECT_EQ(http.name, "*.s3.example");
  EXPECT_FALSE(http.target.tls);
  EXPECT_EQ(http.target.host, "origin.internal");

  EXPECT_EQ(parse_static_endpoint("a=[::1]:8443").target.host, "::1");
  EXPECT_EQ(parse_static_endpoint("a=origin.internal").target.port, 443);
}

TEST(StaticEndpointsTest, RefusesWhatIsNoEntry) {
  for (const char* text : {"s3.example", "=127.0.0.1:1", "*=127.0.0.1:1", "a*b=127.0.0.1:1",
                           "*.=127.0.0.1:1", "a=", "a=ftp://h:1", "a=h:0", "a=http://h/path",
                           "a:1=h:1"}) {
    EXPECT_THROW(parse_static_endpoint(text), std::invalid_argument) << text;
  }
}

TEST(StaticEndpointsTest, ExactNamesFirstThenTheLongestWildcard) {
  const std::vector<StaticEndpoint> map = {
      parse_static_endpoint("*.example=10.0.0.1:1"),
      parse_static_endpoint("*.s3.example=10.0.0.2:1"),
      parse_static_endpoint("s3.example=10.0.0.3:1"),
      parse_static_endpoint("bucket.s3.example=10.0.0.4:1"),
  };
  const auto host_of = [&map](std::string_view name) -> std::string {
    const auto* found = find_static_endpoint(map, name);
    return found ? found->target.host : "none";
  };
  EXPECT_EQ(host_of("bucket.s3.example"), "10.0.0.4");
  EXPECT_EQ(host_of("BUCKET.S3.Example."), "10.0.0.4");
  EXPECT_EQ(host_of("other.s3.example"), "10.0.0.2");
  EXPECT_EQ(host_of("my.dotted.bucket.s3.example"), "10.0.0.2");  // any depth
  EXPECT_EQ(host_of("s3.example"), "10.0.0.3");
  EXPECT_EQ(host_of("www.example"), "10.0.0.1");
  EXPECT_EQ(host_of("example"), "none");  // "*.example" needs a label before it
  EXPECT_EQ(host_of("s3.example.org"), "none");
  EXPECT_EQ(host_of("xs3.example"), "10.0.0.1");  // not "*.s3.example": no dot before s3
}

TEST(StaticEndpointsTest, DnsServersAreIpAddresses) {
  EXPECT_EQ(parse_dns_server("192.0.2.53").to_string(), "192.0.2.53:53");
  EXPECT_EQ(parse_dns_server("192.0.2.53:5353").to_string(), "192.0.2.53:5353");
  EXPECT_EQ(parse_dns_server("2001:db8::53").to_string(), "[2001:db8::53]:53");
  EXPECT_EQ(parse_dns_server("[2001:db8::53]").to_string(), "[2001:db8::53]:53");
  EXPECT_EQ(parse_dns_server("[2001:db8::53]:5353").to_string(), "[2001:db8::53]:5353");
  EXPECT_THROW(parse_dns_server("dns.example"), std::invalid_argument);
  EXPECT_THROW(parse_dns_server("dns.example:53"), std::invalid_argument);
  EXPECT_THROW(parse_dns_server("192.0.2.53:0"), std::invalid_argument);
}

}  // namespace
}  // namespace s3hc::net
