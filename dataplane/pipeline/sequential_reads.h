// Which reads of an object are sequential: a client reading it in consecutive ranges (each
// starting where the one before ended), as readers of large files by ranges do. Each proxy
// remembers the latest range of a bounded number of objects (the least recently read
// forgotten first) and, for a read that follows the one before, names the ranges to fetch
// ahead of it (read_ahead.h): ranges of the read's own length (those the client is likely to
// ask for next, whose fill names then match its requests), within the window of ReadAhead,
// never past the object's end, and never the same bytes twice while the pattern holds. A read
// anywhere else starts over.
//
// Thread-safety: every method from any thread (one table per process, shared by the workers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pipeline/cache_policy.h"
#include "s3/byte_range.h"

namespace s3hc::pipeline {

class SequentialReads {
 public:
  // Objects remembered. Default: enough for as many sequential readers as a proxy serves.
  explicit SequentialReads(std::size_t max_objects = 4096) : max_objects_(max_objects) {}

  // A read of `bytes` of `object` (its id; `etag`: the version read, of `object_size` bytes):
  // the ranges to fetch ahead of it, none unless it follows the previous read of the same
  // version.
  std::vector<s3::ByteRange> ahead_of(const std::string& object, const std::string& etag,
                                      s3::ByteRange bytes, std::uint64_t object_size,
                                      const ReadAhead& window);

 private:
  struct Reads {
    std::string object;
    std::string etag;
    std::uint64_t next = 0;   // where a read following the latest one starts
    std::uint64_t ahead = 0;  // the first byte not yet asked for ahead
  };

  const std::size_t max_objects_;
  std::mutex mutex_;
  std::list<Reads> recent_;  // most recently read first
  std::unordered_map<std::string, std::list<Reads>::iterator> by_object_;
};

}  // namespace s3hc::pipeline
