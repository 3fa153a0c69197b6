// The request target and what is read from it (s3/request_target.h, s3/read_request.h,
// s3/write_request.h) and the x-amz-copy-source header (s3/copy_source.h).
// Input, one a line: method, target, Host, Range, x-amz-copy-source.
// Checks: percent-encoding and queries round-trip; a cacheable read names the object the target
// addresses, with the Range as parsed; a write's kind agrees with its method and query; a
// parsed copy source re-encodes to itself.
#include <optional>
#include <string>

#include "fuzz_common.h"
#include "s3/copy_source.h"
#include "s3/read_request.h"
#include "s3/request_target.h"
#include "s3/write_request.h"

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

void check_read(std::string_view method, std::string_view target, std::string_view host,
                std::string_view range) {
  const auto object = s3::object_address(target, host, kAddressing);
  if (object) S3HC_FUZZ_CHECK(!object->bucket.empty() && !object->key.empty());
  if (s3::bucket_address(target, host, kAddressing)) S3HC_FUZZ_CHECK(!object);

  for (const bool sse_c : {false, true}) {
    const auto classification =
        s3::classify_read(method, target, host, {.range = range, .has_sse_customer_key = sse_c},
                          kAddressing);
    S3HC_FUZZ_CHECK(classification.read.has_value() == classification.why_not.empty());
    if (!classification.read) continue;
    const auto& read = *classification.read;
    S3HC_FUZZ_CHECK(!sse_c);
    S3HC_FUZZ_CHECK(read.kind == (method == "GET" ? s3::ReadRequest::Kind::kGetObject
                                                  : s3::ReadRequest::Kind::kHeadObject));
    S3HC_FUZZ_CHECK(method == "GET" || method == "HEAD");
    S3HC_FUZZ_CHECK(object && read.object == *object);
    if (range.empty()) {
      S3HC_FUZZ_CHECK(!read.range);
    } else {
      S3HC_FUZZ_CHECK(read.range && read.range == s3::parse_single_byte_range(range));
      S3HC_FUZZ_CHECK(method == "GET" && !read.part_number);
    }
    if (read.part_number) S3HC_FUZZ_CHECK(*read.part_number >= 1 && *read.part_number <= 10000);
  }
}

void check_write(std::string_view method, std::string_view target, bool has_copy_source) {
  using Kind = s3::WriteRequest::Kind;
  const auto write = s3::classify_write(method, target, has_copy_source);
  switch (write.kind) {
    case Kind::kPutObject:
      S3HC_FUZZ_CHECK(method == "PUT" && !has_copy_source && write.upload_id.empty());
      break;
    case Kind::kUploadPart:
      S3HC_FUZZ_CHECK(method == "PUT" && !has_copy_source);
      S3HC_FUZZ_CHECK(write.part_number >= 1 && write.part_number <= 10000);
      S3HC_FUZZ_CHECK(!write.upload_id.empty());
      break;
    case Kind::kCreateUpload:
      S3HC_FUZZ_CHECK(method == "POST" && write.upload_id.empty());
      break;
    case Kind::kCompleteUpload:
      S3HC_FUZZ_CHECK(method == "POST" && !write.upload_id.empty());
      break;
    case Kind::kAbortUpload:
      S3HC_FUZZ_CHECK(method == "DELETE" && !write.upload_id.empty());
      break;
    case Kind::kOther:
      break;
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
  const auto input = s3hc::fuzz::fields(s3hc::fuzz::as_text(data, size), 5);
  const auto method = input[0];
  const auto target = input[1];
  const auto host = input[2];

  check_target(target);
  check_read(method, target, host, input[3]);
  check_write(method, target, !input[4].empty());
  check_copy_source(input[4]);
  return 0;
}
