// HTTP byte ranges as S3 uses them: the Range request header (one range; S3 serves no
// multi-range requests) and the Content-Range response header. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3hc::s3 {

// A range as the request wrote it, before the object's size is known.
struct ByteRangeSpec {
  enum class Kind {
    kFromTo,  // bytes=first-last
    kFrom,    // bytes=first-
    kSuffix,  // bytes=-suffix_length (the last bytes of the object)
  };
  Kind kind;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t suffix_length = 0;

  bool operator==(const ByteRangeSpec&) const = default;
};

// An inclusive span of bytes of an object of known size.
struct ByteRange {
  std::uint64_t first;
  std::uint64_t last;

  std::uint64_t length() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

// Parses a Range header value holding exactly one well-formed byte range. nullopt otherwise
// (another unit, several ranges, first > last, bad numbers): the proxy does not interpret
// such a header and forwards the request as it is, leaving the answer to the origin.
std::optional<ByteRangeSpec> parse_single_byte_range(std::string_view header_value);

// The bytes a spec selects from an object of `object_size` bytes, clamped to its end.
// nullopt when unsatisfiable (S3 answers 416 InvalidRange): a first byte at or past the end,
// a suffix of length 0, or any range of an empty object.
std::optional<ByteRange> resolve(const ByteRangeSpec& spec, std::uint64_t object_size);

// The Range header value asking for exactly `bytes`: "bytes=first-last".
std::string range_value(ByteRange bytes);

// Content-Range of a 206 response: "bytes first-last/complete_length".
struct ContentRange {
  ByteRange range;
  std::uint64_t complete_length;

  bool operator==(const ContentRange&) const = default;
};

// Parses "bytes first-last/complete"; nullopt for anything else, including the unknown-length
// ("/*") and unsatisfied ("bytes */N") forms, which cannot describe cacheable bytes.
std::optional<ContentRange> parse_content_range(std::string_view header_value);

std::string format_content_range(const ContentRange& content_range);

}  // namespace s3hc::s3
