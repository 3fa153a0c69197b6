#include <gtest/gtest.h>

#include <stdexcept>

#include "http/endpoint.h"

namespace s3hc::http {
namespace {

TEST(EndpointTest, ParsesHostPort) {
  const auto address = parse_host_port("127.0.0.1:8080");
  EXPECT_EQ(address.host, "127.0.0.1");
  EXPECT_EQ(address.port, 8080);
  EXPECT_EQ(address.to_string(), "127.0.0.1:8080");
}

TEST(EndpointTest, ParsesBracketedIpv6) {
  const auto address = parse_host_port("[::1]:443");
  EXPECT_EQ(address.host, "::1");
  EXPECT_EQ(address.port, 443);
  EXPECT_EQ(address.to_string(), "[::1]:443");
}

TEST(EndpointTest, RejectsBadHostPorts) {
  for (const char* text : {"", ":80", "host", "host:", "host:0", "host:65536", "host:12x",
                           "[::1", "[::1]80"}) {
    EXPECT_THROW(parse_host_port(text), std::invalid_argument) << text;
  }
}

TEST(EndpointTest, UpstreamUrlDefaultsPortByScheme) {
  auto url = parse_upstream_url("https://s3.eu-west-1.amazonaws.com");
  EXPECT_TRUE(url.tls);
  EXPECT_EQ(url.port, 443);
  url = parse_upstream_url("http://127.0.0.1:9000/");
  EXPECT_FALSE(url.tls);
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 9000);
  EXPECT_EQ(url.to_string(), "http://127.0.0.1:9000");
  EXPECT_EQ(parse_upstream_url("http://minio").port, 80);
}

TEST(EndpointTest, RejectsUpstreamUrlsItCannotHonour) {
  for (const char* text : {"s3.amazonaws.com", "ftp://host", "http://", "http://host/path",
                           "http://host?x=1", "http://user@host", "https://host:99999"}) {
    EXPECT_THROW(parse_upstream_url(text), std::invalid_argument) << text;
  }
}

TEST(EndpointTest, HttpUrlKeepsItsPath) {
  auto url = parse_http_url("http://collector:4318/v1/metrics");
  EXPECT_FALSE(url.tls);
  EXPECT_EQ(url.host, "collector");
  EXPECT_EQ(url.port, 4318);
  EXPECT_EQ(url.path, "/v1/metrics");
  url = parse_http_url("https://[::1]/");
  EXPECT_TRUE(url.tls);
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.path, "");
}

TEST(EndpointTest, RejectsHttpUrlsItCannotHonour) {
  for (const char* text : {"collector:4318", "http://", "http:///v1/metrics",
                           "http://host/v1?x=1", "http://host/#top", "http://user@host/v1",
                           "http://host:0/v1"}) {
    EXPECT_THROW(parse_http_url(text), std::invalid_argument) << text;
  }
}

}  // namespace
}  // namespace s3hc::http
