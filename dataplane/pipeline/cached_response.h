// The response header of an answer served from the cache: what S3 sent for the object
// (ETag, Last-Modified, Content-Type, user metadata, ...) with the status, length and
// Content-Range of this answer, plus X-Cache and Cache-Status. Pure function; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/cache_status.h"
#include "s3/byte_range.h"
#include "s3hc/v1/cache_record.pb.h"

namespace s3hc::pipeline {

struct CachedAnswer {
  unsigned status = 200;                          // 200, 206 or 304
  std::optional<s3::ContentRange> content_range;  // with 206
  std::uint64_t content_length = 0;
  // The whole object with x-amz-checksum-mode: ENABLED: its checksums go along, as from S3.
  bool with_checksums = false;
  bool with_parts_count = false;  // an answer to ?partNumber=N of a multipart object
  CacheOutcome cache;             // HIT (the default), REVALIDATED, PARTIAL or COALESCED
  bool keep_alive = true;
};

std::string cached_response_header(const v1::CacheRecord& record, const CachedAnswer& answer);

}  // namespace s3hc::pipeline
