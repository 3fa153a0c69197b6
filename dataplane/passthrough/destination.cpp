#include "passthrough/destination.h"

#include "http/origin_router.h"

namespace s3hc::passthrough {

std::optional<std::string> destination_name(const http::UpstreamOptions& options,
                                            std::string_view server_name) {
  // allowed_endpoint_name reads a Host header, whose ":port" it drops; in a server name a
  // colon is an error, not a port to drop.
  if (server_name.find(':') != std::string_view::npos) return std::nullopt;
  return http::allowed_endpoint_name(options, server_name);
}

}  // namespace s3hc::passthrough
