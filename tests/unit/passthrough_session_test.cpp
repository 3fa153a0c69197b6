// run_passthrough on loopback sockets: a client's ClientHello read and sent on first, bytes
// relayed both ways at once and half-closes passed on, and every way a connection is turned
// away (not TLS, no server name, refused, malformed, incomplete, unresolved, unreachable, over
// the limit, idle), each counted. The proxy's side runs on an io_context thread of its own;
// the test drives the client and the origin with blocking calls.
#include "passthrough/passthrough_session.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <random>
#include <string>
#include <thread>

#include "client_hello_bytes.h"
#include "fake_dns_server.h"
#include "net/static_endpoints.h"
#include "passthrough/byte_relay.h"

namespace s3hc::passthrough {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using obs::PassthroughResult;
using tcp = asio::ip::tcp;
using testing::Bytes;

constexpr const char* kName = "s3.us-east-1.amazonaws.com";
constexpr const char* kInwardName = "s3.ap-south-1.amazonaws.com";

std::string as_text(const Bytes& bytes) { return {bytes.begin(), bytes.end()}; }

std::string random_text(std::size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string text(size, '\0');
  for (auto& c : text) c = static_cast<char>(generator());
  return text;
}

// Whether `descriptor` has something to read (bytes, an end, a connection) before `deadline`.
bool readable_before(int descriptor, std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  pollfd readable{.fd = descriptor, .events = POLLIN, .revents = 0};
  return left.count() > 0 && ::poll(&readable, 1, static_cast<int>(left.count())) == 1;
}

// Reads from a blocking socket until its peer closes or `size` bytes came, whichever is
// first; fails the test (and stops reading) when `timeout` passes first.
std::string receive(tcp::socket& socket, std::size_t size = SIZE_MAX,
                    std::chrono::milliseconds timeout = 10s) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  std::string received;
  char buffer[65536];
  while (received.size() < size) {
    if (!readable_before(socket.native_handle(), give_up)) {
      ADD_FAILURE() << "nothing more within " << timeout.count() << " ms after "
                    << received.size() << " bytes";
      break;
    }
    boost::system::error_code ec;
    const auto count =
        socket.read_some(asio::buffer(buffer, std::min(sizeof buffer, size - received.size())), ec);
    received.append(buffer, count);
    if (ec) break;  // the end of the stream, or a reset: closed either way
  }
  return received;
}

class PassthroughSessionTest : public ::testing::Test {
 protected:
  PassthroughSessionTest() {
    auto& resolver = upstream_.resolver;
    resolver.dns_servers = {dns_.address()};
    resolver.static_endpoints = {
        net::parse_static_endpoint(std::string(kName) + "=127.0.0.1:" +
                                   std::to_string(origin_listener_.local_endpoint().port())),
        // A port nothing listens on (bound then closed by the kernel's choice).
        net::parse_static_endpoint("s3.eu-west-2.amazonaws.com=127.0.0.1:" +
                                   std::to_string(closed_port()))};
    // A name a client may choose whose DNS answer leads inward (net/inward_addresses.h).
    testing::FakeDnsServer::Records inward;
    inward.a = {"127.0.0.1"};
    dns_.set(std::string(kInwardName), inward);
    upstream_.connect_timeout_ms = 2000;
    options_.client_hello_timeout = 400ms;
    options_.idle_timeout = 400ms;
  }

  void SetUp() override {
    resolver_.emplace(io_.get_executor(), upstream_.resolver);
    context_.emplace(PassthroughContext{.options = options_,
                                        .upstream = upstream_,
                                        .resolver = *resolver_,
                                        .sweeper = sweeper_,
                                        .buffers = buffers_,
                                        .metrics = metrics_});
    asio::co_spawn(io_, sweeper_.run(), asio::detached);
    runner_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    EXPECT_TRUE(all_closed()) << metrics_.open_connections.value() << " still open";
    work_.reset();
    io_.stop();
    runner_.join();
  }

  static std::uint16_t closed_port() {
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
  }

  // A client connected to the proxy, its connection served by run_passthrough.
  tcp::socket connect() {
    tcp::socket client(io_);
    client.connect(listener_.local_endpoint());
    auto accepted = listener_.accept();
    asio::post(io_, [this, accepted = std::make_shared<tcp::socket>(std::move(accepted))] {
      asio::co_spawn(io_, run_passthrough(std::move(*accepted), *context_), asio::detached);
    });
    return client;
  }

  // The connection the proxy made to the origin (within 10 s).
  tcp::socket accept_at_origin() {
    EXPECT_TRUE(readable_before(origin_listener_.native_handle(),
                                std::chrono::steady_clock::now() + 10s))
        << "the proxy did not connect to the origin";
    return origin_listener_.accept();
  }

  // Whether the proxy connected to the origin at all (without waiting).
  bool origin_was_contacted() {
    origin_listener_.non_blocking(true);
    boost::system::error_code ec;
    auto socket = origin_listener_.accept(ec);
    origin_listener_.non_blocking(false);
    return !ec;
  }

