#include "pipeline/written_object.h"

#include <boost/beast/http/field.hpp>
#include <string>
#include <string_view>

#include "util/ascii.h"

namespace s3hc::pipeline {

namespace bhttp = boost::beast::http;

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

cache::ObjectMeta write_answer_meta(const ResponseHeader& response, std::string etag) {
  cache::ObjectMeta meta;
  meta.etag = std::move(etag);
  meta.from_write = true;
  // S3 dates the object by the write; the answer's Date is that moment to the second.
  meta.last_modified = std::string(response[bhttp::field::date]);
  for (const auto& field : response) {
    const auto name = field.name_string();
    if (answer_header_describes_object(name)) {
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
  auto headers = stored_request_headers(request);
  if (!headers) return std::nullopt;
  auto meta = write_answer_meta(response, std::string(etag));
  meta.size = size;
  headers->insert(headers->end(), meta.headers.begin(), meta.headers.end());
  meta.headers = std::move(*headers);
  return meta;
}

}  // namespace s3hc::pipeline
