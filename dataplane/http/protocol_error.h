// Classifying Beast errors: a protocol error means the peer sent bytes that are not valid
// HTTP (as opposed to a socket error, where the peer is gone).
#pragma once

#include <boost/beast/http/error.hpp>

namespace s3hc::http {

inline bool is_protocol_error(const boost::system::error_code& ec) {
  static const auto& category =
      boost::beast::http::make_error_code(boost::beast::http::error::bad_version).category();
  return ec.category() == category;
}

}  // namespace s3hc::http
