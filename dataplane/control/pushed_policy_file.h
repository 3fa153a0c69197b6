// The policy the control plane pushed, kept in a local file (control.policy_file) in the
// format of policy files (JSON, docs/POLICY.md): the proxy's PolicySource reads and watches
// it as it would an operator's file, so a pushed snapshot is applied the same way (whole and
// at once, never a mix), and a proxy restarted while the control plane is down starts with
// the last one. Any thread.
#pragma once

#include <string>

#include "s3hc/v1/policy.pb.h"

namespace s3hc::control {

// Writes `snapshot` to `path` through a synced temp file renamed over it (a reader finds the
// old snapshot or the new, never a part). Throws std::system_error when it cannot.
void write_pushed_policy(const std::string& path, const v1::PolicySnapshot& snapshot);

// Writes an empty snapshot (version 0, no rules: the configuration's settings) when `path`
// holds none yet, its directory created.
void ensure_pushed_policy(const std::string& path);

}  // namespace s3hc::control
