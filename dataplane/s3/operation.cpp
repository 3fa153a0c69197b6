#include "s3/operation.h"

#include <algorithm>
#include <charconv>

#include "util/ascii.h"

namespace s3hc::s3 {
namespace {

using Kind = Operation::Kind;
using Query = std::optional<std::vector<QueryParameter>>;  // nullopt when malformed

// Query parameters of presigned URLs: SigV4 (X-Amz-*) and the legacy SigV2 form that some
// SDKs still produce by default.
bool is_signature_parameter(std::string_view name) {
  return name.starts_with("X-Amz-") || name == "AWSAccessKeyId" || name == "Signature" ||
         name == "Expires";
}

// GET or HEAD of an object (`kind`). Any parameter but GetObject's own and a presigned URL's
// names a sub-resource (acl, tagging, attributes, ListParts' uploadId, ...) or is unknown here.
Kind read_kind(Kind kind, const Query& query, Operation& operation) {
  if (!query) return Kind::kOther;
  std::optional<std::uint32_t> part_number;
  for (const auto& parameter : *query) {
    if (parameter.name == "partNumber") {
      part_number = parse_part_number(parameter.value);
      if (!part_number) return Kind::kOther;
    } else if (parameter.name != "versionId" && parameter.name != "x-id" &&
               !is_response_override(parameter.name) && !is_signature_parameter(parameter.name)) {
      return Kind::kOther;
    }
  }
  operation.part_number = part_number;
  return kind;
}

// PUT, POST or DELETE of an object.
Kind write_kind(const RequestParts& request, const Query& query, Operation& operation) {
  if (!query) return Kind::kOtherObjectWrite;
  bool uploads = false;
  std::optional<std::string> upload_id;
  std::optional<std::uint32_t> part_number;
  for (const auto& parameter : *query) {
    if (parameter.name == "uploads") {
      uploads = true;
    } else if (parameter.name == "uploadId") {
      upload_id = parameter.value;
    } else if (parameter.name == "partNumber") {
      part_number = parse_part_number(parameter.value);
      if (!part_number) return Kind::kOtherObjectWrite;
    } else if (parameter.name != "x-id") {
      return Kind::kOtherObjectWrite;
    }
  }
  const bool plain = !uploads && !upload_id && !part_number;
  const bool names_upload = upload_id && !upload_id->empty();
  // A step of the upload `upload_id` names: the id, and the part, go with the kind.
  const auto upload_step = [&](Kind step) {
    operation.upload_id = std::move(*upload_id);
    operation.part_number = part_number;
    return step;
  };
  if (request.method == "PUT") {
    if (plain) return request.has_copy_source ? Kind::kCopyObject : Kind::kPutObject;
    if (names_upload && part_number) {
      return upload_step(request.has_copy_source ? Kind::kUploadPartCopy : Kind::kUploadPart);
    }
  } else if (request.method == "POST" && !part_number) {
    if (uploads && !upload_id) return Kind::kCreateMultipartUpload;
    if (!uploads && names_upload) return upload_step(Kind::kCompleteMultipartUpload);
  } else if (request.method == "DELETE") {
    if (plain) return Kind::kDeleteObject;
    if (!uploads && !part_number && names_upload) return upload_step(Kind::kAbortMultipartUpload);
  }
  return Kind::kOtherObjectWrite;
}

Kind object_kind(const RequestParts& request, const Query& query, Operation& operation) {
  if (request.method == "GET") return read_kind(Kind::kGetObject, query, operation);
  if (request.method == "HEAD") return read_kind(Kind::kHeadObject, query, operation);
  if (request.method == "PUT" || request.method == "POST" || request.method == "DELETE") {
    return write_kind(request, query, operation);
  }
  return Kind::kOther;
}

// Of the operations of a bucket, only those that change objects matter to the cache.
Kind bucket_kind(const RequestParts& request, const Query& query) {
  if (request.method != "POST") return Kind::kOther;
  if (query && std::any_of(query->begin(), query->end(), [](const QueryParameter& parameter) {
        return parameter.name == "delete";
      })) {
    return Kind::kDeleteObjects;
  }
  if (util::starts_with_nocase(request.content_type, "multipart/form-data")) {
    return Kind::kPostObject;
  }
  return Kind::kOther;
}

}  // namespace

Operation classify_operation(const RequestParts& request, const AddressingOptions& options) {
  const auto [path, query_text] = split_target(request.target);
  auto query = parse_query(query_text);
  Operation operation;
  if (auto address = parse_address(path, request.host, options)) {
    operation.address = std::move(*address);
    operation.kind = operation.address.key.empty() ? bucket_kind(request, query)
                                                   : object_kind(request, query, operation);
  }
  if (query) operation.query = std::move(*query);
  return operation;
}

std::string_view access_log_name(Operation::Kind kind) {
  using Kind = Operation::Kind;
  switch (kind) {
    case Kind::kGetObject: return "REST.GET.OBJECT";
    case Kind::kHeadObject: return "REST.HEAD.OBJECT";
    case Kind::kPutObject: return "REST.PUT.OBJECT";
    case Kind::kCopyObject: return "REST.COPY.OBJECT";
    case Kind::kCreateMultipartUpload: return "REST.POST.UPLOADS";
    case Kind::kUploadPart: return "REST.PUT.PART";
    case Kind::kUploadPartCopy: return "REST.COPY.PART";
    case Kind::kCompleteMultipartUpload: return "REST.POST.UPLOAD";
    case Kind::kAbortMultipartUpload: return "REST.DELETE.UPLOAD";
    case Kind::kDeleteObject: return "REST.DELETE.OBJECT";
    case Kind::kOtherObjectWrite: return "REST.OTHER.OBJECT";
    case Kind::kDeleteObjects: return "REST.POST.MULTI_OBJECT_DELETE";
    case Kind::kPostObject: return "REST.POST.OBJECT";
    case Kind::kOther: return {};
  }
  return {};
}

bool is_response_override(std::string_view parameter_name) {
  return parameter_name.starts_with("response-");
}

std::optional<std::uint32_t> parse_part_number(std::string_view text) {
  std::uint32_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value < 1 || value > 10000) {
    return std::nullopt;
  }
  return value;
}

}  // namespace s3hc::s3
