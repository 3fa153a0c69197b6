#include "policy/policy_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "policy/yaml_message.h"

namespace s3hc::policy {

CompiledPolicy parse_policy(std::string_view text) {
  YAML::Node document;
  try {
    document = YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    return {.matcher = std::nullopt, .errors = {std::string("not YAML: ") + error.what()}};
  }
  v1::PolicySnapshot snapshot;
  auto errors = fill_message(document, snapshot);
  if (!errors.empty()) return {.matcher = std::nullopt, .errors = std::move(errors)};
  return PolicyMatcher::compile(std::move(snapshot));
}

CompiledPolicy load_policy_file(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  if (!(file && text << file.rdbuf())) {
    return {.matcher = std::nullopt, .errors = {path + ": cannot be read"}};
  }
  return parse_policy(text.str());
}

}  // namespace s3hc::policy
