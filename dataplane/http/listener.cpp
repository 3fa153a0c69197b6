#include "http/listener.h"

#include <unistd.h>

#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>
#include <stdexcept>

namespace s3hc::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::ip::tcp::acceptor open_acceptor(const asio::any_io_executor& executor,
                                      const HostPort& address) {
  boost::system::error_code ec;
  tcp::resolver resolver(executor);
  const auto endpoints = resolver.resolve(address.host, std::to_string(address.port),
                                          tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    throw std::runtime_error("cannot resolve listen address " + address.to_string() + ": " +
                             ec.message());
  }
  const tcp::endpoint endpoint = *endpoints.begin();
  tcp::acceptor acceptor(executor);
  auto check = [&](const char* step) {
    if (ec) {
      throw std::runtime_error(std::string("cannot listen on ") + address.to_string() + " (" +
                               step + "): " + ec.message());
    }
  };
  acceptor.open(endpoint.protocol(), ec);
  check("open");
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  check("SO_REUSEADDR");
  acceptor.bind(endpoint, ec);
  check("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  check("listen");
  return acceptor;
}

tcp::acceptor share_acceptor(const asio::any_io_executor& executor, tcp::acceptor& listening) {
  const int descriptor = ::dup(listening.native_handle());
  if (descriptor < 0) {
    throw std::runtime_error(std::string("cannot share the listening socket: ") +
                             std::strerror(errno));
  }
  return tcp::acceptor(executor, listening.local_endpoint().protocol(), descriptor);
}

asio::awaitable<void> accept_connections(tcp::acceptor& acceptor,
                                         std::function<void(tcp::socket)> serve) {
  const auto executor = acceptor.get_executor();
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Typically out of file descriptors: back off instead of spinning on the error.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    serve(std::move(socket));
  }
}

asio::awaitable<void> accept_clients(tcp::acceptor& acceptor, RequestHandler& handler,
                                     const SessionOptions& options, DeadlineSweeper& sweeper,
                                     obs::ProxyMetrics& metrics) {
  const auto executor = acceptor.get_executor();
  co_await accept_connections(acceptor, [&, executor](tcp::socket socket) {
    asio::co_spawn(executor, run_session(std::move(socket), handler, options, sweeper, metrics),
                   asio::detached);
  });
}

}  // namespace s3hc::http
