#include "s3/complete_multipart.h"

#include "s3/operation.h"
#include "s3/xml_document.h"
#include "util/ascii.h"

namespace s3hc::s3 {
namespace {

// XML Schema integers may carry surrounding whitespace, and S3 checks bodies against its schema
// (its MalformedXML message says so), so " 7 " is part 7.
std::string_view trim_xml_space(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// The result of a successful CompleteMultipartUpload: S3 names its root ...Result; some
// S3-compatible servers (moto) ...Response.
std::optional<XmlElement> complete_result(std::string_view body) {
  auto document = parse_xml_document(body);
  if (!document || (document->name != "CompleteMultipartUploadResult" &&
                    document->name != "CompleteMultipartUploadResponse")) {
    return std::nullopt;
  }
  return document;
}

}  // namespace

std::optional<std::vector<CompletedPart>> parse_complete_multipart_upload(std::string_view body) {
  const auto document = parse_xml_document(body);
  if (!document || document->name != "CompleteMultipartUpload") return std::nullopt;
  std::vector<CompletedPart> parts;
  for (const auto& [name, part] : document->content) {
    if (name != "Part") continue;
    const auto number_text = only_child_text(part, "PartNumber");
    auto etag = only_child_text(part, "ETag");
    if (!number_text || !etag) return std::nullopt;
    const auto number = parse_part_number(trim_xml_space(*number_text));
    if (!number || (!parts.empty() && *number <= parts.back().part_number)) return std::nullopt;
    parts.push_back({*number, quoted_etag(*etag)});
  }
  if (parts.empty()) return std::nullopt;
  return parts;
}

std::optional<std::string> parse_complete_multipart_result(std::string_view body) {
  const auto document = complete_result(body);
  if (!document) return std::nullopt;
  return only_child_text(document->content, "ETag");
}

std::vector<std::pair<std::string, std::string>> parse_complete_multipart_checksums(
    std::string_view body) {
  std::vector<std::pair<std::string, std::string>> headers;
  const auto document = complete_result(body);
  if (!document) return headers;
  constexpr std::string_view kPrefix = "Checksum";
  for (const auto& [name, child] : document->content) {
    const std::string_view element = name;
    if (!element.starts_with(kPrefix) || element.size() == kPrefix.size() || !child.empty()) {
      continue;
    }
    headers.emplace_back("x-amz-checksum-" + util::to_lower_ascii(element.substr(kPrefix.size())),
                         child.data());
  }
  return headers;
}

std::string quoted_etag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return std::string(etag);
  std::string quoted;
  quoted.reserve(etag.size() + 2);
  quoted.append(1, '"').append(etag).append(1, '"');
  return quoted;
}

std::optional<std::string> parse_initiate_multipart_result(std::string_view body) {
  const auto document = parse_xml_document(body);
  if (!document || document->name != "InitiateMultipartUploadResult") return std::nullopt;
  auto upload_id = only_child_text(document->content, "UploadId");
  if (!upload_id || upload_id->empty()) return std::nullopt;
  return upload_id;
}

}  // namespace s3hc::s3
