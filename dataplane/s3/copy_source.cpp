#include "s3/copy_source.h"

#include "s3/request_target.h"

namespace s3hc::s3 {

std::optional<CopySource> parse_copy_source(std::string_view header_value) {
  const auto [encoded_path, query] = split_target(header_value);
  auto path = percent_decode(encoded_path);
  if (!path) return std::nullopt;
  std::string_view source = *path;
  if (source.starts_with('/')) source.remove_prefix(1);
  if (source.starts_with("arn:")) return std::nullopt;
  const auto slash = source.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == source.size()) {
    return std::nullopt;
  }
  CopySource copy_source{.bucket = std::string(source.substr(0, slash)),
                         .key = std::string(source.substr(slash + 1)),
                         .version_id = std::nullopt};

  if (query.empty()) return copy_source;
  const auto parameters = parse_query(query);
  if (!parameters || parameters->size() != 1) return std::nullopt;
  const auto& parameter = parameters->front();
  if (parameter.name != "versionId" || parameter.value.empty()) return std::nullopt;
  copy_source.version_id = parameter.value;
  return copy_source;
}

}  // namespace s3hc::s3
