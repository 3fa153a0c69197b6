// The seam between the HTTP server (which owns connections and parses request headers) and
// the request pipeline (which decides what to do with each request).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "http/client_connection.h"

namespace s3hc::http {

// A request whose header has been read; its body, if any, is still to be read from the
// connection through this parser (so it can be streamed with bounded memory).
using RequestParser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  // Answers one request. Must consume the request body or report the connection unusable.
  // Returns true when the connection may carry the next request. Called on the connection's
  // io_context thread; one call per connection at a time.
  virtual boost::asio::awaitable<bool> handle(ClientConnection& client, RequestParser& request) = 0;
};

}  // namespace s3hc::http
