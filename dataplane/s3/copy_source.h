// The x-amz-copy-source header of CopyObject and UploadPartCopy: the object copied from.
// Pure function; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace s3hc::s3 {

struct CopySource {
  std::string bucket;
  std::string key;                        // percent-decoded
  std::optional<std::string> version_id;  // absent: the current version

  bool operator==(const CopySource&) const = default;
};

// Parses "bucket/key" or "/bucket/key", percent-encoded, optionally followed by
// "?versionId=ID". The value is decoded before it is split at the first '/' (bucket names hold
// no '/', and clients differ in whether they encode that one); a '?' ends the path only when
// unencoded. nullopt for an access point or Outposts ARN ("arn:aws:s3:REGION:ACCOUNT:
// accesspoint/NAME/object/KEY", encoded or not), which this proxy does not interpret, for an
// empty bucket or key, a malformed escape, or a query other than one non-empty versionId.
std::optional<CopySource> parse_copy_source(std::string_view header_value);

}  // namespace s3hc::s3
