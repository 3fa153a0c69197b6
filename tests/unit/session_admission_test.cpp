// A session (http/session.h) behind a full admission gate: the request is answered 503
// SlowDown with Retry-After in S3's XML, its handler never sees it, the connection carries the
// next request when the refused one had no body and closes when it had one; once a place is
// free the next request goes to the handler, holding its ticket while it is answered.
#include "http/session.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "http/client_writer.h"
#include "obs/metrics.h"
#include "socket_pair.h"

namespace s3hc::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

const std::string kGet = "GET /bucket/key HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n";

// Answers every request "200 ok", noting how many requests were in flight meanwhile.
class OkHandler final : public RequestHandler {
 public:
  explicit OkHandler(obs::ProxyMetrics& metrics) : metrics_(metrics) {}

  asio::awaitable<bool> handle(ClientConnection& client, RequestParser&) override {
    in_flight_seen = metrics_.requests_in_flight.value();
    handled.fetch_add(1);
    ClientWriter writer(client, 5000ms, metrics_.client_sent_bytes);
    co_return co_await writer.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  }

  std::atomic<int> handled{0};
  std::atomic<std::int64_t> in_flight_seen{-1};

 private:
  obs::ProxyMetrics& metrics_;
};

class SessionAdmissionTest : public ::testing::Test {
 protected:
  SessionAdmissionTest() {
    asio::co_spawn(io_, sweeper_.run(), asio::detached);
    io_thread_ = std::thread([this] { io_.run(); });
  }

  ~SessionAdmissionTest() override {
    // Sessions end once their clients have closed; none may outlive the handler it uses.
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (metrics_.open_connections.value() > 0 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(metrics_.open_connections.value(), 0);
    work_.reset();
    io_.stop();
    io_thread_.join();
  }

  // The client's end of a connection served by a session of its own.
  struct Client {
    asio::ip::tcp::socket socket;
    boost::beast::flat_buffer buffer;  // bytes read past the last response
  };
  Client connect() {
    auto [proxy_side, client_side] = testing::connected_sockets(io_);
    asio::co_spawn(io_, run_session(std::move(proxy_side), handler_, options_, sweeper_, metrics_),
                   asio::detached);
    return {std::move(client_side), {}};
  }

  // Sends `request` and reads one response (blocking, on the test's thread); `head`: the
  // answer to a HEAD, whose body is not sent.
  static bhttp::response<bhttp::string_body> exchange(Client& client, const std::string& request,
                                                      bool head = false) {
    asio::write(client.socket, asio::buffer(request));
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    bhttp::read(client.socket, client.buffer, parser);
    return parser.release();
  }

  // Sends `request` while the gate's one place is taken: its answer, checked to be a refusal.
  bhttp::response<bhttp::string_body> refused_while_full(Client& client,
                                                         const std::string& request,
                                                         bool head = false) {
    const auto held = gate_.admit();
    auto refused = exchange(client, request, head);
    EXPECT_EQ(refused.result_int(), 503u);
    EXPECT_EQ(refused["Retry-After"], "1");
    EXPECT_EQ(handler_.handled.load(), 0);
    return refused;
  }

  // A GET on `client` now that a place is free: served by the handler.
  void expect_served(Client& client) {
    const auto served = exchange(client, kGet);
    EXPECT_EQ(served.result_int(), 200u);
    EXPECT_EQ(served.body(), "ok");
    EXPECT_EQ(handler_.handled.load(), 1);
    EXPECT_EQ(handler_.in_flight_seen.load(), 1);  // its own ticket, held while answered
  }

  std::uint64_t responses(const std::string& method, const std::string& status) {
    return metrics_.requests.with({method, status}).value();
  }

  obs::MetricsRegistry registry_;
  obs::ProxyMetrics metrics_{registry_};
  AdmissionGate gate_{{.max_concurrent_requests = 1, .max_buffered_bytes = 0}, metrics_};
  OkHandler handler_{metrics_};
  std::atomic<bool> draining_{false};
  const SessionOptions options_{.max_header_bytes = 16 * 1024,
                                .read_buffer_bytes = 64 * 1024,
                                .idle_timeout = 5000ms,
                                .io_timeout = 5000ms,
                                .draining = &draining_,
                                .admission = &gate_};
  asio::io_context io_;
  DeadlineSweeper sweeper_{io_.get_executor(), 10ms};
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::thread io_thread_;
};

TEST_F(SessionAdmissionTest, ARequestWithoutBodyIsRefusedAndTheConnectionCarriesTheNext) {
  auto client = connect();
  const auto refused = refused_while_full(client, kGet);
  EXPECT_EQ(refused[bhttp::field::content_type], "application/xml");
  EXPECT_NE(refused.body().find("<Code>SlowDown</Code>"), std::string::npos);
  EXPECT_NE(refused.body().find("<Message>Please reduce your request rate.</Message>"),
            std::string::npos);
  EXPECT_NE(refused.body().find("<Resource>/bucket/key</Resource>"), std::string::npos);
  EXPECT_TRUE(refused.keep_alive());
  expect_served(client);  // on the same connection, a place free
  EXPECT_EQ(metrics_.rejected_for_concurrency.value(), 1u);
  EXPECT_EQ(responses("GET", "503"), 1u);
}

TEST_F(SessionAdmissionTest, AHeadIsRefusedWithoutABodyAndTheConnectionCarriesTheNext) {
  auto client = connect();
  const auto refused = refused_while_full(
      client, "HEAD /bucket/key HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n", true);
  EXPECT_TRUE(refused.keep_alive());
  expect_served(client);  // any XML after the HEAD's header would be read as this answer
  EXPECT_EQ(responses("HEAD", "503"), 1u);
}

TEST_F(SessionAdmissionTest, ARequestWithABodyIsRefusedWithoutReadingItAndTheConnectionCloses) {
  auto client = connect();
  // The body would follow; the refusal comes first, and none of it is read.
  const auto refused = refused_while_full(
      client,
      "PUT /bucket/key HTTP/1.1\r\nHost: s3.amazonaws.com\r\nContent-Length: 100000\r\n\r\n");
  EXPECT_FALSE(refused.keep_alive());
  boost::system::error_code ec;
  char byte;
  client.socket.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);  // closed by the proxy
  EXPECT_EQ(responses("PUT", "503"), 1u);
  EXPECT_EQ(metrics_.requests_in_flight.value(), 0);
}

}  // namespace
}  // namespace s3hc::http
