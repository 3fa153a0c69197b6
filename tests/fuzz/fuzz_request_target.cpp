// The request target and what is read from it (s3/request_target.h, s3/object_address.h,
// s3/operation.h, s3/read_request.h) and the x-amz-copy-source header (s3/copy_source.h).
// Input, one a line: method, target, Host, Range, x-amz-copy-source, Content-Type.
// Checks: percent-encoding and queries round-trip; an operation's kind agrees with its method,
// address, query, copy source and Content-Type; a cacheable read names the object the target
// addresses, with the Range as parsed; a parsed copy source re-encodes to itself.
#include <algorithm>
#include <optional>
#include <string>

#include "fuzz_common.h"
#include "s3/copy_source.h"
#include "s3/object_address.h"
#include "s3/operation.h"
#include "s3/read_request.h"
#include "s3/request_target.h"
#include "util/ascii.h"

namespace {

namespace s3 = s3hc::s3;
using s3hc::fuzz::percent_encode;

const s3::AddressingOptions kAddressing{.virtual_host_suffixes = {".storage.example"}};

std::string encode_query(const std::vector<s3::QueryParameter>& parameters) {
  std::string query;
  for (const auto& parameter : parameters) {
    if (!query.empty()) query += '&';
    query += percent_encode(parameter.name);
    if (parameter.has_value) query += "=" + percent_encode(parameter.value);
  }
  return query;
}

void check_target(std::string_view target) {
  const auto split = s3::split_target(target);
  S3HC_FUZZ_CHECK(split.path.find('?') == std::string_view::npos);
  S3HC_FUZZ_CHECK(target.starts_with(split.path));
  S3HC_FUZZ_CHECK(split.path.size() == target.size() ||
                  (target[split.path.size()] == '?' &&
                   target.substr(split.path.size() + 1) == split.query));

  S3HC_FUZZ_CHECK(s3::percent_decode(percent_encode(target)) == std::string(target));
  if (const auto path = s3::percent_decode(split.path)) {
    S3HC_FUZZ_CHECK(path->size() <= split.path.size());
  }
  if (const auto parameters = s3::parse_query(split.query)) {
    const auto again = s3::parse_query(encode_query(*parameters));
    S3HC_FUZZ_CHECK(again && again->size() == parameters->size());
    for (std::size_t i = 0; i < parameters->size(); ++i) {
      const auto& a = (*parameters)[i];
      const auto& b = (*again)[i];
      S3HC_FUZZ_CHECK(a.name == b.name && a.value == b.value && a.has_value == b.has_value);
      S3HC_FUZZ_CHECK(a.has_value || a.value.empty());
    }
  }
}

void check_operation(const s3::RequestParts& request, std::string_view range) {
  using Kind = s3::Operation::Kind;
  const auto operation = s3::classify_operation(request, kAddressing);
  const auto& address = operation.address;
  const auto method = request.method;
  const auto parsed = s3::parse_address(s3::split_target(request.target).path, request.host,
                                        kAddressing);
  S3HC_FUZZ_CHECK(parsed.value_or(s3::ObjectAddress{}) == address);
  if (address.bucket.empty()) S3HC_FUZZ_CHECK(operation.kind == Kind::kOther);
  if (operation.part_number) {
    S3HC_FUZZ_CHECK(*operation.part_number >= 1 && *operation.part_number <= 10000);
  }
  const bool object = !address.key.empty();
  const bool names_upload = !operation.upload_id.empty();
  const bool write = method == "PUT" || method == "POST" || method == "DELETE";
  switch (operation.kind) {
    case Kind::kGetObject:
    case Kind::kHeadObject:
      S3HC_FUZZ_CHECK(object && method == (operation.kind == Kind::kGetObject ? "GET" : "HEAD"));
      S3HC_FUZZ_CHECK(!names_upload);
      break;
    case Kind::kPutObject:
    case Kind::kCopyObject:
      S3HC_FUZZ_CHECK(object && method == "PUT" && !names_upload && !operation.part_number);
      S3HC_FUZZ_CHECK(request.has_copy_source == (operation.kind == Kind::kCopyObject));
      break;
    case Kind::kUploadPart:
    case Kind::kUploadPartCopy:
      S3HC_FUZZ_CHECK(object && method == "PUT" && names_upload && operation.part_number);
      S3HC_FUZZ_CHECK(request.has_copy_source == (operation.kind == Kind::kUploadPartCopy));
      break;
    case Kind::kCreateMultipartUpload:
      S3HC_FUZZ_CHECK(object && method == "POST" && !names_upload && !operation.part_number);
      break;
    case Kind::kCompleteMultipartUpload:
      S3HC_FUZZ_CHECK(object && method == "POST" && names_upload && !operation.part_number);
      break;
    case Kind::kAbortMultipartUpload:
      S3HC_FUZZ_CHECK(object && method == "DELETE" && names_upload && !operation.part_number);
      break;
    case Kind::kDeleteObject:
      S3HC_FUZZ_CHECK(object && method == "DELETE" && !names_upload && !operation.part_number);
      break;
    case Kind::kOtherObjectWrite:
      S3HC_FUZZ_CHECK(object && write && !names_upload && !operation.part_number);
      break;
    case Kind::kDeleteObjects:
      S3HC_FUZZ_CHECK(!address.bucket.empty() && !object && method == "POST");
      S3HC_FUZZ_CHECK(!names_upload && !operation.part_number);
      S3HC_FUZZ_CHECK(std::any_of(operation.query.begin(), operation.query.end(),
                                  [](const auto& p) { return p.name == "delete"; }));
      break;
    case Kind::kPostObject:
      S3HC_FUZZ_CHECK(!address.bucket.empty() && !object && method == "POST");
      S3HC_FUZZ_CHECK(!names_upload && !operation.part_number);
      S3HC_FUZZ_CHECK(s3hc::util::starts_with_nocase(request.content_type, "multipart/form-data"));
      break;
    case Kind::kOther:
      S3HC_FUZZ_CHECK(!(object && write));
      S3HC_FUZZ_CHECK(!names_upload && !operation.part_number);
      break;
  }

  for (const bool sse_c : {false, true}) {
    const auto classification =
        s3::classify_read(operation, {.range = range, .has_sse_customer_key = sse_c});
    S3HC_FUZZ_CHECK(classification.read.has_value() == classification.why_not.empty());
    if (!classification.read) continue;
    const auto& read = *classification.read;
    S3HC_FUZZ_CHECK(!sse_c);
    S3HC_FUZZ_CHECK(read.kind == (method == "GET" ? s3::ReadRequest::Kind::kGetObject
                                                  : s3::ReadRequest::Kind::kHeadObject));
    S3HC_FUZZ_CHECK(method == "GET" || method == "HEAD");
    S3HC_FUZZ_CHECK(object && read.object == address);
    S3HC_FUZZ_CHECK(read.part_number == operation.part_number);
    if (range.empty()) {
      S3HC_FUZZ_CHECK(!read.range);
    } else {
      S3HC_FUZZ_CHECK(read.range && read.range == s3::parse_single_byte_range(range));
      S3HC_FUZZ_CHECK(method == "GET" && !read.part_number);
    }
  }
}

void check_copy_source(std::string_view header) {
  const auto source = s3::parse_copy_source(header);
  if (!source) return;
  S3HC_FUZZ_CHECK(!source->bucket.empty() && !source->key.empty());
  S3HC_FUZZ_CHECK(source->bucket.find('/') == std::string::npos);
  S3HC_FUZZ_CHECK(!source->bucket.starts_with("arn:"));
  if (source->version_id) S3HC_FUZZ_CHECK(!source->version_id->empty());
  std::string encoded = "/" + percent_encode(source->bucket) + "/" + percent_encode(source->key);
  if (source->version_id) encoded += "?versionId=" + percent_encode(*source->version_id);
  S3HC_FUZZ_CHECK(s3::parse_copy_source(encoded) == source);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = s3hc::fuzz::fields(s3hc::fuzz::as_text(data, size), 6);
  const auto target = input[1];

  check_target(target);
  check_operation({.method = input[0],
                   .target = target,
                   .host = input[2],
                   .content_type = input[5],
                   .has_copy_source = !input[4].empty()},
                  input[3]);
  check_copy_source(input[4]);
  return 0;
}
