// DnsResolver against a DNS server inside the test (fake_dns_server.h): every address of an
// answer, caching for the answer's TTL within the min/max clamp, one lookup for concurrent
// callers, NXDOMAIN, silence (the timeout), and no hosts file.
#include "net/dns_resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "fake_dns_server.h"
#include "net/resolve_error.h"
#include "run_coroutine.h"

namespace s3hc::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::FakeDnsServer;

struct Outcome {
  std::vector<std::string> addresses;
  boost::system::error_code ec;
};

class DnsResolverTest : public ::testing::Test {
 protected:
  DnsResolverTest() { options_.dns_servers = {dns_.address()}; }

  DnsResolver& resolver() {
    if (!resolver_) resolver_.emplace(io_.get_executor(), options_);
    return *resolver_;
  }

  asio::awaitable<Outcome> resolve_task(std::string name) {
    Outcome outcome;
    const auto addresses = co_await resolver().resolve(name, outcome.ec);
    for (const auto& address : addresses) outcome.addresses.push_back(address.to_string());
    co_return outcome;
  }

  Outcome resolve(const std::string& name) {
    return testing::run_coroutine(io_, resolve_task(name));
  }

  asio::io_context io_;
  FakeDnsServer dns_{io_};
  ResolverOptions options_;
  std::optional<DnsResolver> resolver_;  // last: destroyed before the server and the loop
};

TEST_F(DnsResolverTest, AnswersEveryAddressOfBothFamilies) {
  dns_.set("s3.test", {.a = {"192.0.2.1", "192.0.2.2"}, .aaaa = {"2001:db8::1"}});
  const auto outcome = resolve("s3.test");
  ASSERT_FALSE(outcome.ec) << outcome.ec.message();
  EXPECT_EQ(outcome.addresses,
            (std::vector<std::string>{"192.0.2.1", "192.0.2.2", "2001:db8::1"}));
  EXPECT_EQ(dns_.queries("s3.test"), 2);  // A and AAAA
}

TEST_F(DnsResolverTest, NamesCompareWithoutCase) {
  dns_.set("s3.test", {.a = {"192.0.2.1"}});
  EXPECT_FALSE(resolve("S3.Test").ec);
  EXPECT_FALSE(resolve("s3.test").ec);
  EXPECT_EQ(dns_.queries("s3.test"), 2);
}

TEST_F(DnsResolverTest, KeepsAnAnswerForItsTtl) {
  options_.min_ttl = 0ms;
  dns_.set("s3.test", {.a = {"192.0.2.1"}, .ttl = 1});
  EXPECT_FALSE(resolve("s3.test").ec);
  EXPECT_FALSE(resolve("s3.test").ec);
  EXPECT_EQ(dns_.queries("s3.test"), 2) << "the second resolve asked again within the TTL";

  std::this_thread::sleep_for(1100ms);
  dns_.set("s3.test", {.a = {"192.0.2.9"}, .ttl = 1});
  const auto later = resolve("s3.test");
  EXPECT_EQ(later.addresses, std::vector<std::string>{"192.0.2.9"});
  EXPECT_EQ(dns_.queries("s3.test"), 4) << "an expired answer was used";
}

TEST_F(DnsResolverTest, ClampsTheTtlToTheConfiguredBounds) {
  options_.min_ttl = 300ms;
  options_.max_ttl = 400ms;
  dns_.set("zero.test", {.a = {"192.0.2.1"}, .ttl = 0});
  dns_.set("day.test", {.a = {"192.0.2.2"}, .ttl = 86400});
  resolve("zero.test");
  resolve("day.test");
  resolve("zero.test");
  EXPECT_EQ(dns_.queries("zero.test"), 2) << "TTL 0 was not raised to min_ttl";

  std::this_thread::sleep_for(450ms);
  resolve("zero.test");
  resolve("day.test");
  EXPECT_EQ(dns_.queries("zero.test"), 4);
  EXPECT_EQ(dns_.queries("day.test"), 4) << "a day's TTL was not lowered to max_ttl";
}

TEST_F(DnsResolverTest, ConcurrentCallersShareOneLookup) {
  dns_.set("s3.test", {.a = {"192.0.2.1"}});
  int answered = 0;
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(io_, resolve_task("s3.test"), [&answered](std::exception_ptr, Outcome outcome) {
      if (!outcome.ec && outcome.addresses.size() == 1) ++answered;
    });
  }
  while (answered < 5) io_.run_one();
  EXPECT_EQ(dns_.queries("s3.test"), 2);
}

TEST_F(DnsResolverTest, NxdomainIsNotFound) {
  const auto outcome = resolve("missing.test");
  EXPECT_EQ(outcome.ec, make_error_code(ResolveError::kNotFound));
  EXPECT_TRUE(outcome.addresses.empty());
}

TEST_F(DnsResolverTest, FailuresAreNotCached) {
  resolve("later.test");
  dns_.set("later.test", {.a = {"192.0.2.1"}});
  EXPECT_FALSE(resolve("later.test").ec);
}

TEST_F(DnsResolverTest, SilentServersTimeOut) {
  options_.timeout = 300ms;
  dns_.set("silent.test", {.silent = true});
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = resolve("silent.test");
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(outcome.ec, make_error_code(ResolveError::kTimedOut));
  EXPECT_GE(waited, 290ms);
  EXPECT_LT(waited, 2s);
  EXPECT_TRUE(is_resolve_error(outcome.ec));
}

TEST_F(DnsResolverTest, NeverReadsTheHostsFile) {
  std::ifstream hosts("/etc/hosts");
  std::stringstream text;
  text << hosts.rdbuf();
  ASSERT_NE(text.str().find("localhost"), std::string::npos)
      << "this test needs an /etc/hosts that names localhost";
  // The DNS server does not know localhost: the hosts file would have answered 127.0.0.1.
  const auto outcome = resolve("localhost");
  EXPECT_EQ(outcome.ec, make_error_code(ResolveError::kNotFound));
  EXPECT_EQ(dns_.queries("localhost"), 2);
}

}  // namespace
}  // namespace s3hc::net
