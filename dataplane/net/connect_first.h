// A TCP connection to the first address of an endpoint's route that accepts one, shared by
// the upstream pools' connector (http/network_connector.h) and the HTTPS passthrough.
//
// Thread-safety: none; on the stream's and resolver's io_context only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <vector>

#include "net/endpoint_resolver.h"

namespace s3hc::net {

// Connects `stream` to the first of `endpoints` that accepts before `deadline`, telling the
// resolver how each attempt went; the error of the last attempt (or a timeout) when none
// does. Each address gets an equal share of the time left, so one that drops SYNs cannot use
// up the whole timeout of an origin with several. The stream's timeout is left set.
boost::asio::awaitable<boost::system::error_code> connect_first(
    boost::beast::tcp_stream& stream, const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
    std::chrono::steady_clock::time_point deadline, EndpointResolver& resolver);

}  // namespace s3hc::net
