#include "http/client_connection.h"

namespace s3hc::http {

namespace asio = boost::asio;

ClientConnection::ClientConnection(asio::ip::tcp::socket socket, std::size_t buffer_limit,
                                   DeadlineSweeper& sweeper)
    : socket_(std::move(socket)),
      buffer_(buffer_limit),
      deadline_(sweeper, [this] {
        boost::system::error_code ignored;
        socket_.cancel(ignored);
      }) {}

void ClientConnection::shutdown_and_close() {
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  socket_.close(ignored);
}

}  // namespace s3hc::http
