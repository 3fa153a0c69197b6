// Whether the cache takes new bytes now: the request paths ask before starting a fill or a
// write-through, and forward without caching when the answer is no (the cache is full until
// the maintenance lease holder has evicted, or written objects have used their share).
//
// Thread-safety: admits() from any thread, concurrently; it must be cheap.
#pragma once

#include <cstdint>

namespace s3hc::cache {

class FillAdmission {
 public:
  virtual ~FillAdmission() = default;
  // `bytes`: how many would enter (0 when unknown); `from_write`: they come from a write
  // through the proxy (PUT, multipart).
  virtual bool admits(std::uint64_t bytes, bool from_write) const = 0;
};

}  // namespace s3hc::cache
