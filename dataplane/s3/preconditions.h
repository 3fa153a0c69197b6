// The conditional headers of a GET or HEAD (If-Match, If-None-Match, If-Modified-Since,
// If-Unmodified-Since, If-Range) evaluated against a cached object's ETag and Last-Modified,
// so the cache answers as S3 would: 200/206, 304, 412, or 200 with the Range ignored.
// Pure function; any thread.
#pragma once

#include <boost/beast/http/message.hpp>
#include <string_view>

namespace s3hc::s3 {

struct PreconditionInput {
  // The request's header values as received; empty when the header is absent.
  std::string_view if_match = {};
  std::string_view if_none_match = {};
  std::string_view if_modified_since = {};
  std::string_view if_unmodified_since = {};
  std::string_view if_range = {};
  // The object's validators as S3 sent them.
  std::string_view etag = {};           // quoted: "\"9bb58f26192e4ba00f01e2e7b136bbd8\""
  std::string_view last_modified = {};  // an HTTP date
};

enum class PreconditionOutcome {
  kProceed,               // 200, or 206 when the request has a Range
  kProceedIgnoringRange,  // If-Range did not match: send the whole object with 200
  kNotModified,           // 304
  kPreconditionFailed,    // 412 PreconditionFailed
};

// RFC 7232 §6 order, which is also what S3's GetObject and HeadObject references describe:
//  1. If-Match: a list of entity tags or "*"; strong comparison; none matches -> 412.
//  2. If-Unmodified-Since, only without If-Match (S3: If-Match true and If-Unmodified-Since
//     false gives 200): modified after the date -> 412.
//  3. If-None-Match: a list or "*"; weak comparison; one matches -> 304.
//  4. If-Modified-Since, only without If-None-Match (S3: If-None-Match false and
//     If-Modified-Since true gives 304): not modified after the date -> 304.
//  5. If-Range: an entity tag (strong comparison) or a date (equal to Last-Modified); a
//     mismatch, or a value that is neither, ignores the Range.
// Entity tags may be weak (W/"x") and, as S3 accepts them, unquoted. A date that does not
// parse is ignored, as if the header were absent; so are the date headers when Last-Modified
// does not parse. Dates compare at one-second resolution.
PreconditionOutcome evaluate_preconditions(const PreconditionInput& input);

// Whether the request carries any of those headers: with one, the answer depends on the
// client's own preconditions.
bool has_conditional_headers(const boost::beast::http::request_header<>& request);

}  // namespace s3hc::s3
