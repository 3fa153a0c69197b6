// Conditional headers (s3/preconditions.h). Input, one a line: If-Match, If-None-Match,
// If-Modified-Since, If-Unmodified-Since, If-Range, the object's ETag, its Last-Modified.
// Checks: each outcome is caused by a header that can cause it; "*" and the object's own ETag
// match; has_conditional_headers sees exactly the headers present.
#include <boost/beast/http/message.hpp>
#include <string>

#include "fuzz_common.h"
#include "s3/preconditions.h"

namespace {

namespace s3 = s3hc::s3;
using Outcome = s3::PreconditionOutcome;

bool is_single_line(std::string_view value) {
  return value.find_first_of("\r\n") == std::string_view::npos;
}

// An ETag as S3 sends it: one strong, quoted entity tag.
bool is_quoted_tag(std::string_view etag) {
  return etag.size() >= 2 && etag.front() == '"' && etag.find('"', 1) == etag.size() - 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto f = s3hc::fuzz::fields(s3hc::fuzz::as_text(data, size), 7);
  const s3::PreconditionInput input{.if_match = f[0],
                                    .if_none_match = f[1],
                                    .if_modified_since = f[2],
                                    .if_unmodified_since = f[3],
                                    .if_range = f[4],
                                    .etag = f[5],
                                    .last_modified = f[6]};
  const auto outcome = s3::evaluate_preconditions(input);
  switch (outcome) {
    case Outcome::kProceed:
      break;
    case Outcome::kPreconditionFailed:
      S3HC_FUZZ_CHECK(!input.if_match.empty() || !input.if_unmodified_since.empty());
      break;
    case Outcome::kNotModified:
      S3HC_FUZZ_CHECK(!input.if_none_match.empty() || !input.if_modified_since.empty());
      break;
    case Outcome::kProceedIgnoringRange:
      S3HC_FUZZ_CHECK(!input.if_range.empty());
      break;
  }

  // "*" passes If-Match (and turns If-Unmodified-Since off).
  auto star = input;
  star.if_match = "*";
  S3HC_FUZZ_CHECK(s3::evaluate_preconditions(star) != Outcome::kPreconditionFailed);
  // The object's own ETag passes If-Match and fails If-None-Match, whatever the dates say.
  auto own = star;
  own.if_match = input.etag;
  own.if_none_match = input.etag;
  if (is_quoted_tag(input.etag)) {
    S3HC_FUZZ_CHECK(s3::evaluate_preconditions(own) == Outcome::kNotModified);
  }
  // No conditional header: the request proceeds.
  S3HC_FUZZ_CHECK(s3::evaluate_preconditions({.etag = input.etag,
                                              .last_modified = input.last_modified}) ==
                  Outcome::kProceed);

  namespace bhttp = boost::beast::http;
  bhttp::request_header<> request;
  bool any = false;
  const std::pair<bhttp::field, std::string_view> headers[] = {
      {bhttp::field::if_match, input.if_match},
      {bhttp::field::if_none_match, input.if_none_match},
      {bhttp::field::if_modified_since, input.if_modified_since},
      {bhttp::field::if_unmodified_since, input.if_unmodified_since},
      {bhttp::field::if_range, input.if_range}};
  for (const auto& [field, value] : headers) {
    if (value.empty() || !is_single_line(value)) continue;
    request.set(field, value);
    any = true;
  }
  S3HC_FUZZ_CHECK(s3::has_conditional_headers(request) == any);
  return 0;
}
