// An operator's purge of the fleet's cache: one key, every key under a prefix, or a whole
// bucket, each object invalidated through an ObjectStore as a write through the proxy would be
// (a tombstone every proxy's next lookup sees, its range files removed). Carried out by
// s3hc-ctl on a mounted shared directory, or by a proxy at the control plane's request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "cache/store/object_store.h"

namespace s3hc::cache {

struct PurgeScope {
  std::string bucket;
  std::string key;     // one object
  std::string prefix;  // or every object whose key starts so (neither: the whole bucket)
};

// Empty when the scope can be carried out, else why not.
std::string purge_scope_fault(const PurgeScope& scope);

// Invalidates the objects `scope` names at `now_ms`; returns how many. A key is purged
// whether or not it is held; a prefix or a bucket walks every record of the store's directory
// once (each record names its object).
std::size_t purge(ObjectStore& store, const PurgeScope& scope, std::int64_t now_ms);

}  // namespace s3hc::cache
