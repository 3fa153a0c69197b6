#include "pipeline/written_object.h"

#include "util/ascii.h"

#include <boost/beast/http/field.hpp>
#include <algorithm>
#include <string>
#include <string_view>

namespace s3hc::pipeline {
namespace {

namespace bhttp = boost::beast::http;

// Content-Encoding as S3 stores it: without the aws-chunked transfer coding.
std::string stored_content_encoding(std::string_view value) {
  std::string out;
  util::for_each_list_item(value, [&out](std::string_view item) {
    if (util::iequals(item, "aws-chunked")) return;
    if (!out.empty()) out += ',';
    out.append(item);
  });
  return out;
}

// Request headers S3 stores with the object and returns on GET under the same name.
bool stored_from_request(std::string_view name) {
  for (const std::string_view exact :
       {"content-type", "content-disposition", "content-language", "cache-control", "expires",
        "x-amz-website-redirect-location", "x-amz-object-lock-mode",
        "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold"}) {
    if (util::iequals(name, exact)) return true;
  }
  return util::starts_with_nocase(name, "x-amz-meta-");
}

// Answer headers that describe the stored object.
bool stored_from_response(std::string_view name) {
  return util::iequals(name, "x-amz-version-id") ||
         util::starts_with_nocase(name, "x-amz-server-side-encryption");
}

// x-amz-tagging is a query string of tags; GET answers with their number.
std::size_t tag_count(std::string_view tagging) {
  if (tagging.empty()) return 0;
  return static_cast<std::size_t>(std::count(tagging.begin(), tagging.end(), '&')) + 1;
}

}  // namespace

bool has_customer_key(const RequestHeader& request) {
  for (const auto& field : request) {
    if (util::starts_with_nocase(field.name_string(), "x-amz-server-side-encryption-customer-")) {
      return true;
    }
  }
  return false;
}

bool is_aws_chunked(const RequestHeader& request) {
  if (util::starts_with_nocase(request["x-amz-content-sha256"], "STREAMING-")) return true;
  bool listed = false;
  util::for_each_list_item(request[bhttp::field::content_encoding], [&](std::string_view item) {
    listed |= util::iequals(item, "aws-chunked");
  });
  return listed;
}

std::optional<std::uint64_t> declared_object_size(const RequestHeader& request) {
  if (is_aws_chunked(request))
    return util::parse_decimal_u64(request["x-amz-decoded-content-length"]);
  return util::parse_decimal_u64(request[bhttp::field::content_length]);
}

cache::HeaderList stored_request_headers(const RequestHeader& request) {
  cache::HeaderList headers;
  bool has_content_type = false;
  for (const auto& field : request) {
    const auto name = field.name_string();
    if (stored_from_request(name)) {
      has_content_type |= util::iequals(name, "content-type");
      headers.emplace_back(std::string(name), std::string(field.value()));
    }
  }
  if (!has_content_type) headers.emplace_back("Content-Type", "binary/octet-stream");
  const auto encoding = stored_content_encoding(request[bhttp::field::content_encoding]);
  if (!encoding.empty()) headers.emplace_back("Content-Encoding", encoding);
  const auto storage_class = request["x-amz-storage-class"];
  if (!storage_class.empty() && !util::iequals(storage_class, "STANDARD")) {
    headers.emplace_back("x-amz-storage-class", std::string(storage_class));
  }
  if (const auto tags = tag_count(request["x-amz-tagging"])) {
    headers.emplace_back("x-amz-tagging-count", std::to_string(tags));
  }
  return headers;
}

cache::ObjectMeta write_answer_meta(const ResponseHeader& response, std::string etag) {
  cache::ObjectMeta meta;
  meta.etag = std::move(etag);
  meta.from_write = true;
  // S3 dates the object by the write; the answer's Date is that moment to the second.
  meta.last_modified = std::string(response[bhttp::field::date]);
  for (const auto& field : response) {
    const auto name = field.name_string();
    if (stored_from_response(name)) {
      meta.headers.emplace_back(std::string(name), std::string(field.value()));
    } else if (util::starts_with_nocase(name, "x-amz-checksum-")) {
      meta.whole_object_headers.emplace_back(std::string(name), std::string(field.value()));
    }
  }
  return meta;
}

std::optional<cache::ObjectMeta> written_object_meta(const RequestHeader& request,
                                                     const ResponseHeader& response,
                                                     std::uint64_t size) {
  const auto status = response.result_int();
  const auto etag = response[bhttp::field::etag];
  if (status < 200 || status >= 300 || etag.empty()) return std::nullopt;
  auto meta = write_answer_meta(response, std::string(etag));
  meta.size = size;
  auto headers = stored_request_headers(request);
  headers.insert(headers.end(), meta.headers.begin(), meta.headers.end());
  meta.headers = std::move(headers);
  return meta;
}

}  // namespace s3hc::pipeline
