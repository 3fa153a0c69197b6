// The request target of an S3 request ("/bucket/key?query"): split, percent-decoded, and its
// query parameters. Pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3hc::s3 {

struct SplitTarget {
  std::string_view path;   // up to '?', still percent-encoded
  std::string_view query;  // after '?', without it; empty when there is none
};

SplitTarget split_target(std::string_view target);

// Decodes %XX escapes; nullopt on a malformed escape. '+' stays '+' (S3 encodes spaces in
// paths and SigV4 queries as %20).
std::optional<std::string> percent_decode(std::string_view text);

struct QueryParameter {
  std::string name;
  std::string value;  // empty for a bare name ("?uploads")
  bool has_value = false;
};

// The parameters in order, decoded; nullopt when an escape is malformed.
std::optional<std::vector<QueryParameter>> parse_query(std::string_view query);

}  // namespace s3hc::s3
