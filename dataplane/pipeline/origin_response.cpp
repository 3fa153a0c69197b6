#include "pipeline/origin_response.h"

#include <string>
#include <string_view>

#include "s3/byte_range.h"
#include "util/ascii.h"

namespace s3hc::pipeline {
namespace {

namespace bhttp = boost::beast::http;

// Headers that describe the object rather than this one response, replayed on hits. Per-request
// headers (Date, x-amz-request-id, x-amz-id-2), framing and hop-by-hop headers are not.
bool describes_object(std::string_view name) {
  for (const std::string_view exact :
       {"content-type", "content-encoding", "content-disposition", "content-language",
        "cache-control", "expires", "x-amz-storage-class", "x-amz-version-id",
        "x-amz-website-redirect-location", "x-amz-replication-status", "x-amz-restore",
        "x-amz-expiration", "x-amz-tagging-count", "x-amz-missing-meta",
        "x-amz-archive-status"}) {
    if (util::iequals(name, exact)) return true;
  }
  for (const std::string_view prefix :
       {"x-amz-meta-", "x-amz-server-side-encryption", "x-amz-object-lock-"}) {
    if (util::starts_with_nocase(name, prefix)) return true;
  }
  return false;
}

bool is_checksum(std::string_view name) {
  return util::starts_with_nocase(name, "x-amz-checksum-");
}

// ETag, Last-Modified and the replayed headers; `whole_object`: the answer carries the whole
// object, so its checksums describe the bytes a whole-object hit serves.
std::optional<cache::ObjectMeta> object_meta(const ResponseHeader& response, bool whole_object) {
  const auto etag = response[bhttp::field::etag];
  if (etag.empty()) return std::nullopt;
  cache::ObjectMeta meta;
  meta.etag = std::string(etag);
  meta.last_modified = std::string(response[bhttp::field::last_modified]);
  for (const auto& field : response) {
    const auto name = field.name_string();
    if (describes_object(name)) {
      meta.headers.emplace_back(std::string(name), std::string(field.value()));
    } else if (whole_object && is_checksum(name)) {
      meta.whole_object_headers.emplace_back(std::string(name), std::string(field.value()));
    }
  }
  return meta;
}

std::optional<std::uint64_t> content_length(const ResponseHeader& response) {
  if (response.count(bhttp::field::transfer_encoding)) return std::nullopt;
  return util::parse_decimal_u64(response[bhttp::field::content_length]);
}

}  // namespace

std::optional<cache::ObjectMeta> head_meta(const ResponseHeader& response) {
  if (response.result() != bhttp::status::ok) return std::nullopt;
  const auto size = content_length(response);
  if (!size) return std::nullopt;
  auto meta = object_meta(response, true);
  if (meta) meta->size = *size;
  return meta;
}

std::optional<CacheableBody> cacheable_body(const ResponseHeader& response,
                                            std::optional<std::uint32_t> part_number) {
  const auto length = content_length(response);
  if (!length) return std::nullopt;
  CacheableBody body;
  if (response.result() == bhttp::status::ok) {
    // A 200 to ?partNumber=N is the whole of a single-part object.
    auto meta = object_meta(response, !part_number);
    if (!meta) return std::nullopt;
    body.meta = std::move(*meta);
    body.meta.size = *length;
    body.empty = *length == 0;
    if (!body.empty) body.bytes = {0, *length - 1};
    return body;
  }
  if (response.result() != bhttp::status::partial_content) return std::nullopt;
  const auto range = s3::parse_content_range(response[bhttp::field::content_range]);
  if (!range || range->range.length() != *length) return std::nullopt;
  auto meta = object_meta(response, false);
  if (!meta) return std::nullopt;
  body.meta = std::move(*meta);
  body.meta.size = range->complete_length;
  body.bytes = range->range;
  if (part_number) {
    // S3 names a multipart object's part count with every part; an object uploaded whole
    // has none (and 0 keeps it unknown).
    const auto count = util::parse_decimal_u64(response["x-amz-mp-parts-count"]);
    body.meta.parts_count = count ? static_cast<std::uint32_t>(*count) : 0;
    body.meta.parts.push_back({*part_number, range->range});
  }
  return body;
}

}  // namespace s3hc::pipeline
