// The seam between the OTLP exporter's schedule and the network: one POST of an encoded
// export request at a time. otlp_http_transport.h is the real one; tests use a fake.
// Used from the exporter's executor only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

namespace s3hc::obs {

struct OtlpPostResult {
  bool delivered = false;  // the collector accepted the request
  bool retryable = false;  // not delivered, and worth another try (OTLP/HTTP's rules)
  std::string what;        // for the log: the status answered, or the error met
};

class OtlpTransport {
 public:
  virtual ~OtlpTransport() = default;

  // Sends one ExportMetricsServiceRequest (OTLP/HTTP JSON). Never throws: every failure is a
  // result.
  virtual boost::asio::awaitable<OtlpPostResult> post(std::string body) = 0;

  // Ends the post in flight, if any, at once (it returns not delivered).
  virtual void cancel() = 0;
};

}  // namespace s3hc::obs
