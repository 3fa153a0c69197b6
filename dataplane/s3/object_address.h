// The bucket and key a request addresses, in the path ("/bucket/key", any host) or with the
// bucket in the Host name ("bucket.s3.us-east-1.amazonaws.com", "bucket.<suffix>").
// Pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3hc::s3 {

struct ObjectAddress {
  std::string bucket;
  std::string key;  // percent-decoded

  bool operator==(const ObjectAddress&) const = default;
};

// How bucket names reach the proxy.
struct AddressingOptions {
  // Host suffixes (with their leading dot) after which the remaining prefix is the bucket,
  // besides Amazon's own s3 names (".s3.amazonaws.com", ".s3.REGION.amazonaws.com",
  // ".s3-REGION.amazonaws.com"), which are always recognised.
  std::vector<std::string> virtual_host_suffixes;
};

// The bucket and key `path` (a request target up to its '?', still percent-encoded) names on
// `host` (the Host header); the key is empty for bucket-level requests ("/bucket", "/bucket/",
// "/" on "bucket.s3.amazonaws.com"). nullopt when it names no bucket (service-level requests)
// or an escape is malformed.
std::optional<ObjectAddress> parse_address(std::string_view path, std::string_view host,
                                           const AddressingOptions& options);

}  // namespace s3hc::s3
