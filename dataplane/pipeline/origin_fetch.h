// A bodiless request sent to the origin on a fill's behalf, apart from any client: the fill
// (ranged_body.h) outlives the request that started it, so nothing here refers to a client
// connection. Failures are logged and counted, never answered: the fill decides what they
// mean.
//
// Thread-safety: on the worker thread that owns `origin`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <memory>

#include "pipeline/origin_body.h"
#include "pipeline/origin_context.h"

namespace s3hc::pipeline {

// Sends `request` (the header as it stands, to the origin its Host names) and reads the final
// response header; the response's body is then the caller's to pull. A pooled connection found
// closed is replaced by a new one once. Null when no response came.
boost::asio::awaitable<std::unique_ptr<OriginBody>> fetch_from_origin(
    OriginContext& origin, const boost::beast::http::request_header<>& request);

}  // namespace s3hc::pipeline
