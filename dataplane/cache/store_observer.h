// What the object store tells the fleet engine (cache/fleet/fleet_journal.h) about the shared
// directory: which cache directories changed size and which objects were asked for, the raw
// material of size accounting and eviction. Directories are named by their id
// (CacheLayout::object_id / upload_id).
//
// Thread-safety: called from any thread, concurrently; implementations must be cheap (they
// run on every cacheable read).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cache/cache_layout.h"
#include "s3hc/v1/cache_record.pb.h"

namespace s3hc::cache {

class StoreObserver {
 public:
  virtual ~StoreObserver() = default;

  // The directory now takes `bytes` on disk (0: it is gone). `record`: the object's record
  // after the change (a tombstone after an invalidation); null for uploads.
  virtual void stored(std::string_view dir_id, std::uint64_t bytes,
                      const v1::CacheRecord* record) = 0;

  // A cacheable read of the object arrived (hit or miss: admission counts both).
  virtual void accessed(std::string_view dir_id) = 0;
};

// Tells `observer` what the cache directory `dir` (below layout's root) takes on disk now.
// `record`: as for StoreObserver::stored.
void report_dir(StoreObserver& observer, const CacheLayout& layout, const std::string& dir,
                const v1::CacheRecord* record);

}  // namespace s3hc::cache
