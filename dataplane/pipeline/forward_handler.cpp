#include "pipeline/forward_handler.h"

#include "pipeline/origin_exchange.h"

namespace s3hc::pipeline {

boost::asio::awaitable<bool> forward(http::ClientConnection& client, http::RequestParser& request,
                                     OriginContext& origin) {
  return forward(client, request, origin, [](boost::beast::http::response_header<>&) {});
}

boost::asio::awaitable<bool> forward(
    http::ClientConnection& client, http::RequestParser& request, OriginContext& origin,
    std::function<void(boost::beast::http::response_header<>&)> amend) {
  OriginExchange exchange(client, request, origin);
  if (!co_await exchange.open()) co_return exchange.client_keep_alive();
  amend(exchange.response().get());
  co_return co_await exchange.relay();
}

}  // namespace s3hc::pipeline
