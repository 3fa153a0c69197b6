// The seam between the keep-alive pool and how a new connection to the origin is made: over
// the network (network_connector.h) in the proxy, in memory in tests (tests/unit/fake_origin.h),
// later one per endpoint when requests are routed by Host.
//
// Thread-safety: none; each worker thread owns its connectors and uses them from its io_context.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <memory>

#include "http/upstream_connection.h"

namespace s3hc::http {

class UpstreamConnector {
 public:
  virtual ~UpstreamConnector() = default;

  // A new connection ready for a request; nullptr with ec set when the origin cannot be
  // reached (a net::ResolveError when its name could not be resolved).
  virtual boost::asio::awaitable<std::unique_ptr<UpstreamConnection>> connect(
      boost::system::error_code& ec) = 0;
};

}  // namespace s3hc::http
