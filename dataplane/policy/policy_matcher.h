// Which rules of a policy snapshot (proto/s3hc/v1/policy.proto) apply to an object, and the
// settings they add up to. Precedence, most specific first (docs/POLICY.md):
//   1. a rule naming the object's bucket, over a rule for every bucket;
//   2. then the rule whose key pattern has more literal characters (a prefix's length, a
//      glob's characters other than `*` and `?`; a rule for a whole bucket has none);
//   3. then a prefix, over a glob of as many literal characters;
//   4. then the rule listed first.
// An object's settings are the snapshot's defaults overlaid by every matching rule, least
// specific first, each changing only the fields it sets; what none sets is the proxy's
// configuration (the caller's to apply).
//
// Thread-safety: immutable once compiled; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "s3hc/v1/policy.pb.h"

namespace s3hc::policy {

struct CompiledPolicy;

class PolicyMatcher {
 public:
  static CompiledPolicy compile(v1::PolicySnapshot snapshot);

  const v1::PolicySnapshot& snapshot() const { return snapshot_; }
  // Every rule, most specific first (as they would apply to an object all of them match).
  std::vector<const v1::PolicyRule*> by_precedence() const;
  // The rules that apply to the object, most specific first.
  std::vector<const v1::PolicyRule*> matching(std::string_view bucket, std::string_view key) const;
  // The defaults overlaid by the matching rules.
  v1::PolicySettings settings_for(std::string_view bucket, std::string_view key) const;

 private:
  explicit PolicyMatcher(v1::PolicySnapshot snapshot);

  // Indices into snapshot_.rules, most specific first: the rules for every bucket, and for
  // each bucket a rule names, its own rules merged with those.
  const std::vector<int>& candidates(std::string_view bucket) const;

  v1::PolicySnapshot snapshot_;
  std::vector<int> any_bucket_;
  std::unordered_map<std::string, std::vector<int>> by_bucket_;
};

struct CompiledPolicy {
  std::optional<PolicyMatcher> matcher;  // none when the snapshot is invalid
  std::vector<std::string> errors;       // why, one per fault, each naming its rule
};

}  // namespace s3hc::policy