  // Waits (up to 5 s) until the proxy has no passthrough connection open.
  bool all_closed() {
    for (int i = 0; i < 500 && metrics_.open_connections.value() != 0; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    return metrics_.open_connections.value() == 0;
  }

  std::uint64_t count(const std::string& result) {
    return metrics_.connections.with({result}).value();
  }

  // Sends `first` from a new client and expects the proxy to close the connection, counted as
  // `result`, without contacting the origin.
  void expect_turned_away(const Bytes& first, const std::string& result) {
    auto client = connect();
    asio::write(client, asio::buffer(first));
    EXPECT_EQ(receive(client), "") << result;
    EXPECT_TRUE(all_closed());
    EXPECT_EQ(count(result), 1u) << result;
    EXPECT_EQ(count("relayed"), 0u) << result;
    EXPECT_FALSE(origin_was_contacted()) << result;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  http::DeadlineSweeper sweeper_{io_.get_executor(), 20ms};
  testing::FakeDnsServer dns_{io_};
  obs::MetricsRegistry registry_;
  obs::PassthroughMetrics metrics_{registry_};
  tcp::acceptor listener_{io_, {asio::ip::make_address("127.0.0.1"), 0}};
  tcp::acceptor origin_listener_{io_, {asio::ip::make_address("127.0.0.1"), 0}};
  http::UpstreamOptions upstream_;
  PassthroughOptions options_;
  obs::Gauge buffers_on_loan_;  // as s3hc_buffered_bytes counts them
  http::RelayBuffers buffers_{kRelayBufferBytes, 4, buffers_on_loan_};
  std::optional<net::EndpointResolver> resolver_;
  std::optional<PassthroughContext> context_;
  std::thread runner_;
};

TEST_F(PassthroughSessionTest, RelaysLargeStreamsBothWaysAtOnce) {
  const auto hello = testing::openssl_client_hello(kName);
  const auto upload = random_text(8 << 20, 1);
  const auto download = random_text(8 << 20, 2);
  auto client = connect();
  asio::write(client, asio::buffer(hello));
  auto origin = accept_at_origin();
  // Both sides write more than the sockets' buffers hold while the other reads.
  auto origin_receives = std::async(std::launch::async, [&] {
    return receive(origin, hello.size() + upload.size());
  });
  auto client_receives = std::async(std::launch::async, [&] {
    return receive(client, download.size());
  });
  auto origin_sends = std::async(std::launch::async, [&] {
    asio::write(origin, asio::buffer(download));
  });
  asio::write(client, asio::buffer(upload));
  origin_sends.get();
  const auto at_origin = origin_receives.get();
  const auto at_client = client_receives.get();
  // assertTrue-style: a diff of random MiBs helps nobody.
  EXPECT_TRUE(at_origin == as_text(hello) + upload) << "the origin got other bytes";
  EXPECT_TRUE(at_client == download) << "the client got other bytes";
  client.close();
  EXPECT_EQ(receive(origin), "");  // the client's close reaches the origin
  EXPECT_TRUE(all_closed());
  EXPECT_EQ(count("relayed"), 1u);
  EXPECT_EQ(metrics_.client_to_origin_bytes.value(), hello.size() + upload.size());
  EXPECT_EQ(metrics_.origin_to_client_bytes.value(), download.size());
}

TEST_F(PassthroughSessionTest, PassesHalfClosesOnEachWay) {
  const auto hello = testing::openssl_client_hello(kName);
  auto client = connect();
  asio::write(client, asio::buffer(hello));
  asio::write(client, asio::buffer(std::string("request")));
  client.shutdown(tcp::socket::shutdown_send);
  auto origin = accept_at_origin();
  // The client's end of stream reaches the origin, which still answers.
  EXPECT_EQ(receive(origin), as_text(hello) + "request");
  asio::write(origin, asio::buffer(std::string("answer after the client's half-close")));
  origin.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(receive(client), "answer after the client's half-close");
  EXPECT_TRUE(all_closed());
  EXPECT_EQ(count("relayed"), 1u);
}

TEST_F(PassthroughSessionTest, TheOriginMayFinishFirst) {
  const auto hello = testing::openssl_client_hello(kName);
  auto client = connect();
  asio::write(client, asio::buffer(hello));
  auto origin = accept_at_origin();
  asio::write(origin, asio::buffer(std::string("bye")));
  origin.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(receive(client), "bye");
  // The client may still send after the origin's half-close.
  asio::write(client, asio::buffer(std::string("late")));
  client.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(receive(origin), as_text(hello) + "late");
  EXPECT_TRUE(all_closed());
}

TEST_F(PassthroughSessionTest, TurnsAwayWhatItMayNotRelay) {
  expect_turned_away(testing::bytes_of("GET / HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n"),
                     "not_tls");
  expect_turned_away(testing::openssl_client_hello(""), "no_sni");
  expect_turned_away(testing::openssl_client_hello("example.com"), "refused");
  expect_turned_away(Bytes{22, 3, 1, 0, 4, 2, 0, 0, 0}, "malformed");
}

TEST_F(PassthroughSessionTest, RefusesAddressesAsServerNames) {
  expect_turned_away(testing::openssl_client_hello("127.0.0.1"), "refused");
}

TEST_F(PassthroughSessionTest, AnOversizedHelloIsMalformed) {
  // A record header announcing a hello longer than kMaxClientHelloBytes, then bytes that
  // never complete it.
  Bytes first{22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x00};
  first.resize(kMaxClientHelloBytes + 100, 0);
  auto client = connect();
  boost::system::error_code ignored;
  asio::write(client, asio::buffer(first), ignored);  // may be reset before all is sent
  EXPECT_EQ(receive(client), "");
  EXPECT_TRUE(all_closed());
  EXPECT_EQ(count("malformed"), 1u);
}

TEST_F(PassthroughSessionTest, AClientSilentOrGoneBeforeItsHelloIsIncomplete) {
  const auto hello = testing::openssl_client_hello(kName);
  auto silent = connect();
  asio::write(silent, asio::buffer(hello.data(), 10));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(receive(silent), "");
  EXPECT_GE(std::chrono::steady_clock::now() - started, options_.client_hello_timeout - 50ms);
  auto gone = connect();
  asio::write(gone, asio::buffer(hello.data(), 10));
  gone.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(receive(gone), "");
  EXPECT_TRUE(all_closed());
  EXPECT_EQ(count("incomplete"), 2u);
  EXPECT_FALSE(origin_was_contacted());
}

TEST_F(PassthroughSessionTest, UnresolvedAndUnreachableEndpointsAreCounted) {
  // Allowed, but in neither the static map nor the (fake) DNS: NXDOMAIN.
  auto unresolved = connect();
  asio::write(unresolved,
              asio::buffer(testing::openssl_client_hello("s3.eu-west-1.amazonaws.com")));
  EXPECT_EQ(receive(unresolved), "");
  auto unreachable = connect();
  asio::write(unreachable,
              asio::buffer(testing::openssl_client_hello("s3.eu-west-2.amazonaws.com")));
  EXPECT_EQ(receive(unreachable), "");
  EXPECT_TRUE(all_closed());
  EXPECT_EQ(count("unresolved"), 1u);
  EXPECT_EQ(count("unreachable"), 1u);
}

TEST_F(PassthroughSessionTest, ANameResolvingInwardIsRefused) {
  expect_turned_away(testing::openssl_client_hello(kInwardName), "refused");
  EXPECT_EQ(count("unresolved"), 0u);
}

TEST_F(PassthroughSessionTest, AnIdleRelayIsClosedAndABusyOneIsNot) {
  const auto hello = testing::openssl_client_hello(kName);
  auto client = connect();
  asio::write(client, asio::buffer(hello));
  auto origin = accept_at_origin();
  EXPECT_EQ(receive(origin, hello.size()), as_text(hello));
  // Bytes every 100 ms, one way only, for three times the idle timeout: kept open.
  for (int i = 0; i < 12; ++i) {
    std::this_thread::sleep_for(100ms);
    asio::write(client, asio::buffer(std::string("x")));
    EXPECT_EQ(receive(origin, 1), "x") << i;
  }
  // Then nothing: both sides closed after the idle timeout.
  const auto quiet_since = std::chrono::steady_clock::now();
  // Meanwhile the relay holds no buffer (once its last write is done: polled, since the
  // origin may read the byte before the relay's coroutine resumes).
  for (int i = 0; i < 100 && buffers_on_loan_.value() != 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(buffers_on_loan_.value(), 0);
  EXPECT_EQ(receive(client), "");
  EXPECT_EQ(receive(origin), "");
  EXPECT_GE(std::chrono::steady_clock::now() - quiet_since, options_.idle_timeout - 50ms);
  EXPECT_TRUE(all_closed());
}

TEST_F(PassthroughSessionTest, ConnectionsPastTheLimitAreClosedAtOnce) {
  options_.max_connections = 1;
  const auto hello = testing::openssl_client_hello(kName);
  auto first = connect();
  asio::write(first, asio::buffer(hello));
  auto origin = accept_at_origin();
  EXPECT_EQ(receive(origin, hello.size()), as_text(hello));
  auto second = connect();
  EXPECT_EQ(receive(second), "");  // closed without waiting for its hello
  EXPECT_EQ(count("limit"), 1u);
  first.close();
  origin.close();
  EXPECT_TRUE(all_closed());
  auto third = connect();
  asio::write(third, asio::buffer(hello));
  auto origin_again = accept_at_origin();
  EXPECT_EQ(receive(origin_again, hello.size()), as_text(hello));
  EXPECT_EQ(count("relayed"), 2u);
  third.close();
  origin_again.close();
}

}  // namespace
}  // namespace s3hc::passthrough
