#include "http/error_writer.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>

namespace s3hc::http {

namespace asio = boost::asio;

asio::awaitable<void> send_error(ClientConnection& client, const s3::ErrorKind& kind,
                                 const ErrorContext& context,
                                 std::chrono::milliseconds write_timeout,
                                 obs::ProxyMetrics& metrics) {
  auto response = s3::error_response(kind, context.resource, context.keep_alive);
  client.expires_after(write_timeout);
  auto [ec, written] = co_await boost::beast::http::async_write(
      client.socket(), response, asio::as_tuple(asio::use_awaitable));
  client.expires_never();
  metrics.client_sent_bytes.inc(written);
  metrics.count_response(context.method, static_cast<unsigned>(kind.status));
}

}  // namespace s3hc::http
