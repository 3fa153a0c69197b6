#include "pipeline/sequential_reads.h"

#include <algorithm>

namespace s3hc::pipeline {

std::vector<s3::ByteRange> SequentialReads::ahead_of(const std::string& object,
                                                     const std::string& etag,
                                                     s3::ByteRange bytes,
                                                     std::uint64_t object_size,
                                                     const ReadAhead& window) {
  std::lock_guard lock(mutex_);
  const auto end = bytes.last + 1;
  auto found = by_object_.find(object);
  if (found == by_object_.end()) {
    if (by_object_.size() >= max_objects_) {
      by_object_.erase(recent_.back().object);
      recent_.pop_back();
    }
    recent_.push_front({object, etag, end, end});
    by_object_.emplace(object, recent_.begin());
    return {};
  }
  recent_.splice(recent_.begin(), recent_, found->second);
  auto& reads = *found->second;
  const bool follows = reads.etag == etag && bytes.first == reads.next;
  reads.next = end;
  if (!follows) {
    // Another version, or a jump: what was asked for ahead says nothing of what comes next.
    reads.etag = etag;
    reads.ahead = end;
    return {};
  }
  const auto length = bytes.length();
  const auto reach = std::min(length * static_cast<std::uint64_t>(std::max(window.ranges, 0)),
                              window.max_bytes);
  const auto until = std::min(end + reach, object_size);
  std::vector<s3::ByteRange> ranges;
  for (auto first = std::max(reads.ahead, end); first < until; first += length) {
    ranges.push_back({first, std::min(first + length, until) - 1});
  }
  reads.ahead = std::max(reads.ahead, until);
  return ranges;
}

}  // namespace s3hc::pipeline
