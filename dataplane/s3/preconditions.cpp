#include "s3/preconditions.h"

#include <cstdint>
#include <optional>

#include "s3/http_date.h"

namespace s3hc::s3 {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

struct EntityTag {
  bool weak = false;
  std::string_view opaque;  // without W/ and the quotes
};

// Takes the next entity tag off the front of a comma-separated list; nullopt when none is left.
// A quoted tag ends at its closing quote, since it may contain commas. An unquoted one ends at
// the next comma: RFC 7232 requires the quotes, but S3 compares "abc" and abc alike (reported
// by S3-compatible servers that had to follow it; AWS documents no grammar).
std::optional<EntityTag> take_entity_tag(std::string_view& list) {
  while (!list.empty() && (is_space(list.front()) || list.front() == ',')) list.remove_prefix(1);
  if (list.empty()) return std::nullopt;
  EntityTag tag;
  if (list.starts_with("W/")) {
    tag.weak = true;
    list.remove_prefix(2);
  }
  const auto close = list.starts_with('"') ? list.find('"', 1) : std::string_view::npos;
  if (close != std::string_view::npos) {
    tag.opaque = list.substr(1, close - 1);
    list.remove_prefix(close + 1);
  } else {
    const auto comma = list.find(',');
    tag.opaque = trim(list.substr(0, comma));
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma);
  }
  return tag;
}

enum class Comparison {
  kStrong,  // both strong and equal (If-Match, If-Range)
  kWeak,    // equal, either may be weak (If-None-Match)
};

bool same_tag(const EntityTag& a, const EntityTag& b, Comparison comparison) {
  if (comparison == Comparison::kStrong && (a.weak || b.weak)) return false;
  return a.opaque == b.opaque;
}

// If-Match / If-None-Match: "*" matches any current object (the cache holds this one).
bool list_matches(std::string_view list, const std::optional<EntityTag>& current,
                  Comparison comparison) {
  if (trim(list) == "*") return true;
  if (!current) return false;
  while (const auto tag = take_entity_tag(list)) {
    if (same_tag(*tag, *current, comparison)) return true;
  }
  return false;
}

// If-Range holds one validator. A date is told from an entity tag by the quote or W/ that
// starts a tag; what is neither a date nor a lone tag validates nothing.
bool if_range_matches(std::string_view value, const std::optional<EntityTag>& current,
                      std::optional<std::int64_t> last_modified) {
  value = trim(value);
  if (!value.starts_with('"') && !value.starts_with("W/")) {
    if (const auto date = parse_http_date(value)) return last_modified && *date == *last_modified;
  }
  const auto tag = take_entity_tag(value);
  return tag && trim(value).empty() && current && same_tag(*tag, *current, Comparison::kStrong);
}

}  // namespace

PreconditionOutcome evaluate_preconditions(const PreconditionInput& input) {
  std::string_view etag_text = input.etag;
  const auto current = take_entity_tag(etag_text);
  const auto last_modified = parse_http_date(input.last_modified);

  if (!input.if_match.empty()) {
    if (!list_matches(input.if_match, current, Comparison::kStrong)) {
      return PreconditionOutcome::kPreconditionFailed;
    }
  } else if (const auto since = parse_http_date(input.if_unmodified_since);
             since && last_modified && *last_modified > *since) {
    return PreconditionOutcome::kPreconditionFailed;
  }

  // Follows the GetObject/HeadObject API reference ("If both of the If-None-Match and
  // If-Modified-Since headers are present ... If-None-Match condition evaluates to false, and;
  // If-Modified-Since condition evaluates to true; then, S3 returns 304"): once If-None-Match
  // is present it alone decides, as in RFC 7232 §6 step 3.
  if (!input.if_none_match.empty()) {
    if (list_matches(input.if_none_match, current, Comparison::kWeak)) {
      return PreconditionOutcome::kNotModified;
    }
  } else if (const auto since = parse_http_date(input.if_modified_since);
             since && last_modified && *last_modified <= *since) {
    return PreconditionOutcome::kNotModified;
  }

  if (!input.if_range.empty() && !if_range_matches(input.if_range, current, last_modified)) {
    return PreconditionOutcome::kProceedIgnoringRange;
  }
  return PreconditionOutcome::kProceed;
}

bool has_conditional_headers(const boost::beast::http::request_header<>& request) {
  namespace bhttp = boost::beast::http;
  for (const auto field : {bhttp::field::if_match, bhttp::field::if_none_match,
                           bhttp::field::if_modified_since, bhttp::field::if_unmodified_since,
                           bhttp::field::if_range}) {
    if (request.count(field)) return true;
  }
  return false;
}

}  // namespace s3hc::s3
