// Which headers a signature covers (s3/signed_headers.h): the SignedHeaders of a SigV4
// Authorization header or a presigned URL's X-Amz-SignedHeaders.
// Input: the Authorization value (empty: none), a newline, the request target.
// Checks: names are non-empty and lower-case, each is covered whatever its case, and a list
// written back into an Authorization header reads the same.
#include <string>

#include "fuzz_common.h"
#include "s3/signed_headers.h"
#include "util/ascii.h"

namespace {

using s3hc::s3::SignedHeaders;

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = s3hc::fuzz::fields(s3hc::fuzz::as_text(data, size), 2);
  const auto authorization = input[0];
  const auto signed_headers = SignedHeaders::from_request(authorization, input[1]);

  if (!authorization.empty() && !authorization.starts_with("AWS4-")) {
    S3HC_FUZZ_CHECK(signed_headers.names().empty());
  }
  std::string list;
  bool writable = true;  // no separator of the Authorization header inside a name
  for (const auto& name : signed_headers.names()) {
    S3HC_FUZZ_CHECK(!name.empty());
    S3HC_FUZZ_CHECK(name.find(';') == std::string::npos);
    S3HC_FUZZ_CHECK(name == s3hc::util::to_lower_ascii(name));
    S3HC_FUZZ_CHECK(signed_headers.covers(name));
    S3HC_FUZZ_CHECK(signed_headers.covers(upper(name)));
    if (name.find_first_of(", ") != std::string::npos) writable = false;
    if (!list.empty()) list += ';';
    list += name;
  }
  if (writable) {
    const auto again = SignedHeaders::from_request(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/s3/aws4_request, "
        "SignedHeaders=" + list + ", Signature=0123abcd",
        {});
    S3HC_FUZZ_CHECK(again.names() == signed_headers.names());
  }
  return 0;
}
