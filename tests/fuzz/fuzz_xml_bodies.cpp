// The XML bodies of requests and answers (s3/xml_document.h, s3/complete_multipart.h,
// s3/delete_objects.h). The input is one body, given to each parser.
// Checks: what a parser accepts obeys its contract (part numbers ascending within 1-10000, 1 to
// 1000 keys, non-empty upload ids), and what it read, written back as XML, reads the same.
#include <string>

#include "fuzz_common.h"
#include "s3/complete_multipart.h"
#include "s3/delete_objects.h"
#include "s3/xml_document.h"

namespace {

namespace s3 = s3hc::s3;

// Element text as a document would carry it (carriage returns as a reference, or line-end
// normalisation would turn them into line feeds).
std::string escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\r': out += "&#13;"; break;
      default: out += c;
    }
  }
  return out;
}

void check_complete_upload(std::string_view body) {
  const auto parts = s3::parse_complete_multipart_upload(body);
  if (!parts) return;
  S3HC_FUZZ_CHECK(!parts->empty());
  std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (std::size_t i = 0; i < parts->size(); ++i) {
    const auto& part = (*parts)[i];
    S3HC_FUZZ_CHECK(part.part_number >= 1 && part.part_number <= 10000);
    if (i > 0) S3HC_FUZZ_CHECK((*parts)[i - 1].part_number < part.part_number);
    xml += "<Part><ETag>" + escape(part.etag) + "</ETag><PartNumber>" +
           std::to_string(part.part_number) + "</PartNumber></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  S3HC_FUZZ_CHECK(s3::parse_complete_multipart_upload(xml) == parts);
}

void check_delete(std::string_view body) {
  const auto keys = s3::parse_delete_objects(body);
  if (!keys) return;
  S3HC_FUZZ_CHECK(!keys->empty() && keys->size() <= s3::kMaxObjectsPerDelete);
  std::string xml = "<Delete><Quiet>true</Quiet>";
  for (const auto& key : *keys) xml += "<Object><Key>" + escape(key) + "</Key></Object>";
  xml += "</Delete>";
  S3HC_FUZZ_CHECK(s3::parse_delete_objects(xml) == keys);
}

void check_results(std::string_view body) {
  if (const auto etag = s3::parse_complete_multipart_result(body)) {
    const auto xml = "<CompleteMultipartUploadResult><Bucket>b</Bucket><ETag>" + escape(*etag) +
                     "</ETag></CompleteMultipartUploadResult>";
    S3HC_FUZZ_CHECK(s3::parse_complete_multipart_result(xml) == etag);
  }
  if (const auto upload_id = s3::parse_initiate_multipart_result(body)) {
    S3HC_FUZZ_CHECK(!upload_id->empty());
    const auto xml = "<InitiateMultipartUploadResult><UploadId>" + escape(*upload_id) +
                     "</UploadId></InitiateMultipartUploadResult>";
    S3HC_FUZZ_CHECK(s3::parse_initiate_multipart_result(xml) == upload_id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto body = s3hc::fuzz::as_text(data, size);
  if (const auto document = s3::parse_xml_document(body)) {
    S3HC_FUZZ_CHECK(!document->name.empty());
  }
  check_complete_upload(body);
  check_delete(body);
  check_results(body);
  return 0;
}
