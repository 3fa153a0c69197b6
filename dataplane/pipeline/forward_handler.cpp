#include "pipeline/forward_handler.h"

#include "pipeline/origin_exchange.h"

namespace s3hc::pipeline {

boost::asio::awaitable<bool> forward(http::ClientConnection& client, http::RequestParser& request,
                                     OriginContext& origin) {
  OriginExchange exchange(client, request, origin);
  if (!co_await exchange.open()) co_return exchange.client_keep_alive();
  co_return co_await exchange.relay();
}

}  // namespace s3hc::pipeline
