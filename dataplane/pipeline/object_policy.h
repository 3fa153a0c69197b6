// The rules for one request's object: the configuration's (CacheContext::policy) overlaid by
// what the policy in force (CacheContext::policies; may be null) sets for the object
// (docs/POLICY.md). Worked out once per request from one snapshot, so a request never mixes
// two policies. Any thread.
#pragma once

#include "pipeline/cache_policy.h"
#include "policy/policy_source.h"
#include "s3/object_address.h"

namespace s3hc::pipeline {

CachePolicy object_policy(const CachePolicy& configured, const policy::PolicySource* policies,
                          const s3::ObjectAddress& object);

}  // namespace s3hc::pipeline
