// EndpointResolver: the static endpoint map before DNS, addresses spread over connections,
// a failed address tried last until it works again or its time is up, and the upstream pool
// reporting its connection attempts back.
#include "net/endpoint_resolver.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "fake_dns_server.h"
#include "http/deadline.h"
#include "http/network_connector.h"
#include "net/resolve_error.h"
#include "run_coroutine.h"

namespace s3hc::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using testing::FakeDnsServer;

struct Outcome {
  EndpointResolver::Route route;
  boost::system::error_code ec;
  std::vector<std::string> endpoints() const {
    std::vector<std::string> texts;
    for (const auto& each : route.endpoints) {
      texts.push_back(each.address().to_string() + ":" + std::to_string(each.port()));
    }
    return texts;
  }
};

class EndpointResolverTest : public ::testing::Test {
 protected:
  EndpointResolverTest() { options_.dns_servers = {dns_.address()}; }

  EndpointResolver& resolver() {
    if (!resolver_) resolver_.emplace(io_.get_executor(), options_);
    return *resolver_;
  }

  asio::awaitable<Outcome> resolve_task(http::UpstreamUrl origin,
                                        EndpointResolver::NamedBy named_by) {
    Outcome outcome;
    outcome.route = co_await resolver().resolve(origin, named_by, outcome.ec);
    co_return outcome;
  }

  Outcome resolve(const std::string& url,
                  EndpointResolver::NamedBy named_by = EndpointResolver::NamedBy::kOperator) {
    return testing::run_coroutine(io_, resolve_task(http::parse_upstream_url(url), named_by));
  }

  asio::io_context io_;
  FakeDnsServer dns_{io_};
  ResolverOptions options_;
  std::optional<EndpointResolver> resolver_;  // last: destroyed before the server and the loop
};

TEST_F(EndpointResolverTest, ResolvesTheOriginNameThroughDns) {
  dns_.set("s3.test", {.a = {"192.0.2.1"}, .aaaa = {"2001:db8::1"}});
  const auto outcome = resolve("https://s3.test");
  ASSERT_FALSE(outcome.ec) << outcome.ec.message();
  EXPECT_TRUE(outcome.route.tls);
  const auto endpoints = outcome.endpoints();
  EXPECT_EQ(std::set(endpoints.begin(), endpoints.end()),
            (std::set<std::string>{"192.0.2.1:443", "2001:db8::1:443"}));
}

TEST_F(EndpointResolverTest, TakesAnIpAddressAsItIs) {
  const auto outcome = resolve("http://127.0.0.1:9000");
  ASSERT_FALSE(outcome.ec);
  EXPECT_FALSE(outcome.route.tls);
  EXPECT_EQ(outcome.endpoints(), std::vector<std::string>{"127.0.0.1:9000"});
}

TEST_F(EndpointResolverTest, StaticEntriesComeBeforeDns) {
  dns_.set("s3.test", {.a = {"192.0.2.1"}});
  options_.static_endpoints = {parse_static_endpoint("s3.test=http://127.0.0.1:9000")};
  const auto outcome = resolve("https://s3.test");
  ASSERT_FALSE(outcome.ec);
  EXPECT_FALSE(outcome.route.tls) << "the entry's http:// did not win over the URL's https://";
  EXPECT_EQ(outcome.endpoints(), std::vector<std::string>{"127.0.0.1:9000"});
  EXPECT_EQ(dns_.queries("s3.test"), 0);
}

TEST_F(EndpointResolverTest, WildcardEntriesCoverNamesBelowTheSuffix) {
  options_.static_endpoints = {parse_static_endpoint("*.s3.test=127.0.0.1:9443")};
  for (const char* url : {"https://bucket.s3.test", "https://my.dotted.bucket.S3.TEST"}) {
    const auto outcome = resolve(url);
    ASSERT_FALSE(outcome.ec) << url;
    EXPECT_TRUE(outcome.route.tls) << url;
    EXPECT_EQ(outcome.endpoints(), std::vector<std::string>{"127.0.0.1:9443"}) << url;
  }
  // Not the suffix itself: that one goes to DNS, which does not know it.
  EXPECT_EQ(resolve("https://s3.test").ec, make_error_code(ResolveError::kNotFound));
  EXPECT_EQ(dns_.queries("s3.test"), 2);
}

TEST_F(EndpointResolverTest, AStaticEntryMayNameAHostForDns) {
  dns_.set("origin.internal", {.a = {"192.0.2.7"}});
  options_.static_endpoints = {parse_static_endpoint("s3.test=http://origin.internal:9000")};
  const auto outcome = resolve("https://s3.test");
  ASSERT_FALSE(outcome.ec);
  EXPECT_EQ(outcome.endpoints(), std::vector<std::string>{"192.0.2.7:9000"});
}

TEST_F(EndpointResolverTest, SpreadsConnectionsOverEveryAddress) {
  dns_.set("s3.test", {.a = {"192.0.2.1", "192.0.2.2", "192.0.2.3"}});
  std::set<std::string> first;
  for (int i = 0; i < 3; ++i) {
    const auto outcome = resolve("http://s3.test");
    ASSERT_EQ(outcome.route.endpoints.size(), 3u);
    first.insert(outcome.endpoints().front());
  }
  EXPECT_EQ(first.size(), 3u) << "three connections did not start at three addresses";
}

