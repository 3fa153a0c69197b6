// Which requests the read cache may answer: GetObject (whole, one Range, or ?partNumber=N)
// and HeadObject of the current version, without SSE-C or response overrides. Everything
// else is forwarded unchanged.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "s3/byte_range.h"
#include "s3/object_address.h"
#include "s3/operation.h"

namespace s3hc::s3 {

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

// `operation`: the request's (classify_operation); its address moves into the read.
ReadClassification classify_read(Operation operation, const ReadHeaders& headers);

}  // namespace s3hc::s3
