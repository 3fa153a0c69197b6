// Which request headers a client's signature covers. The proxy may add a header to a request
// (e.g. If-None-Match to revalidate, or change Range to fetch only missing bytes) only where
// the signature does not cover it, or the origin would reject the request.
// Pure value type; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace s3hc::s3 {

class SignedHeaders {
 public:
  // From a SigV4/SigV4a Authorization header ("AWS4-... SignedHeaders=a;b, ...") or, when
  // there is none, a presigned URL's X-Amz-SignedHeaders query parameter. Anything else
  // (anonymous, SigV2) signs none of the headers this proxy would touch.
  static SignedHeaders from_request(std::string_view authorization, std::string_view target);

  // Case-insensitive, as header names are.
  bool covers(std::string_view header_name) const;
  const std::vector<std::string>& names() const { return names_; }  // lower-case
  // Whether the proxy may ask for other bytes of the object with the client's request than
  // the client did: its signature covers neither Range nor If-Match (S3 checks the signed
  // headers alone), so a copy of the request may carry any Range, pinned to one version.
  bool leaves_ranges_to_proxy() const { return !covers("range") && !covers("if-match"); }

 private:
  explicit SignedHeaders(std::vector<std::string> names) : names_(std::move(names)) {}

  std::vector<std::string> names_;
};

}  // namespace s3hc::s3
