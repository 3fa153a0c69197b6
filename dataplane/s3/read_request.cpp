#include "s3/read_request.h"

namespace s3hc::s3 {

ReadClassification classify_read(Operation operation, const ReadHeaders& headers) {
  ReadRequest read;
  if (operation.kind == Operation::Kind::kGetObject) {
    read.kind = ReadRequest::Kind::kGetObject;
  } else if (operation.kind == Operation::Kind::kHeadObject) {
    read.kind = ReadRequest::Kind::kHeadObject;
  } else {
    return {std::nullopt, "not GetObject or HeadObject"};
  }
  for (const auto& parameter : operation.query) {
    if (parameter.name == "versionId") return {std::nullopt, "versioned read"};
    if (is_response_override(parameter.name)) return {std::nullopt, "response override"};
  }
  if (headers.has_sse_customer_key) return {std::nullopt, "SSE-C"};
  read.object = std::move(operation.address);
  read.part_number = operation.part_number;
  if (!headers.range.empty()) {
    if (read.kind == ReadRequest::Kind::kHeadObject || read.part_number) {
      return {std::nullopt, "range on HEAD or part"};
    }
    read.range = parse_single_byte_range(headers.range);
    if (!read.range) return {std::nullopt, "multi-range or malformed Range"};
  }
  return {std::move(read), {}};
}

}  // namespace s3hc::s3
