#include "s3/write_request.h"

#include "s3/read_request.h"
#include "s3/request_target.h"

namespace s3hc::s3 {

WriteRequest classify_write(std::string_view method, std::string_view target,
                            bool has_copy_source) {
  WriteRequest write;
  const auto query = parse_query(split_target(target).query);
  if (!query) return write;
  bool uploads = false;
  std::optional<std::string> upload_id;
  std::optional<std::uint32_t> part_number;
  std::size_t others = 0;
  for (const auto& parameter : *query) {
    if (parameter.name == "uploads") {
      uploads = true;
    } else if (parameter.name == "uploadId") {
      upload_id = parameter.value;
    } else if (parameter.name == "partNumber") {
      part_number = parse_part_number(parameter.value);
      if (!part_number) return write;
    } else if (parameter.name != "x-id") {  // SDKs add x-id=Operation
      ++others;
    }
  }
  if (others > 0) return write;
  if (method == "PUT" && !has_copy_source) {
    if (!uploads && !upload_id && !part_number) write.kind = WriteRequest::Kind::kPutObject;
    if (upload_id && part_number && !upload_id->empty()) {
      write.kind = WriteRequest::Kind::kUploadPart;
      write.part_number = *part_number;
      write.upload_id = std::move(*upload_id);
    }
  } else if (method == "POST" && !part_number) {
    if (uploads && !upload_id) write.kind = WriteRequest::Kind::kCreateUpload;
    if (!uploads && upload_id && !upload_id->empty()) {
      write.kind = WriteRequest::Kind::kCompleteUpload;
      write.upload_id = std::move(*upload_id);
    }
  } else if (method == "DELETE" && !uploads && !part_number && upload_id && !upload_id->empty()) {
    write.kind = WriteRequest::Kind::kAbortUpload;
    write.upload_id = std::move(*upload_id);
  }
  return write;
}

}  // namespace s3hc::s3
