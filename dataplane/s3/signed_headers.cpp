#include "s3/signed_headers.h"

#include <algorithm>

#include "s3/request_target.h"
#include "util/ascii.h"

namespace s3hc::s3 {
namespace {

std::vector<std::string> split_names(std::string_view list) {
  std::vector<std::string> names;
  while (!list.empty()) {
    const auto semicolon = list.find(';');
    const auto name = list.substr(0, semicolon);
    if (!name.empty()) names.push_back(util::to_lower_ascii(name));
    list = semicolon == std::string_view::npos ? std::string_view{} : list.substr(semicolon + 1);
  }
  return names;
}

// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=host;range, Signature=..." -> "host;range"
std::string_view signed_headers_of_authorization(std::string_view authorization) {
  if (!authorization.starts_with("AWS4-")) return {};
  constexpr std::string_view kKey = "SignedHeaders=";
  const auto start = authorization.find(kKey);
  if (start == std::string_view::npos) return {};
  auto list = authorization.substr(start + kKey.size());
  return list.substr(0, list.find_first_of(", "));
}

}  // namespace

SignedHeaders SignedHeaders::from_request(std::string_view authorization,
                                          std::string_view target) {
  if (!authorization.empty()) {
    return SignedHeaders(split_names(signed_headers_of_authorization(authorization)));
  }
  const auto parameters = parse_query(split_target(target).query);
  if (parameters) {
    for (const auto& parameter : *parameters) {
      if (parameter.name == "X-Amz-SignedHeaders") {
        return SignedHeaders(split_names(parameter.value));
      }
    }
  }
  return SignedHeaders({});
}

bool SignedHeaders::covers(std::string_view header_name) const {
  const auto wanted = util::to_lower_ascii(header_name);
  return std::find(names_.begin(), names_.end(), wanted) != names_.end();
}

}  // namespace s3hc::s3
