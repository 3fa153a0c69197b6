// A connected pair of sockets for tests of what the proxy writes to a client: `proxy_side` is
// wrapped in an http::ClientConnection, `client_side` reads what arrives.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <future>
#include <string>

#include "socket_pair.h"

namespace s3hc::testing {

struct ClientSocketPair {
  explicit ClientSocketPair(boost::asio::io_context& io)
      : ClientSocketPair(connected_sockets(io)) {}

  // Everything the client receives until the proxy side closes (blocking).
  std::string received_until_close() {
    std::string bytes;
    boost::system::error_code ec;
    boost::asio::read(client_side, boost::asio::dynamic_buffer(bytes), ec);
    return bytes;
  }
  // The same, read on a thread of its own while the proxy side writes more than the
  // sockets' buffers hold.
  std::future<std::string> receive_until_close() {
    return std::async(std::launch::async, [this] { return received_until_close(); });
  }

  boost::asio::ip::tcp::socket proxy_side;
  boost::asio::ip::tcp::socket client_side;

 private:
  explicit ClientSocketPair(
      std::pair<boost::asio::ip::tcp::socket, boost::asio::ip::tcp::socket> sockets)
      : proxy_side(std::move(sockets.first)), client_side(std::move(sockets.second)) {}
};

}  // namespace s3hc::testing
