// `s3hc-proxy --check-policy FILE`: validates a policy file and explains it (its rules in
// the order they take precedence, what each sets) before it is deployed. Any thread.
#pragma once

#include <ostream>
#include <string>

namespace s3hc::policy {

// Writes the explanation to `out`, or the file's errors to `err`; returns the exit status
// (0: valid, 1: invalid).
int check_policy_file(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace s3hc::policy
