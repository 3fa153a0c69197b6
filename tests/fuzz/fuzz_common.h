// Helpers shared by the libFuzzer targets of tests/fuzz: inputs as text fields, and invariant
// checks that crash loudly (libFuzzer keeps the input that failed one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

// Aborts with the failed condition when an invariant does not hold.
#define S3HC_FUZZ_CHECK(condition)                                                \
  do {                                                                            \
    if (!(condition)) {                                                           \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                               \
    }                                                                             \
  } while (false)

namespace s3hc::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input cut into exactly `count` fields at its first count-1 newlines (missing fields are
// empty; the last one keeps any further newlines), so corpus files are readable text, one
// header value or argument a line.
inline std::vector<std::string_view> fields(std::string_view input, std::size_t count) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < count) {
    const auto newline = input.find('\n');
    if (newline == std::string_view::npos) break;
    out.push_back(input.substr(0, newline));
    input.remove_prefix(newline + 1);
  }
  out.push_back(input);
  out.resize(count);
  return out;
}

// Percent-encodes every byte outside RFC 3986's unreserved set.
inline std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

}  // namespace s3hc::fuzz
