#include "s3/byte_range.h"

#include <charconv>

namespace s3hc::s3 {
namespace {

constexpr std::string_view kBytesUnit = "bytes";

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// A run of decimal digits and nothing else, without overflow.
std::optional<std::uint64_t> parse_decimal(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

std::optional<ByteRangeSpec> parse_single_byte_range(std::string_view header_value) {
  auto value = trim(header_value);
  if (!value.starts_with(kBytesUnit)) return std::nullopt;
  value = trim(value.substr(kBytesUnit.size()));
  if (!value.starts_with('=')) return std::nullopt;
  value = trim(value.substr(1));
  if (value.find(',') != std::string_view::npos) return std::nullopt;  // several ranges

  const auto dash = value.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto first_text = trim(value.substr(0, dash));
  const auto last_text = trim(value.substr(dash + 1));

  if (first_text.empty()) {
    const auto suffix = parse_decimal(last_text);
    if (!suffix) return std::nullopt;
    return ByteRangeSpec{.kind = ByteRangeSpec::Kind::kSuffix, .suffix_length = *suffix};
  }
  const auto first = parse_decimal(first_text);
  if (!first) return std::nullopt;
  if (last_text.empty()) return ByteRangeSpec{.kind = ByteRangeSpec::Kind::kFrom, .first = *first};
  const auto last = parse_decimal(last_text);
  if (!last || *last < *first) return std::nullopt;
  return ByteRangeSpec{.kind = ByteRangeSpec::Kind::kFromTo, .first = *first, .last = *last};
}

std::optional<ByteRange> resolve(const ByteRangeSpec& spec, std::uint64_t object_size) {
  if (object_size == 0) return std::nullopt;
  const std::uint64_t end = object_size - 1;
  switch (spec.kind) {
    case ByteRangeSpec::Kind::kSuffix:
      if (spec.suffix_length == 0) return std::nullopt;
      return ByteRange{spec.suffix_length >= object_size ? 0 : object_size - spec.suffix_length,
                       end};
    case ByteRangeSpec::Kind::kFrom:
      if (spec.first > end) return std::nullopt;
      return ByteRange{spec.first, end};
    case ByteRangeSpec::Kind::kFromTo:
      if (spec.first > end) return std::nullopt;
      return ByteRange{spec.first, std::min(spec.last, end)};
  }
  return std::nullopt;
}

std::optional<ContentRange> parse_content_range(std::string_view header_value) {
  auto value = trim(header_value);
  if (!value.starts_with(kBytesUnit)) return std::nullopt;
  value = value.substr(kBytesUnit.size());
  if (!value.starts_with(' ')) return std::nullopt;
  value = trim(value);
  const auto dash = value.find('-');
  const auto slash = value.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
    return std::nullopt;
  }
  const auto first = parse_decimal(value.substr(0, dash));
  const auto last = parse_decimal(value.substr(dash + 1, slash - dash - 1));
  const auto complete = parse_decimal(value.substr(slash + 1));
  if (!first || !last || !complete || *last < *first || *last >= *complete) return std::nullopt;
  return ContentRange{{*first, *last}, *complete};
}

std::string format_content_range(const ContentRange& content_range) {
  return "bytes " + std::to_string(content_range.range.first) + "-" +
         std::to_string(content_range.range.last) + "/" +
         std::to_string(content_range.complete_length);
}

std::string range_value(ByteRange bytes) {
  return "bytes=" + std::to_string(bytes.first) + "-" + std::to_string(bytes.last);
}

}  // namespace s3hc::s3
