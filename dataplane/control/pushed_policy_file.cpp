#include "control/pushed_policy_file.h"

#include <google/protobuf/util/json_util.h>

#include <filesystem>

#include "cache/synced_file.h"

namespace s3hc::control {

void write_pushed_policy(const std::string& path, const v1::PolicySnapshot& snapshot) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;  // the policy files' keys
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(snapshot, &json, options);
  cache::write_file_atomically(path, json + "\n");
}

void ensure_pushed_policy(const std::string& path) {
  if (std::filesystem::exists(path)) return;
  const auto directory = std::filesystem::path(path).parent_path();
  if (!directory.empty()) std::filesystem::create_directories(directory);
  write_pushed_policy(path, v1::PolicySnapshot());
}

}  // namespace s3hc::control
