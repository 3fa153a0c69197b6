// Which object write a request is, for the write-through cache: PutObject, the steps of a
// multipart upload, or another write to the object (CopyObject onto it, DeleteObject, a
// sub-resource such as ?tagging) after which the cached object must go.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3hc::s3 {

struct WriteRequest {
  enum class Kind {
    kPutObject,       // PUT /b/k, no copy source
    kCreateUpload,    // POST /b/k?uploads
    kUploadPart,      // PUT /b/k?partNumber=N&uploadId=U, no copy source
    kCompleteUpload,  // POST /b/k?uploadId=U
    kAbortUpload,     // DELETE /b/k?uploadId=U
    kOther,           // any other PUT/POST/DELETE of the object
  };
  Kind kind = Kind::kOther;
  std::string upload_id;               // the multipart steps
  std::uint32_t part_number = 0;       // kUploadPart
};

// `has_copy_source`: the request carries x-amz-copy-source (CopyObject, UploadPartCopy), whose
// bytes never pass through the proxy.
WriteRequest classify_write(std::string_view method, std::string_view target,
                            bool has_copy_source);

}  // namespace s3hc::s3
