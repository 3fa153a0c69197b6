// Whether the cache takes new bytes now: the request paths ask before starting a fill or a
// write-through, and forward without caching when the answer is no (the cache is at its
// effective capacity until the maintenance lease holder has evicted, or written objects have
// used their share). They also report fills the file system refused (ENOSPC), so that the
// holder makes room at its next round.
//
// Thread-safety: admits() and lacked_space() from any thread, concurrently; they must be cheap.
#pragma once

#include <cstdint>

namespace s3hc::cache {

class FillAdmission {
 public:
  virtual ~FillAdmission() = default;
  // `bytes`: how many would enter (0 when unknown); `from_write`: they come from a write
  // through the proxy (PUT, multipart).
  virtual bool admits(std::uint64_t bytes, bool from_write) const = 0;
  // A fill or write-through of `bytes` (0: unknown) was dropped because the file system was
  // full (ENOSPC, EDQUOT; cache/capacity.h is_no_space): the cache has less room than
  // believed.
  virtual void lacked_space(std::uint64_t bytes) = 0;
};

}  // namespace s3hc::cache
