// Writes an S3-style XML error (s3/error_response.h) to a client and counts it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <span>
#include <string_view>

#include "http/client_writer.h"
#include "obs/proxy_metrics.h"
#include "s3/error_response.h"

namespace s3hc::http {

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

struct ErrorContext {
  std::string_view method;    // of the request being answered ("-" when unparsed)
  std::string_view resource;  // its target, echoed in <Resource>
  bool keep_alive = false;    // whether the connection stays open after the error
  std::span<const HeaderField> extra_fields = {};  // e.g. the cache status of an error from it
};

boost::asio::awaitable<void> send_error(ClientWriter& client, const s3::ErrorKind& kind,
                                        const ErrorContext& context, obs::ProxyMetrics& metrics);

}  // namespace s3hc::http
