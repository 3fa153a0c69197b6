// Two connected loopback TCP sockets made in-process: the acceptor that pairs them closes at
// once, so nothing is left listening. For tests of one side of a connection (what the proxy
// writes to a client, what it sends to an origin).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <utility>

namespace s3hc::testing {

inline std::pair<boost::asio::ip::tcp::socket, boost::asio::ip::tcp::socket> connected_sockets(
    boost::asio::io_context& io) {
  namespace ip = boost::asio::ip;
  ip::tcp::acceptor acceptor(io, {ip::make_address("127.0.0.1"), 0});
  ip::tcp::socket connecting(io);
  connecting.connect(acceptor.local_endpoint());
  return {acceptor.accept(), std::move(connecting)};
}

}  // namespace s3hc::testing
