#include "http/client_writer.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "client_socket.h"
#include "http/client_connection.h"
#include "http/deadline.h"
#include "http/error_writer.h"
#include "obs/metrics.h"
#include "obs/proxy_metrics.h"

namespace s3hc::http {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

class ClientWriterTest : public ::testing::Test {
 protected:
  // Runs `test` on the loop (with the connection's deadline sweeper) until it returns.
  void run(std::function<asio::awaitable<void>(ClientWriter&)> test,
           std::chrono::milliseconds timeout = 5000ms) {
    ClientWriter writer(client_, timeout, sent_bytes_);
    asio::co_spawn(io_, sweeper_.run(), asio::detached);
    asio::co_spawn(io_, test(writer), [this](std::exception_ptr error) {
      io_.stop();
      if (error) std::rethrow_exception(error);
    });
    io_.run();
    client_.shutdown_and_close();
  }

  asio::io_context io_;
  testing::ClientSocketPair sockets_{io_};
  DeadlineSweeper sweeper_{io_.get_executor(), 10ms};
  ClientConnection client_{std::move(sockets_.proxy_side), 4096, sweeper_};
  obs::Counter sent_bytes_;
};

TEST_F(ClientWriterTest, WritesHeaderAndBodyAndCountsThem) {
  run([](ClientWriter& writer) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await writer.write("HTTP/1.1 200 OK\r\n\r\n", "body"));
    EXPECT_TRUE(co_await writer.write("", "more"));
  });
  EXPECT_EQ(sockets_.received_until_close(), "HTTP/1.1 200 OK\r\n\r\nbodymore");
  EXPECT_EQ(sent_bytes_.value(), 27u);
  EXPECT_FALSE(client_.timed_out());
}

TEST_F(ClientWriterTest, AnErrorAnsweringHeadIsItsHeaderAlone) {
  obs::MetricsRegistry registry;
  obs::ProxyMetrics metrics(registry);
  run([&metrics](ClientWriter& writer) -> asio::awaitable<void> {
    co_await send_error(writer, s3::errors::kServiceUnavailable,
                        {.method = "HEAD", .resource = "/b/k", .keep_alive = true}, metrics);
    co_await send_error(writer, s3::errors::kServiceUnavailable,
                        {.method = "GET", .resource = "/b/k", .keep_alive = true}, metrics);
  });
  // On a connection kept open, XML after the HEAD's header would read as the next answer.
  const auto received = sockets_.received_until_close();
  const auto second = received.find("HTTP/1.1 503", 1);
  ASSERT_NE(second, std::string::npos);
  EXPECT_TRUE(received.substr(0, second).ends_with("\r\n\r\n")) << received;
  EXPECT_NE(received.substr(0, second).find("Content-Length: "), std::string::npos);
  EXPECT_TRUE(received.ends_with("</Error>")) << received;
  EXPECT_EQ(metrics.requests.with({"HEAD", "503"}).value(), 1u);
}

TEST_F(ClientWriterTest, SendsFileBytesAfterHeldBackOnes) {
  std::FILE* file = std::tmpfile();
  ASSERT_TRUE(file);
  const std::string content = "0123456789abcdefghij";
  std::fputs(content.c_str(), file);
  std::fflush(file);
  run([&](ClientWriter& writer) -> asio::awaitable<void> {
    EXPECT_TRUE(co_await writer.write_more("head:"));
    EXPECT_TRUE(co_await writer.send_file(fileno(file), 3, 10));
    EXPECT_FALSE(co_await writer.send_file(fileno(file), 15, 10));  // the file ends early
  });
  std::fclose(file);
  EXPECT_EQ(sockets_.received_until_close(), "head:3456789abcfghij");
  EXPECT_EQ(sent_bytes_.value(), 20u);  // what the short send_file sent too
}

TEST_F(ClientWriterTest, ADeadlineEndsAWriteToAClientThatReadsNothing) {
  // Small socket buffers: the client reading nothing stops the write early.
  sockets_.client_side.set_option(asio::socket_base::receive_buffer_size(4096));
  client_.socket().set_option(asio::socket_base::send_buffer_size(4096));
  const std::string large(16 << 20, 'x');
  run(
      [&](ClientWriter& writer) -> asio::awaitable<void> {
        const auto started = std::chrono::steady_clock::now();
        EXPECT_FALSE(co_await writer.write("", large));
        EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);  // 100 ms, and a sweep
      },
      100ms);
  EXPECT_TRUE(client_.timed_out());
  // Every byte the socket took is counted, and only those: the client gets exactly them.
  const auto received = sockets_.received_until_close();
  EXPECT_GT(received.size(), 0u);
  EXPECT_LT(received.size(), large.size());
  EXPECT_EQ(sent_bytes_.value(), received.size());
}

}  // namespace
}  // namespace s3hc::http