TEST_F(EndpointResolverTest, AFailedAddressIsTriedLastUntilItWorksAgain) {
  dns_.set("s3.test", {.a = {"192.0.2.1", "192.0.2.2", "192.0.2.3"}});
  const tcp::endpoint failed(asio::ip::make_address("192.0.2.2"), 80);
  resolver().report_connect(failed, false);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(resolve("http://s3.test").route.endpoints.back(), failed) << i;
  }
  resolver().report_connect(failed, true);
  std::set<std::string> first;
  for (int i = 0; i < 3; ++i) first.insert(resolve("http://s3.test").endpoints().front());
  EXPECT_TRUE(first.contains("192.0.2.2:80")) << "a working address stayed avoided";
}

TEST_F(EndpointResolverTest, AFailedAddressIsTriedAgainInItsTurnAfterAWhile) {
  options_.avoid_failed_for = 200ms;
  dns_.set("s3.test", {.a = {"192.0.2.1", "192.0.2.2"}});
  const tcp::endpoint failed(asio::ip::make_address("192.0.2.2"), 80);
  resolver().report_connect(failed, false);
  EXPECT_EQ(resolve("http://s3.test").route.endpoints.back(), failed);
  EXPECT_EQ(resolve("http://s3.test").route.endpoints.back(), failed);
  std::this_thread::sleep_for(250ms);
  std::set<std::string> first;
  for (int i = 0; i < 2; ++i) first.insert(resolve("http://s3.test").endpoints().front());
  EXPECT_TRUE(first.contains("192.0.2.2:80"));
}

TEST_F(EndpointResolverTest, ResolutionFailuresAreResolveErrors) {
  dns_.set("silent.test", {.silent = true});
  options_.timeout = 200ms;
  const auto missing = resolve("https://missing.test");
  EXPECT_EQ(missing.ec, make_error_code(ResolveError::kNotFound));
  EXPECT_TRUE(missing.route.endpoints.empty());
  EXPECT_EQ(resolve("https://silent.test").ec, make_error_code(ResolveError::kTimedOut));
}

// The network connector connects past an address that refuses and tells the resolver, which then
// puts that address last.
TEST_F(EndpointResolverTest, ThePoolSkipsAndReportsARefusingAddress) {
  // Both loopback addresses, one port: only 127.0.0.2 listens on it.
  tcp::acceptor listening(io_, {asio::ip::make_address("127.0.0.2"), 0});
  const auto port = listening.local_endpoint().port();
  dns_.set("two.test", {.a = {"127.0.0.1", "127.0.0.2"}});
  const auto origin = http::parse_upstream_url("http://two.test:" + std::to_string(port));
  const http::UpstreamOptions upstream;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  http::DeadlineSweeper sweeper(io_.get_executor(), 100ms);
  http::NetworkConnector connector(io_.get_executor(), origin,
                                   http::NetworkConnector::NamedBy::kOperator, upstream, tls,
                                   resolver(), sweeper);

  const auto connect = [&]() -> asio::awaitable<bool> {
    boost::system::error_code ec;
    const auto connection = co_await connector.connect(ec);
    co_return connection && connection->tcp().socket().remote_endpoint().address() ==
                                asio::ip::make_address("127.0.0.2");
  };
  // The rotation puts 127.0.0.1 first for one of the two.
  EXPECT_TRUE(testing::run_coroutine(io_, connect()));
  EXPECT_TRUE(testing::run_coroutine(io_, connect()));
  const tcp::endpoint refusing(asio::ip::make_address("127.0.0.1"), port);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(resolve(origin.to_string()).route.endpoints.back(), refusing);
  }
}

// Destination policy: a name a client chose must not resolve inward (DNS rebinding onto the
// metadata service, the site's network, the proxy itself); the operator's names may.
TEST_F(EndpointResolverTest, AClientsNameResolvingInwardIsRefusedUnlessItsNetworkIsAllowed) {
  dns_.set("rebound.test", {.a = {"169.254.169.254", "10.1.2.3"}});
  dns_.set("mixed.test", {.a = {"127.0.0.1", "203.0.113.7"}});
  const auto client = EndpointResolver::NamedBy::kClient;
  EXPECT_EQ(resolve("https://rebound.test", client).ec, make_error_code(ResolveError::kInward));
  EXPECT_EQ(resolve("https://mixed.test", client).endpoints(),
            std::vector<std::string>{"203.0.113.7:443"});
  EXPECT_EQ(resolve("https://rebound.test").endpoints().size(), 2u);  // the operator's
  options_.allowed_inward_networks = {parse_network("10.0.0.0/8")};
  resolver_.reset();
  EXPECT_EQ(resolve("https://rebound.test", client).endpoints(),
            std::vector<std::string>{"10.1.2.3:443"});
}

}  // namespace
}  // namespace s3hc::net