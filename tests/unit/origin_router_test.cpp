#include "http/origin_router.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>

#include "fake_origin.h"
#include "obs/metrics.h"

namespace s3hc::http {
namespace {

using namespace std::chrono_literals;

class OriginRouterTest : public ::testing::Test {
 protected:
  OriginRouter router() {
    return OriginRouter(
        options_, [this](const UpstreamUrl& url, auto) { return origin_.connector_for(url); },
        metrics_);
  }

  boost::asio::io_context io_;
  DeadlineSweeper sweeper_{io_.get_executor(), 100ms};
  testing::FakeOrigin origin_{io_, sweeper_};
  obs::MetricsRegistry registry_;
  obs::ProxyMetrics metrics_{registry_};
  UpstreamOptions options_;
};

TEST_F(OriginRouterTest, AFixedOriginTakesEveryRequest) {
  options_.url = parse_upstream_url("http://minio.local:9000");
  auto fixed = router();
  const auto pool = fixed.pool_for("anything.example");
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(fixed.pool_for("127.0.0.1:8080"), pool);
  EXPECT_EQ(fixed.pool_for(""), pool);
  EXPECT_EQ(origin_.endpoints(), std::vector<std::string>{"http://minio.local:9000"});
}

TEST_F(OriginRouterTest, EachAmazonS3NameIsItsOwnHttpsEndpoint) {
  auto by_host = router();
  for (const auto* host :
       {"s3.amazonaws.com", "s3.us-east-1.amazonaws.com:8080", "my.bucket.s3.amazonaws.com",
        "bucket.s3.eu-west-1.amazonaws.com", "s3.dualstack.us-west-2.amazonaws.com",
        "bucket.s3-us-west-2.amazonaws.com", "s3.cn-north-1.amazonaws.com.cn"}) {
    EXPECT_NE(by_host.pool_for(host), nullptr) << host;
  }
  EXPECT_EQ(origin_.endpoints()[1], "https://s3.us-east-1.amazonaws.com:443");  // port dropped
  EXPECT_EQ(origin_.endpoints()[2], "https://my.bucket.s3.amazonaws.com:443");
  // One pool per name, whatever the case or port of the Host that names it.
  EXPECT_EQ(by_host.pool_for("S3.US-East-1.amazonaws.com"),
            by_host.pool_for("s3.us-east-1.amazonaws.com:80"));
  EXPECT_EQ(by_host.endpoint_count(), 7u);
}

TEST_F(OriginRouterTest, HostsNamingNoAllowedEndpointAreRefused) {
  auto by_host = router();
  for (const auto* host :
       {"", ":80", "example.com", "s3.amazonaws.com.evil.example", "amazonaws.com",
        "169.254.169.254", "169.254.169.254:80", "2852039166", "0xa9fea9fe", "0xa9.0xfe.0xa9.0xfe",
        "[fd00:ec2::254]", "[::1]:8080", "localhost", "s3.amazonaws.com/evil", "s3 .amazonaws.com",
        "s3.amazonaws.com@evil.example"}) {
    EXPECT_EQ(by_host.pool_for(host), nullptr) << host;
  }
  EXPECT_TRUE(origin_.endpoints().empty());
  // An operator's own store, once allowed.
  options_.allowed_hosts = {"minio.internal", "*.minio.internal"};
  auto own = router();
  EXPECT_NE(own.pool_for("bucket.minio.internal"), nullptr);
  EXPECT_EQ(own.pool_for("s3.amazonaws.com"), nullptr);
}

TEST_F(OriginRouterTest, TheLeastRecentlyUsedEndpointGoesFirstAndLivesWhileUsed) {
  auto by_host = router();
  const auto first = by_host.pool_for("b0.s3.amazonaws.com");
  ASSERT_NE(first, nullptr);
  const auto kept = [](int n) {
    std::string name = "b";  // (appended: GCC 12 warns wrongly on "b" + ... + "...")
    name += std::to_string(n);
    name += ".s3.amazonaws.com";
    return name;
  };
  for (std::size_t n = 1; n <= OriginRouter::kMaxEndpoints; ++n) {
    by_host.pool_for(kept(static_cast<int>(n)));
    by_host.pool_for(kept(1));  // the most recently used, always
  }
  EXPECT_EQ(by_host.endpoint_count(), OriginRouter::kMaxEndpoints);
  const auto made = origin_.endpoints().size();
  by_host.pool_for(kept(1));  // still there: no new connector
  EXPECT_EQ(origin_.endpoints().size(), made);
  // b0 was dropped, its pool alive as long as whoever holds it; asked again, it is new.
  EXPECT_EQ(first.use_count(), 1);
  EXPECT_NE(by_host.pool_for(kept(0)), first);
  EXPECT_EQ(origin_.endpoints().size(), made + 1);
}

}  // namespace
}  // namespace s3hc::http
