#include "http/error_writer.h"

#include <string>

#include "http/header_writer.h"

namespace s3hc::http {

boost::asio::awaitable<void> send_error(ClientWriter& client, const s3::ErrorKind& kind,
                                        const ErrorContext& context, obs::ProxyMetrics& metrics) {
  auto response = s3::error_response(kind, context.resource, context.keep_alive);
  client.record().error_code = kind.code;
  for (const auto& field : context.extra_fields) response.set(field.name, field.value);
  std::string header;
  append_header(response.base(), header);
  // An answer to HEAD has no body; its Content-Length is what a GET's would be.
  co_await client.write(header, context.method == "HEAD" ? std::string_view() : response.body());
  metrics.count_response(context.method, static_cast<unsigned>(kind.status));
}

}  // namespace s3hc::http
