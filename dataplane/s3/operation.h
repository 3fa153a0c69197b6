// Which S3 operation a request is, decided once from its method, target and the headers that
// tell operations apart, with its target and query parsed on the way: the caching pipeline
// dispatches on it (pipeline/cache_handler.h), and the read cache (read_request.h) and the
// write path take their parameters from it. Operations the cache plays no part in are kOther.
// SDKs' x-id=Operation marker is ignored throughout.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3/object_address.h"
#include "s3/request_target.h"

namespace s3hc::s3 {

// What of a request its operation depends on; absent headers are empty.
struct RequestParts {
  std::string_view method;             // as sent: "GET", "PUT", ...
  std::string_view target;             // "/bucket/key?query", still percent-encoded
  std::string_view host = {};          // Host
  std::string_view content_type = {};  // Content-Type
  bool has_copy_source = false;        // x-amz-copy-source is present
};

struct Operation {
  enum class Kind {
    // Of an object (a bucket and a key):
    kGetObject,   // GET; parameters partNumber, versionId, response-* and a presigned URL's only
    kHeadObject,  // HEAD; the same
    kPutObject,   // PUT without x-amz-copy-source or query
    kCopyObject,  // PUT with x-amz-copy-source, without query
    kCreateMultipartUpload,    // POST ?uploads
    kUploadPart,               // PUT ?partNumber=N&uploadId=U without x-amz-copy-source
    kUploadPartCopy,           // PUT ?partNumber=N&uploadId=U with x-amz-copy-source
    kCompleteMultipartUpload,  // POST ?uploadId=U
    kAbortMultipartUpload,     // DELETE ?uploadId=U
    kDeleteObject,             // DELETE without query
    // Any other PUT, POST or DELETE of the object: a sub-resource (?tagging, ?restore), a
    // version, a presigned URL, a malformed query. It may change the object.
    kOtherObjectWrite,
    // Of a bucket (no key):
    kDeleteObjects,  // POST ?delete
    kPostObject,     // POST with a multipart/form-data body (an HTML form upload)
    // Anything else: service and other bucket operations, reads of sub-resources (?acl,
    // ListParts' ?uploadId), methods S3 does not have, malformed targets.
    kOther,
  };
  Kind kind = Kind::kOther;
  // The key is empty for operations of a bucket; both are for a target that names none.
  ObjectAddress address;
  std::vector<QueryParameter> query;  // decoded, in order; empty when malformed
  std::string upload_id;              // U of the multipart steps after the first
  std::optional<std::uint32_t> part_number;  // N of GetObject, HeadObject, UploadPart(Copy)
};

Operation classify_operation(const RequestParts& request, const AddressingOptions& options);

// The operation's name in S3's server access log (REST.GET.OBJECT, ...); "REST.<METHOD>.OTHER"
// style names are not guessed: kOther gives an empty name.
std::string_view access_log_name(Operation::Kind kind);

// Whether a query parameter overrides a header of GetObject's or HeadObject's answer
// (response-content-type, response-expires, ...).
bool is_response_override(std::string_view parameter_name);

// A part number as S3 accepts it: decimal, 1 to 10000; nullopt otherwise.
std::optional<std::uint32_t> parse_part_number(std::string_view text);

}  // namespace s3hc::s3
