// The key of a PostObject form upload (s3/post_object.h).
// Input: the Content-Type value, a newline, the start of the body.
// Checks: only form uploads have a key, and a key put back into a well-formed form reads the same.
#include <string>

#include "fuzz_common.h"
#include "s3/post_object.h"
#include "util/ascii.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = s3hc::fuzz::fields(s3hc::fuzz::as_text(data, size), 2);
  const auto content_type = input[0];
  const auto key = s3hc::s3::post_object_key(content_type, input[1]);
  if (!key) return 0;
  S3HC_FUZZ_CHECK(s3hc::util::starts_with_nocase(content_type, "multipart/form-data"));

  constexpr std::string_view kBoundary = "s3hcFuzzBoundary";
  if (key->find("${filename}") != std::string::npos ||
      key->find(std::string("\r\n--") + std::string(kBoundary)) != std::string::npos) {
    return 0;
  }
  std::string form = "--" + std::string(kBoundary) +
                     "\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n" + *key + "\r\n--" +
                     std::string(kBoundary) +
                     "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                     "Content-Type: text/plain\r\n\r\nbytes";
  const auto again = s3hc::s3::post_object_key(
      "multipart/form-data; boundary=" + std::string(kBoundary), form);
  S3HC_FUZZ_CHECK(again == key);
  return 0;
}
