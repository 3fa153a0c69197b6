// The pass-through pipeline: every request is forwarded to the origin byte-transparently
// (method, target, headers, body) and the answer streamed back, so SigV4 signatures stay valid.
// One handler per worker thread.
#pragma once

#include <boost/beast/http/message.hpp>
#include <functional>

#include "http/request_handler.h"
#include "pipeline/origin_context.h"

namespace s3hc::pipeline {

// Forwards one request and relays the answer; the whole of what ForwardHandler does, and the
// fallback of every other pipeline.
boost::asio::awaitable<bool> forward(http::ClientConnection& client, http::RequestParser& request,
                                     OriginContext& origin);
// The same, with `amend` applied to the origin's response header before it is relayed.
boost::asio::awaitable<bool> forward(
    http::ClientConnection& client, http::RequestParser& request, OriginContext& origin,
    std::function<void(boost::beast::http::response_header<>&)> amend);

class ForwardHandler final : public http::RequestHandler {
 public:
  explicit ForwardHandler(OriginContext& origin) : origin_(origin) {}

  boost::asio::awaitable<bool> handle(http::ClientConnection& client,
                                      http::RequestParser& request) override {
    return forward(client, request, origin_);
  }

 private:
  OriginContext& origin_;
};

}  // namespace s3hc::pipeline
