// The TLS ClientHello scan of the HTTPS passthrough (passthrough/client_hello.h). Input: the
// first bytes of a connection, raw (unlike the other targets' text: a ClientHello is binary;
// the seeds are OpenSSL's, whole and split over many records, and a few that are no TLS).
// Checks: a verdict reached on a prefix of the input is the verdict on the whole input (more
// bytes never change it: the passthrough decides as bytes arrive), and a server name is
// non-empty and sent verbatim within the input.
#include <span>
#include <string_view>

#include "fuzz_common.h"
#include "passthrough/client_hello.h"

namespace {

using s3hc::passthrough::ClientHelloScan;
using s3hc::passthrough::HelloVerdict;
using s3hc::passthrough::scan_client_hello;

// Every prefix of a short input; of a longer one, an even sample and the last bytes (where a
// verdict is reached).
constexpr std::size_t kAllPrefixesUpTo = 512;
constexpr std::size_t kSampledPrefixes = 256;

void check_prefix(std::span<const std::uint8_t> input, std::size_t size,
                  const ClientHelloScan& whole) {
  const auto prefix = scan_client_hello(input.first(size));
  if (prefix.verdict == HelloVerdict::kNeedMore) return;
  S3HC_FUZZ_CHECK(prefix.verdict == whole.verdict);
  S3HC_FUZZ_CHECK(prefix.server_name == whole.server_name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const auto whole = scan_client_hello(input);
  if (whole.verdict == HelloVerdict::kServerName) {
    const auto& name = whole.server_name;
    S3HC_FUZZ_CHECK(!name.empty() && name.size() <= 0xffff);
    S3HC_FUZZ_CHECK(s3hc::fuzz::as_text(data, size).find(name) != std::string_view::npos);
  } else {
    S3HC_FUZZ_CHECK(whole.server_name.empty());
  }
  if (size <= kAllPrefixesUpTo) {
    for (std::size_t length = 0; length < size; ++length) check_prefix(input, length, whole);
  } else {
    for (std::size_t i = 0; i < kSampledPrefixes; ++i) {
      check_prefix(input, size * i / kSampledPrefixes, whole);
    }
    for (std::size_t length = size - 64; length < size; ++length) {
      check_prefix(input, length, whole);
    }
  }
  return 0;
}
