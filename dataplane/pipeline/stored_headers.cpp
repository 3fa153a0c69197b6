#include "pipeline/stored_headers.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "s3/http_date.h"
#include "util/ascii.h"

namespace s3hc::pipeline {
namespace {

constexpr std::string_view kMetaPrefix = "x-amz-meta-";

// What GET answers with for one request header: nothing, or one header; or `faithful` false
// when the proxy cannot tell, and the write is not cached.
struct Verdict {
  bool faithful = true;
  std::optional<std::pair<std::string, std::string>> header;
};

Verdict keep(std::string name, std::string_view value) {
  return {true, std::make_pair(std::move(name), std::string(value))};
}
Verdict nothing() { return {}; }
Verdict unknown() { return {false, std::nullopt}; }

// "S3 stores the resulting object without the aws-chunked value in the content-encoding
// header. If aws-chunked is the only value [...] S3 considers the content-encoding header
// empty and does not return this header" (S3's SigV4 streaming reference). How S3 joins the
// codings left when there are several is not documented; such writes are left to S3. So is
// an aws-chunked spelled in other letter cases, which S3 may or may not recognise.
Verdict content_encoding(std::string_view value) {
  std::vector<std::string_view> codings;
  bool chunked = false;
  bool unsure = false;
  util::for_each_list_item(value, [&](std::string_view item) {
    if (item == "aws-chunked") {
      chunked = true;
    } else {
      unsure |= util::iequals(item, "aws-chunked");
      codings.push_back(item);
    }
  });
  if (unsure) return unknown();
  if (!chunked) return keep("Content-Encoding", value);
  if (codings.empty()) return nothing();
  if (codings.size() == 1) return keep("Content-Encoding", codings.front());
  return unknown();
}

// S3 keeps Expires as a string, but whether it rewrites a date sent in another form (RFC 850,
// asctime, no day name) is not documented: only the form every SDK sends, the IMF-fixdate,
// is kept, and round trips unchanged whichever S3 does.
Verdict expires(std::string_view value) {
  const auto time = s3::parse_http_date(value);
  if (time && s3::format_http_date(*time) == value) return keep("Expires", value);
  return unknown();
}

// GET names the storage class of an object unless it is STANDARD. Objects of GLACIER and
// DEEP_ARCHIVE answer GET with 403 InvalidObjectState until restored, so what S3 answers is
// not the written bytes; classes not listed here (OUTPOSTS, EXPRESS_ONEZONE of directory
// buckets, classes newer than this list) are left to S3 too.
Verdict storage_class(std::string_view value) {
  if (value == "STANDARD") return nothing();
  for (const std::string_view readable :
       {"REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"}) {
    if (value == readable) return keep("x-amz-storage-class", value);
  }
  return unknown();
}

// x-amz-tagging is a URL query string of tags ("a=1&b=2", a value may be empty: "a=&b");
// GET answers with their number. A set whose count is unsure is left to S3: an empty tag
// ("a=1&&b=2", a trailing '&'), an empty key, or a repeated one (which S3 refuses anyway).
Verdict tag_count(std::string_view value) {
  std::set<std::string_view> keys;
  while (true) {
    const auto amp = value.find('&');
    const auto tag = value.substr(0, amp);
    const auto key = tag.substr(0, tag.find('='));
    if (key.empty() || !keys.insert(key).second) return unknown();
    if (amp == std::string_view::npos) break;
    value.remove_prefix(amp + 1);
  }
  return keep("x-amz-tagging-count", std::to_string(keys.size()));
}

// S3 keeps user metadata names in lower case (boto3 reads Metadata['mixed-case'] whatever
// the writer sent) and values as sent. Values in RFC 2047 encoded words ("=?UTF-8?B?...?=")
// are decoded when stored and encoded again when returned, not necessarily as sent: left to S3.
Verdict user_metadata(std::string_view name, std::string_view value) {
  if (name.size() == kMetaPrefix.size()) return unknown();  // "x-amz-meta-" with no name
  if (value.find("=?") != std::string_view::npos) return unknown();
  return keep(util::to_lower_ascii(name), value);
}

// Whether S3 returns `value` as sent: printable US-ASCII. S3 requires ASCII in REST headers,
// encodes non-ASCII metadata in RFC 2047 words when returning it, and leaves metadata with
// unprintable characters out of GET (counting it in x-amz-missing-meta).
bool printable_ascii(std::string_view value) {
  for (const char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// The rule for one request header; nullopt for headers GET does not return.
std::optional<Verdict> rule(std::string_view name, std::string_view value) {
  if (util::starts_with_nocase(name, kMetaPrefix)) return user_metadata(name, value);
  // Retention and legal hold come back only to readers with s3:GetObjectRetention or
  // s3:GetObjectLegalHold (which the proxy cannot check), the date in S3's own form, and a
  // legal hold of OFF perhaps not at all: such writes are left to S3.
  if (util::starts_with_nocase(name, "x-amz-object-lock-")) return unknown();
  // The other headers S3 returns must not be empty: what S3 makes of an empty one is unknown.
  if (value.empty()) {
    for (const std::string_view stored :
         {"content-type", "content-encoding", "expires", "cache-control", "content-disposition",
          "content-language", "x-amz-website-redirect-location", "x-amz-storage-class",
          "x-amz-tagging"}) {
      if (util::iequals(name, stored)) return unknown();
    }
    return std::nullopt;
  }
  if (util::iequals(name, "content-type")) return keep("Content-Type", value);
  if (util::iequals(name, "content-encoding")) return content_encoding(value);
  if (util::iequals(name, "expires")) return expires(value);
  if (util::iequals(name, "cache-control")) return keep("Cache-Control", value);
  if (util::iequals(name, "content-disposition")) return keep("Content-Disposition", value);
  if (util::iequals(name, "content-language")) return keep("Content-Language", value);
  if (util::iequals(name, "x-amz-website-redirect-location")) {
    return keep("x-amz-website-redirect-location", value);
  }
  if (util::iequals(name, "x-amz-storage-class")) return storage_class(value);
  if (util::iequals(name, "x-amz-tagging")) return tag_count(value);
  return std::nullopt;
}

}  // namespace

std::optional<cache::HeaderList> stored_request_headers(const RequestHeader& request) {
  cache::HeaderList headers;
  std::set<std::string> seen;
  for (const auto& field : request) {
    const auto name = field.name_string();
    const auto value = field.value();
    const auto verdict = rule(name, value);
    if (!verdict) continue;
    // S3 merges repeated headers into one comma-separated value, in a form not documented.
    if (!seen.insert(util::to_lower_ascii(name)).second) return std::nullopt;
    if (!verdict->faithful || !printable_ascii(value)) return std::nullopt;
    if (verdict->header) headers.push_back(*verdict->header);
  }
  if (!seen.contains("content-type")) headers.emplace_back("Content-Type", "binary/octet-stream");
  return headers;
}

bool answer_header_describes_object(std::string_view name) {
  if (util::iequals(name, "x-amz-server-side-encryption-context")) return false;
  return util::iequals(name, "x-amz-version-id") || util::iequals(name, "x-amz-expiration") ||
         util::starts_with_nocase(name, "x-amz-server-side-encryption");
}

}  // namespace s3hc::pipeline
