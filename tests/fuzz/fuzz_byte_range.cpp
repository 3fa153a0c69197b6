// Range and Content-Range (s3/byte_range.h). Input: the Range value, a newline, the
// Content-Range value, a newline, an object size in decimal (optional).
// Checks: a resolved range lies within the object and is what the spec selects; formatted
// specs and Content-Ranges parse back to themselves.
#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <string>

#include "fuzz_common.h"
#include "s3/byte_range.h"
#include "util/ascii.h"

namespace {

using s3hc::s3::ByteRangeSpec;

std::string format_spec(const ByteRangeSpec& spec) {
  switch (spec.kind) {
    case ByteRangeSpec::Kind::kFromTo:
      return "bytes=" + std::to_string(spec.first) + "-" + std::to_string(spec.last);
    case ByteRangeSpec::Kind::kFrom:
      return "bytes=" + std::to_string(spec.first) + "-";
    case ByteRangeSpec::Kind::kSuffix:
      return "bytes=-" + std::to_string(spec.suffix_length);
  }
  return {};
}

void check_resolution(const ByteRangeSpec& spec, std::uint64_t size) {
  const auto range = s3hc::s3::resolve(spec, size);
  if (!range) {
    const bool unsatisfiable = size == 0 ||
                               (spec.kind == ByteRangeSpec::Kind::kSuffix
                                    ? spec.suffix_length == 0
                                    : spec.first >= size);
    S3HC_FUZZ_CHECK(unsatisfiable);
    return;
  }
  S3HC_FUZZ_CHECK(range->first <= range->last);
  S3HC_FUZZ_CHECK(range->last < size);
  S3HC_FUZZ_CHECK(range->length() >= 1 && range->length() <= size);
  switch (spec.kind) {
    case ByteRangeSpec::Kind::kFromTo:
      S3HC_FUZZ_CHECK(range->first == spec.first);
      S3HC_FUZZ_CHECK(range->last == std::min(spec.last, size - 1));
      break;
    case ByteRangeSpec::Kind::kFrom:
      S3HC_FUZZ_CHECK(range->first == spec.first && range->last == size - 1);
      break;
    case ByteRangeSpec::Kind::kSuffix:
      S3HC_FUZZ_CHECK(range->last == size - 1);
      S3HC_FUZZ_CHECK(range->length() == std::min(spec.suffix_length, size));
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = s3hc::fuzz::fields(s3hc::fuzz::as_text(data, size), 3);

  if (const auto spec = s3hc::s3::parse_single_byte_range(input[0])) {
    if (spec->kind == ByteRangeSpec::Kind::kFromTo) S3HC_FUZZ_CHECK(spec->first <= spec->last);
    S3HC_FUZZ_CHECK(s3hc::s3::parse_single_byte_range(format_spec(*spec)) == spec);
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    const auto near = [](std::uint64_t n) {
      return std::array<std::uint64_t, 3>{n == 0 ? 0 : n - 1, n, n == kMax ? n : n + 1};
    };
    for (const auto base : {std::uint64_t{0}, std::uint64_t{1}, spec->first, spec->last,
                            spec->suffix_length, kMax}) {
      for (const auto object_size : near(base)) check_resolution(*spec, object_size);
    }
    if (const auto object_size = s3hc::util::parse_decimal_u64(input[2])) {
      check_resolution(*spec, *object_size);
    }
  }

  if (const auto content_range = s3hc::s3::parse_content_range(input[1])) {
    S3HC_FUZZ_CHECK(content_range->range.first <= content_range->range.last);
    S3HC_FUZZ_CHECK(content_range->range.last < content_range->complete_length);
    const auto formatted = s3hc::s3::format_content_range(*content_range);
    S3HC_FUZZ_CHECK(s3hc::s3::parse_content_range(formatted) == content_range);
  }
  return 0;
}
