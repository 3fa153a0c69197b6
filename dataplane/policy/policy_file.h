// A policy file: YAML or JSON whose keys are the fields of PolicySnapshot
// (proto/s3hc/v1/policy.proto; docs/POLICY.md has an example), read and compiled. A file
// with any fault (not YAML, an unknown key, a value of the wrong type, an invalid rule) gives
// no policy, only its errors: a policy is applied whole or not at all. Any thread.
#pragma once

#include <string>
#include <string_view>

#include "policy/policy_matcher.h"

namespace s3hc::policy {

CompiledPolicy parse_policy(std::string_view text);
CompiledPolicy load_policy_file(const std::string& path);

}  // namespace s3hc::policy
