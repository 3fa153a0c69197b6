// Fills a protobuf message from a YAML (or JSON, which YAML reads too) document by the
// message's own schema: a mapping's keys are the fields' names, a sequence fills a repeated
// field, a scalar is parsed as the field's type. So a file format defined by a .proto needs
// no hand-written parser, and a key the schema lacks, a scalar of the wrong type or out of
// range is an error naming its path ("rules[2].settings.get_ttl_ms"). Supports the field
// types the policy schema uses: messages, strings, bools and 64-bit integers. Pure; any
// thread.
#pragma once

#include <google/protobuf/message.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace s3hc::policy {

// The errors found, each with its path; `message` holds what could be read.
std::vector<std::string> fill_message(const YAML::Node& node, google::protobuf::Message& message);

}  // namespace s3hc::policy
