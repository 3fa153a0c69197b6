#include "http/file_sender.h"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

namespace s3hc::http {

namespace asio = boost::asio;

namespace {

// Waits until the socket can take more bytes; false when the wait failed (deadline, close).
asio::awaitable<bool> wait_writable(asio::ip::tcp::socket& socket,
                                    const std::function<void()>& arm) {
  arm();
  auto [ec] = co_await socket.async_wait(asio::ip::tcp::socket::wait_write,
                                         asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

}  // namespace

asio::awaitable<std::uint64_t> send_more(asio::ip::tcp::socket& socket, std::string_view bytes,
                                         const std::function<void()>& arm) {
  socket.native_non_blocking(true);
  std::uint64_t sent = 0;
  while (sent < bytes.size()) {
    const auto written = ::send(socket.native_handle(), bytes.data() + sent, bytes.size() - sent,
                                MSG_MORE | MSG_NOSIGNAL);
    if (written > 0) {
      sent += static_cast<std::uint64_t>(written);
    } else if (written < 0 && errno == EINTR) {
      continue;
    } else if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!co_await wait_writable(socket, arm)) break;
    } else {
      break;
    }
  }
  co_return sent;
}

asio::awaitable<std::uint64_t> send_file(asio::ip::tcp::socket& socket, int file,
                                         std::uint64_t offset, std::uint64_t length,
                                         const std::function<void()>& arm) {
  // A fast client could keep the thread in one long sendfile: the loop yields to the other
  // connections of the event loop after each call of at most this many bytes.
  constexpr std::uint64_t kMaxPerCall = 4 * 1024 * 1024;
  socket.native_non_blocking(true);
  auto position = static_cast<off_t>(offset);
  std::uint64_t sent = 0;
  while (sent < length) {
    const auto written = ::sendfile(socket.native_handle(), file, &position,
                                    static_cast<std::size_t>(std::min(length - sent, kMaxPerCall)));
    if (written > 0) {
      sent += static_cast<std::uint64_t>(written);
      if (sent < length) co_await asio::post(socket.get_executor(), asio::use_awaitable);
    } else if (written < 0 && errno == EINTR) {
      continue;
    } else if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!co_await wait_writable(socket, arm)) break;
    } else {
      break;  // an error, or the file is shorter than its index said
    }
  }
  co_return sent;
}

}  // namespace s3hc::http
