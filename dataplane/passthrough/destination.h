// Where a passthrough connection may go: the endpoint its TLS server name gives, under the
// policy of requests routed by Host (upstream.allowed_hosts; http/origin_router.h), port 443.
// In fixed mode (upstream.url set) too: the client's TLS session is with the name it sent,
// which only that name's endpoint can answer, so upstream.url is never a passthrough target.
// Pure; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/upstream_options.h"

namespace s3hc::passthrough {

// The endpoint name (lower-cased, a trailing dot dropped) `server_name` may reach; nullopt
// when it is not an allowed name: another name, an IP address in any spelling, anything with
// a port (a server name never has one).
std::optional<std::string> destination_name(const http::UpstreamOptions& options,
                                            std::string_view server_name);

}  // namespace s3hc::passthrough
