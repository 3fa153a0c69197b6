#include "s3/delete_objects.h"

#include "s3/xml_document.h"

namespace s3hc::s3 {

std::optional<std::vector<std::string>> parse_delete_objects(std::string_view body) {
  const auto document = parse_xml_document(body);
  if (!document || document->name != "Delete") return std::nullopt;
  std::vector<std::string> keys;
  for (const auto& [name, object] : document->content) {
    if (name != "Object") continue;
    if (keys.size() == kMaxObjectsPerDelete) return std::nullopt;
    auto key = only_child_text(object, "Key");
    if (!key) return std::nullopt;
    keys.push_back(std::move(*key));
  }
  if (keys.empty()) return std::nullopt;
  return keys;
}

}  // namespace s3hc::s3
