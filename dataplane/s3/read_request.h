// Which requests the read cache may answer: GetObject (whole, one Range, or ?partNumber=N)
// and HeadObject of the current version, without SSE-C, sub-resources or other query
// parameters that change the answer. Everything else is forwarded unchanged.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3/byte_range.h"

namespace s3hc::s3 {

struct ObjectAddress {
  std::string bucket;
  std::string key;  // percent-decoded

  bool operator==(const ObjectAddress&) const = default;
};

// How bucket names reach the proxy: in the path ("/bucket/key", any host) or in the Host
// name ("bucket.s3.us-east-1.amazonaws.com", "bucket.<suffix>").
struct AddressingOptions {
  // Host suffixes (with their leading dot) after which the remaining prefix is the bucket,
  // besides Amazon's own s3 names (".s3.amazonaws.com", ".s3.REGION.amazonaws.com",
  // ".s3-REGION.amazonaws.com"), which are always recognised.
  std::vector<std::string> virtual_host_suffixes;
};

// The bucket and key a request addresses; nullopt when it names no object (service or bucket
// level requests, malformed escapes).
std::optional<ObjectAddress> object_address(std::string_view target, std::string_view host,
                                            const AddressingOptions& options);

// A part number as S3 accepts it: decimal, 1 to 10000; nullopt otherwise.
std::optional<std::uint32_t> parse_part_number(std::string_view text);

// The bucket a bucket-level request (no key: "/bucket", "/bucket/", "bucket.host/") names.
std::optional<std::string> bucket_address(std::string_view target, std::string_view host,
                                          const AddressingOptions& options);

struct ReadRequest {
  enum class Kind { kGetObject, kHeadObject };
  Kind kind;
  ObjectAddress object;
  std::optional<ByteRangeSpec> range;      // a single byte range (GET only)
  std::optional<std::uint32_t> part_number;  // ?partNumber=N (GET and HEAD)
};

// The request headers that decide cacheability.
struct ReadHeaders {
  std::string_view range;                   // Range, empty when absent
  bool has_sse_customer_key = false;        // x-amz-server-side-encryption-customer-*
};

struct ReadClassification {
  std::optional<ReadRequest> read;  // set when cacheable
  std::string_view why_not;        // why it is forwarded instead (for logs and metrics)
};

ReadClassification classify_read(std::string_view method, std::string_view target,
                                 std::string_view host, const ReadHeaders& headers,
                                 const AddressingOptions& options);

}  // namespace s3hc::s3
