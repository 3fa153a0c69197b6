#include "http/client_connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace s3hc::http {

namespace asio = boost::asio;

ClientConnection::ClientConnection(asio::ip::tcp::socket socket, std::size_t buffer_limit)
    : socket_(std::move(socket)),
      buffer_(buffer_limit),
      deadline_(socket_.get_executor(), asio::steady_timer::time_point::max()) {}

void ClientConnection::expires_after(std::chrono::milliseconds timeout) {
  deadline_.expires_after(timeout);
}

void ClientConnection::expires_never() {
  deadline_.expires_at(asio::steady_timer::time_point::max());
}

asio::awaitable<void> ClientConnection::run_watchdog() {
  // Re-arming the deadline aborts the pending wait, so loop until a wait ends at the expiry.
  // The loop ends when the session that awaits it alongside finishes (cancellation) or closes.
  while (socket_.is_open()) {
    co_await deadline_.async_wait(asio::as_tuple(asio::use_awaitable));
    const auto cancel_state = co_await asio::this_coro::cancellation_state;
    if (cancel_state.cancelled() != asio::cancellation_type::none || !socket_.is_open()) co_return;
    if (deadline_.expiry() <= asio::steady_timer::clock_type::now()) {
      timed_out_ = true;
      boost::system::error_code ignored;
      socket_.cancel(ignored);
      expires_never();
    }
  }
}

void ClientConnection::shutdown_and_close() {
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  socket_.close(ignored);
  deadline_.cancel();
}

}  // namespace s3hc::http
