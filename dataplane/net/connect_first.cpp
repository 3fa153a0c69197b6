#include "net/connect_first.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace s3hc::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// However many addresses an origin has, each gets this long at least (or what is left of the
// connect timeout): a TCP handshake within reach takes well under it.
constexpr std::chrono::milliseconds kMinConnectAttempt{1000};

}  // namespace

asio::awaitable<error_code> connect_first(beast::tcp_stream& stream,
                                          const std::vector<tcp::endpoint>& endpoints,
                                          std::chrono::steady_clock::time_point deadline,
                                          EndpointResolver& resolver) {
  error_code ec = beast::error::timeout;
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const auto share = left / static_cast<long>(endpoints.size() - i);
    stream.expires_after(std::max(share, std::min(left, kMinConnectAttempt)));
    auto [connect_ec] =
        co_await stream.async_connect(endpoints[i], asio::as_tuple(asio::use_awaitable));
    resolver.report_connect(endpoints[i], !connect_ec);
    if (!connect_ec) co_return error_code{};
    ec = connect_ec;
    stream.close();  // the next address may be of the other family; a new socket either way
  }
  co_return ec;
}

}  // namespace s3hc::net
